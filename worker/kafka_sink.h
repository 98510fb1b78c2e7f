#pragma once
// Kafka destinations: KafkaSink (spec.sink.kafka) and KafkaDeadLetterSink
// (spec.processing.deadLetter.kafka). Both produce with acks=all and an idempotent producer.
#include <memory>

#include "worker/kafka_config.h"
#include "worker/sink.h"

namespace sluice::worker {

common::Result<std::unique_ptr<Sink>> makeKafkaSink(const KafkaProperties& properties,
                                                    const std::string& topic, common::Millis timeout);
common::Result<std::unique_ptr<DeadLetterSink>> makeKafkaDeadLetterSink(const KafkaProperties& properties,
                                                                        const std::string& topic,
                                                                        common::Millis timeout);

}  // namespace sluice::worker

#pragma once
// librdkafka properties derived from the spec, as plain key/value pairs so they can be tested
// without a broker (kafka_source.cc / kafka_sink.cc apply them through clients::makeKafkaConf).
// Secrets (SASL password) are read here from files or SLUICE_SASL_USERNAME / SLUICE_SASL_PASSWORD;
// the TLS/SASL properties themselves come from clients/kafka_settings.h, shared with the operator's
// lag probe. Secrets must never be logged: use clients::redacted() for anything printed.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/kafka_settings.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"

namespace sluice::worker {

using KafkaProperties = clients::KafkaProperties;
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

EnvLookup processEnv();

// security.protocol, ssl.*, sasl.* for a cluster: the TLS files as the spec names them, the SASL
// credentials read from their files or the environment.
common::Result<KafkaProperties> securityProperties(const std::optional<spec::TlsSpec>& tls,
                                                   const std::optional<spec::SaslSpec>& sasl,
                                                   const EnvLookup& env);

// A Kafka destination's (sink, dead-letter topic) security: its own tls/sasl when it sets them;
// else, on the source's cluster (no bootstrapServers of its own, or the same), the source's; else none.
common::Result<KafkaProperties> destinationSecurity(const std::string& ownCluster,
                                                    const std::optional<spec::TlsSpec>& tls,
                                                    const std::optional<spec::SaslSpec>& sasl,
                                                    const spec::PipelineSpec& spec, const EnvLookup& env);

// The consumer of spec.source.kafka: group, cooperative-sticky, manual offset store, static
// membership from podName, and local queue limits derived from the backpressure budget.
common::Result<KafkaProperties> consumerProperties(const spec::ConsumerPipeline& pipeline,
                                                   const std::string& podName, const EnvLookup& env);

// librdkafka's local prefetch queue limits in `properties` (the last queued.min.messages and
// queued.max.messages.kbytes, librdkafka's defaults when absent), the latter in bytes.
struct QueueLimits {
  int64_t messages = 100000;
  int64_t bytes = 65536LL * 1024;
};
QueueLimits queueLimits(const KafkaProperties& properties);

// "name=value,name=value" (SLUICE_KAFKA_CONSUMER_PROPERTIES): librdkafka settings applied after
// Sluice's own, an escape hatch for tuning (session.timeout.ms, fetch sizes, debug). Settings that
// would break at-least-once delivery are refused (spec/consumer_properties.h).
common::Result<KafkaProperties> propertyOverrides(const std::string& text);

// An idempotent, acks=all producer towards `bootstrapServers` whose messages each time out on their
// own after `deliveryTimeout` (message.timeout.ms): a sink call waits for its own messages' reports
// and never purges the producer's queue, which other lanes' messages share.
KafkaProperties producerProperties(const std::string& bootstrapServers, common::Millis deliveryTimeout);

}  // namespace sluice::worker

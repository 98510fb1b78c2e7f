#pragma once
// Consumer provisioning for NatsSource: the durable pull consumer is created when absent; an
// existing one is used as it is (changing it under other workers, or an operator's hand edit, is
// not the worker's call): its differences from the spec are logged and reported through
// WorkerStats::setSourceDrift. Runs once, on the consumer thread, when the source opens.
#include <memory>
#include <string>

#include "common/result.h"
#include "worker/nats_config.h"
#include "worker/nats_connection.h"
#include "worker/stats.h"

namespace sluice::worker {

using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, decltype(&jsConsumerInfo_Destroy)>;

// Fails when the stream does not exist, or the consumer is a push consumer or does not ack explicitly.
common::Status provisionConsumer(jsCtx* js, const std::string& stream, const NatsConsumerSettings& want,
                                 WorkerStats& stats);

// The consumer's num_ack_pending now: deliveries made to any worker and not yet acknowledged.
common::Result<int64_t> consumerAckPending(jsCtx* js, const std::string& stream, const std::string& durable);

}  // namespace sluice::worker

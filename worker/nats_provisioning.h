#pragma once
// Consumer provisioning for NatsSource: the durable pull consumer is created when absent; an
// existing one is used as it is (changing it under other workers, or an operator's hand edit, is
// not the worker's call): its differences from the spec are logged and reported through
// WorkerStats::setSourceDrift. One whose settings would lose or double-process messages
// (consumerHazards: a push consumer, no explicit acks, a shorter AckWait, a lower MaxDeliver) is
// refused: the source does not consume from it, and the refusal is the reported drift (the
// pipeline's Degraded condition) until the consumer is fixed or deleted. Runs on the consumer
// thread when the source opens, and again while refused.
#include <memory>
#include <string>

#include "common/result.h"
#include "worker/nats_config.h"
#include "worker/nats_connection.h"
#include "worker/stats.h"

namespace sluice::worker {

using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, decltype(&jsConsumerInfo_Destroy)>;

// Whether the worker may consume from the consumer: an empty refusal, or why not.
struct ConsumerVerdict {
  std::string refusal;
  bool usable() const { return refusal.empty(); }
};

// Fails when the stream does not exist or the server cannot be asked.
common::Result<ConsumerVerdict> provisionConsumer(jsCtx* js, const std::string& stream,
                                                  const NatsConsumerSettings& want, WorkerStats& stats);

// The consumer's num_ack_pending now: deliveries made to any worker and not yet acknowledged.
common::Result<int64_t> consumerAckPending(jsCtx* js, const std::string& stream, const std::string& durable);

}  // namespace sluice::worker

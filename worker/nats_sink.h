#pragma once
// NatsSink and NatsDeadLetterSink: publish to a NATS subject. When a JetStream stream captures the
// subject (checked at start), publishes wait for the stream's ack (js_PublishMsgAsync + complete);
// otherwise core publish + flush (the server has it; nothing stores it). Thread-safe: lanes
// publish concurrently, each call on a JetStream context of its own from a small pool.
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "worker/nats_connection.h"
#include "worker/sink.h"

namespace sluice::worker {

common::Result<std::unique_ptr<Sink>> makeNatsSink(const NatsEndpoint& endpoint, const std::string& subject,
                                                   common::Millis timeout);
common::Result<std::unique_ptr<DeadLetterSink>> makeNatsDeadLetterSink(const NatsEndpoint& endpoint,
                                                                       const std::string& subject,
                                                                       common::Millis timeout);

}  // namespace sluice::worker

#pragma once
// NatsSink and NatsDeadLetterSink: publish to a NATS subject. By default (and always for dead
// letters) every publish goes to JetStream and waits for the stream's ack (js_PublishMsgAsync +
// complete): a subject no stream captures, a full stream or a stream without quorum is a retryable
// delivery error, never a silent drop. Core publish + flush (the server has it; nothing stores it)
// only with the sink's explicit `publish: core`. Thread-safe: lanes publish concurrently, each call
// on a JetStream context of its own from a small pool.
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/nats_connection.h"
#include "worker/sink.h"

namespace sluice::worker {

common::Result<std::unique_ptr<Sink>> makeNatsSink(const NatsEndpoint& endpoint, const std::string& subject,
                                                   spec::NatsPublish mode, common::Millis timeout);
common::Result<std::unique_ptr<DeadLetterSink>> makeNatsDeadLetterSink(const NatsEndpoint& endpoint,
                                                                       const std::string& subject,
                                                                       common::Millis timeout);

}  // namespace sluice::worker

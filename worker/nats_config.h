#pragma once
// Pure NATS JetStream decisions (no nats.c): the durable pull consumer a pipeline wants, how an
// existing consumer differs from it, and where a message's ordering key comes from. NatsSource
// (nats_source.cc) applies them; tests/worker/nats_config_test.cc tables them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/spec/pipeline.h"

namespace sluice::worker {

// The consumer settings Sluice relies on. Ack policy is always explicit (per-message acks).
struct NatsConsumerSettings {
  std::string durable;
  std::string filterSubject;  // empty: the whole stream
  bool ackExplicit = true;
  int64_t ackWaitSeconds = 30;
  int64_t maxAckPending = 10000;
  int64_t maxDeliver = -1;  // -1: unlimited
};

// MaxAckPending follows the in-flight message budget, so the server never hands a worker more
// unacknowledged messages than it may hold. MaxDeliver is unlimited: retries happen inside one
// delivery (RetryPolicy), what runs out of attempts is dead-lettered and terminated by the worker,
// and a finite MaxDeliver would let the server drop a message silently.
NatsConsumerSettings desiredConsumer(const spec::ConsumerPipeline& pipeline);

// "maxAckPending is 500, the pipeline wants 10000" per differing setting; empty when they agree.
std::vector<std::string> consumerDrift(const NatsConsumerSettings& want, const NatsConsumerSettings& have);

// How a message's key is found: a header, else a 1-based subject token, else none.
struct NatsKeyRule {
  std::string header;
  int subjectToken = 0;
};

NatsKeyRule keyRuleOf(const spec::NatsSourceSpec& source);

// The token-th (1-based) dot-separated token of subject; nullopt when it has fewer tokens.
std::optional<std::string> subjectToken(std::string_view subject, int token);

std::optional<std::string> natsKey(const NatsKeyRule& rule, std::string_view subject,
                                   const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace sluice::worker

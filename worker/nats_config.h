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
// unacknowledged messages than it may hold. MaxDeliver is natsMaxDeliver(spec).
NatsConsumerSettings desiredConsumer(const spec::ConsumerPipeline& pipeline);

// MaxDeliver for a consumer the worker creates, from processing.retry and the dead-letter setting.
//
// The worker's own retries (processing.retry.maxAttempts, with backoff) all happen inside ONE server
// delivery: the message stays held and InProgress keeps AckWait from running out. So the server
// only redelivers a message whose delivery ended unsettled: the worker crashed, was killed or OOM'd,
// or stopped past its drain deadline (it naks what it still holds). Each such delivery counts as one
// failed attempt, which is how a message that crashes the worker does not crash-loop it forever:
//   - with a dead-letter destination: MaxDeliver = maxAttempts + 2. A message arriving with
//     NumDelivered > maxAttempts (maxAttempts unsettled deliveries already) is dead-lettered on
//     arrival, before the sink sees it, and terminated (deliveriesExhausted). The last delivery is a
//     spare in case the worker dies while dead-lettering, so the server never stops delivering a
//     message before the worker had its chance to dead-letter it.
//   - without one: unlimited (-1). Nothing is ever skipped silently: a message the sink refuses
//     stops its lane (Degraded) and a message that crashes the worker crash-loops it, visibly.
// (The server only publishes a $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES advisory when it gives
// up, which nobody may be watching; hence the worker must act before that.)
int64_t natsMaxDeliver(const spec::PipelineSpec& spec);

// True when a message delivered `numDelivered` times must be dead-lettered on arrival (see above).
bool deliveriesExhausted(uint64_t numDelivered, const spec::PipelineSpec& spec);

// What the server put in a JetStream message's reply (ack) subject:
//   $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>
// or, from servers with domains, $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<same 5>[.<token>].
struct NatsAckMetadata {
  std::string stream;
  std::string consumer;
  uint64_t numDelivered = 0;
  uint64_t streamSequence = 0;
  uint64_t consumerSequence = 0;
  int64_t timestampNanos = 0;
  uint64_t numPending = 0;
};

// nullopt when `reply` is not a JetStream ack subject (a status message, or a core message).
std::optional<NatsAckMetadata> parseAckSubject(std::string_view reply);

// "maxAckPending is 500, the pipeline wants 10000" per differing setting; empty when they agree.
std::vector<std::string> consumerDrift(const NatsConsumerSettings& want, const NatsConsumerSettings& have);

// The settings of an existing consumer (`have`) under which the worker would lose or double-process
// messages, each with why; empty when it may consume. An AckWait shorter than the pipeline's (the
// ack ledger's keep-alive is timed on the pipeline's) redelivers work in progress; a MaxDeliver
// below the pipeline's lets the server stop delivering a message before the worker dead-letters it
// (natsMaxDeliver above), and any MaxDeliver without a dead-letter destination skips it silently.
std::vector<std::string> consumerHazards(const NatsConsumerSettings& want, const NatsConsumerSettings& have);

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

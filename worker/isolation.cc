#include "worker/isolation.h"

namespace sluice::worker {

FailureKind failureKindOf(const DeliveryResult& result) {
  return result.outcome == DeliveryOutcome::kTerminal ? FailureKind::kTerminal : FailureKind::kRetryable;
}

DeliveryResult Isolation::attempt(std::span<const Message> messages) {
  const auto started = clock_.now();
  DeliveryResult result = sink_.deliver(messages);
  stats_.deliveryAttempt(messages.size(), std::chrono::duration<double>(clock_.now() - started).count());
  if (result.outcome == DeliveryOutcome::kDelivered) {
    stats_.delivered(messages.size());
  } else {
    stats_.failed(messages.size());
  }
  return result;
}

IsolationOutcome Isolation::deliver(const Message& message) {
  for (int attempts = 1;; ++attempts) {
    const DeliveryResult result = attempt(std::span<const Message>(&message, 1));
    if (result.outcome == DeliveryOutcome::kDelivered) return {IsolationResult::kDelivered, "", attempts};
    const RetryDecision decision = retry_.afterFailure(attempts, failureKindOf(result), result.retryAfter);
    if (decision.step != NextStep::kRetry) return afterAttempts(message, result.error, attempts);
    stats_.retried(1);
    if (!abandon_.sleepFor(decision.delay)) return {IsolationResult::kAbandoned, result.error, attempts};
  }
}

IsolationOutcome Isolation::afterAttempts(const Message& message, const std::string& error, int attempts) {
  if (!deadLetter_.send(message, error, attempts)) return {IsolationResult::kUndeliverable, error, attempts};
  return {IsolationResult::kDeadLettered, error, attempts};
}

}  // namespace sluice::worker

#include "worker/retry_policy.h"

#include <algorithm>

namespace sluice::worker {

common::BackoffPolicy backoffPolicyFor(const spec::RetrySpec& retry) {
  common::BackoffPolicy policy;
  policy.initial = common::Millis(retry.initialBackoffMs);
  policy.max = common::Millis(retry.maxBackoffMs);
  policy.multiplier = retry.multiplier;
  policy.jitter = retry.jitter;
  policy.maxRetries = std::max(0, retry.maxAttempts - 1);
  return policy;
}

RetryDecision RetryPolicy::afterFailure(int attemptsMade, FailureKind kind,
                                        std::optional<common::Millis> retryAfter) const {
  const int retriesSoFar = std::max(0, attemptsMade - 1);
  switch (kind) {
    case FailureKind::kRetryable:
      if (backoff_.canRetry(retriesSoFar)) {
        common::Millis delay = backoff_.delayFor(retriesSoFar + 1);
        if (retryAfter) delay = std::max(delay, std::min(*retryAfter, kMaxRetryAfter));
        return {NextStep::kRetry, delay};
      }
      break;
    case FailureKind::kTerminal:
      break;
  }
  return {hasDeadLetter_ ? NextStep::kDeadLetter : NextStep::kStop, common::Millis(0)};
}

const char* toString(NextStep step) {
  switch (step) {
    case NextStep::kRetry:
      return "retry";
    case NextStep::kDeadLetter:
      return "dead-letter";
    case NextStep::kStop:
      return "stop";
  }
  return "?";
}

}  // namespace sluice::worker

#pragma once
// RetryPolicy: what to do after a failed delivery (processing.retry + processing.deadLetter).
// Retryable failures are retried with exponential backoff and jitter (common::Backoff), honouring a
// server's Retry-After when it asks for longer, until maxAttempts attempts have been made. Then,
// or at once for a terminal failure, the message goes to the dead-letter destination; without one
// the work stops where it is and the worker reports Degraded: nothing is ever skipped silently.
#include <optional>
#include <string>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/spec/pipeline.h"

namespace sluice::worker {

enum class FailureKind { kRetryable, kTerminal };
enum class NextStep { kRetry, kDeadLetter, kStop };

struct RetryDecision {
  NextStep step = NextStep::kStop;
  common::Millis delay{0};  // for kRetry
};

// A Retry-After longer than this is capped: a lane must not sleep for hours on a header.
inline constexpr common::Millis kMaxRetryAfter{300000};

common::BackoffPolicy backoffPolicyFor(const spec::RetrySpec& retry);

class RetryPolicy {
 public:
  RetryPolicy(const spec::RetrySpec& retry, bool hasDeadLetter, common::Random& random)
      : backoff_(backoffPolicyFor(retry), random),
        maxAttempts_(retry.maxAttempts),
        hasDeadLetter_(hasDeadLetter) {}

  // attemptsMade counts every attempt so far, including the one that just failed.
  RetryDecision afterFailure(int attemptsMade, FailureKind kind,
                             std::optional<common::Millis> retryAfter) const;
  bool hasDeadLetter() const { return hasDeadLetter_; }
  int maxAttempts() const { return maxAttempts_; }

 private:
  common::Backoff backoff_;
  int maxAttempts_;
  bool hasDeadLetter_;
};

const char* toString(NextStep step);

}  // namespace sluice::worker

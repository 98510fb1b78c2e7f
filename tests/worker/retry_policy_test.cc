#include "worker/retry_policy.h"

#include <gtest/gtest.h>

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;

spec::RetrySpec retrySpec() {
  spec::RetrySpec r;
  r.maxAttempts = 3;
  r.initialBackoffMs = 100;
  r.maxBackoffMs = 1000;
  r.multiplier = 2;
  r.jitter = 0.2;
  return r;
}

TEST(RetryPolicy, RetriesWithExponentialBackoffUntilMaxAttempts) {
  common::FixedRandom random(0.5);  // no jitter
  RetryPolicy policy(retrySpec(), true, random);
  auto first = policy.afterFailure(1, FailureKind::kRetryable, std::nullopt);
  EXPECT_EQ(first.step, NextStep::kRetry);
  EXPECT_EQ(first.delay, 100ms);
  auto second = policy.afterFailure(2, FailureKind::kRetryable, std::nullopt);
  EXPECT_EQ(second.step, NextStep::kRetry);
  EXPECT_EQ(second.delay, 200ms);
  EXPECT_EQ(policy.afterFailure(3, FailureKind::kRetryable, std::nullopt).step, NextStep::kDeadLetter);
}

TEST(RetryPolicy, JitterStaysWithinItsFraction) {
  common::FixedRandom random(0.0);
  RetryPolicy policy(retrySpec(), true, random);
  EXPECT_EQ(policy.afterFailure(1, FailureKind::kRetryable, std::nullopt).delay, 80ms);
  random.set(0.999999);
  EXPECT_EQ(policy.afterFailure(1, FailureKind::kRetryable, std::nullopt).delay, 120ms);
}

TEST(RetryPolicy, HonoursALongerRetryAfter) {
  common::FixedRandom random(0.5);
  RetryPolicy policy(retrySpec(), true, random);
  EXPECT_EQ(policy.afterFailure(1, FailureKind::kRetryable, 5000ms).delay, 5000ms);
  EXPECT_EQ(policy.afterFailure(1, FailureKind::kRetryable, 10ms).delay, 100ms);
  EXPECT_EQ(policy.afterFailure(1, FailureKind::kRetryable, 3600000ms).delay, kMaxRetryAfter);
}

TEST(RetryPolicy, TerminalFailuresSkipRetries) {
  common::FixedRandom random(0.5);
  RetryPolicy withDlq(retrySpec(), true, random);
  EXPECT_EQ(withDlq.afterFailure(1, FailureKind::kTerminal, std::nullopt).step, NextStep::kDeadLetter);
  RetryPolicy withoutDlq(retrySpec(), false, random);
  EXPECT_EQ(withoutDlq.afterFailure(1, FailureKind::kTerminal, std::nullopt).step, NextStep::kStop);
}

TEST(RetryPolicy, WithoutDeadLetterTheWorkStopsAfterMaxAttempts) {
  common::FixedRandom random(0.5);
  RetryPolicy policy(retrySpec(), false, random);
  EXPECT_EQ(policy.afterFailure(2, FailureKind::kRetryable, std::nullopt).step, NextStep::kRetry);
  EXPECT_EQ(policy.afterFailure(3, FailureKind::kRetryable, std::nullopt).step, NextStep::kStop);
}

TEST(RetryPolicy, OneAttemptMeansNoRetry) {
  common::FixedRandom random(0.5);
  auto spec = retrySpec();
  spec.maxAttempts = 1;
  RetryPolicy policy(spec, true, random);
  EXPECT_EQ(policy.afterFailure(1, FailureKind::kRetryable, std::nullopt).step, NextStep::kDeadLetter);
}

}  // namespace
}  // namespace sluice::worker

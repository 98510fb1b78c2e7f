#include "common/backoff.h"

#include <gtest/gtest.h>

namespace sluice::common {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DefaultsMatchKafkaJs) {
  BackoffPolicy policy;
  EXPECT_EQ(policy.initial, milliseconds(300));
  EXPECT_EQ(policy.max, milliseconds(30000));
  EXPECT_DOUBLE_EQ(policy.multiplier, 2.0);
  EXPECT_DOUBLE_EQ(policy.jitter, 0.2);
  EXPECT_EQ(policy.maxRetries, 5);
}

TEST(BackoffTest, GrowsExponentiallyWithoutJitterAtMidpoint) {
  FixedRandom random(0.5);  // factor exactly 1
  Backoff backoff(BackoffPolicy{}, random);
  EXPECT_EQ(backoff.delayFor(1), milliseconds(300));
  EXPECT_EQ(backoff.delayFor(2), milliseconds(600));
  EXPECT_EQ(backoff.delayFor(3), milliseconds(1200));
  EXPECT_EQ(backoff.delayFor(5), milliseconds(4800));
}

TEST(BackoffTest, JitterStaysWithinFraction) {
  FixedRandom low(0.0);
  FixedRandom high(0.999999);
  Backoff lowBackoff(BackoffPolicy{}, low);
  Backoff highBackoff(BackoffPolicy{}, high);
  EXPECT_EQ(lowBackoff.delayFor(1), milliseconds(240));   // 300 * 0.8
  EXPECT_EQ(highBackoff.delayFor(1), milliseconds(360));  // 300 * 1.2
}

TEST(BackoffTest, NeverExceedsCapEvenWithJitter) {
  FixedRandom high(0.999999);
  Backoff backoff(BackoffPolicy{}, high);
  EXPECT_EQ(backoff.delayFor(20), milliseconds(30000));
  EXPECT_EQ(backoff.delayFor(1000), milliseconds(30000));
}

TEST(BackoffTest, CanRetryCountsRetriesNotAttempts) {
  FixedRandom random(0.5);
  Backoff backoff(BackoffPolicy{}, random);
  EXPECT_TRUE(backoff.canRetry(0));
  EXPECT_TRUE(backoff.canRetry(4));
  EXPECT_FALSE(backoff.canRetry(5));
}

}  // namespace
}  // namespace sluice::common

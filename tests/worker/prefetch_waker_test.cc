#include "worker/prefetch_waker.h"

#include <gtest/gtest.h>

namespace sluice::worker {
namespace {

TEST(PrefetchWakerTest, DryQueueBeforeHalfAQueueConsumedIsJustAnIdleTopic) {
  PrefetchWaker waker(1000, 1 << 20);
  waker.consumed(499, 499 * 100);
  EXPECT_FALSE(waker.drained());
  // The count is kept: the next dry queue after more messages wakes.
  waker.consumed(1, 100);
  EXPECT_TRUE(waker.drained());
}

TEST(PrefetchWakerTest, WakesOnceThenCountsAgain) {
  PrefetchWaker waker(1000, 1 << 30);
  waker.consumed(600, 600);
  EXPECT_TRUE(waker.drained());
  EXPECT_FALSE(waker.drained());  // nothing consumed since: an idle topic is not poked
  waker.consumed(499, 499);
  EXPECT_FALSE(waker.drained());
  waker.consumed(1, 1);
  EXPECT_TRUE(waker.drained());
}

TEST(PrefetchWakerTest, TheByteLimitCountsToo) {
  // Large messages reach queued.max.messages.kbytes long before queued.min.messages.
  PrefetchWaker waker(100000, 1000000);
  waker.consumed(10, 499999);
  EXPECT_FALSE(waker.drained());
  waker.consumed(1, 1);
  EXPECT_TRUE(waker.drained());
}

TEST(PrefetchWakerTest, PauseForgetsWhatWasConsumed) {
  PrefetchWaker waker(10, 1000);
  waker.consumed(9, 9);
  waker.paused();
  waker.consumed(4, 4);
  EXPECT_FALSE(waker.drained());
}

TEST(PrefetchWakerTest, AfterAResumeAnEmptyQueueWakesUntilAMessageArrives) {
  PrefetchWaker waker(1000, 1 << 20);
  waker.paused();
  EXPECT_FALSE(waker.drained());
  waker.resumed();
  EXPECT_TRUE(waker.drained());
  EXPECT_TRUE(waker.drained());  // the resume may not have been served yet: try again
  waker.consumed(0, 0);          // an empty poll is not data
  EXPECT_TRUE(waker.drained());
  waker.consumed(1, 100);
  EXPECT_FALSE(waker.drained());
}

TEST(PrefetchWakerTest, AnIdleTopicAfterAResumeIsAskedOnlyAFewTimes) {
  PrefetchWaker waker(1000, 1 << 20);
  waker.resumed();
  for (int i = 0; i < PrefetchWaker::kWakesAfterResume; ++i) EXPECT_TRUE(waker.drained()) << i;
  EXPECT_FALSE(waker.drained());
}

TEST(PrefetchWakerTest, TinyLimitsStillNeedOneMessage) {
  PrefetchWaker waker(1, 1);
  EXPECT_FALSE(waker.drained());
  waker.consumed(1, 1);
  EXPECT_TRUE(waker.drained());
}

}  // namespace
}  // namespace sluice::worker

#include "worker/prefetch_waker.h"

#include <gtest/gtest.h>

namespace sluice::worker {
namespace {

TEST(PrefetchWakerTest, WakesOnceHalfAQueueOfMessagesWasConsumed) {
  PrefetchWaker waker(1000, 1 << 30);
  EXPECT_FALSE(waker.consumed(499, 499));
  EXPECT_TRUE(waker.consumed(1, 1));
  // The count starts again.
  EXPECT_FALSE(waker.consumed(499, 499));
  EXPECT_TRUE(waker.consumed(600, 600));
}

TEST(PrefetchWakerTest, TheByteLimitCountsToo) {
  // Large messages reach queued.max.messages.kbytes long before queued.min.messages.
  PrefetchWaker waker(100000, 1000000);
  EXPECT_FALSE(waker.consumed(10, 499999));
  EXPECT_TRUE(waker.consumed(1, 1));
}

TEST(PrefetchWakerTest, AnEmptyQueueWakesWhenAnythingWasConsumedSinceTheLastWake) {
  PrefetchWaker waker(1000, 1 << 20);
  EXPECT_FALSE(waker.emptied());  // nothing consumed yet: an idle topic is not asked
  EXPECT_FALSE(waker.consumed(10, 1000));
  EXPECT_TRUE(waker.emptied());   // the fetcher may have stopped before the half-way mark
  EXPECT_FALSE(waker.emptied());  // and once is enough
  EXPECT_TRUE(waker.consumed(500, 500));
  EXPECT_FALSE(waker.emptied());  // just woken
}

TEST(PrefetchWakerTest, PauseForgetsWhatWasConsumed) {
  PrefetchWaker waker(10, 1000);
  EXPECT_FALSE(waker.consumed(4, 4));
  waker.paused();
  EXPECT_FALSE(waker.emptied());
  EXPECT_FALSE(waker.consumed(4, 4));
}

TEST(PrefetchWakerTest, AfterAResumeAnEmptyQueueWakesUntilAMessageArrives) {
  PrefetchWaker waker(1000, 1 << 20);
  waker.resumed();
  EXPECT_TRUE(waker.emptied());
  EXPECT_TRUE(waker.emptied());  // the resume may not have been served yet: try again
  EXPECT_FALSE(waker.consumed(0, 0));
  EXPECT_TRUE(waker.emptied());  // an empty poll is not data
  EXPECT_FALSE(waker.consumed(1, 100));
  EXPECT_TRUE(waker.emptied());   // one message consumed since the last wake
  EXPECT_FALSE(waker.emptied());  // the resume's extra wakes are over
}

TEST(PrefetchWakerTest, AnIdleTopicAfterAResumeIsAskedOnlyAFewTimes) {
  PrefetchWaker waker(1000, 1 << 20);
  waker.resumed();
  for (int i = 0; i < PrefetchWaker::kWakesAfterResume; ++i) EXPECT_TRUE(waker.emptied()) << i;
  EXPECT_FALSE(waker.emptied());
}

TEST(PrefetchWakerTest, TinyLimitsStillNeedOneMessage) {
  PrefetchWaker waker(1, 1);
  EXPECT_FALSE(waker.emptied());
  EXPECT_FALSE(waker.consumed(0, 0));
  EXPECT_TRUE(waker.consumed(1, 1));
}

}  // namespace
}  // namespace sluice::worker

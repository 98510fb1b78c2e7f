#include "operator/controller/work_queue.h"

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

class WorkQueueTest : public ::testing::Test {
 protected:
  common::FakeClock clock_;
  WorkQueue queue_{WorkQueueOptions{5ms, 1000ms, 10.0, 100}, clock_};
};

TEST_F(WorkQueueTest, DeduplicatesQueuedKeys) {
  queue_.add("a");
  queue_.add("b");
  queue_.add("a");
  EXPECT_EQ(queue_.depth(), 2u);
  EXPECT_EQ(queue_.tryGet(), "a");
  EXPECT_EQ(queue_.tryGet(), "b");
  EXPECT_EQ(queue_.tryGet(), std::nullopt);
}

TEST_F(WorkQueueTest, AKeyIsProcessedByOneWorkerAndRequeuedWhenAddedMeanwhile) {
  queue_.add("a");
  ASSERT_EQ(queue_.tryGet(), "a");
  queue_.add("a");  // changed while being processed
  EXPECT_EQ(queue_.tryGet(), std::nullopt);  // not handed to a second worker
  queue_.done("a");
  EXPECT_EQ(queue_.tryGet(), "a");
  queue_.done("a");
  EXPECT_EQ(queue_.tryGet(), std::nullopt);
}

TEST_F(WorkQueueTest, AddAfterWaitsForTheClock) {
  queue_.addAfter("a", 30s);
  EXPECT_EQ(queue_.tryGet(), std::nullopt);
  EXPECT_EQ(queue_.nextDue(), milliseconds(30000));
  clock_.advance(29s);
  EXPECT_EQ(queue_.tryGet(), std::nullopt);
  clock_.advance(1s);
  EXPECT_EQ(queue_.tryGet(), "a");
}

TEST_F(WorkQueueTest, AnEarlierAddWinsOverAPendingDelay) {
  queue_.addAfter("a", 30s);
  queue_.add("a");
  EXPECT_EQ(queue_.tryGet(), "a");
  EXPECT_EQ(queue_.waitingCount(), 0u);
}

TEST_F(WorkQueueTest, PerKeyBackoffDoublesUpToTheCapAndForgetResets) {
  std::vector<long long> delays;
  for (int i = 0; i < 10; ++i) {
    queue_.addRateLimited("a");
    delays.push_back(queue_.nextDue()->count());
    clock_.advance(*queue_.nextDue());
    ASSERT_EQ(queue_.tryGet(), "a");
    queue_.done("a");
  }
  const std::vector<long long> expected = {5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000};
  EXPECT_EQ(delays, expected);
  EXPECT_EQ(queue_.failures("a"), 10);
  queue_.forget("a");
  queue_.addRateLimited("a");
  EXPECT_EQ(queue_.nextDue(), milliseconds(5));
}

TEST_F(WorkQueueTest, GlobalBucketLimitsABurstOfFailures) {
  // 100 tokens of burst, then 10 per second: the 101st failing key waits 100 ms, the 102nd 200 ms.
  for (int i = 0; i < 100; ++i) queue_.addRateLimited("k" + std::to_string(i));
  EXPECT_EQ(queue_.nextDue(), milliseconds(5));
  queue_.addRateLimited("k100");
  queue_.addRateLimited("k101");
  clock_.advance(5ms);
  int ready = 0;
  while (auto key = queue_.tryGet()) ++ready;
  EXPECT_EQ(ready, 100);
  clock_.advance(95ms);
  EXPECT_EQ(queue_.tryGet(), "k100");
  EXPECT_EQ(queue_.tryGet(), std::nullopt);
  clock_.advance(100ms);
  EXPECT_EQ(queue_.tryGet(), "k101");
}

TEST_F(WorkQueueTest, ShutDownWakesAndRefuses) {
  queue_.add("a");
  queue_.shutDown();
  EXPECT_EQ(queue_.tryGet(), std::nullopt);
  EXPECT_EQ(queue_.get(10ms), std::nullopt);
}

TEST(WorkQueueReal, GetBlocksUntilADelayedKeyIsDue) {
  WorkQueue queue(WorkQueueOptions{}, common::SystemClock::instance());
  queue.addAfter("a", 20ms);
  EXPECT_EQ(queue.get(2000ms), "a");
}

}  // namespace
}  // namespace sluice::controller

#include "operator/controller/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

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
  queue_.add("a");                           // changed while being processed
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

TEST_F(WorkQueueTest, UrgentKeysGoFirstEachPriorityInArrivalOrder) {
  queue_.add("n1");
  queue_.add("u1", Priority::kUrgent);
  queue_.add("n2");
  queue_.add("u2", Priority::kUrgent);
  EXPECT_EQ(queue_.depth(), 4u);
  EXPECT_EQ(queue_.urgentCount(), 2u);
  std::vector<std::string> order;
  while (auto key = queue_.tryGet()) order.push_back(*key);
  EXPECT_EQ(order, (std::vector<std::string>{"u1", "u2", "n1", "n2"}));
}

TEST_F(WorkQueueTest, ANormalKeyAddedUrgentMovesUpOnceAndAnUrgentKeyStaysUrgent) {
  queue_.add("a");
  queue_.add("b");
  queue_.add("b", Priority::kUrgent);
  queue_.add("c", Priority::kUrgent);
  queue_.add("c");  // a normal add does not demote it
  EXPECT_EQ(queue_.depth(), 3u);
  std::vector<std::string> order;
  while (auto key = queue_.tryGet()) order.push_back(*key);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "c", "a"}));
}

TEST_F(WorkQueueTest, AKeyAddedWhileProcessingComesBackWithTheHighestPriorityItWasAddedWith) {
  queue_.add("a");
  queue_.add("n");
  ASSERT_EQ(queue_.tryGet(), "a");
  queue_.add("a");
  queue_.add("a", Priority::kUrgent);
  EXPECT_EQ(queue_.urgentCount(), 0u);  // not queued while being processed
  queue_.done("a");
  EXPECT_EQ(queue_.tryGet(), "a");  // ahead of n
  queue_.add("a");                  // the deferred rest: normal
  queue_.done("a");
  EXPECT_EQ(queue_.tryGet(), "n");
  EXPECT_EQ(queue_.tryGet(), "a");
}

TEST_F(WorkQueueTest, ANormalKeyReadyForMaxNormalWaitGoesAheadOfUrgentOnes) {
  queue_.add("n1");
  clock_.advance(1s);
  queue_.add("n2");
  for (int i = 0; i < 10; ++i) queue_.add("u" + std::to_string(i), Priority::kUrgent);
  clock_.advance(3999ms);  // n1 has waited 4.999 s
  EXPECT_EQ(queue_.tryGet(), "u0");
  clock_.advance(1ms);  // 5 s
  EXPECT_EQ(queue_.tryGet(), "n1");
  queue_.done("n1");
  EXPECT_EQ(queue_.tryGet(), "u1");  // n2 has waited 4 s
  clock_.advance(1s);
  EXPECT_EQ(queue_.tryGet(), "n2");
  EXPECT_EQ(queue_.tryGet(), "u2");
}

TEST_F(WorkQueueTest, OverdueNormalKeysGoAheadOneAtATimeSoUrgentOnesKeepMoving) {
  for (int i = 0; i < 3; ++i) queue_.add("n" + std::to_string(i));
  clock_.advance(10s);  // all three overdue
  for (int i = 0; i < 3; ++i) queue_.add("u" + std::to_string(i), Priority::kUrgent);
  EXPECT_EQ(queue_.tryGet(), "n0");
  EXPECT_EQ(queue_.tryGet(), "u0");  // n0 still in process: the other workers take urgent keys
  EXPECT_EQ(queue_.tryGet(), "u1");
  queue_.done("n0");
  EXPECT_EQ(queue_.tryGet(), "n1");
  EXPECT_EQ(queue_.tryGet(), "u2");
  EXPECT_EQ(queue_.tryGet(), "n2");  // no urgent key left: normal ones in any number
  queue_.done("n1");
}

TEST_F(WorkQueueTest, ANormalKeyAgesFromWhenItBecameReadyNotFromItsAddAfter) {
  queue_.addAfter("n", 10s);
  queue_.add("u0", Priority::kUrgent);
  clock_.advance(10s);
  queue_.add("u1", Priority::kUrgent);
  EXPECT_EQ(queue_.tryGet(), "u0");  // n became ready just now
  EXPECT_EQ(queue_.tryGet(), "u1");
  EXPECT_EQ(queue_.tryGet(), "n");
}

TEST_F(WorkQueueTest, AFailedUrgentKeyComesBackUrgentAfterItsBackoff) {
  queue_.addRateLimited("u", Priority::kUrgent);
  queue_.add("n");
  EXPECT_EQ(queue_.tryGet(), "n");
  queue_.done("n");
  queue_.add("n");
  clock_.advance(5ms);
  EXPECT_EQ(queue_.tryGet(), "u");
  EXPECT_EQ(queue_.tryGet(), "n");
}

TEST(WorkQueuePriority, AtMostMaxNormalInProcessNormalKeysAtOnceUrgentOnesAlways) {
  common::FakeClock clock;
  WorkQueueOptions options;
  options.maxNormalInProcess = 2;
  WorkQueue queue(options, clock);
  for (const char* key : {"n1", "n2", "n3"}) queue.add(key);
  EXPECT_EQ(queue.tryGet(), "n1");
  EXPECT_EQ(queue.tryGet(), "n2");
  EXPECT_EQ(queue.tryGet(), std::nullopt);  // two normal keys in process: n3 waits
  queue.add("u1", Priority::kUrgent);
  queue.add("u2", Priority::kUrgent);
  EXPECT_EQ(queue.tryGet(), "u1");
  EXPECT_EQ(queue.tryGet(), "u2");
  queue.done("u1");
  EXPECT_EQ(queue.tryGet(), std::nullopt);  // an urgent slot freed, not a normal one
  queue.done("n1");
  EXPECT_EQ(queue.tryGet(), "n3");
  clock.advance(std::chrono::minutes(1));  // even overdue, n4 waits for a normal slot
  queue.add("n4");
  queue.add("u3", Priority::kUrgent);
  clock.advance(std::chrono::minutes(1));
  EXPECT_EQ(queue.tryGet(), "u3");
  EXPECT_EQ(queue.tryGet(), std::nullopt);
}

TEST(WorkQueuePriority, AFreedNormalSlotWakesAWaitingWorker) {
  WorkQueueOptions options;
  options.maxNormalInProcess = 1;
  WorkQueue queue(options, common::SystemClock::instance());
  queue.add("n1");
  queue.add("n2");
  ASSERT_EQ(queue.tryGet(), "n1");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.done("n1");
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(queue.get(std::chrono::milliseconds(5000)), "n2");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));  // woken, not timed out
  release.join();
}

// At most `maxNormal` normal keys in process, and one while urgent keys are queued or in process.
WorkQueueOptions burstLimited(int maxNormal) {
  WorkQueueOptions options;
  options.maxNormalInProcess = maxNormal;
  options.maxNormalInBurst = 1;
  return options;
}

TEST(WorkQueuePriority, WhileUrgentKeysAreQueuedOrInProcessAtMostMaxNormalInBurstNormalKeys) {
  common::FakeClock clock;
  WorkQueue queue(burstLimited(3), clock);
  for (const char* key : {"n1", "n2", "n3", "n4"}) queue.add(key);
  queue.add("u1", Priority::kUrgent);
  EXPECT_EQ(queue.tryGet(), "u1");
  EXPECT_EQ(queue.tryGet(), "n1");  // u1 in process: a burst, one normal key
  EXPECT_EQ(queue.tryGet(), std::nullopt);
  queue.done("n1");
  EXPECT_EQ(queue.tryGet(), "n2");
  EXPECT_EQ(queue.tryGet(), std::nullopt);
  queue.done("u1");  // no urgent key queued or in process: up to three
  EXPECT_EQ(queue.tryGet(), "n3");
  EXPECT_EQ(queue.tryGet(), "n4");
  queue.add("n5");
  EXPECT_EQ(queue.tryGet(), std::nullopt);  // three normal keys in process
  queue.add("u2", Priority::kUrgent);       // queued urgent: a burst again
  queue.done("n2");
  EXPECT_EQ(queue.tryGet(), "u2");
  EXPECT_EQ(queue.tryGet(), std::nullopt);  // n3 and n4 still in process, above the burst limit
  queue.done("n3");
  queue.done("n4");
  EXPECT_EQ(queue.tryGet(), "n5");
}

TEST(WorkQueuePriority, AnOverdueNormalKeyGoesAheadInABurstOnceTheBurstLimitAllows) {
  common::FakeClock clock;
  WorkQueue queue(burstLimited(4), clock);
  queue.add("n0");
  EXPECT_EQ(queue.tryGet(), "n0");  // before the burst
  queue.add("n1");
  clock.advance(std::chrono::seconds(10));  // n1 overdue
  for (const char* key : {"u1", "u2", "u3"}) queue.add(key, Priority::kUrgent);
  EXPECT_EQ(queue.tryGet(), "u1");  // n0 holds the burst's one normal slot
  queue.done("n0");
  EXPECT_EQ(queue.tryGet(), "n1");  // overdue: ahead of the urgent keys
  EXPECT_EQ(queue.tryGet(), "u2");
  EXPECT_EQ(queue.tryGet(), "u3");
}

TEST(WorkQueuePriority, TheEndOfABurstWakesAWorkerWaitingWithANormalKey) {
  WorkQueue queue(burstLimited(4), common::SystemClock::instance());
  queue.add("u1", Priority::kUrgent);
  queue.add("n1");
  queue.add("n2");
  ASSERT_EQ(queue.tryGet(), "u1");
  ASSERT_EQ(queue.tryGet(), "n1");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.done("u1");  // n1 still in process: only the burst's end lets n2 go
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(queue.get(std::chrono::milliseconds(5000)), "n2");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));  // woken, not timed out
  release.join();
}

TEST(WorkQueueReal, GetBlocksUntilADelayedKeyIsDue) {
  WorkQueue queue(WorkQueueOptions{}, common::SystemClock::instance());
  queue.addAfter("a", 20ms);
  EXPECT_EQ(queue.get(2000ms), "a");
}

}  // namespace
}  // namespace sluice::controller

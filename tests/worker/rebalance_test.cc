// Rebalance edge cases (#18 item 13): a delivery that fails while its partition is revoked, and a
// poll that fetched a partition's records before a revoke and re-assign inside the same poll.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/random.h"
#include "tests/worker/fake_stats.h"
#include "tests/worker/test_messages.h"
#include "worker/dead_letterer.h"
#include "worker/flow_control.h"
#include "worker/lanes.h"
#include "worker/message_pool.h"
#include "worker/offset_tracker.h"

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;
using testing::msg;

// A sink whose first delivery waits until the test lets it fail; later deliveries succeed.
class GatedSink final : public Sink {
 public:
  DeliveryResult deliver(std::span<const Message> batch) override {
    std::unique_lock<std::mutex> lock(mu_);
    const int call = ++calls_;
    delivered_ += call == 1 ? 0 : batch.size();
    cv_.notify_all();
    if (call == 1) {
      cv_.wait(lock, [&] { return released_; });
      return DeliveryResult::retryable("sink down");
    }
    return DeliveryResult::delivered();
  }
  std::string describe() const override { return "gated"; }

  bool waitForCalls(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return calls_ >= n; });
  }
  void failFirst() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  size_t delivered_ = 0;
  bool released_ = false;
};

spec::PipelineSpec laneSpec() {
  spec::PipelineSpec spec;
  spec.processing.ordering = spec::Ordering::kKey;
  spec.processing.concurrency = 1;
  spec.processing.retry.maxAttempts = 5;
  spec.processing.retry.initialBackoffMs = 100;
  spec.processing.retry.maxBackoffMs = 100;
  spec.processing.retry.jitter = 0;
  return spec;
}

struct LanesRig {
  spec::PipelineSpec spec = laneSpec();
  GatedSink sink;
  testing::FakeStats stats;
  common::FakeClock clock;
  common::FixedRandom random{0.5};
  DeadLetterer deadLetter{nullptr, spec.processing.retry, stats, random};
  FlowControl flow{{10000, 1 << 26, 0.5}};
  OffsetTracker tracker;
  MessagePool pool{10000, 1 << 20};
  Lanes lanes{spec, sink, deadLetter, stats, clock, random, flow, tracker, pool};

  // Ten messages of partition `p` handed to the lanes the way the pipeline does.
  void submit(int32_t p) {
    const TopicPartition tp{"t", p};
    tracker.assign(tp);
    Batch batch;
    for (int64_t offset = 0; offset < 10; ++offset) batch.push_back(msg(p, offset, "k"));
    tracker.trackAll(batch);
    flow.admit(static_cast<int64_t>(batch.size()), budgetBytes(batch));
    lanes.submit(std::move(batch));
  }

  bool waitForEmptyBudget() {
    for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;) {
      if (flow.messages() == 0) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
};

// The control case: a failed delivery of a partition still assigned is retried after its backoff.
TEST(RevokeDuringDelivery, AFailureOfAnAssignedPartitionIsRetried) {
  LanesRig rig;
  rig.lanes.start(Acknowledgement::kOffsets);
  rig.submit(0);
  ASSERT_TRUE(rig.sink.waitForCalls(1));
  rig.sink.failFirst();
  for (auto end = std::chrono::steady_clock::now() + 10s;
       rig.sink.calls() < 2 && std::chrono::steady_clock::now() < end;) {
    rig.clock.advance(50ms);  // past the 100 ms backoff within a few steps
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(rig.sink.calls(), 2);
  EXPECT_TRUE(rig.waitForEmptyBudget());
  EXPECT_EQ(rig.tracker.position({"t", 0}), 10);
  rig.lanes.abandon();
  rig.lanes.stop();
}

// Revoked while its delivery is in flight, then the delivery fails: the work is the new owner's.
// It is let go (budget freed) instead of parked for a retry (a duplicate, out of order with the new
// owner's deliveries) or stalled (a false Degraded over a partition this worker no longer has).
TEST(RevokeDuringDelivery, AFailureAfterTheRevokeIsLeftToTheNewOwner) {
  LanesRig rig;
  rig.lanes.start(Acknowledgement::kOffsets);
  rig.submit(0);
  ASSERT_TRUE(rig.sink.waitForCalls(1));
  EXPECT_TRUE(rig.lanes.dropPartitions({{"t", 0}}).empty()) << "nothing queued: the lane holds it all";
  rig.tracker.forget({"t", 0});
  rig.sink.failFirst();
  EXPECT_TRUE(rig.waitForEmptyBudget()) << "the revoked work still holds the budget";
  for (int i = 0; i < 40; ++i) {  // 2 s of fake time: twenty backoffs
    rig.clock.advance(50ms);
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(rig.sink.calls(), 1) << "retried work of a revoked partition";
  EXPECT_TRUE(rig.lanes.health()) << rig.lanes.health().toString();
  EXPECT_FALSE(rig.stats.isDegraded);
  rig.lanes.abandon();
  rig.lanes.stop();
}

// Re-assigned after the revoke (same poll or later): work taken before the revoke is still the old
// assignment's, whose messages the new assignment fetches again from the last commit.
TEST(RevokeDuringDelivery, AReassignDoesNotMakeOldWorkOursAgain) {
  LanesRig rig;
  rig.lanes.start(Acknowledgement::kOffsets);
  rig.submit(0);
  ASSERT_TRUE(rig.sink.waitForCalls(1));
  (void)rig.lanes.dropPartitions({{"t", 0}});
  rig.tracker.forget({"t", 0});
  rig.tracker.assign({"t", 0});  // back at once: the old work must not count as the new assignment's
  rig.sink.failFirst();
  EXPECT_TRUE(rig.waitForEmptyBudget());
  for (int i = 0; i < 40; ++i) {
    rig.clock.advance(50ms);
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(rig.sink.calls(), 1);
  EXPECT_EQ(rig.tracker.position({"t", 0}), std::nullopt) << "nothing of the new assignment is done";
  rig.lanes.abandon();
  rig.lanes.stop();
}

// A poll that fetched partition 1's records 100..102, saw partition 1 revoked and re-assigned, then
// fetched its refetch from the commit (90..): the records fetched before the revoke are dropped, so
// the tracker sees the refetch from 90 on instead of refusing it below 102.
TEST(RevokeDuringPoll, RecordsFetchedBeforeTheRevokeAreDropped) {
  Batch out = {msg(0, 7), msg(1, 100), msg(1, 101), msg(2, 5), msg(1, 102), msg(0, 8)};
  const size_t kept = keepUnrevoked(out, out.size(), {{"t", 1}});
  ASSERT_EQ(kept, 3u);
  EXPECT_EQ(out[0].partition, 0);
  EXPECT_EQ(out[0].offset, 7);
  EXPECT_EQ(out[1].partition, 2);
  EXPECT_EQ(out[2].offset, 8);
  EXPECT_EQ(out.size(), 6u) << "the dropped ones stay behind as storage";
  // Then the refetch lands after them and is tracked from the commit.
  out.resize(kept);
  out.push_back(msg(1, 90));
  OffsetTracker tracker;
  for (int32_t p : {0, 1, 2}) tracker.assign({"t", p});
  tracker.trackAll(out);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(tracker.lastTracked({"t", 1}), 90);
}

TEST(RevokeDuringPoll, OnlyTheFilledPartIsConsidered) {
  Batch out = {msg(1, 1), msg(0, 1), msg(1, 2)};  // out[2] is storage from an earlier poll
  EXPECT_EQ(keepUnrevoked(out, 2, {{"t", 1}}), 1u);
  EXPECT_EQ(out[0].partition, 0);
  EXPECT_EQ(keepUnrevoked(out, 0, {{"t", 1}}), 0u);
}

}  // namespace
}  // namespace sluice::worker

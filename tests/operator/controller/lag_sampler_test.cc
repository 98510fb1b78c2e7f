#include "operator/controller/lag_sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sluice::controller {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A probe key per name: equal names, the same probe.
ProbeKey probeKey(const std::string& name) {
  return KafkaProbeKey{"bootstrap:" + name, "group", {}, {"orders"}};
}

// Answers a fixed lag and counts its calls.
class CountingProbe final : public scaling::LagProbe {
 public:
  explicit CountingProbe(int64_t lag, std::atomic<int>* calls) : lag_(lag), calls_(calls) {}
  common::Result<scaling::LagSnapshot> probe() override {
    ++*calls_;
    scaling::LagSnapshot snapshot;
    snapshot.totalLag = lag_;
    return snapshot;
  }

 private:
  int64_t lag_;
  std::atomic<int>* calls_;
};

class LagSamplerTest : public ::testing::Test {
 protected:
  LagSampler::ProbeFactory probeOf(int64_t lag) {
    return [this, lag] { return std::make_unique<CountingProbe>(lag, &calls_); };
  }
  // Runs every job that is due now on the test thread; returns how many ran.
  int runDue() {
    int ran = 0;
    while (auto job = sampler_.claimDue()) {
      sampler_.complete(*job, job->probe->probe());
      ++ran;
    }
    return ran;
  }

  common::FakeClock clock_;
  std::atomic<int> calls_{0};
  std::vector<std::string> notified_;
  LagSampler sampler_{clock_, [this](const std::string& key) { notified_.push_back(key); }};
};

TEST_F(LagSamplerTest, ANewKeyIsProbedAtOnceAndPublishedWithNotification) {
  sampler_.track("ns/a", probeKey("x"), 5000ms, probeOf(42));
  EXPECT_EQ(sampler_.latest("ns/a"), std::nullopt);  // nothing until the first probe finished
  EXPECT_EQ(sampler_.nextDue(), milliseconds(0));
  EXPECT_EQ(runDue(), 1);
  const auto sample = sampler_.latest("ns/a");
  ASSERT_TRUE(sample.has_value());
  ASSERT_TRUE(sample->lag.isOk());
  EXPECT_EQ(sample->lag->totalLag, 42);
  EXPECT_EQ(sample->takenAt, clock_.now());
  EXPECT_EQ(notified_, std::vector<std::string>{"ns/a"});
}

TEST_F(LagSamplerTest, TheNextProbeIsOneIntervalAfterTheLastFinished) {
  sampler_.track("ns/a", probeKey("x"), 5000ms, probeOf(1));
  ASSERT_EQ(runDue(), 1);
  const uint64_t first = sampler_.latest("ns/a")->sequence;
  EXPECT_EQ(sampler_.nextDue(), milliseconds(5000));
  clock_.advance(4999ms);
  EXPECT_EQ(runDue(), 0);
  clock_.advance(1ms);
  EXPECT_EQ(runDue(), 1);
  EXPECT_GT(sampler_.latest("ns/a")->sequence, first);
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(LagSamplerTest, TrackingAgainWithTheSameFingerprintKeepsTheProbeAndTheSchedule) {
  sampler_.track("ns/a", probeKey("x"), 5000ms, probeOf(1));
  ASSERT_EQ(runDue(), 1);
  const auto sample = sampler_.latest("ns/a");
  for (int i = 0; i < 3; ++i) sampler_.track("ns/a", probeKey("x"), 5000ms, probeOf(99));  // every reconcile
  EXPECT_EQ(runDue(), 0);
  EXPECT_EQ(sampler_.latest("ns/a")->sequence, sample->sequence);
  clock_.advance(5s);
  ASSERT_EQ(runDue(), 1);
  EXPECT_EQ(sampler_.latest("ns/a")->lag->totalLag, 1);  // still the first probe
}

TEST_F(LagSamplerTest, AShorterIntervalMovesTheNextProbeEarlier) {
  sampler_.track("ns/a", probeKey("x"), 30000ms, probeOf(1));
  ASSERT_EQ(runDue(), 1);
  clock_.advance(2s);
  sampler_.track("ns/a", probeKey("x"), 5000ms, probeOf(1));
  EXPECT_EQ(sampler_.nextDue(), milliseconds(3000));
}

TEST_F(LagSamplerTest, ANewFingerprintReplacesTheProbeDropsTheSampleAndDiscardsTheRunningProbe) {
  sampler_.track("ns/a", probeKey("old"), 5000ms, probeOf(1));
  ASSERT_EQ(runDue(), 1);
  clock_.advance(5s);
  auto running = sampler_.claimDue();  // a probe thread is asking the old source
  ASSERT_TRUE(running.has_value());
  sampler_.track("ns/a", probeKey("new"), 5000ms, probeOf(7));
  EXPECT_EQ(sampler_.latest("ns/a"), std::nullopt);
  sampler_.complete(*running, running->probe->probe());  // the old answer arrives late
  EXPECT_EQ(sampler_.latest("ns/a"), std::nullopt);
  notified_.clear();
  ASSERT_EQ(runDue(), 1);
  EXPECT_EQ(sampler_.latest("ns/a")->lag->totalLag, 7);
  EXPECT_EQ(notified_, std::vector<std::string>{"ns/a"});
}

TEST_F(LagSamplerTest, UntrackedKeysAreNotProbedAndALateAnswerIsDropped) {
  sampler_.track("ns/a", probeKey("x"), 5000ms, probeOf(1));
  auto running = sampler_.claimDue();
  ASSERT_TRUE(running.has_value());
  sampler_.untrack("ns/a");
  sampler_.complete(*running, running->probe->probe());
  EXPECT_EQ(sampler_.latest("ns/a"), std::nullopt);
  EXPECT_TRUE(notified_.empty());
  EXPECT_EQ(sampler_.trackedCount(), 0u);
  clock_.advance(1h);
  EXPECT_EQ(runDue(), 0);
}

TEST_F(LagSamplerTest, AKeyBeingProbedIsNotHandedOutAgainButOtherKeysAre) {
  sampler_.track("ns/slow", probeKey("unreachable"), 1000ms, probeOf(1));
  sampler_.track("ns/b", probeKey("b"), 1000ms, probeOf(2));
  auto slow = sampler_.claimDue();
  ASSERT_TRUE(slow.has_value());
  auto other = sampler_.claimDue();
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->key, slow->key);
  EXPECT_EQ(sampler_.claimDue(), std::nullopt);
  // The slow probe is still running long after its interval: the other key keeps being sampled.
  sampler_.complete(*other, other->probe->probe());
  for (int i = 0; i < 5; ++i) {
    clock_.advance(1s);
    auto job = sampler_.claimDue();
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->key, other->key);
    sampler_.complete(*job, job->probe->probe());
  }
  EXPECT_EQ(sampler_.latest(slow->key), std::nullopt);
}

TEST_F(LagSamplerTest, TheEarliestDueKeyGoesFirst) {
  sampler_.track("ns/a", probeKey("a"), 3000ms, probeOf(1));
  sampler_.track("ns/b", probeKey("b"), 1000ms, probeOf(1));
  ASSERT_EQ(runDue(), 2);
  clock_.advance(3s);  // both due; b since 2 s, a just now
  auto first = sampler_.claimDue();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->key, "ns/b");
}

TEST_F(LagSamplerTest, RunOnceProbesOnTheCallingThreadAndShutDownStopsIt) {
  sampler_.track("ns/a", probeKey("x"), 60000ms, probeOf(3));
  EXPECT_TRUE(sampler_.runOnce(0ms));  // due at once: no waiting
  EXPECT_EQ(sampler_.latest("ns/a")->lag->totalLag, 3);
  EXPECT_FALSE(sampler_.runOnce(1ms));  // next one is a minute away (fake time)
  std::thread blocked([this] { EXPECT_FALSE(sampler_.runOnce(std::chrono::hours(1))); });
  sampler_.shutDown();
  blocked.join();
  EXPECT_EQ(calls_.load(), 1);
}

}  // namespace
}  // namespace sluice::controller

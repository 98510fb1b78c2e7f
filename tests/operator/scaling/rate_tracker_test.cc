#include "operator/scaling/rate_tracker.h"

#include <gtest/gtest.h>

#include "operator/scaling/lag_probe.h"

namespace sluice::scaling {
namespace {

using std::chrono::seconds;

TEST(RateTracker, RatesOverWindow) {
  common::FakeClock clock;
  RateTracker t(clock, seconds(30));
  EXPECT_FALSE(t.observe(1000, 500).known);
  clock.advance(seconds(10));
  Rates r = t.observe(2000, 700);
  EXPECT_TRUE(r.known);
  EXPECT_DOUBLE_EQ(r.inPerSecond, 100);
  EXPECT_DOUBLE_EQ(r.outPerSecond, 20);
}

TEST(RateTracker, WindowSlides) {
  common::FakeClock clock;
  RateTracker t(clock, seconds(20));
  // 10 msgs/s for the first 50 s, then 100 msgs/s; a sample every 5 s up to 80 s.
  auto produced = [](int at) { return at < 50 ? 10 * at : 500 + 100 * (at - 50); };
  Rates r;
  for (int at = 0; at <= 80; at += 5) {
    r = t.observe(produced(at), 0);
    if (at < 80) clock.advance(seconds(5));
  }
  EXPECT_NEAR(r.inPerSecond, 100, 1e-9);  // the 10/s samples left the window
}

TEST(RateTracker, CounterGoingBackRestarts) {
  common::FakeClock clock;
  RateTracker t(clock);
  t.observe(1000, 1000);
  clock.advance(seconds(5));
  EXPECT_FALSE(t.observe(10, 10).known);  // topic recreated
  clock.advance(seconds(5));
  Rates r = t.observe(60, 20);
  EXPECT_DOUBLE_EQ(r.inPerSecond, 10);
  EXPECT_DOUBLE_EQ(r.outPerSecond, 2);
}

TEST(StallDetector, StalledOnlyAfterWindowWithLagAndLiveWorkers) {
  common::FakeClock clock;
  StallDetector s(clock);
  const auto window = seconds(60);
  EXPECT_FALSE(s.observe(100, 50, true, window));
  clock.advance(seconds(59));
  EXPECT_FALSE(s.observe(100, 50, true, window));
  clock.advance(seconds(1));
  EXPECT_TRUE(s.observe(100, 60, true, window));
  EXPECT_DOUBLE_EQ(s.stalledSeconds(), 60);
  // progress resets
  EXPECT_FALSE(s.observe(101, 60, true, window));
  clock.advance(seconds(120));
  EXPECT_TRUE(s.observe(101, 60, true, window));
  // no live workers: not a stall (nothing is consuming, more replicas would help)
  EXPECT_FALSE(s.observe(101, 60, false, window));
  clock.advance(seconds(120));
  EXPECT_FALSE(s.observe(101, 60, true, window));
  // no lag: not a stall
  clock.advance(seconds(120));
  EXPECT_TRUE(s.observe(101, 60, true, window));
  EXPECT_FALSE(s.observe(101, 0, true, window));
}

TEST(IdleTracker, CountsContinuousIdleTime) {
  common::FakeClock clock;
  IdleTracker t(clock);
  EXPECT_DOUBLE_EQ(t.observe(true), 0);
  clock.advance(seconds(30));
  EXPECT_DOUBLE_EQ(t.observe(true), 30);
  EXPECT_DOUBLE_EQ(t.observe(false), 0);
  clock.advance(seconds(30));
  EXPECT_DOUBLE_EQ(t.observe(true), 0);
}

TEST(PartitionLag, RetentionSafeAndStartFrom) {
  using spec::StartFrom;
  struct Row {
    int64_t low, high;
    std::optional<int64_t> committed;
    StartFrom from;
    int64_t want;
  };
  const Row rows[] = {
      {0, 100, 40, StartFrom::kLatest, 60},
      {0, 100, 100, StartFrom::kLatest, 0},
      {50, 100, 10, StartFrom::kLatest, 50},  // committed below low (deleted by retention): at most high-low
      {0, 100, 150, StartFrom::kLatest, 0},   // committed beyond high (truncation): never negative
      {20, 100, std::nullopt, StartFrom::kEarliest, 80},
      {20, 100, std::nullopt, StartFrom::kLatest, 0},
      {0, 0, std::nullopt, StartFrom::kEarliest, 0},
      {-1, 100, -1001, StartFrom::kEarliest, 100},  // librdkafka's OFFSET_INVALID = no commit
  };
  for (const Row& r : rows) {
    EXPECT_EQ(partitionLag(r.low, r.high, r.committed, r.from), r.want)
        << r.low << " " << r.high << " " << r.committed.value_or(-9);
  }
}

TEST(PartitionLag, SummarizeTotals) {
  std::vector<PartitionLag> parts = {
      {"t", 0, 0, 100, 40, 60}, {"t", 1, 10, 50, std::nullopt, 40}, {"t", 2, 0, 5, 5, 0}};
  LagSnapshot s = summarize(parts, spec::StartFrom::kEarliest);
  EXPECT_EQ(s.totalLag, 100);
  EXPECT_EQ(s.partitionCount, 3);
  EXPECT_EQ(s.partitionsWithLag(), 2);
  EXPECT_EQ(s.maxPartitionLag(), 60);
  EXPECT_EQ(s.producedSum, 155);
  EXPECT_EQ(s.consumedSum, 40 + 10 + 5);
}

}  // namespace
}  // namespace sluice::scaling

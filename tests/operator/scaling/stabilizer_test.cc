// Stabilizer with a FakeClock: time only moves when the test advances it.
#include "operator/scaling/stabilizer.h"

#include <gtest/gtest.h>

namespace sluice::scaling {
namespace {

using std::chrono::seconds;

Recommendation rec(int replicas, Cause cause = Cause::kLagPerReplica) {
  Recommendation r;
  r.replicas = replicas;
  r.cause = cause;
  r.message = "test recommends " + std::to_string(replicas);
  return r;
}

spec::ScalingSpec spec5s() {
  spec::ScalingSpec s;
  s.maxReplicas = 100;
  s.pollIntervalSeconds = 5;
  s.scaleDownStabilizationSeconds = 120;
  return s;
}

class StabilizerTest : public ::testing::Test {
 protected:
  common::FakeClock clock;
  Stabilizer stab{clock};
  spec::ScalingSpec s = spec5s();
  int current = 0;

  ScaleDecision step(int recommended, Cause cause = Cause::kLagPerReplica) {
    ScaleDecision d = stab.stabilize(s, current, rec(recommended, cause));
    current = d.to;
    return d;
  }
};

TEST_F(StabilizerTest, ScalesUpAtOnce) {
  current = 2;
  ScaleDecision d = step(5);
  EXPECT_EQ(d.to, 5);
  EXPECT_EQ(d.direction, Direction::kUp);
  EXPECT_EQ(d.restraint, Restraint::kNone);
  EXPECT_NE(d.reason.find("scaling 2 -> 5"), std::string::npos) << d.reason;
}

TEST_F(StabilizerTest, ScaleUpStepIsBounded) {
  struct Row {
    int from, recommended, want;
  };
  for (Row row :
       {Row{0, 50, 4}, Row{1, 50, 5}, Row{3, 50, 7}, Row{4, 50, 8}, Row{10, 50, 20}, Row{30, 50, 50}}) {
    common::FakeClock c;
    Stabilizer st(c);
    ScaleDecision d = st.stabilize(s, row.from, rec(row.recommended));
    EXPECT_EQ(d.to, row.want) << row.from << " -> " << row.recommended;
    EXPECT_EQ(d.restraint, row.want < row.recommended ? Restraint::kStepLimit : Restraint::kNone);
  }
}

TEST_F(StabilizerTest, NextPollMayStepAgain) {
  current = 2;
  EXPECT_EQ(step(40).to, 6);
  clock.advance(seconds(5));
  EXPECT_EQ(step(40).to, 12);
  clock.advance(seconds(5));
  EXPECT_EQ(step(40).to, 24);
  clock.advance(seconds(5));
  EXPECT_EQ(step(40).to, 40);
}

TEST_F(StabilizerTest, MinimumIntervalBetweenChanges) {
  current = 2;
  EXPECT_EQ(step(4).to, 4);
  clock.advance(seconds(2));
  ScaleDecision d = step(8);
  EXPECT_EQ(d.to, 4);
  EXPECT_EQ(d.restraint, Restraint::kMinimumInterval);
  clock.advance(seconds(3));
  EXPECT_EQ(step(8).to, 8);
}

TEST_F(StabilizerTest, ScaleDownWaitsForHighestInWindow) {
  current = 6;
  step(6);  // seed at 6
  for (int t = 5; t <= 120; t += 5) {
    clock.advance(seconds(5));
    ScaleDecision d = step(2);
    ASSERT_EQ(d.to, 6) << "at " << t << "s: " << d.reason;
    EXPECT_EQ(d.restraint, Restraint::kStabilizing);
  }
  clock.advance(seconds(5));  // 125 s: the 6 (older than 120 s) left the window
  ScaleDecision d = step(2);
  EXPECT_EQ(d.to, 2) << d.reason;
  EXPECT_EQ(d.direction, Direction::kDown);
}

TEST_F(StabilizerTest, ScaleDownGoesToHighestRecentNotLowest) {
  current = 10;
  step(10);
  clock.advance(seconds(60));
  step(7);
  clock.advance(seconds(30));
  step(3);
  clock.advance(seconds(35));  // 125 s after the 10; the 7 (65 s ago) is still in the window
  ScaleDecision d = step(3);
  EXPECT_EQ(d.to, 7) << d.reason;
  clock.advance(seconds(60));
  EXPECT_EQ(step(3).to, 3);
}

TEST_F(StabilizerTest, FirstCallSeedsCurrentSoRestartDoesNotScaleDown) {
  current = 8;
  EXPECT_EQ(step(1).to, 8);
  clock.advance(seconds(119));
  EXPECT_EQ(step(1).to, 8);
  clock.advance(seconds(2));
  EXPECT_EQ(step(1).to, 1);
}

TEST_F(StabilizerTest, IdleToZeroSkipsWindow) {
  current = 1;
  step(1);
  clock.advance(seconds(10));
  ScaleDecision d = step(0, Cause::kIdleToZero);
  EXPECT_EQ(d.to, 0);
}

TEST_F(StabilizerTest, PausedHoldsButRecords) {
  s.paused = true;
  current = 3;
  ScaleDecision d = step(9);
  EXPECT_EQ(d.to, 3);
  EXPECT_EQ(d.restraint, Restraint::kPaused);
  EXPECT_NE(d.reason.find("paused"), std::string::npos);
  s.paused = false;
  clock.advance(seconds(5));
  EXPECT_EQ(step(9).to, 7);  // unpaused: bounded step max(3+4, 2x3)
}

TEST_F(StabilizerTest, LoweredMaxReplicasIsNotHeldByHistory) {
  current = 10;
  step(10);
  s.maxReplicas = 4;
  clock.advance(seconds(5));
  EXPECT_EQ(step(4, Cause::kMaxReplicas).to, 4);
}

TEST_F(StabilizerTest, NoFlipsUnderNoisyRecommendations) {
  current = 5;
  int flips = 0;
  Direction last = Direction::kNone;
  const int noise[] = {5, 6, 5, 4, 6, 5, 5, 4, 6, 5};
  for (int i = 0; i < 200; ++i) {
    clock.advance(seconds(5));
    ScaleDecision d = step(noise[i % 10]);
    if (d.direction != Direction::kNone) {
      if (last != Direction::kNone && d.direction != last) ++flips;
      last = d.direction;
    }
  }
  EXPECT_EQ(current, 6);
  EXPECT_EQ(flips, 0);
}

}  // namespace
}  // namespace sluice::scaling

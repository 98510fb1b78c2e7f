// PipelineAutoscaler: the per-poll glue, driven with fixed probe results and a FakeClock.
#include "operator/scaling/autoscaler.h"

#include <gtest/gtest.h>

namespace sluice::scaling {
namespace {

using std::chrono::seconds;

LagSnapshot snapshot(int64_t lag, int64_t produced, int64_t consumed, std::optional<int> partitions = 8) {
  LagSnapshot s;
  s.totalLag = lag;
  s.producedSum = produced;
  s.consumedSum = consumed;
  s.partitionCount = partitions;
  return s;
}

WorkersStatus readyWorkers(int n, double throughput) {
  WorkersStatus w;
  w.ready = w.total = n;
  if (throughput > 0) w.perReplicaThroughput = throughput;
  return w;
}

class AutoscalerTest : public ::testing::Test {
 protected:
  common::FakeClock clock;
  PipelineAutoscaler scaler{clock};
  spec::ScalingSpec s = [] {
    spec::ScalingSpec x;
    x.lagPerReplica = 1000;
    x.maxReplicas = 20;
    x.pollIntervalSeconds = 5;
    x.idleSecondsBeforeZero = 60;
    return x;
  }();
  int replicas = 1;

  PollOutcome poll(const common::Result<LagSnapshot>& lag, const WorkersStatus& workers) {
    PollOutcome out = scaler.poll(s, spec::SourceKind::kKafka, replicas, lag, workers);
    replicas = out.decision.to;
    return out;
  }
};

TEST_F(AutoscalerTest, LagBurstScalesUp) {
  poll(snapshot(0, 1000, 1000), readyWorkers(1, 0));
  clock.advance(seconds(5));
  PollOutcome out = poll(snapshot(3500, 4500, 1000), readyWorkers(1, 0));
  EXPECT_EQ(out.decision.to, 4);
  EXPECT_DOUBLE_EQ(out.rates.inPerSecond, 700);
  EXPECT_EQ(out.inputs.totalLag, 3500);
  EXPECT_EQ(out.decision.from, 1);
  EXPECT_NE(out.decision.reason.find("lag 3500 over 1 replica"), std::string::npos) << out.decision.reason;
  clock.advance(seconds(5));
  EXPECT_FALSE(poll(snapshot(3500, 4500, 1000), readyWorkers(4, 0)).decision.changed());
}

TEST_F(AutoscalerTest, MissingSourceIsAConditionNotMaxReplicas) {
  replicas = 2;
  PollOutcome out = poll(common::notFound("topic orders does not exist"), readyWorkers(2, 0));
  EXPECT_EQ(out.decision.to, 2);
  EXPECT_EQ(out.sourceState, SourceState::kMissing);
  EXPECT_EQ(out.decision.cause, Cause::kSourceMissing);
  EXPECT_NE(out.decision.reason.find("topic orders does not exist"), std::string::npos)
      << out.decision.reason;
  out = poll(common::unavailable("connect to 127.0.0.1:9092 refused"), readyWorkers(2, 0));
  EXPECT_EQ(out.sourceState, SourceState::kUnreachable);
  EXPECT_EQ(out.decision.to, 2);
}

TEST_F(AutoscalerTest, StalledLagDegradesInsteadOfScalingUp) {
  replicas = 2;
  PollOutcome out;
  for (int t = 0; t <= 60; t += 5) {
    out = poll(snapshot(2000, 5000, 3000), readyWorkers(2, 0));
    if (t < 60) clock.advance(seconds(5));
  }
  EXPECT_EQ(out.decision.cause, Cause::kStalled);
  EXPECT_TRUE(out.decision.degraded);
  EXPECT_EQ(out.decision.to, 2);
  clock.advance(seconds(5));
  out = poll(snapshot(9000, 12000, 3000), readyWorkers(2, 0));  // more lag arrives, still no progress
  EXPECT_EQ(out.decision.to, 2) << out.decision.reason;
  clock.advance(seconds(5));
  out = poll(snapshot(8000, 12000, 4000), readyWorkers(2, 0));  // progress: back to the lag target
  EXPECT_FALSE(out.decision.degraded);
  EXPECT_EQ(out.decision.to, 6);  // lag target 8, first step bounded to max(2+4, 2x2)
}

TEST_F(AutoscalerTest, NoReportsMeansNoStallVerdict) {
  replicas = 2;
  PollOutcome out;
  for (int t = 0; t <= 120; t += 5) {
    out = poll(snapshot(2000, 5000, 3000), WorkersStatus{});
    clock.advance(seconds(5));
  }
  EXPECT_EQ(out.decision.cause, Cause::kLagPerReplica);
}

TEST_F(AutoscalerTest, ScalesToZeroAfterIdle) {
  PollOutcome out;
  int zeroAt = -1;
  for (int t = 0; t <= 120 && zeroAt < 0; t += 5) {
    out = poll(snapshot(0, 777, 777), readyWorkers(replicas, 0));
    if (out.decision.to == 0) zeroAt = t;
    clock.advance(seconds(5));
  }
  // Rates become known at the second poll (t=5); idle 60 s later.
  EXPECT_EQ(zeroAt, 65);
  EXPECT_EQ(out.decision.cause, Cause::kIdleToZero);
}

TEST_F(AutoscalerTest, DrainTargetUsesWorkerThroughput) {
  s.lagPerReplica.reset();
  s.drainSeconds = 60;
  replicas = 2;
  poll(snapshot(0, 0, 0, std::nullopt), readyWorkers(2, 100));
  clock.advance(seconds(10));
  // 3000 arrived in 10 s (300/s), nothing consumed: (300 + 3000/60) / 100 = 3.5 -> 4
  PollOutcome out = scaler.poll(s, spec::SourceKind::kNats, replicas, snapshot(3000, 3000, 0, std::nullopt),
                                readyWorkers(2, 100));
  EXPECT_EQ(out.decision.to, 4) << out.decision.reason;
  EXPECT_EQ(out.decision.cause, Cause::kDrainTime);
}

}  // namespace
}  // namespace sluice::scaling

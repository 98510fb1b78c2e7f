// PipelineStatus: the one place the status becomes JSON, and the autoscaler poll's part of it.
#include "operator/controller/pipeline_status.h"

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

scaling::PollOutcome scaledUp() {
  scaling::PollOutcome out;
  out.inputs.totalLag = 3500;
  out.partitionsWithLag = 3;
  out.maxPartitionLag = 1500;
  out.rates.inPerSecond = 700.004;
  out.rates.outPerSecond = 12.345;
  out.decision.from = 1;
  out.decision.to = 4;
  out.decision.reason = "lag 3500 over 1 replica";
  return out;
}

TEST(ScalingStatus, LagRatesAndTheScaleThisPollMade) {
  common::FakeClock clock;
  const auto status = scalingStatus(scaledUp(), {}, clock.wallNow());
  EXPECT_EQ(status.lag.total, 3500);
  EXPECT_EQ(status.lag.partitionsWithLag, 3);
  EXPECT_EQ(status.lag.maxPartitionLag, 1500);
  EXPECT_DOUBLE_EQ(status.rates.inPerSecond, 700.0);
  EXPECT_DOUBLE_EQ(status.rates.outPerSecond, 12.35);
  ASSERT_TRUE(status.lastScale.has_value());
  EXPECT_EQ(status.lastScale->from, 1);
  EXPECT_EQ(status.lastScale->to, 4);
  EXPECT_EQ(status.lastScale->reason, "lag 3500 over 1 replica");
  EXPECT_EQ(status.lastScale->time, clock.wallNow());
}

TEST(ScalingStatus, AHoldKeepsLastScaleOut) {
  auto outcome = scaledUp();
  outcome.decision.from = 4;
  EXPECT_FALSE(scalingStatus(outcome, {}, common::WallTime{}).lastScale.has_value());
}

TEST(PipelineStatusToJson, WithoutAPollOnlyTheDeploymentsFigures) {
  PipelineStatus status;
  status.observedGeneration = 3;
  status.replicas = 2;
  status.desiredReplicas = 2;
  status.readyReplicas = 1;
  EXPECT_EQ(status.toJson().dump(),
            R"({"conditions":[],"desiredReplicas":2,"observedGeneration":3,"readyReplicas":1,"replicas":2})");
  status.source = "kafka:orders";
  EXPECT_EQ(status.toJson()["source"], "kafka:orders");
}

TEST(PipelineStatusToJson, APollAddsLagRatesLastScaleAndWorkers) {
  common::FakeClock clock;
  PipelineStatus status;
  status.desiredReplicas = 4;
  status.autoscaling = scalingStatus(scaledUp(), {}, clock.wallNow());
  const json j = status.toJson();
  EXPECT_EQ(j["lag"].dump(), R"({"maxPartitionLag":1500,"partitionsWithLag":3,"total":3500})");
  EXPECT_EQ(j["rates"]["inPerSecond"], 700.0);
  EXPECT_EQ(j["lastScale"].dump(),
            R"({"from":1,"reason":"lag 3500 over 1 replica","time":"2026-01-01T00:00:00Z","to":4})");
  EXPECT_EQ(j["workers"].dump(), R"({"items":[],"ready":0,"total":0})");
  EXPECT_EQ(j["desiredReplicas"], 4);
}

TEST(PipelineStatusFromJson, ReadsBackTheFiguresToJsonWrote) {
  common::FakeClock clock;
  PipelineStatus written;
  written.observedGeneration = 7;
  written.replicas = 3;
  written.desiredReplicas = 4;
  written.readyReplicas = 2;
  written.source = "nats:ORDERS";
  written.autoscaling = scalingStatus(scaledUp(), {}, clock.wallNow());
  const PipelineStatus read = PipelineStatus::fromJson(written.toJson());
  EXPECT_EQ(read.observedGeneration, 7);
  EXPECT_EQ(read.replicas, 3);
  EXPECT_EQ(read.desiredReplicas, 4);
  EXPECT_EQ(read.readyReplicas, 2);
  EXPECT_EQ(read.source, "nats:ORDERS");
  ASSERT_TRUE(read.autoscaling.has_value());
  EXPECT_EQ(read.autoscaling->lag.total, 3500);
  EXPECT_EQ(read.autoscaling->lag.maxPartitionLag, 1500);
  EXPECT_DOUBLE_EQ(read.autoscaling->rates.inPerSecond, 700.0);
  EXPECT_DOUBLE_EQ(read.autoscaling->rates.outPerSecond, 12.35);
}

TEST(PipelineStatusFromJson, WithoutLagThereIsNoPollAndOddTypesReadAsAbsent) {
  const auto read = PipelineStatus::fromJson(json::parse(R"({"replicas":"two","desiredReplicas":2})"));
  EXPECT_EQ(read.replicas, 0);
  EXPECT_EQ(read.desiredReplicas, 2);
  EXPECT_FALSE(read.autoscaling.has_value());
  EXPECT_FALSE(PipelineStatus::fromJson(json()).autoscaling.has_value());
}

// status.workers, as the worker reports fold into it (moved from scaling::toStatusJson).
TEST(PipelineStatusToJson, WorkersShape) {
  common::FakeClock clock;
  contract::WorkerReport a;
  a.pod = "a";
  a.state = contract::WorkerState::kRunning;
  a.lastHeartbeat = clock.wallNow();
  a.processedPerSecond = 12.5;
  a.inFlight = 3;
  PipelineStatus status;
  status.autoscaling = scalingStatus(scaledUp(), scaling::foldReports({a}, clock.wallNow()), clock.wallNow());
  EXPECT_EQ(
      status.toJson()["workers"].dump(),
      R"({"items":[{"inFlight":3,"lastHeartbeat":"2026-01-01T00:00:00Z","p95BatchMs":0.0,"paused":false,)"
      R"("pod":"a","processedPerSecond":12.5,"state":"Running"}],"ready":1,"total":1})");
}

}  // namespace
}  // namespace sluice::controller

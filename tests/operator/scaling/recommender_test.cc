// Table tests for the pure recommender, including the KEDA cases it must not repeat.
#include "operator/scaling/recommender.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::scaling {
namespace {

struct Row {
  const char* name;
  ScalingInputs in;
  int want;
  Cause cause;
  const char* messageHas = "";
};

spec::ScalingSpec lagSpec(int64_t lagPerReplica, int minR = 0, int maxR = 10) {
  spec::ScalingSpec s;
  s.lagPerReplica = lagPerReplica;
  s.minReplicas = minR;
  s.maxReplicas = maxR;
  return s;
}

spec::ScalingSpec drainSpec(int drainSeconds, int maxR = 20, std::optional<int64_t> lagPerReplica = {}) {
  spec::ScalingSpec s;
  s.drainSeconds = drainSeconds;
  s.lagPerReplica = lagPerReplica;
  s.maxReplicas = maxR;
  return s;
}

ScalingInputs kafka(spec::ScalingSpec s, int current, int64_t lag, std::optional<int> partitions = {}) {
  ScalingInputs in;
  in.scaling = s;
  in.source = spec::SourceKind::kKafka;
  in.currentReplicas = current;
  in.totalLag = lag;
  in.partitionCount = partitions;
  return in;
}

ScalingInputs nats(spec::ScalingSpec s, int current, int64_t lag) {
  ScalingInputs in = kafka(s, current, lag);
  in.source = spec::SourceKind::kNats;
  return in;
}

template <typename F>
ScalingInputs with(ScalingInputs in, F f) {
  f(in);
  return in;
}

std::vector<Row> rows() {
  return {
      // lagPerReplica: ceil(lag / lagPerReplica)
      {"lag target exact", kafka(lagSpec(1000), 2, 3000), 3, Cause::kLagPerReplica,
       "lagPerReplica 1000 needs 3"},
      {"lag target rounds up", kafka(lagSpec(1000), 2, 3001), 4, Cause::kLagPerReplica},
      {"lag target scales down", kafka(lagSpec(1000), 8, 1500), 2, Cause::kLagPerReplica},
      {"the parser's default lagPerReplica (1000)", kafka(lagSpec(spec::kDefaultLagPerReplica), 1, 4500), 5,
       Cause::kLagPerReplica},
      {"clamped to maxReplicas", kafka(lagSpec(100, 0, 10), 3, 5000), 10, Cause::kMaxReplicas,
       "clamped to maxReplicas 10"},
      {"raised to minReplicas", kafka(lagSpec(1000, 3, 10), 3, 10), 3, Cause::kMinReplicas},
      {"NATS has no partition cap", nats(lagSpec(100, 0, 50), 4, 4000), 40, Cause::kLagPerReplica},
      // drainSeconds: ceil((in + lag/drain) / throughput)
      {"drain target from issue text",
       with(kafka(drainSpec(60), 4, 48000),
            [](ScalingInputs& i) {
              i.inPerSecond = 200;
              i.perReplicaThroughput = 175;
            }),
       6, Cause::kDrainTime, "lag 48000 over 4 replicas; drain target 60s needs 6"},
      {"drain target exact float no extra replica",
       with(nats(drainSpec(10), 1, 1000),
            [](ScalingInputs& i) {
              i.inPerSecond = 20;
              i.perReplicaThroughput = 40;
            }),
       3, Cause::kDrainTime},
      {"drain target counts input even without lag",
       with(nats(drainSpec(60), 2, 0),
            [](ScalingInputs& i) {
              i.inPerSecond = 500;
              i.perReplicaThroughput = 100;
            }),
       5, Cause::kDrainTime},
      {"max over targets: lag wins",
       with(kafka(drainSpec(60, 20, 1000), 2, 9000),
            [](ScalingInputs& i) {
              i.inPerSecond = 10;
              i.perReplicaThroughput = 1000;
            }),
       9, Cause::kLagPerReplica},
      {"max over targets: drain wins",
       with(kafka(drainSpec(60, 20, 10000), 2, 9000),
            [](ScalingInputs& i) {
              i.inPerSecond = 100;
              i.perReplicaThroughput = 50;
            }),
       5, Cause::kDrainTime},
      {"drain only, no throughput yet: hold current", kafka(drainSpec(60), 3, 9000), 3,
       Cause::kNoThroughputYet, "no worker throughput reported yet"},
      {"drain only, no throughput, at zero: activate one", kafka(drainSpec(60), 0, 9000), 1,
       Cause::kActivation},
      {"drain unknown falls back to lag target", kafka(drainSpec(60, 20, 1000), 1, 7000), 7,
       Cause::kLagPerReplica, "no worker throughput reported yet"},
      // Keep-up target: with measured throughput, enough replicas for the input even at zero lag
      {"input rate keeps replicas under steady load",
       with(kafka(lagSpec(1000, 0, 20), 5, 0),
            [](ScalingInputs& i) {
              i.inPerSecond = 450;
              i.perReplicaThroughput = 100;
            }),
       5, Cause::kInputRate, "input 450/s needs 5 at 100/s per replica"},
      {"input rate below lag target: lag wins",
       with(kafka(lagSpec(1000, 0, 20), 5, 9000),
            [](ScalingInputs& i) {
              i.inPerSecond = 450;
              i.perReplicaThroughput = 100;
            }),
       9, Cause::kLagPerReplica},
      {"no throughput: no input target",
       with(kafka(lagSpec(1000, 0, 20), 5, 0), [](ScalingInputs& i) { i.inPerSecond = 450; }), 1,
       Cause::kKeepOneUntilIdle},
      // Kafka partition cap and steps
      {"cap replicas at partitions", kafka(lagSpec(100, 0, 50), 4, 100000, 8), 8, Cause::kPartitionCap,
       "capped at 8 partitions"},
      {"allowIdleConsumers lifts the cap",
       with(kafka(lagSpec(100, 0, 50), 4, 2000, 8),
            [](ScalingInputs& i) { i.scaling.allowIdleConsumers = true; }),
       20, Cause::kLagPerReplica},
      {"partition step P=8: 5 -> 4", kafka(lagSpec(100), 2, 500, 8), 4, Cause::kLagPerReplica,
       "5 and 4 both leave 2 of 8 partitions"},
      {"partition step P=8: 7 -> 4", kafka(lagSpec(100), 2, 700, 8), 4, Cause::kLagPerReplica},
      {"partition step P=8: 3 stays 3", kafka(lagSpec(100), 2, 300, 8), 3, Cause::kLagPerReplica},
      {"partition step P=12: 5 -> 4", kafka(lagSpec(100, 0, 20), 2, 500, 12), 4, Cause::kLagPerReplica},
      {"maxReplicas then step: P=8 max 5 -> 4", kafka(lagSpec(100, 0, 5), 2, 100000, 8), 4,
       Cause::kMaxReplicas},
      {"minReplicas wins over step", kafka(lagSpec(100, 5, 10), 5, 500, 8), 5, Cause::kMinReplicas},
      // KEDA #4483: P=5, lagThreshold 5, lag 29: KEDA's integer cap check lets 29/5=5 through uncapped
      // and the HPA asks ceil(29/5) = 6 = P+1. Sluice caps the replicas: 5.
      {"KEDA 4483: never P+1", kafka(lagSpec(5, 0, 100), 4, 29, 5), 5, Cause::kPartitionCap},
      {"KEDA 4483: lag 26", kafka(lagSpec(5, 0, 100), 5, 26, 5), 5, Cause::kPartitionCap},
      // KEDA #2908: P=64, lagThreshold 3000, 63 pods, lag 450000: the metric capped at 64x3000 over 63
      // pods is within the HPA's 10% tolerance, so KEDA stays at 63 = P-1. Sluice asks for 64.
      {"KEDA 2908: not stuck at P-1", kafka(lagSpec(3000, 0, 100), 63, 450000, 64), 64, Cause::kPartitionCap},
      {"KEDA 2908 smaller: P=10 at 9", kafka(lagSpec(10, 0, 100), 9, 500, 10), 10, Cause::kPartitionCap},
      // Zero: activation and idle
      {"at zero, lag at activationLag stays zero",
       with(kafka(lagSpec(1000), 0, 50), [](ScalingInputs& i) { i.scaling.activationLag = 50; }), 0,
       Cause::kBelowActivation, "at or below activationLag 50"},
      {"at zero, lag above activationLag activates",
       with(kafka(lagSpec(1000), 0, 51), [](ScalingInputs& i) { i.scaling.activationLag = 50; }), 1,
       Cause::kActivation},
      {"activation goes straight to target", kafka(lagSpec(1000), 0, 5000), 5, Cause::kActivation},
      {"at zero, no lag, minReplicas 2", kafka(lagSpec(1000, 2), 0, 0), 2, Cause::kMinReplicas},
      {"no lag, not idle long enough: keep one",
       with(kafka(lagSpec(1000), 3, 0), [](ScalingInputs& i) { i.idleSeconds = 100; }), 1,
       Cause::kKeepOneUntilIdle, "idle for 100s of 300s"},
      {"no lag but input flowing: keep one",
       with(kafka(lagSpec(1000), 3, 0),
            [](ScalingInputs& i) {
              i.idleSeconds = 1000;
              i.inPerSecond = 5;
            }),
       1, Cause::kKeepOneUntilIdle, "input 5/s"},
      {"idle long enough: zero",
       with(kafka(lagSpec(1000), 1, 0), [](ScalingInputs& i) { i.idleSeconds = 300; }), 0,
       Cause::kIdleToZero},
      {"idle long enough but minReplicas 1",
       with(kafka(lagSpec(1000, 1), 1, 0), [](ScalingInputs& i) { i.idleSeconds = 900; }), 1,
       Cause::kMinReplicas},
      {"small lag above zero keeps one", kafka(lagSpec(1000), 4, 1), 1, Cause::kLagPerReplica},
      // Stalled and missing sources hold instead of scaling
      {"stalled lag holds current",
       with(kafka(lagSpec(100), 3, 90000, 8), [](ScalingInputs& i) { i.lagStalled = true; }), 3,
       Cause::kStalled, "more replicas cannot help"},
      {"stalled flag without lag is ignored",
       with(kafka(lagSpec(100), 3, 0), [](ScalingInputs& i) { i.lagStalled = true; }), 1,
       Cause::kKeepOneUntilIdle},
      {"missing source holds, not max",
       with(kafka(lagSpec(100, 0, 30), 2, 0),
            [](ScalingInputs& i) { i.sourceState = SourceState::kMissing; }),
       2, Cause::kSourceMissing, "source missing"},
      {"missing source at zero stays zero",
       with(nats(lagSpec(100), 0, 0), [](ScalingInputs& i) { i.sourceState = SourceState::kMissing; }), 0,
       Cause::kSourceMissing},
      {"unreachable source holds",
       with(kafka(lagSpec(100), 4, 99999),
            [](ScalingInputs& i) { i.sourceState = SourceState::kUnreachable; }),
       4, Cause::kSourceUnreachable},
      {"hold is clamped into a lowered maxReplicas",
       with(kafka(lagSpec(100, 0, 3), 6, 0),
            [](ScalingInputs& i) { i.sourceState = SourceState::kUnreachable; }),
       3, Cause::kSourceUnreachable},
  };
}

class RecommenderTable : public ::testing::TestWithParam<Row> {};

TEST_P(RecommenderTable, RecommendsReplicasWithReason) {
  const Row& row = GetParam();
  Recommendation r = recommend(row.in);
  EXPECT_EQ(r.replicas, row.want) << r.message;
  EXPECT_EQ(reasonName(r.cause), std::string(reasonName(row.cause))) << r.message;
  EXPECT_NE(r.message.find(row.messageHas), std::string::npos) << r.message;
}

std::string rowName(const ::testing::TestParamInfo<Row>& info) {
  std::string name;
  for (const char* c = info.param.name; *c; ++c)
    name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Rows, RecommenderTable, ::testing::ValuesIn(rows()), rowName);

TEST(Recommender, StalledIsDegraded) {
  ScalingInputs in = kafka(lagSpec(100), 3, 5000, 8);
  in.lagStalled = true;
  EXPECT_TRUE(recommend(in).degraded);
  in.lagStalled = false;
  EXPECT_FALSE(recommend(in).degraded);
}

TEST(Recommender, MessageMatchesIssueExample) {
  ScalingInputs in = kafka(drainSpec(60), 4, 48000);
  in.inPerSecond = 200;
  in.perReplicaThroughput = 175;
  EXPECT_EQ(recommend(in).message,
            "lag 48000 over 4 replicas; drain target 60s needs 6 (in 200/s, 175/s per replica)");
}

struct StepRow {
  int partitions;
  std::vector<int> expected;  // partitionStep(n, P) for n = 1..P
};

TEST(PartitionStep, OnlyCountsWhereBusiestConsumerChanges) {
  const std::vector<StepRow> table = {
      {8, {1, 2, 3, 4, 4, 4, 4, 8}},
      {6, {1, 2, 3, 3, 3, 6}},
      {12, {1, 2, 3, 4, 4, 6, 6, 6, 6, 6, 6, 12}},
      {1, {1}},
      {5, {1, 2, 3, 3, 5}},
  };
  for (const StepRow& row : table) {
    for (int n = 1; n <= row.partitions; ++n) {
      EXPECT_EQ(partitionStep(n, row.partitions), row.expected[n - 1])
          << "P=" << row.partitions << " n=" << n;
    }
  }
  EXPECT_EQ(partitionStep(20, 8), 8);  // above P: P
  EXPECT_EQ(partitionStep(0, 8), 0);
}

}  // namespace
}  // namespace sluice::scaling

#include "worker/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <optional>
#include <string>

namespace sluice::worker {
namespace {

// The value of an unlabelled gauge as the registry exports it (what /metrics serves).
std::optional<double> exported(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric.front().gauge.value;
  }
  return std::nullopt;
}

TEST(WorkerMetrics, SampleCarriesTheSourcesDifferenceFromTheSpec) {
  prometheus::Registry registry;
  WorkerMetrics metrics(registry);
  EXPECT_EQ(metrics.sample(common::SteadyTime{}).sourceDrift, "");
  metrics.setSourceDrift("nats consumer S/d exists with other settings, kept as it is: ackWait 30 s");
  EXPECT_EQ(metrics.sample(common::SteadyTime{}).sourceDrift,
            "nats consumer S/d exists with other settings, kept as it is: ackWait 30 s");
  EXPECT_EQ(exported(registry, "sluice_worker_source_config_drift"), 1);
  metrics.setSourceDrift("");
  EXPECT_EQ(exported(registry, "sluice_worker_source_config_drift"), 0);
}

TEST(WorkerMetrics, SampleReadsTheDeliveryCountersAndGauges) {
  prometheus::Registry registry;
  WorkerMetrics metrics(registry);
  metrics.delivered(7);
  metrics.deliveryAttempt(7, 0.02);
  metrics.inFlight(3, 300);
  metrics.pausedPartitions(2);
  const auto sample = metrics.sample(common::SteadyTime{});
  EXPECT_EQ(sample.delivered, 7);
  EXPECT_DOUBLE_EQ(sample.batchSeconds, 0.02);
  ASSERT_FALSE(sample.bucketCumulative.empty());
  EXPECT_EQ(sample.bucketCumulative.back(), 1u);
  EXPECT_EQ(sample.inFlight, 3);
  EXPECT_EQ(sample.pausedPartitions, 2);
  EXPECT_FALSE(sample.degraded);
  metrics.degraded();
  EXPECT_TRUE(metrics.sample(common::SteadyTime{}).degraded);
  EXPECT_EQ(exported(registry, "sluice_worker_in_flight_bytes"), 300);
}

}  // namespace
}  // namespace sluice::worker

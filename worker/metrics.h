#pragma once
// WorkerMetrics: WorkerStats on the Prometheus registry common::MetricsServer serves; the only
// worker file that includes prometheus-cpp. Names are part of the operator/dashboards contract:
// sluice_worker_*.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>

#include "worker/stats.h"

namespace sluice::worker {

class WorkerMetrics final : public WorkerStats {
 public:
  explicit WorkerMetrics(prometheus::Registry& registry);

  void consumed(size_t messages) override { consumed_.Increment(static_cast<double>(messages)); }
  void delivered(size_t messages) override { delivered_.Increment(static_cast<double>(messages)); }
  void failed(size_t messages) override { failed_.Increment(static_cast<double>(messages)); }
  void retried(size_t messages) override { retried_.Increment(static_cast<double>(messages)); }
  void deadLettered() override { deadLettered_.Increment(); }
  void rebalanced() override { rebalances_.Increment(); }
  void deliveryAttempt(size_t messages, double seconds) override;
  void inFlight(int64_t messages, int64_t bytes) override;
  void pausedPartitions(size_t partitions) override {
    pausedPartitions_.Set(static_cast<double>(partitions));
  }
  void degraded() override { degraded_.Set(1); }
  void setLag(const TopicPartition& partition, int64_t lag) override;
  void removeLag(const TopicPartition& partition) override;
  void setSourceDrift(const std::string& difference) override;
  MetricsSample sample(common::SteadyTime at) const override;

 private:
  prometheus::Counter& consumed_;
  prometheus::Counter& delivered_;
  prometheus::Counter& failed_;
  prometheus::Counter& retried_;
  prometheus::Counter& deadLettered_;
  prometheus::Counter& rebalances_;
  prometheus::Histogram& batchSize_;
  prometheus::Histogram& batchSeconds_;
  prometheus::Gauge& inFlightMessages_;
  prometheus::Gauge& inFlightBytes_;
  prometheus::Gauge& pausedPartitions_;
  prometheus::Gauge& degraded_;
  prometheus::Gauge& sourceConfigDrift_;  // the source's existing consumer differs from the spec
  prometheus::Family<prometheus::Gauge>& lagFamily_;
  mutable std::mutex mu_;
  std::map<TopicPartition, prometheus::Gauge*> lag_;
  std::string sourceDrift_;
};

}  // namespace sluice::worker

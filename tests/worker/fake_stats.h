#pragma once
// WorkerStats that only counts, for tests of what the pipeline's parts report.
#include <atomic>
#include <map>
#include <mutex>

#include "worker/stats.h"

namespace sluice::worker::testing {

class FakeStats final : public WorkerStats {
 public:
  void consumed(size_t messages) override { consumedCount += messages; }
  void delivered(size_t messages) override { deliveredCount += messages; }
  void failed(size_t messages) override { failedCount += messages; }
  void retried(size_t messages) override { retriedCount += messages; }
  void deadLettered() override { ++deadLetteredCount; }
  void rebalanced() override {}
  void deliveryAttempt(size_t, double) override { ++attempts; }
  void inFlight(int64_t, int64_t) override {}
  void pausedPartitions(size_t) override {}
  void degraded() override { isDegraded = true; }
  void setLag(const TopicPartition&, int64_t) override {}
  void removeLag(const TopicPartition&) override {}
  void setSourceDrift(const std::string&) override {}
  MetricsSample sample(common::SteadyTime at) const override {
    MetricsSample s;
    s.at = at;
    s.delivered = static_cast<double>(deliveredCount.load());
    s.degraded = isDegraded;
    return s;
  }

  std::atomic<size_t> consumedCount{0};
  std::atomic<size_t> deliveredCount{0};
  std::atomic<size_t> failedCount{0};
  std::atomic<size_t> retriedCount{0};
  std::atomic<size_t> deadLetteredCount{0};
  std::atomic<size_t> attempts{0};
  std::atomic<bool> isDegraded{false};
};

}  // namespace sluice::worker::testing

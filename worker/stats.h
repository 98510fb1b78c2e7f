#pragma once
// WorkerStats: what the data plane counts, as the pipeline, the sources and the heartbeat see it.
// WorkerMetrics (metrics.*) is the one implementation and the only worker file that includes
// prometheus-cpp; everything else talks to this interface.
// Threading: every method may be called from any thread (lanes, the consumer thread, the heartbeat).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "worker/message.h"

namespace sluice::worker {

// What the worker's counters say at one moment (cumulative values, as Prometheus keeps them).
struct MetricsSample {
  common::SteadyTime at{};
  double delivered = 0;
  double batchSeconds = 0;                 // sum of the delivery-attempt durations
  std::vector<double> bucketBounds;        // upper bounds, seconds (+Inf last)
  std::vector<uint64_t> bucketCumulative;  // cumulative counts per bound
  double inFlight = 0;
  double pausedPartitions = 0;
  bool degraded = false;
  std::string sourceDrift;  // WorkerStats::setSourceDrift's last text
};

class WorkerStats {
 public:
  virtual ~WorkerStats() = default;

  virtual void consumed(size_t messages) = 0;
  virtual void delivered(size_t messages) = 0;
  virtual void failed(size_t messages) = 0;   // messages in a delivery attempt that failed
  virtual void retried(size_t messages) = 0;  // messages scheduled for another attempt
  virtual void deadLettered() = 0;
  virtual void rebalanced() = 0;
  // One delivery attempt of `messages` that took `seconds`.
  virtual void deliveryAttempt(size_t messages, double seconds) = 0;
  virtual void inFlight(int64_t messages, int64_t bytes) = 0;
  virtual void pausedPartitions(size_t partitions) = 0;
  // A lane stopped on a message it could neither deliver nor dead-letter (stays set).
  virtual void degraded() = 0;
  virtual void setLag(const TopicPartition& partition, int64_t lag) = 0;
  virtual void removeLag(const TopicPartition& partition) = 0;
  // The source's difference from the spec in words (empty: none). The heartbeat reports the text
  // to the operator, which shows it as a Degraded condition.
  virtual void setSourceDrift(const std::string& difference) = 0;

  virtual MetricsSample sample(common::SteadyTime at) const = 0;
};

}  // namespace sluice::worker

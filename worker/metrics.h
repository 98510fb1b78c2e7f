#pragma once
// The worker's Prometheus metrics, created on the registry common::MetricsServer serves. Names are
// part of the operator/dashboards contract: sluice_worker_*.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>

#include "worker/message.h"

namespace sluice::worker {

class WorkerMetrics {
 public:
  explicit WorkerMetrics(prometheus::Registry& registry);

  prometheus::Counter& consumed;
  prometheus::Counter& delivered;
  prometheus::Counter& failed;   // messages in failed delivery attempts
  prometheus::Counter& retried;  // messages scheduled for another attempt
  prometheus::Counter& deadLettered;
  prometheus::Counter& rebalances;
  prometheus::Histogram& batchSize;
  prometheus::Histogram& batchSeconds;
  prometheus::Gauge& inFlightMessages;
  prometheus::Gauge& inFlightBytes;
  prometheus::Gauge& pausedPartitions;
  prometheus::Gauge& degraded;
  prometheus::Gauge& sourceConfigDrift;  // the source's existing consumer differs from the spec

  // The source's difference from the spec in words (empty: none); sets sourceConfigDrift too. The
  // heartbeat reports the text to the operator, which shows it as a Degraded condition.
  void setSourceDrift(const std::string& difference);
  std::string sourceDrift() const;

  void setLag(const TopicPartition& partition, int64_t lag);
  void removeLag(const TopicPartition& partition);

 private:
  prometheus::Family<prometheus::Gauge>& lagFamily_;
  mutable std::mutex mu_;
  std::map<TopicPartition, prometheus::Gauge*> lag_;
  std::string sourceDrift_;
};

}  // namespace sluice::worker

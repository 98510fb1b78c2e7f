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

  void setLag(const TopicPartition& partition, int64_t lag);
  void removeLag(const TopicPartition& partition);

 private:
  prometheus::Family<prometheus::Gauge>& lagFamily_;
  std::mutex mu_;
  std::map<TopicPartition, prometheus::Gauge*> lag_;
};

}  // namespace sluice::worker

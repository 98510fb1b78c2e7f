#include "worker/metrics.h"

namespace sluice::worker {
namespace {

prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Histogram& histogram(prometheus::Registry& r, const std::string& name, const std::string& help,
                                 prometheus::Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(buckets));
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& r)
    : consumed_(counter(r, "sluice_worker_consumed_total", "Messages taken from the source")),
      delivered_(counter(r, "sluice_worker_delivered_total", "Messages the sink accepted")),
      failed_(counter(r, "sluice_worker_messages_failed_total", "Messages in delivery attempts that failed")),
      retried_(counter(r, "sluice_worker_messages_retried_total",
                       "Messages scheduled for another delivery attempt")),
      deadLettered_(
          counter(r, "sluice_worker_dead_lettered_total", "Messages sent to the dead-letter destination")),
      rebalances_(counter(r, "sluice_worker_rebalances_total", "Partition assignments and revocations seen")),
      batchSize_(histogram(r, "sluice_worker_batch_size", "Messages per delivered batch",
                           {1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000})),
      batchSeconds_(histogram(r, "sluice_worker_batch_duration_seconds", "Time of one delivery attempt",
                              {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})),
      inFlightMessages_(gauge(r, "sluice_worker_in_flight_messages", "Messages consumed and not yet done")),
      inFlightBytes_(gauge(r, "sluice_worker_in_flight_bytes", "Budget bytes of the in-flight messages")),
      pausedPartitions_(
          gauge(r, "sluice_worker_paused_partitions", "Assigned partitions paused by flow control")),
      degraded_(gauge(r, "sluice_worker_degraded",
                      "1 when a lane stopped on a message it could not deliver or dead-letter")),
      sourceConfigDrift_(
          gauge(r, "sluice_worker_source_config_drift",
                "1 when the existing NATS consumer's settings differ from the spec (kept as they are)")),
      lagFamily_(prometheus::BuildGauge()
                     .Name("sluice_worker_partition_lag")
                     .Help("High watermark minus this worker's commit position, per assigned partition")
                     .Register(r)) {}

void WorkerMetrics::setLag(const TopicPartition& partition, int64_t lag) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& g = lag_[partition];
  if (!g)
    g = &lagFamily_.Add({{"topic", partition.topic}, {"partition", std::to_string(partition.partition)}});
  g->Set(static_cast<double>(lag));
}

void WorkerMetrics::setSourceDrift(const std::string& difference) {
  std::lock_guard<std::mutex> lock(mu_);
  sourceDrift_ = difference;
  sourceConfigDrift_.Set(difference.empty() ? 0 : 1);
}

void WorkerMetrics::deliveryAttempt(size_t messages, double seconds) {
  batchSize_.Observe(static_cast<double>(messages));
  batchSeconds_.Observe(seconds);
}

void WorkerMetrics::inFlight(int64_t messages, int64_t bytes) {
  inFlightMessages_.Set(static_cast<double>(messages));
  inFlightBytes_.Set(static_cast<double>(bytes));
}

MetricsSample WorkerMetrics::sample(common::SteadyTime at) const {
  MetricsSample sample;
  sample.at = at;
  sample.delivered = delivered_.Value();
  const auto histogram = batchSeconds_.Collect().histogram;
  sample.batchSeconds = histogram.sample_sum;
  for (const auto& bucket : histogram.bucket) {
    sample.bucketBounds.push_back(bucket.upper_bound);
    sample.bucketCumulative.push_back(bucket.cumulative_count);
  }
  sample.inFlight = inFlightMessages_.Value();
  sample.pausedPartitions = pausedPartitions_.Value();
  sample.degraded = degraded_.Value() > 0;
  std::lock_guard<std::mutex> lock(mu_);
  sample.sourceDrift = sourceDrift_;
  return sample;
}

void WorkerMetrics::removeLag(const TopicPartition& partition) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = lag_.find(partition);
  if (it == lag_.end()) return;
  lagFamily_.Remove(it->second);
  lag_.erase(it);
}

}  // namespace sluice::worker

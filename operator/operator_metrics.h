#pragma once
// The operator's Prometheus metrics, on the registry that common::MetricsServer serves. Only
// operator_metrics.cc includes prometheus-cpp. Thread-safe (prometheus-cpp metrics are).
#include <memory>
#include <string>

namespace prometheus {
class Registry;
}

namespace sluice::op {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(std::shared_ptr<prometheus::Registry> registry);
  ~OperatorMetrics();

  // result: "success" | "error" | "requeue"
  void reconciled(const std::string& result, double seconds);
  void reconcileError(const std::string& code);
  void queueDepth(size_t depth);
  void watchRestart(const std::string& resource, const std::string& reason);
  void leader(bool leading);
  // Pipeline-level series from status (docs/operations.md); removed when the pipeline is gone.
  void pipelineReplicas(const std::string& ns, const std::string& name, double replicas, double desired);
  // status.lag.total and status.rates (sluice_pipeline_lag, _in_rate, _out_rate).
  void pipelineLag(const std::string& ns, const std::string& name, double lag, double inRate, double outRate);
  // One autoscaler replica change; direction "up" | "down" (sluice_scale_events_total).
  void scaleEvent(const std::string& ns, const std::string& name, const std::string& direction);
  // The recommender's inputs and output of the last poll (sluice_autoscaler_*), for debugging.
  void recommendation(const std::string& ns, const std::string& name, double recommended,
                      double perReplicaThroughput, double workersReady);
  void forgetPipeline(const std::string& ns, const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::op

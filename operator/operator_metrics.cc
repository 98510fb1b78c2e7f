#include "operator/operator_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>

namespace sluice::op {

struct OperatorMetrics::Impl {
  explicit Impl(prometheus::Registry& r)
      : reconciles(prometheus::BuildCounter()
                       .Name("sluice_operator_reconciles_total")
                       .Help("Reconciles of ConsumerPipelines by result")
                       .Register(r)),
        duration(prometheus::BuildHistogram()
                     .Name("sluice_operator_reconcile_duration_seconds")
                     .Help("Time one reconcile took")
                     .Register(r)),
        errors(prometheus::BuildCounter()
                   .Name("sluice_operator_reconcile_errors_total")
                   .Help("Reconciles that failed and were requeued, by error code")
                   .Register(r)),
        depth(prometheus::BuildGauge()
                  .Name("sluice_operator_queue_depth")
                  .Help("Keys waiting in the work queue")
                  .Register(r)),
        restarts(prometheus::BuildCounter()
                     .Name("sluice_operator_watch_restarts_total")
                     .Help("Watch restarts by resource and reason (relist after 410 Gone, backoff)")
                     .Register(r)),
        leading(prometheus::BuildGauge()
                    .Name("sluice_operator_leader")
                    .Help("1 while this replica leads")
                    .Register(r)),
        replicas(prometheus::BuildGauge()
                     .Name("sluice_pipeline_replicas")
                     .Help("Worker pods that exist now (status.replicas)")
                     .Register(r)),
        desired(prometheus::BuildGauge()
                    .Name("sluice_pipeline_desired_replicas")
                    .Help("Worker count wanted (status.desiredReplicas)")
                    .Register(r)),
        lag(gauge(r, "sluice_pipeline_lag", "Messages waiting at the source (status.lag.total)")),
        inRate(gauge(r, "sluice_pipeline_in_rate", "Messages per second produced to the source")),
        outRate(gauge(r, "sluice_pipeline_out_rate", "Messages per second processed and committed")),
        scaleEvents(prometheus::BuildCounter()
                        .Name("sluice_scale_events_total")
                        .Help("Replica count changes made by the autoscaler, by direction")
                        .Register(r)),
        recommended(gauge(r, "sluice_autoscaler_recommended_replicas",
                          "Replicas the recommender asked for at the last poll, before stabilization")),
        throughput(gauge(r, "sluice_autoscaler_per_replica_throughput",
                         "Messages per second one worker can process, from heartbeats (0 when unknown)")),
        workersReady(gauge(r, "sluice_autoscaler_workers_ready", "Workers with a fresh Running heartbeat")) {}

  static prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& r, const char* name,
                                                      const char* help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
  }

  prometheus::Family<prometheus::Counter>& reconciles;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Gauge>& depth;
  prometheus::Family<prometheus::Counter>& restarts;
  prometheus::Family<prometheus::Gauge>& leading;
  prometheus::Family<prometheus::Gauge>& replicas;
  prometheus::Family<prometheus::Gauge>& desired;
  prometheus::Family<prometheus::Gauge>& lag;
  prometheus::Family<prometheus::Gauge>& inRate;
  prometheus::Family<prometheus::Gauge>& outRate;
  prometheus::Family<prometheus::Counter>& scaleEvents;
  prometheus::Family<prometheus::Gauge>& recommended;
  prometheus::Family<prometheus::Gauge>& throughput;
  prometheus::Family<prometheus::Gauge>& workersReady;
};

namespace {

template <typename Metric>
void removeSeries(prometheus::Family<Metric>& family, const std::map<std::string, std::string>& labels) {
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

}  // namespace

OperatorMetrics::OperatorMetrics(std::shared_ptr<prometheus::Registry> registry)
    : impl_(std::make_unique<Impl>(*registry)) {}

OperatorMetrics::~OperatorMetrics() = default;

void OperatorMetrics::reconciled(const std::string& result, double seconds) {
  impl_->reconciles.Add({{"result", result}}).Increment();
  static const prometheus::Histogram::BucketBoundaries buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                  0.5,   1,    2.5,   5,    10};
  impl_->duration.Add({}, buckets).Observe(seconds);
}

void OperatorMetrics::reconcileError(const std::string& code) {
  impl_->errors.Add({{"code", code}}).Increment();
}

void OperatorMetrics::queueDepth(size_t depth) { impl_->depth.Add({}).Set(static_cast<double>(depth)); }

void OperatorMetrics::watchRestart(const std::string& resource, const std::string& reason) {
  impl_->restarts.Add({{"resource", resource}, {"reason", reason}}).Increment();
}

void OperatorMetrics::leader(bool leading) { impl_->leading.Add({}).Set(leading ? 1 : 0); }

void OperatorMetrics::pipelineReplicas(const std::string& ns, const std::string& name, double replicas,
                                       double desired) {
  impl_->replicas.Add({{"namespace", ns}, {"pipeline", name}}).Set(replicas);
  impl_->desired.Add({{"namespace", ns}, {"pipeline", name}}).Set(desired);
}

void OperatorMetrics::pipelineLag(const std::string& ns, const std::string& name, double lag, double inRate,
                                  double outRate) {
  const std::map<std::string, std::string> labels = {{"namespace", ns}, {"pipeline", name}};
  impl_->lag.Add(labels).Set(lag);
  impl_->inRate.Add(labels).Set(inRate);
  impl_->outRate.Add(labels).Set(outRate);
}

void OperatorMetrics::scaleEvent(const std::string& ns, const std::string& name,
                                 const std::string& direction) {
  impl_->scaleEvents.Add({{"namespace", ns}, {"pipeline", name}, {"direction", direction}}).Increment();
}

void OperatorMetrics::recommendation(const std::string& ns, const std::string& name, double recommended,
                                     double perReplicaThroughput, double workersReady) {
  const std::map<std::string, std::string> labels = {{"namespace", ns}, {"pipeline", name}};
  impl_->recommended.Add(labels).Set(recommended);
  impl_->throughput.Add(labels).Set(perReplicaThroughput);
  impl_->workersReady.Add(labels).Set(workersReady);
}

void OperatorMetrics::forgetPipeline(const std::string& ns, const std::string& name) {
  const std::map<std::string, std::string> labels = {{"namespace", ns}, {"pipeline", name}};
  for (auto* family : {&impl_->replicas, &impl_->desired, &impl_->lag, &impl_->inRate, &impl_->outRate,
                       &impl_->recommended, &impl_->throughput, &impl_->workersReady}) {
    removeSeries(*family, labels);
  }
  for (const char* direction : {"up", "down"}) {
    auto withDirection = labels;
    withDirection["direction"] = direction;
    removeSeries(impl_->scaleEvents, withDirection);
  }
}

}  // namespace sluice::op

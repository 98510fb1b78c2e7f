#include "operator/controller/pipeline_status.h"

#include <cmath>

namespace sluice::controller {
namespace {

using nlohmann::json;

double roundTo(double value, double step) { return std::round(value / step) * step; }

// status.workers: {ready, total, items: [{pod, state, lastHeartbeat, processedPerSecond, p95BatchMs,
// inFlight, paused}]}
json workersJson(const scaling::WorkersStatus& workers) {
  json items = json::array();
  for (const contract::WorkerReport& r : workers.items) {
    items.push_back({{"pod", r.pod},
                     {"state", contract::toString(r.state)},
                     {"lastHeartbeat", common::formatRfc3339(r.lastHeartbeat)},
                     {"processedPerSecond", r.processedPerSecond},
                     {"p95BatchMs", r.p95BatchMs},
                     {"inFlight", r.inFlight},
                     {"paused", r.paused}});
  }
  return {{"ready", workers.ready}, {"total", workers.total}, {"items", items}};
}

template <typename T>
T numberAt(const json& object, const char* key, T fallback = 0) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<T>() : fallback;
}

}  // namespace

ScalingStatus scalingStatus(const scaling::PollOutcome& outcome, const scaling::WorkersStatus& workers,
                            common::WallTime now) {
  ScalingStatus out;
  out.lag = {outcome.inputs.totalLag, outcome.partitionsWithLag, outcome.maxPartitionLag};
  out.rates = {roundTo(outcome.rates.inPerSecond, 0.01), roundTo(outcome.rates.outPerSecond, 0.01)};
  const auto& decision = outcome.decision;
  if (decision.changed()) out.lastScale = ScaleChange{now, decision.from, decision.to, decision.reason};
  out.workers = workers;
  return out;
}

json PipelineStatus::toJson() const {
  json j = json::object();
  if (autoscaling) {
    j["lag"] = {{"total", autoscaling->lag.total},
                {"partitionsWithLag", autoscaling->lag.partitionsWithLag},
                {"maxPartitionLag", autoscaling->lag.maxPartitionLag}};
    j["rates"] = {{"inPerSecond", autoscaling->rates.inPerSecond},
                  {"outPerSecond", autoscaling->rates.outPerSecond}};
    if (const auto& change = autoscaling->lastScale) {
      j["lastScale"] = {{"time", common::formatRfc3339(change->time)},
                        {"from", change->from},
                        {"to", change->to},
                        {"reason", change->reason}};
    }
    j["workers"] = workersJson(autoscaling->workers);
  }
  j["observedGeneration"] = observedGeneration;
  j["replicas"] = replicas;
  j["desiredReplicas"] = desiredReplicas;
  j["readyReplicas"] = readyReplicas;
  if (!source.empty()) j["source"] = source;
  j["conditions"] = conditions;
  return j;
}

PipelineStatus PipelineStatus::fromJson(const json& status) {
  PipelineStatus out;
  if (!status.is_object()) return out;
  out.observedGeneration = numberAt<int64_t>(status, "observedGeneration");
  out.replicas = numberAt<int>(status, "replicas");
  out.desiredReplicas = numberAt<int>(status, "desiredReplicas");
  out.readyReplicas = numberAt<int>(status, "readyReplicas");
  if (const auto it = status.find("source"); it != status.end() && it->is_string())
    out.source = it->get<std::string>();
  if (const auto it = status.find("conditions"); it != status.end() && it->is_array()) out.conditions = *it;
  const auto lag = status.find("lag");
  if (lag == status.end() || !lag->is_object()) return out;
  ScalingStatus& polled = out.autoscaling.emplace();
  polled.lag = {numberAt<int64_t>(*lag, "total"), numberAt<int>(*lag, "partitionsWithLag"),
                numberAt<int64_t>(*lag, "maxPartitionLag")};
  if (const auto rates = status.find("rates"); rates != status.end() && rates->is_object()) {
    polled.rates = {numberAt<double>(*rates, "inPerSecond"), numberAt<double>(*rates, "outPerSecond")};
  }
  return out;
}

}  // namespace sluice::controller

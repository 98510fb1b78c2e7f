#include "common/contract/worker_report.h"

#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace sluice::contract {
namespace {

using nlohmann::json;

common::Status badReport(const std::string& pod, const std::string& why) {
  return common::invalidArgument("worker report" + (pod.empty() ? std::string() : " of pod " + pod) + ": " +
                                 why);
}

template <typename T>
bool readOptional(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  } else {
    if (!it->is_number()) return false;
  }
  out = it->template get<T>();
  return true;
}

common::Result<WorkerReport> fromJson(const json& j, const std::string& podHint) {
  WorkerReport r;
  r.pod = j.value("pod", podHint);
  if (r.pod.empty()) r.pod = podHint;
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"].get<int>() != kReportVersion) {
    return badReport(r.pod, "expected \"v\":" + std::to_string(kReportVersion));
  }
  if (!j.contains("state") || !j["state"].is_string()) return badReport(r.pod, "missing \"state\"");
  auto state = parseWorkerState(j["state"].get<std::string>());
  if (!state) return badReport(r.pod, state.status().message());
  r.state = *state;
  if (!j.contains("lastHeartbeat") || !j["lastHeartbeat"].is_string()) {
    return badReport(r.pod, "missing \"lastHeartbeat\"");
  }
  auto at = common::parseRfc3339(j["lastHeartbeat"].get<std::string>());
  if (!at) return badReport(r.pod, at.status().message());
  r.lastHeartbeat = *at;
  double capacity = -1;
  const bool numbersOk = readOptional(j, "heartbeatSeconds", r.heartbeatSeconds) &&
                         readOptional(j, "processedPerSecond", r.processedPerSecond) &&
                         readOptional(j, "capacityPerSecond", capacity) &&
                         readOptional(j, "p95BatchMs", r.p95BatchMs) &&
                         readOptional(j, "inFlight", r.inFlight) && readOptional(j, "paused", r.paused) &&
                         readOptional(j, "sourceDrift", r.sourceDrift);
  if (!numbersOk) return badReport(r.pod, "a numeric, boolean or text field has the wrong type");
  if (capacity >= 0) r.capacityPerSecond = capacity;
  if (r.heartbeatSeconds <= 0) r.heartbeatSeconds = kDefaultHeartbeatSeconds;
  return r;
}

}  // namespace

const char* toString(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting:
      return "Starting";
    case WorkerState::kRunning:
      return "Running";
    case WorkerState::kDraining:
      return "Draining";
    case WorkerState::kDegraded:
      return "Degraded";
    case WorkerState::kStopped:
      return "Stopped";
  }
  return "Unknown";
}

common::Result<WorkerState> parseWorkerState(std::string_view text) {
  for (WorkerState s : {WorkerState::kStarting, WorkerState::kRunning, WorkerState::kDraining,
                        WorkerState::kDegraded, WorkerState::kStopped}) {
    if (text == toString(s)) return s;
  }
  return common::invalidArgument("unknown worker state \"" + std::string(text) +
                                 "\" (expected Starting, Running, Draining, Degraded or Stopped)");
}

std::string encodeReport(const WorkerReport& r) {
  json j = {{"v", kReportVersion},
            {"pod", r.pod},
            {"state", toString(r.state)},
            {"lastHeartbeat", common::formatRfc3339(r.lastHeartbeat)},
            {"heartbeatSeconds", r.heartbeatSeconds},
            {"processedPerSecond", r.processedPerSecond},
            {"p95BatchMs", r.p95BatchMs},
            {"inFlight", r.inFlight},
            {"paused", r.paused}};
  if (r.capacityPerSecond) j["capacityPerSecond"] = *r.capacityPerSecond;
  if (!r.sourceDrift.empty()) j["sourceDrift"] = r.sourceDrift;
  return j.dump();
}

common::Result<WorkerReport> decodeReport(std::string_view encoded, const std::string& pod) {
  json j = json::parse(encoded, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return badReport(pod, "not a JSON object");
  return fromJson(j, pod);
}

}  // namespace sluice::contract

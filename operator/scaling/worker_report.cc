#include "operator/scaling/worker_report.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace sluice::scaling {
namespace {

using nlohmann::json;

common::Status badReport(const std::string& pod, const std::string& why) {
  return common::invalidArgument("worker report" + (pod.empty() ? std::string() : " of pod " + pod) + ": " + why);
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
  auto at = parseRfc3339(j["lastHeartbeat"].get<std::string>());
  if (!at) return badReport(r.pod, at.status().message());
  r.lastHeartbeat = *at;
  double capacity = -1;
  const bool numbersOk = readOptional(j, "heartbeatSeconds", r.heartbeatSeconds) &&
                         readOptional(j, "processedPerSecond", r.processedPerSecond) &&
                         readOptional(j, "capacityPerSecond", capacity) &&
                         readOptional(j, "p95BatchMs", r.p95BatchMs) && readOptional(j, "inFlight", r.inFlight) &&
                         readOptional(j, "paused", r.paused) && readOptional(j, "sourceDrift", r.sourceDrift);
  if (!numbersOk) return badReport(r.pod, "a numeric, boolean or text field has the wrong type");
  if (capacity >= 0) r.capacityPerSecond = capacity;
  if (r.heartbeatSeconds <= 0) r.heartbeatSeconds = kDefaultHeartbeatSeconds;
  return r;
}

}  // namespace

const char* toString(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting: return "Starting";
    case WorkerState::kRunning: return "Running";
    case WorkerState::kDraining: return "Draining";
    case WorkerState::kDegraded: return "Degraded";
    case WorkerState::kStopped: return "Stopped";
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

common::Result<common::WallTime> parseRfc3339(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return common::invalidArgument("\"" + s + "\" is not an RFC 3339 time like 2026-01-01T00:00:00Z");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  size_t pos = static_cast<size_t>(consumed);
  long nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    long scale = 100'000'000;
    for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, scale /= 10) {
      nanos += (s[pos] - '0') * scale;
    }
  }
  long offsetSeconds = 0;
  const std::string zone = s.substr(pos);
  int oh = 0, om = 0;
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
             std::sscanf(zone.c_str() + 1, "%2d:%2d", &oh, &om) == 2) {
    offsetSeconds = (zone[0] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
  } else {
    return common::invalidArgument("\"" + s + "\" has no time zone (expected Z or +hh:mm)");
  }
  const std::time_t secs = timegm(&tm) - offsetSeconds;
  return std::chrono::system_clock::from_time_t(secs) +
         std::chrono::duration_cast<common::WallTime::duration>(std::chrono::nanoseconds(nanos));
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

WorkersStatus foldReports(const std::vector<WorkerReport>& reports, common::WallTime now) {
  WorkersStatus out;
  double capacitySum = 0;
  int capacityCount = 0;
  for (const WorkerReport& r : reports) {
    if (now - r.lastHeartbeat > std::chrono::seconds(3L * r.heartbeatSeconds)) {
      ++out.stale;
      continue;
    }
    out.items.push_back(r);
    ++out.total;
    if (r.state == WorkerState::kDegraded) out.anyDegraded = true;
    if (r.state != WorkerState::kRunning) continue;
    ++out.ready;
    const double capacity = r.capacityPerSecond.value_or(r.processedPerSecond);
    if (!r.paused && capacity > 0) {
      capacitySum += capacity;
      ++capacityCount;
    }
  }
  std::sort(out.items.begin(), out.items.end(),
            [](const WorkerReport& a, const WorkerReport& b) { return a.pod < b.pod; });
  if (capacityCount > 0) out.perReplicaThroughput = capacitySum / capacityCount;
  for (const WorkerReport& r : out.items) {
    if (r.sourceDrift.empty()) continue;
    out.sourceDrift = r.pod + ": " + r.sourceDrift;
    break;
  }
  return out;
}

nlohmann::json toStatusJson(const WorkersStatus& workers) {
  json items = json::array();
  for (const WorkerReport& r : workers.items) {
    items.push_back({{"pod", r.pod},
                     {"state", toString(r.state)},
                     {"lastHeartbeat", common::formatRfc3339(r.lastHeartbeat)},
                     {"processedPerSecond", r.processedPerSecond},
                     {"p95BatchMs", r.p95BatchMs},
                     {"inFlight", r.inFlight},
                     {"paused", r.paused}});
  }
  return {{"ready", workers.ready}, {"total", workers.total}, {"items", items}};
}

}  // namespace sluice::scaling

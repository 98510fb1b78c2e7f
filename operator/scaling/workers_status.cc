#include "operator/scaling/workers_status.h"

#include <algorithm>

namespace sluice::scaling {

WorkersStatus foldReports(const std::vector<contract::WorkerReport>& reports, common::WallTime now) {
  WorkersStatus out;
  double capacitySum = 0;
  int capacityCount = 0;
  for (const contract::WorkerReport& r : reports) {
    if (now - r.lastHeartbeat > std::chrono::seconds(3L * r.heartbeatSeconds)) {
      ++out.stale;
      continue;
    }
    out.items.push_back(r);
    ++out.total;
    if (r.state == contract::WorkerState::kDegraded) out.anyDegraded = true;
    if (r.state != contract::WorkerState::kRunning) continue;
    ++out.ready;
    const double capacity = r.capacityPerSecond.value_or(r.processedPerSecond);
    if (!r.paused && capacity > 0) {
      capacitySum += capacity;
      ++capacityCount;
    }
  }
  std::sort(out.items.begin(), out.items.end(),
            [](const contract::WorkerReport& a, const contract::WorkerReport& b) { return a.pod < b.pod; });
  if (capacityCount > 0) out.perReplicaThroughput = capacitySum / capacityCount;
  for (const contract::WorkerReport& r : out.items) {
    if (r.sourceDrift.empty()) continue;
    out.sourceDrift = r.pod + ": " + r.sourceDrift;
    break;
  }
  return out;
}

nlohmann::json toStatusJson(const WorkersStatus& workers) {
  nlohmann::json items = nlohmann::json::array();
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

}  // namespace sluice::scaling

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

}  // namespace sluice::scaling

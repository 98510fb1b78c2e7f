#pragma once
// The operator's fold of the workers' heartbeat reports (common/contract/worker_report.h) into
// status.workers and the per-replica throughput the autoscaler uses. Pure.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/contract/worker_report.h"

namespace sluice::scaling {

struct WorkersStatus {
  int ready = 0;                              // fresh reports in state Running
  int total = 0;                              // fresh reports
  std::vector<contract::WorkerReport> items;  // fresh reports, sorted by pod
  int stale = 0;                              // reports dropped as older than 3 heartbeat periods
  // Mean capacity (capacityPerSecond, else processedPerSecond) of ready, unpaused workers;
  // nullopt when none reports a positive figure.
  std::optional<double> perReplicaThroughput;
  bool anyDegraded = false;
  // "<pod>: <difference>" of the first fresh report (by pod) whose source differs from the spec.
  std::string sourceDrift;
};

// Drops reports whose lastHeartbeat is more than 3 of their heartbeat periods before `now`.
WorkersStatus foldReports(const std::vector<contract::WorkerReport>& reports, common::WallTime now);

}  // namespace sluice::scaling

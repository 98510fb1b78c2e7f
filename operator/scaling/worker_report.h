#pragma once
// Worker heartbeat reports: the compact encoding both the worker and the operator use, and the pure
// fold of reports into status.workers.
//
// Transport (owned by others, no kube types here): each worker pod renews a coordination.k8s.io Lease
// named after the pod, labelled sluice.dev/pipeline=<name>, owned by the pod, whose annotation
// `sluice.dev/report` holds encodeReport(...). The operator lists the Leases, decodes each annotation
// and calls foldReports() with its clock's wall time.
//
// Encoding: one JSON object, version 1, keys as in status.workers.items plus two for scaling:
//   {"v":1,"pod":"orders-7d9-abc","state":"Running","lastHeartbeat":"2026-01-01T00:00:00Z",
//    "heartbeatSeconds":10,"processedPerSecond":812.5,"capacityPerSecond":1500,"p95BatchMs":42,
//    "inFlight":120,"paused":false,"sourceDrift":"maxAckPending 1000, spec 500"}
// capacityPerSecond (optional): what the worker could process when busy = processed / busy fraction
// of its lanes. The drain-time target needs capacity, not the current rate: a half-idle worker
// processing exactly the input would otherwise make the target ask for the current count forever.
// sourceDrift (optional): the source's existing consumer differs from the spec and the worker kept it
// as it is (NATS: the durable consumer's settings), in words.
// Unknown keys are ignored (forward compatible); missing optional keys take defaults.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"

namespace sluice::scaling {

inline constexpr const char* kReportAnnotation = "sluice.dev/report";
inline constexpr int kReportVersion = 1;
inline constexpr int kDefaultHeartbeatSeconds = 10;

enum class WorkerState { kStarting, kRunning, kDraining, kDegraded, kStopped };
const char* toString(WorkerState state);
common::Result<WorkerState> parseWorkerState(std::string_view text);

struct WorkerReport {
  std::string pod;
  WorkerState state = WorkerState::kStarting;
  common::WallTime lastHeartbeat{};
  int heartbeatSeconds = kDefaultHeartbeatSeconds;
  double processedPerSecond = 0;
  std::optional<double> capacityPerSecond;
  double p95BatchMs = 0;
  int64_t inFlight = 0;
  bool paused = false;
  std::string sourceDrift;  // empty: the source runs as specified
};

std::string encodeReport(const WorkerReport& report);
// `pod` fills the pod name when the encoded report has none (the Lease name is the pod name).
common::Result<WorkerReport> decodeReport(std::string_view encoded, const std::string& pod = "");

// RFC 3339 "2026-01-01T00:00:00Z" (fractional seconds and offsets accepted) -> wall time.
common::Result<common::WallTime> parseRfc3339(std::string_view text);

struct WorkersStatus {
  int ready = 0;   // fresh reports in state Running
  int total = 0;   // fresh reports
  std::vector<WorkerReport> items;  // fresh reports, sorted by pod
  int stale = 0;                    // reports dropped as older than 3 heartbeat periods
  // Mean capacity (capacityPerSecond, else processedPerSecond) of ready, unpaused workers;
  // nullopt when none reports a positive figure.
  std::optional<double> perReplicaThroughput;
  bool anyDegraded = false;
  // "<pod>: <difference>" of the first fresh report (by pod) whose source differs from the spec.
  std::string sourceDrift;
};

// Drops reports whose lastHeartbeat is more than 3 of their heartbeat periods before `now`.
WorkersStatus foldReports(const std::vector<WorkerReport>& reports, common::WallTime now);

// status.workers as JSON: {ready, total, items: [{pod, state, lastHeartbeat, processedPerSecond,
// p95BatchMs, inFlight, paused}]}
nlohmann::json toStatusJson(const WorkersStatus& workers);

}  // namespace sluice::scaling

#pragma once
// The worker <-> operator contract: what sluice-worker writes and sluice-operator reads. Both
// binaries include this one header; nothing here knows Kubernetes types or either binary.
//
// Transport: each worker pod renews a coordination.k8s.io Lease named after the pod, labelled
// kPipelineLabel=<pipeline name>, owned by the pod, whose annotation kReportAnnotation holds
// encodeReport(...) and whose spec.renewTime is common::formatMicroTime(lastHeartbeat). The operator
// lists the Leases by that label, decodes each annotation and folds the reports
// (operator/scaling/workers_status.h).
//
// Encoding: one JSON object, version 1, keys as in status.workers.items plus two for scaling:
//   {"v":1,"pod":"orders-7d9-abc","state":"Running","lastHeartbeat":"2026-01-01T00:00:00Z",
//    "heartbeatSeconds":5,"processedPerSecond":812.5,"capacityPerSecond":1500,"p95BatchMs":42,
//    "inFlight":120,"paused":false,"sourceDrift":"maxAckPending 1000, spec 500"}
// heartbeatSeconds: the worker's renewal period; the operator counts a report stale after 3 of them.
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

#include "common/clock.h"
#include "common/result.h"

namespace sluice::contract {

// The label on every object the operator owns for a pipeline (Deployment, ServiceAccount, ...), on
// the worker pods, and on the workers' heartbeat Leases; its value is the pipeline's name.
inline constexpr const char* kPipelineLabel = "sluice.dev/pipeline";
// The heartbeat Lease's annotation holding encodeReport(...).
inline constexpr const char* kReportAnnotation = "sluice.dev/report";
inline constexpr int kReportVersion = 1;
// The worker's heartbeat period unless --heartbeat-seconds says otherwise; also what a report
// without a (positive) heartbeatSeconds is taken to have.
inline constexpr int kDefaultHeartbeatSeconds = 5;

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

}  // namespace sluice::contract

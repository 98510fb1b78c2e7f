#pragma once
// Worker heartbeat: every `period` the worker server-side-applies a coordination.k8s.io/v1 Lease
// named after its pod, labelled contract::kPipelineLabel=<pipeline>, owned by the pod, whose
// annotation contract::kReportAnnotation carries contract::encodeReport(...)
// (common/contract/worker_report.h). The operator lists these Leases and folds them into
// status.workers; no pod networking is involved.
//
// The figures come from the worker's own counters (WorkerStats::sample, the same figures /metrics
// serves), sampled at each beat:
// processed/s and capacity/s from the delivered counter and the batch-duration histogram's sum,
// p95 batch time from the histogram's bucket deltas, in-flight and paused from the gauges. So the
// pipeline needs no extra bookkeeping and the report can never disagree with /metrics.
//
// Threading: start() runs one thread that wakes every `wake` (real time) and beats when the injected
// clock says a period has passed since the last beat; stop() joins it and applies a last report
// with state Stopped (best effort). Failures to reach the API server are logged once per change of
// outcome (ok -> failing -> ok) and are never fatal.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/contract/worker_report.h"
#include "common/result.h"
#include "kube/client.h"
#include "worker/stats.h"

namespace sluice::worker {

inline constexpr const char* kHeartbeatFieldManager = "sluice-worker";

// The 95th percentile (ms) of the observations between two samples of the same histogram,
// interpolated linearly inside its bucket as PromQL's histogram_quantile does; 0 without any.
double p95Millis(const MetricsSample& previous, const MetricsSample& current);

struct ReportContext {
  std::string pod;
  int lanes = 1;  // processing.concurrency: capacity = delivered / (busy lane-seconds / lanes)
  int heartbeatSeconds = contract::kDefaultHeartbeatSeconds;
  bool draining = false;
  bool stopped = false;
  common::WallTime wallNow{};
};

// The report for the interval between two samples (pure). With no earlier sample the rates are 0.
contract::WorkerReport reportBetween(const std::optional<MetricsSample>& previous,
                                     const MetricsSample& current, const ReportContext& context);

struct LeaseIdentity {
  std::string name;        // the pod name
  std::string namespace_;  // the pod's namespace
  std::string pipeline;    // the ConsumerPipeline's name (label value)
  std::string podUid;      // empty: no owner reference (standalone, or the pod cannot be read)
};

// The server-side-apply body of the heartbeat Lease (pure).
nlohmann::json leaseApplyBody(const LeaseIdentity& identity, const contract::WorkerReport& report,
                              int leaseDurationSeconds);

// How the worker reaches the API server for its heartbeat, decided from its surroundings (pure).
enum class HeartbeatAccess { kDisabled, kInCluster, kKubeconfig };
struct HeartbeatEnvironment {
  bool serviceAccountTokenPresent = false;  // /var/run/secrets/kubernetes.io/serviceaccount/token
  bool kubernetesServiceHostSet = false;    // KUBERNETES_SERVICE_HOST
  std::string kubeconfig;                   // --kubeconfig / KUBECONFIG
  std::string podName;                      // --pod-name / POD_NAME
};
HeartbeatAccess heartbeatAccess(const HeartbeatEnvironment& environment);
const char* toString(HeartbeatAccess access);

struct HeartbeatOptions {
  LeaseIdentity identity;
  int lanes = 1;
  std::chrono::seconds period{contract::kDefaultHeartbeatSeconds};
  common::Millis wake{250};  // how often the thread looks at the clock
};

class Heartbeat {
 public:
  // `draining` tells whether the worker is stopping (state Draining). `client` must outlive this.
  Heartbeat(HeartbeatOptions options, kube::Client& client, const WorkerStats& stats, common::Clock& clock,
            std::function<bool()> draining);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  void start();
  // Joins the thread, then applies a final report with state Stopped.
  void stop();

  // One turn of the loop (public for tests): beats when a period has passed since the last beat
  // (or none happened yet). Returns whether it beat.
  bool tick();
  // Number of applies that succeeded / failed (tests and logs).
  int succeeded() const { return succeeded_; }
  int failed() const { return failed_; }

 private:
  void beat(bool stopped);
  void resolveOwner();
  void noteOutcome(const common::Status& status);

  HeartbeatOptions options_;
  kube::Client& client_;
  const WorkerStats& stats_;
  common::Clock& clock_;
  std::function<bool()> draining_;

  std::optional<MetricsSample> previous_;
  std::optional<common::SteadyTime> lastBeat_;
  bool ownerResolved_ = false;
  std::optional<bool> lastOk_;
  std::atomic<int> succeeded_{0};
  std::atomic<int> failed_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::worker

namespace sluice::worker {

// Where the heartbeat's settings come from: the command line / downward-API environment.
struct HeartbeatSetup {
  std::string kubeconfig;    // --kubeconfig / KUBECONFIG; empty: in-cluster when available
  std::string podName;       // --pod-name / POD_NAME; empty: no heartbeat
  std::string podNamespace;  // --pod-namespace / POD_NAMESPACE; empty: kubeconfig's, else the pipeline's
  std::string podUid;        // --pod-uid / POD_UID (downward API); empty: GET the pod
  std::string pipeline;      // metadata.name of the pipeline
  std::string pipelineNamespace;
  int lanes = 1;
  std::chrono::seconds period{contract::kDefaultHeartbeatSeconds};
};

// The heartbeat with the kube client it owns; stops (final Stopped report) when destroyed.
class RunningHeartbeat {
 public:
  RunningHeartbeat(std::unique_ptr<kube::Transport> transport, HeartbeatOptions options,
                   const WorkerStats& stats, common::Clock& clock, std::function<bool()> draining);
  ~RunningHeartbeat();

 private:
  std::unique_ptr<kube::Transport> transport_;
  kube::Client client_;
  Heartbeat heartbeat_;
};

// Starts the heartbeat when heartbeatAccess() allows it; nullptr when disabled or when the API
// server's settings cannot be loaded (logged: the worker runs on without a heartbeat).
std::unique_ptr<RunningHeartbeat> startHeartbeat(const HeartbeatSetup& setup, const WorkerStats& stats,
                                                 common::Clock& clock, std::function<bool()> draining);

}  // namespace sluice::worker

#include "worker/heartbeat.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common/time_format.h"
#include "kube/config.h"
#include "kube/cpprest_transport.h"
#include "kube/resources.h"

namespace sluice::worker {
namespace {

using nlohmann::json;

const kube::ResourceType kPods{"", "v1", "pods", "Pod", true};

}  // namespace

double p95Millis(const MetricsSample& previous, const MetricsSample& current) {
  const auto& bounds = current.bucketBounds;
  if (bounds.empty() || previous.bucketCumulative.size() != current.bucketCumulative.size()) return 0;
  std::vector<double> counts(bounds.size());
  for (size_t i = 0; i < bounds.size(); ++i) {
    counts[i] =
        static_cast<double>(current.bucketCumulative[i]) - static_cast<double>(previous.bucketCumulative[i]);
  }
  const double total = counts.back();
  if (total <= 0) return 0;
  const double rank = 0.95 * total;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (counts[i] < rank) continue;
    // The +Inf bucket has no upper bound: answer the highest finite one, as histogram_quantile does.
    if (std::isinf(bounds[i])) return i == 0 ? 0 : bounds[i - 1] * 1000;
    const double lower = i == 0 ? 0 : bounds[i - 1];
    const double below = i == 0 ? 0 : counts[i - 1];
    const double inBucket = counts[i] - below;
    const double fraction = inBucket > 0 ? (rank - below) / inBucket : 1;
    return (lower + (bounds[i] - lower) * fraction) * 1000;
  }
  return 0;
}

contract::WorkerReport reportBetween(const std::optional<MetricsSample>& previous,
                                     const MetricsSample& current, const ReportContext& context) {
  contract::WorkerReport report;
  report.pod = context.pod;
  report.lastHeartbeat = context.wallNow;
  report.heartbeatSeconds = context.heartbeatSeconds;
  report.inFlight = static_cast<int64_t>(std::llround(current.inFlight));
  report.paused = current.pausedPartitions > 0;
  report.sourceDrift = current.sourceDrift;
  report.state = contract::WorkerState::kRunning;
  if (current.degraded) report.state = contract::WorkerState::kDegraded;
  if (context.draining) report.state = contract::WorkerState::kDraining;
  if (context.stopped) report.state = contract::WorkerState::kStopped;
  if (!previous) return report;
  const double seconds = std::chrono::duration<double>(current.at - previous->at).count();
  const double delivered = current.delivered - previous->delivered;
  if (seconds > 0 && delivered > 0) report.processedPerSecond = delivered / seconds;
  // Busy time of the lanes: each delivery attempt's duration is in the histogram sum. A worker whose
  // lanes were busy a fraction f of the time could process processed/f when fully busy.
  const double busyLaneSeconds = current.batchSeconds - previous->batchSeconds;
  if (delivered > 0 && busyLaneSeconds > 0 && seconds > 0) {
    const double busyFraction = std::min(1.0, busyLaneSeconds / (seconds * std::max(1, context.lanes)));
    report.capacityPerSecond = report.processedPerSecond / busyFraction;
  }
  report.p95BatchMs = p95Millis(*previous, current);
  return report;
}

json leaseApplyBody(const LeaseIdentity& identity, const contract::WorkerReport& report,
                    int leaseDurationSeconds) {
  json metadata = {{"name", identity.name},
                   {"namespace", identity.namespace_},
                   {"labels", {{contract::kPipelineLabel, identity.pipeline}}},
                   {"annotations", {{contract::kReportAnnotation, contract::encodeReport(report)}}}};
  if (!identity.podUid.empty()) {
    metadata["ownerReferences"] = json::array({{{"apiVersion", "v1"},
                                                {"kind", "Pod"},
                                                {"name", identity.name},
                                                {"uid", identity.podUid},
                                                {"blockOwnerDeletion", false}}});
  }
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", metadata},
          {"spec",
           {{"holderIdentity", identity.name},
            {"leaseDurationSeconds", leaseDurationSeconds},
            {"renewTime", common::formatMicroTime(report.lastHeartbeat)}}}};
}

HeartbeatAccess heartbeatAccess(const HeartbeatEnvironment& environment) {
  if (environment.podName.empty()) return HeartbeatAccess::kDisabled;
  if (!environment.kubeconfig.empty()) return HeartbeatAccess::kKubeconfig;
  if (environment.serviceAccountTokenPresent && environment.kubernetesServiceHostSet)
    return HeartbeatAccess::kInCluster;
  return HeartbeatAccess::kDisabled;
}

const char* toString(HeartbeatAccess access) {
  switch (access) {
    case HeartbeatAccess::kDisabled:
      return "disabled";
    case HeartbeatAccess::kInCluster:
      return "in-cluster";
    case HeartbeatAccess::kKubeconfig:
      return "kubeconfig";
  }
  return "?";
}

Heartbeat::Heartbeat(HeartbeatOptions options, kube::Client& client, const WorkerStats& stats,
                     common::Clock& clock, std::function<bool()> draining)
    : options_(std::move(options)),
      client_(client),
      stats_(stats),
      clock_(clock),
      draining_(std::move(draining)) {
  ownerResolved_ = !options_.identity.podUid.empty();
}

Heartbeat::~Heartbeat() {
  if (thread_.joinable()) stop();
}

void Heartbeat::start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      tick();
      lock.lock();
      cv_.wait_for(lock, options_.wake, [this] { return stopping_; });
    }
  });
}

void Heartbeat::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  beat(true);
}

bool Heartbeat::tick() {
  const auto now = clock_.now();
  if (lastBeat_ && now - *lastBeat_ < options_.period) return false;
  lastBeat_ = now;
  beat(false);
  return true;
}

// The pod's uid for the owner reference. NotFound or Forbidden mean there is no pod to own the
// Lease (standalone run with a kubeconfig, or no RBAC for pods): beat without one. Other errors are
// retried on the next beat.
void Heartbeat::resolveOwner() {
  if (ownerResolved_) return;
  auto pod = client_.get(kPods, options_.identity.namespace_, options_.identity.name);
  if (pod) {
    options_.identity.podUid = pod->value("metadata", json::object()).value("uid", "");
    ownerResolved_ = true;
    return;
  }
  const auto code = pod.status().code();
  if (code == common::ErrorCode::kNotFound || code == common::ErrorCode::kPermissionDenied) {
    spdlog::info("heartbeat: pod {}/{} not readable ({}); the Lease gets no owner reference",
                 options_.identity.namespace_, options_.identity.name, pod.status().message());
    ownerResolved_ = true;
  }
}

void Heartbeat::beat(bool stopped) {
  resolveOwner();
  const auto current = stats_.sample(clock_.now());
  const int seconds = static_cast<int>(options_.period.count());
  ReportContext context{options_.identity.name,   options_.lanes, seconds,
                        draining_ && draining_(), stopped,        clock_.wallNow()};
  const auto report = reportBetween(previous_, current, context);
  previous_ = current;
  auto applied =
      client_.apply(kube::resources::kLeases, leaseApplyBody(options_.identity, report, 3 * seconds));
  noteOutcome(applied ? common::Status() : applied.status());
}

void Heartbeat::noteOutcome(const common::Status& status) {
  const bool ok = static_cast<bool>(status);
  ok ? ++succeeded_ : ++failed_;
  if (lastOk_ && *lastOk_ == ok) return;
  lastOk_ = ok;
  if (ok) {
    spdlog::info("heartbeat: Lease {}/{} renewed (every {}s)", options_.identity.namespace_,
                 options_.identity.name, options_.period.count());
    return;
  }
  spdlog::warn("heartbeat: cannot apply Lease {}/{}: {} (will keep trying every {}s)",
               options_.identity.namespace_, options_.identity.name, status.toString(),
               options_.period.count());
}

}  // namespace sluice::worker

namespace sluice::worker {

RunningHeartbeat::RunningHeartbeat(std::unique_ptr<kube::Transport> transport, HeartbeatOptions options,
                                   const WorkerStats& stats, common::Clock& clock,
                                   std::function<bool()> draining)
    : transport_(std::move(transport)),
      client_(*transport_, kube::ClientOptions{kHeartbeatFieldManager, std::chrono::milliseconds(5000), 500}),
      heartbeat_(std::move(options), client_, stats, clock, std::move(draining)) {
  heartbeat_.start();
}

RunningHeartbeat::~RunningHeartbeat() { heartbeat_.stop(); }

std::unique_ptr<RunningHeartbeat> startHeartbeat(const HeartbeatSetup& setup, const WorkerStats& stats,
                                                 common::Clock& clock, std::function<bool()> draining) {
  const kube::InClusterPaths inCluster;
  HeartbeatEnvironment environment{std::filesystem::exists(inCluster.dir + "/token"),
                                   std::getenv("KUBERNETES_SERVICE_HOST") != nullptr, setup.kubeconfig,
                                   setup.podName};
  const auto access = heartbeatAccess(environment);
  if (access == HeartbeatAccess::kDisabled) {
    spdlog::info("heartbeat: off (needs a pod name and in-cluster credentials or --kubeconfig)");
    return nullptr;
  }
  auto config =
      access == HeartbeatAccess::kKubeconfig ? kube::loadKubeconfig(setup.kubeconfig) : kube::loadInCluster();
  if (!config) {
    spdlog::warn("heartbeat: off: cannot load the API server settings ({}): {}", toString(access),
                 config.status().toString());
    return nullptr;
  }
  auto transport = kube::makeCpprestTransport(*config);
  if (!transport) {
    spdlog::warn("heartbeat: off: {}", transport.status().toString());
    return nullptr;
  }
  std::string ns = setup.podNamespace;
  if (ns.empty()) ns = config->namespace_;
  if (ns.empty()) ns = setup.pipelineNamespace;
  if (ns.empty()) ns = "default";
  HeartbeatOptions options{{setup.podName, ns, setup.pipeline, setup.podUid}, setup.lanes, setup.period};
  spdlog::info("heartbeat: Lease {}/{} every {}s ({})", ns, setup.podName, setup.period.count(),
               toString(access));
  return std::make_unique<RunningHeartbeat>(std::move(*transport), std::move(options), stats, clock,
                                            std::move(draining));
}

}  // namespace sluice::worker

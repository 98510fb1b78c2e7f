#include "operator/run.h"

#include <malloc.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/health_server.h"
#include "common/metrics_server.h"
#include "common/random.h"
#include "common/shutdown.h"
#include "kube/cache.h"
#include "kube/config.h"
#include "kube/cpprest_transport.h"
#include "kube/gated_transport.h"
#include "kube/leader.h"
#include "kube/watch.h"
#include "operator/controller/desired.h"
#include "operator/controller/image_policy.h"
#include "operator/controller/reconciler.h"
#include "operator/controller/work_queue.h"
#include "operator/operator_metrics.h"

namespace sluice::op {
namespace {

using common::Status;
using nlohmann::json;

std::vector<std::string> splitNamespaces(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  if (out.empty()) out.push_back("");  // all namespaces
  return out;
}

std::string defaultIdentity() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return std::string(host) + "_" + std::to_string(::getpid());
}

common::Result<kube::KubeConfig> loadConfig(const OperatorOptions& options) {
  if (!options.kubeconfig.empty()) return kube::loadKubeconfig(options.kubeconfig);
  return kube::loadInCluster();
}

// Half the workers at most take normal keys, so the others stay free for new pipelines' Deployments
// (urgent keys); while urgent keys are queued or being applied, at most two normal keys (why two:
// operator/controller/README.md).
controller::WorkQueueOptions queueOptions(const OperatorOptions& options) {
  controller::WorkQueueOptions out;
  out.maxNormalInProcess = std::max(1, options.workers / 2);
  out.maxNormalInBurst = 2;
  return out;
}

// Everything runOperator() owns, with the order of construction and teardown in one place.
class Operator {
 public:
  Operator(const OperatorOptions& options, std::unique_ptr<kube::Transport> transport)
      : options_(options),
        identity_(options.identity.empty() ? defaultIdentity() : options.identity),
        transport_(std::move(transport)),
        gated_(*transport_, [this] { return mayWrite(); }),
        client_(gated_),
        electionClient_(*transport_, {"sluice-operator", std::chrono::seconds(5), 500}),
        registry_(std::make_shared<prometheus::Registry>()),
        metrics_(registry_),
        queue_(queueOptions(options), common::SystemClock::instance()),
        reconciler_(client_, pipelines_, deployments_, prober_, common::SystemClock::instance(), random_,
                    reconcilerOptions()) {
    if (options_.leaderElect) {
      kube::LeaderConfig config;
      config.identity = identity_;
      config.namespace_ =
          options_.leaderElectionNamespace.empty() ? "default" : options_.leaderElectionNamespace;
      elector_ =
          std::make_unique<kube::LeaderElector>(electionClient_, config, common::SystemClock::instance());
    }
  }
  // The liveness check reads members declared after the server: stop serving before they go.
  ~Operator() {
    if (healthServer_) healthServer_->stop();
  }

  Status run();

 private:
  controller::ReconcilerOptions reconcilerOptions() {
    controller::ReconcilerOptions out;
    out.workerImage = options_.workerImage;
    out.allowedImageRepositories = controller::parseImageRepositories(options_.allowedImageRepositories);
    out.probe.allowNonLoopback = options_.probeNonLoopbackSources;
    out.probe.unlabelledSecrets = options_.lagProbeUnlabelledSecrets;
    out.onLagSample = [this](const std::string& key) { queue_.add(key); };
    out.onScalingPoll = [this](const std::string& key, const controller::ScalingObservation& observed) {
      const auto [ns, name] = kube::splitKey(key);
      const auto& outcome = observed.outcome;
      if (outcome.decision.changed())
        metrics_.scaleEvent(ns, name, scaling::toString(outcome.decision.direction));
      metrics_.recommendation(ns, name, outcome.recommendation.replicas,
                              observed.workers.perReplicaThroughput.value_or(0), observed.workers.ready);
    };
    return out;
  }
  bool mayWrite() const { return !elector_ || elector_->leading(); }
  // A pipeline still waiting for its worker Deployment goes ahead of everything else.
  controller::Priority priorityOf(const std::string& key) {
    return reconciler_.urgent(key) ? controller::Priority::kUrgent : controller::Priority::kNormal;
  }
  void enqueue(const std::string& key) { queue_.add(key, priorityOf(key)); }
  Status startServers();
  void startWatchers();
  void startWorkers();
  void startElection();
  void workerLoop();
  void processKey(const std::string& key);
  void refreshMetrics();
  void stop();
  bool synced() const;

  OperatorOptions options_;
  std::string identity_;
  std::unique_ptr<kube::Transport> transport_;
  kube::GatedTransport gated_;
  kube::Client client_;
  kube::Client electionClient_;
  std::shared_ptr<prometheus::Registry> registry_;
  OperatorMetrics metrics_;
  kube::ObjectCache pipelines_;
  kube::ObjectCache deployments_;
  kube::ObjectCache secrets_;  // metadata only (the watch's transform drops data)
  controller::SystemTcpProber prober_;
  controller::WorkQueue queue_;
  common::StdRandom random_;  // before the reconciler, which keeps a reference
  controller::Reconciler reconciler_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::unique_ptr<common::MetricsServer> metricsServer_;
  std::unique_ptr<common::HealthServer> healthServer_;
  std::vector<std::unique_ptr<kube::Watcher>> watchers_;
  kube::Cancellation cancel_;
  std::vector<std::thread> threads_;
  std::atomic<bool> lostLease_{false};
  std::set<std::string> exported_;  // pipelines with metric series (refresher thread only)
  unsigned refreshes_ = 0;          // refresher thread only
};

Status Operator::startServers() {
  auto metrics = common::MetricsServer::start(options_.metricsAddress, registry_);
  if (!metrics) return metrics.status().withContext("--metrics-address");
  metricsServer_ = std::move(*metrics);
  auto health = common::HealthServer::start(options_.healthAddress);
  if (!health) return health.status().withContext("--health-address");
  healthServer_ = std::move(*health);
  healthServer_->addLivenessCheck("lease", [this] {
    return lostLease_.load() ? Status(common::ErrorCode::kUnavailable, "lost the leader lease")
                             : Status::ok();
  });
  spdlog::info("operator {}: metrics on port {}, health on port {}", identity_, metricsServer_->port(),
               healthServer_->port());
  return Status::ok();
}

void Operator::startWatchers() {
  const std::string selector = std::string(controller::kManagedByLabel) + "=" + controller::kManagedBy;
  kube::WatcherOptions deploymentWatch;
  deploymentWatch.transform = controller::trimCachedDeployment;
  kube::WatcherOptions secretWatch;
  secretWatch.transform = [](json& secret) {
    secret.erase("data");
    secret.erase("stringData");
  };
  for (const auto& ns : splitNamespaces(options_.namespaces)) {
    watchers_.push_back(std::make_unique<kube::Watcher>(
        client_, kube::WatchTarget{kube::resources::kConsumerPipelines, ns, ""}, pipelines_,
        [this](const json& object, bool deleted) {
          const std::string key = kube::ObjectCache::keyOf(object);
          spdlog::debug("pipeline {} {}", key, deleted ? "deleted" : "added or changed");
          enqueue(key);
        },
        random_));
    watchers_.push_back(std::make_unique<kube::Watcher>(
        client_, kube::WatchTarget{kube::resources::kDeployments, ns, selector}, deployments_,
        [this](const json& object, bool) {
          const std::string pipeline = object.value("/metadata/labels"_json_pointer, json::object())
                                           .value(contract::kPipelineLabel, "");
          if (!pipeline.empty())
            queue_.add(kube::objectKey(object["metadata"].value("namespace", ""), pipeline));
        },
        random_, deploymentWatch));
    // A changed Secret queues the pipelines that reference it: the reconcile reads it again, a new
    // resourceVersion changes the pod template's secrets hash (the workers roll) and the lag
    // probe's credentials. Only metadata is cached: credentials are read per reconcile, never kept.
    watchers_.push_back(std::make_unique<kube::Watcher>(
        client_, kube::WatchTarget{kube::resources::kSecrets, ns, ""}, secrets_,
        [this](const json& object, bool) {
          const auto& meta = object.value("metadata", json::object());
          for (const auto& key :
               reconciler_.pipelinesUsingSecret(meta.value("namespace", ""), meta.value("name", ""))) {
            spdlog::debug("Secret {}/{} changed: reconciling {}", meta.value("namespace", ""),
                          meta.value("name", ""), key);
            enqueue(key);
          }
        },
        random_, secretWatch));
  }
  for (auto& watcher : watchers_) {
    const std::string resource = watcher->target().type.plural;
    watcher->onRestart([this, resource](const char* reason) { metrics_.watchRestart(resource, reason); });
    threads_.emplace_back([this, w = watcher.get()] { w->run(cancel_); });
  }
}

bool Operator::synced() const {
  for (const auto& watcher : watchers_) {
    if (!watcher->synced()) return false;
  }
  return true;
}

void Operator::startElection() {
  if (!elector_) {
    metrics_.leader(true);
    return;
  }
  threads_.emplace_back([this] {
    elector_->run(
        cancel_,
        [this] {
          metrics_.leader(true);
          for (const auto& key : pipelines_.keys()) enqueue(key);  // catch up on what followers saw
        },
        [this] {
          // Writes are already refused (the gate follows the lease); stop the process like
          // controller-runtime so a fresh start re-joins the election cleanly.
          metrics_.leader(false);
          lostLease_.store(true);
          common::Shutdown::instance().request("lost the leader lease");
        });
  });
}

void Operator::processKey(const std::string& key) {
  const auto started = std::chrono::steady_clock::now();
  const bool urgent =
      spdlog::should_log(spdlog::level::debug) && priorityOf(key) == controller::Priority::kUrgent;
  const auto result = reconciler_.reconcile(key);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::debug("reconciled {}{} in {:.1f} ms{}", key, urgent ? " (new pipeline's Deployment first)" : "",
                seconds * 1000.0, result.status ? "" : ": failed");
  if (!result.status) {
    spdlog::warn("reconcile {} failed, will retry: {}", key, result.status.toString());
    metrics_.reconciled("error", seconds);
    metrics_.reconcileError(common::errorCodeName(result.status.code()));
    queue_.addRateLimited(key, priorityOf(key));
  } else {
    metrics_.reconciled(result.requeueAfter ? "requeue" : "success", seconds);
    queue_.forget(key);
    if (result.deferred) queue_.add(key);  // the rest of a new pipeline, at normal priority
    if (result.requeueAfter) queue_.addAfter(key, *result.requeueAfter);
  }
  queue_.done(key);
}

void Operator::workerLoop() {
  while (!cancel_.cancelled()) {
    if (!mayWrite() || !synced()) {
      cancel_.sleepFor(std::chrono::milliseconds(100));
      continue;
    }
    auto key = queue_.get(std::chrono::milliseconds(500));
    if (key) processKey(*key);
  }
}

void Operator::startWorkers() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { workerLoop(); });
  // Lag probes run here, never inside reconcile: a slow broker delays only its own samples. Only
  // keys a (leading) reconcile tracked are probed.
  for (int i = 0; i < std::max(1, options_.lagProbeThreads); ++i) {
    threads_.emplace_back([this] {
      while (!cancel_.cancelled()) reconciler_.lagSampler().runOnce(std::chrono::milliseconds(500));
    });
  }
  threads_.emplace_back([this] {
    while (cancel_.sleepFor(std::chrono::seconds(2))) refreshMetrics();
  });
}

void Operator::refreshMetrics() {
  metrics_.queueDepth(queue_.depth());
  // After a burst (hundreds of pipelines created or relisted) glibc keeps the freed JSON in its
  // arenas; hand the free pages back every 30 s so the RSS at rest reflects what is live.
  if (++refreshes_ % 15 == 0) malloc_trim(0);
  healthServer_->setReady(synced());
  std::set<std::string> now;
  if (mayWrite()) {  // only the leader exports pipeline series
    for (const auto& key : pipelines_.keys()) {
      const auto object = pipelines_.get(key);
      if (!object) continue;
      const auto status = controller::PipelineStatus::fromJson(object->value("status", json::object()));
      const auto [ns, name] = kube::splitKey(key);
      metrics_.pipelineReplicas(ns, name, status.replicas, status.desiredReplicas);
      if (const auto& polled = status.autoscaling) {
        metrics_.pipelineLag(ns, name, static_cast<double>(polled->lag.total), polled->rates.inPerSecond,
                             polled->rates.outPerSecond);
      }
      now.insert(key);
    }
  }
  for (const auto& key : exported_) {
    if (now.count(key)) continue;
    const auto [ns, name] = kube::splitKey(key);
    metrics_.forgetPipeline(ns, name);
  }
  exported_ = std::move(now);
}

void Operator::stop() {
  healthServer_->setReady(false);
  cancel_.cancel();
  queue_.shutDown();
  reconciler_.lagSampler().shutDown();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

Status Operator::run() {
  if (auto st = startServers(); !st) return st;
  startWatchers();
  startElection();
  startWorkers();
  common::Shutdown::instance().wait();
  spdlog::info("operator {} stopping", identity_);
  stop();
  if (lostLease_.load()) return Status(common::ErrorCode::kUnavailable, "lost the leader lease");
  return Status::ok();
}

}  // namespace

Status runOperator(const OperatorOptions& options) {
  // Dozens of mostly idle threads: glibc's per-thread arenas would hold memory each of them freed.
  mallopt(M_ARENA_MAX, 2);
  auto config = loadConfig(options);
  if (!config) return config.status();
  auto transport = kube::makeCpprestTransport(*config);
  if (!transport) return transport.status();
  spdlog::info("operator talking to {}", config->server);
  Operator op(options, std::move(*transport));
  return op.run();
}

}  // namespace sluice::op

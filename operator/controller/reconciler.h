#pragma once
// reconcile(key): level-based and idempotent. Reads the pipeline from the informer cache, parses
// it, checks Secrets and the source, asks the AutoscaleDriver for the replica count (it polls the
// autoscaler once per new lag sample, off the probe threads' samples, so no broker I/O sits before
// the apply), applies the owned objects through the OwnedApplier (desired.h, pure; server-side
// apply, one field manager owns spec.replicas), computes the status (status.h, pure) and writes it
// with one merge patch to /status when it changed, and records Events (transitions, and Scaled with
// the autoscaler's reason, once the apply that carries the decision succeeded). A new sample queues
// the key (ReconcilerOptions::onLagSample); requeueAfter covers the TCP probe refresh and staleness.
//
// Threading: reconcile() is called from several worker threads, never for the same key at once
// (the work queue guarantees it); the per-key memos have their own locks. The sampler's probe
// threads are run by the owner (lagSampler().runOnce()).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "kube/cache.h"
#include "kube/client.h"
#include "operator/controller/autoscale_driver.h"
#include "operator/controller/desired.h"
#include "operator/controller/lag_sampler.h"
#include "operator/controller/owned_apply.h"
#include "operator/controller/probe_credentials.h"
#include "operator/controller/source_probe.h"
#include "operator/controller/status.h"

namespace sluice::controller {

struct ReconcileResult {
  common::Status status;  // an error means: requeue with rate limiting
  std::optional<std::chrono::milliseconds> requeueAfter;
  // Only a new pipeline's urgent part was written (its Deployment, and with replicas > 0 first the
  // ServiceAccount and ConfigMap its pods need): queue the key again at normal priority for the
  // rest (the other owned objects, status, Events).
  bool deferred = false;
};

struct ReconcilerOptions {
  std::string workerImage;
  // Repositories spec.worker.image may name (image_policy.h); empty: any image.
  std::vector<std::string> allowedImageRepositories;
  ProbePolicy probe;
  std::chrono::seconds probeInterval{30};  // source re-probe and status refresh (requeueAfter)
  std::chrono::seconds resync{300};        // re-apply owned objects even when nothing changed, and
                                           // revisit pipelines whose source is not polled
  // Each pipeline's resync is drawn anew from resync x [1 - j, 1 + j), so pipelines created
  // together do not all re-apply at the same moment (as controller-runtime's 10 % jitter).
  double resyncJitter = 0.1;
  // Called once per autoscaler poll, after the apply carrying its decision succeeded (metrics);
  // `key` is "namespace/name".
  std::function<void(const std::string& key, const ScalingObservation&)> onScalingPoll;
  // Called from a probe thread when a new lag sample of `key` is published: queue the key.
  std::function<void(const std::string& key)> onLagSample;
  // A new pipeline's first reconcile applies only what its worker Deployment needs at once (the
  // Deployment; with replicas > 0 first the ServiceAccount its pods run as and the ConfigMap they
  // read) and returns `deferred`; with urgent() the owner queues those first, so a burst of
  // creates is not held up behind the other pipelines' RBAC, status patches and Events. False:
  // all in one reconcile.
  bool deploymentFirst = true;
};

class Reconciler {
 public:
  Reconciler(kube::Client& client, const kube::ObjectCache& pipelines, const kube::ObjectCache& deployments,
             TcpProber& prober, common::Clock& clock, common::Random& random, ReconcilerOptions options);

  ReconcileResult reconcile(const std::string& key);
  // The pipeline exists and still waits for its worker Deployment (not cached, not applied by
  // this process, its generation not reconciled): its reconcile belongs at urgent priority.
  // Any thread; reads the caches and the memo only.
  bool urgent(const std::string& key);
  // Keys ("namespace/name") of the pipelines whose last reconcile referenced Secret `name` in
  // `ns`: a watch on Secrets queues them, so a changed credential rolls the workers (and reaches
  // the lag probe) at once rather than at the next resync. Any thread.
  std::vector<std::string> pipelinesUsingSecret(const std::string& ns, const std::string& name);
  // The lag probes' scheduler; the owner runs its probe threads.
  LagSampler& lagSampler() { return autoscale_.lagSampler(); }

 private:
  struct ProbedSource {
    SourceObservation observation;
    std::string endpoints;
    common::SteadyTime at{};
  };
  // The referenced Secrets that do not exist; the data of those that do goes into `found`, their
  // uid, resourceVersion and key names into `read`.
  std::vector<SecretUse> missingSecrets(const spec::ConsumerPipeline& pipeline, SecretsByName& found,
                                        std::map<std::string, ReadSecret>& read, common::Status& error);
  void rememberSecretUse(const std::string& key, const spec::PipelineSpec& spec);
  SourceObservation observeSource(const std::string& key, const spec::ConsumerPipeline& pipeline);
  common::Status writeStatus(const nlohmann::json& object, const Observations& observed,
                             bool deploymentCreated, const std::optional<EventSpec>& scaled = std::nullopt);
  void recordEvent(const nlohmann::json& object, const EventSpec& event);

  kube::Client& client_;
  const kube::ObjectCache& pipelines_;
  const kube::ObjectCache& deployments_;
  TcpProber& prober_;
  common::Clock& clock_;
  ReconcilerOptions options_;
  OwnedApplier applier_;
  AutoscaleDriver autoscale_;
  std::mutex mu_;
  std::map<std::string, ProbedSource> probed_;              // the last TCP probe per pipeline key
  std::map<std::string, std::set<std::string>> secretUse_;  // pipeline key -> Secret names it references
};

// What the reconciler reads of a cached worker Deployment is its metadata (labels, the applied
// hash), spec.replicas and status; the pod template is most of the object and is dropped before
// caching (the informer's transform), which keeps the operator's memory small with many pipelines.
void trimCachedDeployment(nlohmann::json& deployment);

// The Event object for `event` about `pipelineObject` (core/v1), named uniquely by time.
nlohmann::json eventObject(const nlohmann::json& pipelineObject, const EventSpec& event,
                           common::WallTime now);

}  // namespace sluice::controller

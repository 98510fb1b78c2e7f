#pragma once
// reconcile(key): level-based and idempotent. Reads the pipeline from the informer cache, parses
// it, checks Secrets and the source, and polls the autoscaler once per new lag sample (the
// LagSampler probes each source on its own threads and schedule; reconcile only reads its latest
// sample, so no broker I/O sits before the apply; the sample + worker heartbeat Leases ->
// autoscale.h, pure apart from the autoscaler's clock). A missing or stale sample holds the
// replicas and says so in the Scaling condition. It then computes the desired objects (desired.h,
// pure) with the decided replica count and applies them with server-side apply (one field manager
// owns spec.replicas), computes the status (status.h, pure) and writes it with one merge patch to
// /status when it changed, and records Events (transitions, and Scaled with the autoscaler's
// reason, once the apply that carries the decision succeeded). A new sample queues the key
// (ReconcilerOptions::onLagSample); requeueAfter covers the TCP probe refresh and staleness.
//
// Threading: reconcile() is called from several worker threads, never for the same key at once
// (the work queue guarantees it); the small per-key memo below has its own lock. The sampler's
// probe threads are run by the owner (lagSampler().runOnce()).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "operator/controller/autoscale.h"
#include "operator/controller/desired.h"
#include "operator/controller/lag_sampler.h"
#include "operator/controller/probe_credentials.h"
#include "operator/controller/source_probe.h"
#include "operator/controller/status.h"
#include "kube/cache.h"
#include "kube/client.h"

namespace sluice::controller {

// On the worker Deployment's metadata (not the pod template: it must not roll the pods): the hash
// of the five owned objects as last applied, so a restarted operator skips applies that would
// change nothing (once the pipeline's status shows that generation was reconciled: a new
// pipeline's Deployment carries the hash before its Role and RoleBinding are applied).
inline constexpr const char* kAppliedHashAnnotation = "sluice.dev/applied-hash";

struct ReconcileResult {
  common::Status status;  // an error means: requeue with rate limiting
  std::optional<std::chrono::milliseconds> requeueAfter;
  // Only a new pipeline's urgent part was written (its Deployment, and with replicas > 0 first the
  // ServiceAccount and ConfigMap its pods need): queue the key again at normal priority for the
  // rest (the other owned objects, status, Events).
  bool deferred = false;
};

// Who decides the replica count: nullopt leaves spec.replicas to another field manager (the
// autoscaler); the default writes minReplicas (defaultReplicas()).
using ReplicaPolicy = std::function<std::optional<int>(const spec::ConsumerPipeline&)>;

struct ReconcilerOptions {
  std::string workerImage;
  ProbePolicy probe;
  std::chrono::seconds probeInterval{30};  // source re-probe and status refresh (requeueAfter)
  std::chrono::seconds resync{300};        // re-apply owned objects even when nothing changed, and
                                           // revisit pipelines whose source is not polled
  // Each pipeline's resync is drawn anew from resync x [1 - j, 1 + j), so pipelines created
  // together do not all re-apply at the same moment (as controller-runtime's 10 % jitter).
  double resyncJitter = 0.1;
  ReplicaPolicy replicas;                  // empty = the autoscaler, else defaultReplicas
  bool autoscale = true;                   // poll the autoscaler (lag probe + worker Leases)
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

// A lag sample older than this holds the replicas (Scaling=Unknown, LagSampleStale): three poll
// intervals, plus room for one probe that runs into its timeouts.
std::chrono::milliseconds staleSampleAge(int pollIntervalSeconds);

class Reconciler {
 public:
  Reconciler(kube::Client& client, const kube::ObjectCache& pipelines, const kube::ObjectCache& deployments,
             TcpProber& prober, common::Clock& clock, common::Random& random, ReconcilerOptions options);

  ReconcileResult reconcile(const std::string& key);
  // The pipeline exists and still waits for its worker Deployment (not cached, not applied by
  // this process, its generation not reconciled): its reconcile belongs at urgent priority.
  // Any thread; reads the caches and the memo only.
  bool urgent(const std::string& key);
  // The lag probes' scheduler; the owner runs its probe threads.
  LagSampler& lagSampler() { return sampler_; }

 private:
  // Per pipeline key, between polls: the autoscaler, which lag sample it used last and that poll.
  // Used only by that key's reconcile (the work queue serialises a key); the map is guarded by mu_.
  struct ScalingState {
    explicit ScalingState(common::Clock& clock) : autoscaler(clock) {}
    scaling::PipelineAutoscaler autoscaler;
    std::string probeFingerprint;  // what the sampler was told to probe ("skip:<why>" when nothing)
    uint64_t sampleSequence = 0;   // the LagSample the last poll used
    std::optional<ScalingObservation> last;
    bool reported = true;          // last's metrics and Scaled event emitted (after a good apply)
    std::string leaseError;        // logged once per distinct error
  };
  struct ScalingStep {
    std::optional<int> replicas;              // what the Deployment apply writes
    ScalingObservation* observation = nullptr;
    std::optional<Condition> held;            // no usable lag sample: the replicas hold, this is why
  };
  struct Memo {
    std::string appliedHash;  // all five objects applied with this hash
    common::SteadyTime resyncAt{};  // then re-applied (with jitter) even when nothing changed
    std::string urgentHash;   // only the Deployment's part applied (deferred), with this hash
    bool createdUnannounced = false;  // the Created event waits for the deferred rest
    std::optional<SourceObservation> source;
    std::string probedEndpoints;
    common::SteadyTime probedAt{};
  };

  struct Applied {
    bool created = false;   // the Deployment was created (announce it with this pass's status)
    bool deferred = false;  // only the urgent part was applied
    nlohmann::json deployment;  // the Deployment as the API server returned it, if applied
  };
  common::Result<Applied> applyOwned(const std::string& key, const spec::ConsumerPipeline& pipeline,
                                     const nlohmann::json& object, std::optional<int> replicas);
  // The referenced Secrets that do not exist; the data of those that do goes into `found`.
  std::vector<SecretUse> missingSecrets(const spec::ConsumerPipeline& pipeline, SecretsByName& found,
                                        common::Status& error);
  SourceObservation observeSource(const std::string& key, const spec::ConsumerPipeline& pipeline);
  common::Status writeStatus(const nlohmann::json& object, const Observations& observed, bool deploymentCreated,
                             const std::optional<EventSpec>& scaled = std::nullopt);
  void recordEvent(const nlohmann::json& object, const EventSpec& event);
  ScalingStep scale(const std::string& key, const spec::ConsumerPipeline& pipeline, const nlohmann::json* deployment,
                    const SecretsByName& secrets);
  ScalingState* scalingState(const std::string& key);
  bool trackLagProbe(const std::string& key, ScalingState& state, const spec::ConsumerPipeline& pipeline,
                     const SecretsByName& secrets);
  std::optional<EventSpec> reportScaling(const std::string& key);
  std::vector<nlohmann::json> workerLeases(ScalingState& state, const spec::ConsumerPipeline& pipeline);
  std::optional<Memo> memo(const std::string& key);
  common::SteadyTime nextResync();
  std::chrono::milliseconds untilResync(const std::string& key);
  void remember(const std::string& key, const std::function<void(Memo&)>& update);

  kube::Client& client_;
  const kube::ObjectCache& pipelines_;
  const kube::ObjectCache& deployments_;
  TcpProber& prober_;
  common::Clock& clock_;
  common::Random& random_;
  ReconcilerOptions options_;
  std::mutex mu_;
  std::map<std::string, Memo> memos_;
  std::map<std::string, std::unique_ptr<ScalingState>> scalers_;
  // Declared before the sampler: its probes use the pools' connections and go first.
  scaling::KafkaAdminPool kafkaPool_;
  scaling::NatsConnectionPool natsPool_;
  LagSampler sampler_;
};

// What the reconciler reads of a cached worker Deployment is its metadata (labels, the applied
// hash), spec.replicas and status; the pod template is most of the object and is dropped before
// caching (the informer's transform), which keeps the operator's memory small with many pipelines.
void trimCachedDeployment(nlohmann::json& deployment);

// The Event object for `event` about `pipelineObject` (core/v1), named uniquely by time.
nlohmann::json eventObject(const nlohmann::json& pipelineObject, const EventSpec& event, common::WallTime now);

}  // namespace sluice::controller

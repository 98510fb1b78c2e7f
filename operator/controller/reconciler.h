#pragma once
// reconcile(key): level-based and idempotent. Reads the pipeline from the informer cache, parses
// it, checks Secrets and the source, polls the autoscaler at most once per pollIntervalSeconds
// (lag probe + worker heartbeat Leases -> autoscale.h, pure apart from the autoscaler's clock),
// computes the desired objects (desired.h, pure) with the decided replica count and applies them
// with server-side apply (one field manager owns spec.replicas), computes the status (status.h,
// pure) and writes it with one merge patch to /status when it changed, and records Events
// (transitions, and Scaled with the autoscaler's reason). The poll is just requeueAfter.
//
// Threading: reconcile() is called from several worker threads, never for the same key at once
// (the work queue guarantees it); the small per-key memo below has its own lock.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "operator/controller/autoscale.h"
#include "operator/controller/desired.h"
#include "operator/controller/source_probe.h"
#include "operator/controller/status.h"
#include "operator/kube/cache.h"
#include "operator/kube/client.h"

namespace sluice::controller {

struct ReconcileResult {
  common::Status status;  // an error means: requeue with rate limiting
  std::optional<std::chrono::milliseconds> requeueAfter;
};

// Who decides the replica count: nullopt leaves spec.replicas to another field manager (the
// autoscaler); the default writes minReplicas (defaultReplicas()).
using ReplicaPolicy = std::function<std::optional<int>(const spec::ConsumerPipeline&)>;

struct ReconcilerOptions {
  std::string workerImage;
  ProbePolicy probe;
  std::chrono::seconds probeInterval{30};  // source re-probe and status refresh (requeueAfter)
  std::chrono::seconds resync{300};        // re-apply owned objects even when nothing changed
  ReplicaPolicy replicas;                  // empty = the autoscaler, else defaultReplicas
  bool autoscale = true;                   // poll the autoscaler (lag probe + worker Leases)
  // Called after every fresh autoscaler poll (metrics); `key` is "namespace/name".
  std::function<void(const std::string& key, const ScalingObservation&)> onScalingPoll;
};

class Reconciler {
 public:
  Reconciler(kube::Client& client, const kube::ObjectCache& pipelines, const kube::ObjectCache& deployments,
             TcpProber& prober, common::Clock& clock, ReconcilerOptions options);

  ReconcileResult reconcile(const std::string& key);

 private:
  // Per pipeline key, between polls: the autoscaler, its lag probe and the last poll. Used only by
  // that key's reconcile (the work queue serialises a key); the map itself is guarded by mu_.
  struct ScalingState {
    explicit ScalingState(common::Clock& clock) : autoscaler(clock) {}
    scaling::PipelineAutoscaler autoscaler;
    std::unique_ptr<scaling::LagProbe> probe;
    std::string probeFingerprint;
    std::optional<ScalingObservation> last;
    common::SteadyTime polledAt{};
    std::string leaseError;  // logged once per distinct error
  };
  struct ScalingStep {
    std::optional<int> replicas;              // what the Deployment apply writes
    const ScalingObservation* observation = nullptr;
    bool fresh = false;                       // polled now (events, metrics)
  };
  struct Memo {
    std::string appliedHash;
    common::SteadyTime appliedAt{};
    std::optional<SourceObservation> source;
    std::string probedEndpoints;
    common::SteadyTime probedAt{};
  };

  common::Result<bool> applyOwned(const std::string& key, const spec::ConsumerPipeline& pipeline,
                                  const nlohmann::json& object, std::optional<int> replicas);
  std::vector<SecretUse> missingSecrets(const spec::ConsumerPipeline& pipeline, common::Status& error);
  SourceObservation observeSource(const std::string& key, const spec::ConsumerPipeline& pipeline);
  common::Status writeStatus(const nlohmann::json& object, const Observations& observed, bool deploymentCreated,
                             const std::optional<EventSpec>& scaled = std::nullopt);
  void recordEvent(const nlohmann::json& object, const EventSpec& event);
  ScalingStep scale(const std::string& key, const spec::ConsumerPipeline& pipeline, const nlohmann::json* deployment);
  ScalingState* scalingState(const std::string& key);
  scaling::LagProbe* lagProbe(ScalingState& state, const spec::ConsumerPipeline& pipeline);
  std::vector<nlohmann::json> workerLeases(ScalingState& state, const spec::ConsumerPipeline& pipeline);
  std::optional<Memo> memo(const std::string& key);
  void remember(const std::string& key, const std::function<void(Memo&)>& update);

  kube::Client& client_;
  const kube::ObjectCache& pipelines_;
  const kube::ObjectCache& deployments_;
  TcpProber& prober_;
  common::Clock& clock_;
  ReconcilerOptions options_;
  std::mutex mu_;
  std::map<std::string, Memo> memos_;
  std::map<std::string, std::unique_ptr<ScalingState>> scalers_;
  scaling::KafkaAdminPool kafkaPool_;
  scaling::NatsConnectionPool natsPool_;
};

// The Event object for `event` about `pipelineObject` (core/v1), named uniquely by time.
nlohmann::json eventObject(const nlohmann::json& pipelineObject, const EventSpec& event, common::WallTime now);

}  // namespace sluice::controller

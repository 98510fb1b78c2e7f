#pragma once
// OwnedApplier: writes a pipeline's five owned objects (ServiceAccount, ConfigMap, Deployment,
// Role, RoleBinding) with server-side apply, and remembers per pipeline the hash of what it applied
// so steady state and restarts make no writes:
//   - exactly these objects applied recently and the Deployment still there: nothing to do;
//   - after a restart (no memo) the cached Deployment carries the hash of exactly these objects
//     (kAppliedHashAnnotation) and the status shows the generation reconciled: nothing to do;
//   - a new pipeline (no Deployment, never applied) with deploymentFirst: only what the Deployment
//     needs at once (`deferred`), the rest on the next call.
// Owned objects are re-applied every `resync` (with jitter) even when nothing changed. Before each
// apply the object at that name is read: one that is not controlled by the pipeline is never
// written (adoptionRefusal), and apply() answers with `refused` instead.
//
// Threading: apply() runs in the reconcile of one key at a time; the memo map has its own lock, so
// urgent() and untilResync() may be called from any thread.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "kube/cache.h"
#include "kube/client.h"
#include "operator/controller/desired.h"

namespace sluice::controller {

// On the worker Deployment's metadata (not the pod template: it must not roll the pods): the hash
// of the five owned objects as last applied, so a restarted operator skips applies that would
// change nothing (once the pipeline's status shows that generation was reconciled: a new
// pipeline's Deployment carries the hash before its Role and RoleBinding are applied).
inline constexpr const char* kAppliedHashAnnotation = "sluice.dev/applied-hash";

// The status describes the pipeline's current generation: a reconcile got past its applies.
bool generationReconciled(const nlohmann::json& pipelineObject);

// Why `existing` (an object at an owned object's name) must not be written for `pipelineObject`:
// it has no controller owner reference to this pipeline (created by someone else, or controlled
// by another owner). Server-side apply with force would take it over and the garbage collector
// would delete it with the pipeline, so like controller-runtime's SetControllerReference the
// operator refuses to adopt it. nullopt: the object is this pipeline's.
std::optional<std::string> adoptionRefusal(const nlohmann::json& existing,
                                           const nlohmann::json& pipelineObject);

struct OwnedApplyOptions {
  std::string workerImage;
  std::chrono::seconds resync{300};
  double resyncJitter = 0.1;  // each resync drawn from resync x [1 - j, 1 + j)
  bool deploymentFirst = true;
};

class OwnedApplier {
 public:
  struct Applied {
    bool created = false;       // the Deployment was created (announce it with this pass's status)
    bool deferred = false;      // only the urgent part was applied
    nlohmann::json deployment;  // the Deployment as the API server returned it, if applied
    // An object at one of the owned names is not this pipeline's (adoptionRefusal): nothing from
    // it on was applied; the message names the object and the fix.
    std::string refused;
  };

  OwnedApplier(kube::Client& client, const kube::ObjectCache& deployments, common::Clock& clock,
               common::Random& random, OwnedApplyOptions options);

  // `secrets`: the referenced Secrets as this reconcile read them (DesiredOptions::secrets), so a
  // changed Secret makes a different pod template and is applied like any other change.
  common::Result<Applied> apply(const std::string& key, const spec::ConsumerPipeline& pipeline,
                                const nlohmann::json& object, std::optional<int> replicas,
                                const std::map<std::string, ReadSecret>& secrets = {});
  // Nothing of the pipeline was applied by this process, not even the urgent part.
  bool neverApplied(const std::string& key);
  // The pipeline's next re-apply, drawn when it was last applied (or found applied after a restart).
  std::chrono::milliseconds untilResync(const std::string& key);
  void forget(const std::string& key);

 private:
  struct Memo {
    std::string appliedHash;          // all five objects applied with this hash
    common::SteadyTime resyncAt{};    // then re-applied (with jitter) even when nothing changed
    std::string urgentHash;           // only the Deployment's part applied (deferred), with this hash
    bool createdUnannounced = false;  // the Created event waits for the deferred rest
  };
  std::optional<Memo> memo(const std::string& key);
  void remember(const std::string& key, const std::function<void(Memo&)>& update);
  common::SteadyTime nextResync();
  // The refusal for the object at `body`'s name, if one exists and is not the pipeline's: the
  // Deployment from the cache (or the API when not cached: the cache holds only labelled ones),
  // the others from the API.
  common::Result<std::optional<std::string>> refusalFor(const kube::ResourceType& type,
                                                        const nlohmann::json& body,
                                                        const nlohmann::json* cachedDeployment,
                                                        const nlohmann::json& pipelineObject);

  kube::Client& client_;
  const kube::ObjectCache& deployments_;
  common::Clock& clock_;
  common::Random& random_;
  OwnedApplyOptions options_;
  std::mutex mu_;
  std::map<std::string, Memo> memos_;
};

}  // namespace sluice::controller

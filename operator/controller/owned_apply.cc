#include "operator/controller/owned_apply.h"

#include <utility>

namespace sluice::controller {
namespace {

using nlohmann::json;

std::string hashOf(const DesiredObjects& objects) {
  const json all = json::array(
      {objects.serviceAccount, objects.role, objects.roleBinding, objects.configMap, objects.deployment});
  return contentHash(all.dump());
}

}  // namespace

std::optional<std::string> adoptionRefusal(const json& existing, const json& pipelineObject) {
  const json& meta = pipelineObject.at("metadata");
  const std::string uid = meta.value("uid", "");
  const std::string what = existing.value("kind", std::string("object")) + " \"" +
                           existing.value("/metadata/name"_json_pointer, std::string()) + "\"";
  const std::string fix = "Sluice does not adopt objects it did not create: delete or rename that " +
                          existing.value("kind", std::string("object")) +
                          " (or give the pipeline another name), and the operator creates its own";
  for (const auto& ref : existing.value("/metadata/ownerReferences"_json_pointer, json::array())) {
    if (!ref.is_object() || !ref.value("controller", false)) continue;
    if (!uid.empty() && ref.value("uid", "") == uid) return std::nullopt;
    return what + " already exists and is controlled by " + ref.value("kind", std::string("an owner")) +
           " \"" + ref.value("name", std::string()) + "\" (uid " + ref.value("uid", std::string()) +
           "), not by this ConsumerPipeline; " + fix;
  }
  return what +
         " already exists and is not controlled by this ConsumerPipeline (no controller owner reference); " +
         fix;
}

bool generationReconciled(const json& object) {
  const auto generation = object.value("/metadata/generation"_json_pointer, int64_t{-1});
  return generation >= 0 &&
         object.value("/status/observedGeneration"_json_pointer, int64_t{-2}) == generation;
}

OwnedApplier::OwnedApplier(kube::Client& client, const kube::ObjectCache& deployments, common::Clock& clock,
                           common::Random& random, OwnedApplyOptions options)
    : client_(client),
      deployments_(deployments),
      clock_(clock),
      random_(random),
      options_(std::move(options)) {}

std::optional<OwnedApplier::Memo> OwnedApplier::memo(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = memos_.find(key);
  if (it == memos_.end()) return std::nullopt;
  return it->second;
}

void OwnedApplier::remember(const std::string& key, const std::function<void(Memo&)>& update) {
  std::lock_guard<std::mutex> lock(mu_);
  update(memos_[key]);
}

void OwnedApplier::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  memos_.erase(key);
}

bool OwnedApplier::neverApplied(const std::string& key) {
  const auto previous = memo(key);
  return !previous || (previous->appliedHash.empty() && previous->urgentHash.empty());
}

common::SteadyTime OwnedApplier::nextResync() {
  const double factor = 1.0 + options_.resyncJitter * (2.0 * random_.uniform01() - 1.0);
  const auto resync = std::chrono::duration<double, std::milli>(options_.resync) * factor;
  return clock_.now() + std::chrono::duration_cast<std::chrono::milliseconds>(resync);
}

std::chrono::milliseconds OwnedApplier::untilResync(const std::string& key) {
  const auto previous = memo(key);
  const auto at = previous && !previous->appliedHash.empty() ? previous->resyncAt : nextResync();
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(at - clock_.now()));
}

common::Result<std::optional<std::string>> OwnedApplier::refusalFor(const kube::ResourceType& type,
                                                                    const json& body,
                                                                    const json* cachedDeployment,
                                                                    const json& pipelineObject) {
  if (&type == &kube::resources::kDeployments && cachedDeployment) {
    json withKind = *cachedDeployment;
    withKind["kind"] = type.kind;
    return adoptionRefusal(withKind, pipelineObject);
  }
  const std::string ns = body.value("/metadata/namespace"_json_pointer, std::string());
  const std::string name = body.value("/metadata/name"_json_pointer, std::string());
  auto existing = client_.get(type, ns, name);
  if (!existing) {
    if (existing.status().code() == common::ErrorCode::kNotFound) return std::optional<std::string>();
    return existing.status();
  }
  json withKind = std::move(*existing);
  withKind["kind"] = type.kind;  // a typed get may leave it out
  return adoptionRefusal(withKind, pipelineObject);
}

// The ServiceAccount, the ConfigMap and then the Deployment go first (pods need the account to be
// admitted and, on a change, must not start before the new pipeline.yaml is in place); the Role
// and RoleBinding follow (a worker retries its heartbeat until they exist).
common::Result<OwnedApplier::Applied> OwnedApplier::apply(const std::string& key,
                                                          const spec::ConsumerPipeline& pipeline,
                                                          const json& object, std::optional<int> replicas,
                                                          const std::map<std::string, ReadSecret>& secrets) {
  DesiredOptions desired{options_.workerImage, replicas, secrets};
  DesiredObjects objects = desiredObjects(pipeline, object, desired);
  const std::string hash = hashOf(objects);
  objects.deployment["metadata"]["annotations"][kAppliedHashAnnotation] = hash;
  const std::string deploymentKey =
      kube::objectKey(pipeline.metadata.namespace_, workerName(pipeline.metadata.name));
  const auto cached = deployments_.get(deploymentKey);
  const auto previous = memo(key);
  if (previous && previous->appliedHash == hash && cached && clock_.now() < previous->resyncAt) {
    return Applied{};
  }
  const bool neverApplied = !previous || previous->appliedHash.empty();  // by this process
  if (neverApplied && cached && generationReconciled(object) &&
      cached->value("/metadata/annotations"_json_pointer, json::object()).value(kAppliedHashAnnotation, "") ==
          hash) {
    remember(key, [&](Memo& m) {
      m.appliedHash = hash;
      m.resyncAt = nextResync();
    });
    return Applied{};
  }
  const bool urgentDone = previous && !previous->urgentHash.empty() && previous->urgentHash == hash;
  Applied out;
  out.deferred = options_.deploymentFirst && neverApplied && !cached && !urgentDone;
  // In apply order. A deferred (urgent) pass writes only what the new Deployment's first pods
  // need: with 0 replicas there are none, so the Deployment alone; else the account they run as
  // and the ConfigMap they read go before it. The next pass writes the others.
  struct Owned {
    const kube::ResourceType* type;
    const json* body;
    bool urgent;
  };
  const bool podsAtOnce = !replicas || *replicas > 0;
  const Owned all[] = {{&kube::resources::kServiceAccounts, &objects.serviceAccount, podsAtOnce},
                       {&kube::resources::kConfigMaps, &objects.configMap, podsAtOnce},
                       {&kube::resources::kDeployments, &objects.deployment, true},
                       {&kube::resources::kRoles, &objects.role, false},
                       {&kube::resources::kRoleBindings, &objects.roleBinding, false}};
  for (const auto& owned : all) {
    // The urgent pass's hash fixes the replicas, so `urgent` is what that pass applied.
    if (out.deferred ? !owned.urgent : urgentDone && owned.urgent) continue;
    auto refusal = refusalFor(*owned.type, *owned.body, cached.get(), object);
    if (!refusal) return refusal.status();
    if (*refusal) {
      out.refused = std::move(**refusal);
      out.deferred = false;
      return out;  // not remembered: the next pass checks again
    }
    auto result = client_.apply(*owned.type, *owned.body);
    if (!result) return result.status();
    if (owned.type == &kube::resources::kDeployments) out.deployment = std::move(*result);
  }
  // Created now: no Deployment yet and never applied by this process (the memo may already hold a
  // source probe, so look at what was applied, not whether a memo exists).
  const bool createdNow = !cached && neverApplied && !urgentDone;
  remember(key, [&](Memo& m) {
    if (out.deferred) {
      m.urgentHash = hash;
      m.createdUnannounced = m.createdUnannounced || createdNow;
      return;
    }
    m.appliedHash = hash;
    m.resyncAt = nextResync();
    m.urgentHash.clear();
    out.created = createdNow || std::exchange(m.createdUnannounced, false);
  });
  return out;
}

}  // namespace sluice::controller

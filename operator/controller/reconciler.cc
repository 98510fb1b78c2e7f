#include "operator/controller/reconciler.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "common/spec/parse.h"
#include "operator/controller/reasons.h"

namespace sluice::controller {
namespace {

using common::ErrorCode;
using common::Result;
using common::Status;
using nlohmann::json;

std::string hashOf(const DesiredObjects& objects) {
  const json all = json::array({objects.serviceAccount, objects.role, objects.roleBinding, objects.configMap,
                                objects.deployment});
  return contentHash(all.dump());
}

}  // namespace

json eventObject(const json& pipelineObject, const EventSpec& event, common::WallTime now) {
  const auto& meta = pipelineObject.at("metadata");
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(nanos));
  const std::string time = common::formatRfc3339(now);
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", meta.value("name", "") + suffix}, {"namespace", meta.value("namespace", "")}}},
          {"involvedObject",
           {{"apiVersion", spec::kApiVersion},
            {"kind", spec::kKind},
            {"name", meta.value("name", "")},
            {"namespace", meta.value("namespace", "")},
            {"uid", meta.value("uid", "")},
            {"resourceVersion", meta.value("resourceVersion", "")}}},
          {"type", event.type},
          {"reason", event.reason},
          {"message", event.message},
          {"source", {{"component", "sluice-operator"}}},
          {"reportingComponent", "sluice.dev/operator"},
          {"reportingInstance", "sluice-operator"},
          {"firstTimestamp", time},
          {"lastTimestamp", time},
          {"count", 1}};
}

Reconciler::Reconciler(kube::Client& client, const kube::ObjectCache& pipelines, const kube::ObjectCache& deployments,
                       TcpProber& prober, common::Clock& clock, ReconcilerOptions options)
    : client_(client),
      pipelines_(pipelines),
      deployments_(deployments),
      prober_(prober),
      clock_(clock),
      options_(std::move(options)) {}

std::optional<Reconciler::Memo> Reconciler::memo(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = memos_.find(key);
  if (it == memos_.end()) return std::nullopt;
  return it->second;
}

void Reconciler::remember(const std::string& key, const std::function<void(Memo&)>& update) {
  std::lock_guard<std::mutex> lock(mu_);
  update(memos_[key]);
}

ReconcileResult Reconciler::reconcile(const std::string& key) {
  const auto object = pipelines_.get(key);
  if (!object || object->contains("/metadata/deletionTimestamp"_json_pointer)) {
    // Gone or going: the garbage collector removes what it owned (owner references).
    std::lock_guard<std::mutex> lock(mu_);
    memos_.erase(key);
    return {Status::ok(), std::nullopt};
  }
  auto parsed = spec::parsePipelineJson(*object);
  if (!parsed.ok()) {
    Observations observed;
    observed.specError = parsed.errorText();
    return {writeStatus(*object, observed, false), std::nullopt};  // terminal until the spec changes
  }
  Status secretError;
  Observations observed;
  observed.missingSecrets = missingSecrets(parsed.pipeline, secretError);
  if (!secretError) return {secretError, std::nullopt};
  auto created = applyOwned(key, parsed.pipeline, *object);
  if (!created) return {created.status(), std::nullopt};
  observed.source = observeSource(key, parsed.pipeline);
  const auto deployment = deployments_.get(kube::objectKey(parsed.pipeline.metadata.namespace_,
                                                           workerName(parsed.pipeline.metadata.name)));
  observed.deployment = deployment.get();
  const Status written = writeStatus(*object, observed, *created);
  return {written, std::chrono::duration_cast<std::chrono::milliseconds>(options_.probeInterval)};
}

// Applies the five owned objects unless exactly these were applied recently and the Deployment is
// still there. Returns whether the Deployment was created by this call.
Result<bool> Reconciler::applyOwned(const std::string& key, const spec::ConsumerPipeline& pipeline, const json& object) {
  DesiredOptions desired{options_.workerImage, std::nullopt};
  desired.replicas = options_.replicas ? options_.replicas(pipeline) : defaultReplicas(pipeline.spec.scaling);
  const DesiredObjects objects = desiredObjects(pipeline, object, desired);
  const std::string hash = hashOf(objects);
  const std::string deploymentKey = kube::objectKey(pipeline.metadata.namespace_, workerName(pipeline.metadata.name));
  const bool deploymentCached = deployments_.get(deploymentKey) != nullptr;
  const auto previous = memo(key);
  if (previous && previous->appliedHash == hash && deploymentCached &&
      clock_.now() - previous->appliedAt < options_.resync) {
    return false;
  }
  const std::vector<std::pair<const kube::ResourceType*, const json*>> order = {
      {&kube::resources::kServiceAccounts, &objects.serviceAccount}, {&kube::resources::kRoles, &objects.role},
      {&kube::resources::kRoleBindings, &objects.roleBinding},       {&kube::resources::kConfigMaps, &objects.configMap},
      {&kube::resources::kDeployments, &objects.deployment}};
  for (const auto& [type, body] : order) {
    auto applied = client_.apply(*type, *body);
    if (!applied) return applied.status();
  }
  remember(key, [&](Memo& m) {
    m.appliedHash = hash;
    m.appliedAt = clock_.now();
  });
  return !deploymentCached && !previous;
}

std::vector<SecretUse> Reconciler::missingSecrets(const spec::ConsumerPipeline& pipeline, Status& error) {
  std::vector<SecretUse> missing;
  for (const auto& use : referencedSecrets(pipeline.spec)) {
    auto secret = client_.get(kube::resources::kSecrets, pipeline.metadata.namespace_, use.name);
    if (secret) continue;
    if (secret.status().code() == ErrorCode::kNotFound) {
      missing.push_back(use);
      continue;
    }
    error = secret.status();
    return {};
  }
  return missing;
}

SourceObservation Reconciler::observeSource(const std::string& key, const spec::ConsumerPipeline& pipeline) {
  std::string endpoints;
  for (const auto& e : sourceEndpoints(pipeline.spec)) endpoints += e.host + ":" + std::to_string(e.port) + ",";
  const auto previous = memo(key);
  if (previous && previous->source && previous->probedEndpoints == endpoints &&
      clock_.now() - previous->probedAt < options_.probeInterval) {
    return *previous->source;
  }
  const SourceObservation observed = probeSource(pipeline.spec, prober_, options_.probe);
  remember(key, [&](Memo& m) {
    m.source = observed;
    m.probedEndpoints = endpoints;
    m.probedAt = clock_.now();
  });
  return observed;
}

Status Reconciler::writeStatus(const json& object, const Observations& observed, bool deploymentCreated) {
  const json previous = object.value("status", json::object());
  const json status = computeStatus(object, observed, previous, clock_.wallNow());
  for (const auto& event : transitionEvents(previous, status, deploymentCreated)) recordEvent(object, event);
  if (!statusChanged(previous, status)) return Status::ok();
  const auto& meta = object.at("metadata");
  auto patched = client_.patchStatus(kube::resources::kConsumerPipelines, meta.value("namespace", ""),
                                     meta.value("name", ""), json{{"status", status}});
  // NotFound: deleted meanwhile; the next event says so. Anything else is retried.
  if (!patched && patched.status().code() != ErrorCode::kNotFound) return patched.status();
  return Status::ok();
}

void Reconciler::recordEvent(const json& object, const EventSpec& event) {
  const std::string ns = object.value("/metadata/namespace"_json_pointer, std::string());
  auto created = client_.create(kube::resources::kEvents, ns, eventObject(object, event, clock_.wallNow()));
  // Events are best effort: losing one must not fail the reconcile.
  if (!created) spdlog::info("recording event {} failed: {}", event.reason, created.status().toString());
}

}  // namespace sluice::controller

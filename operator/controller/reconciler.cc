#include "operator/controller/reconciler.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "common/spec/parse.h"
#include "operator/controller/image_policy.h"
#include "operator/controller/reasons.h"

namespace sluice::controller {
namespace {

using common::ErrorCode;
using common::Result;
using common::Status;
using nlohmann::json;

}  // namespace

void trimCachedDeployment(json& deployment) {
  if (auto spec = deployment.find("spec"); spec != deployment.end() && spec->is_object())
    spec->erase("template");
}

json eventObject(const json& pipelineObject, const EventSpec& event, common::WallTime now) {
  const auto& meta = pipelineObject.at("metadata");
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(nanos));
  const std::string time = common::formatRfc3339(now);
  return {
      {"apiVersion", "v1"},
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

Reconciler::Reconciler(kube::Client& client, const kube::ObjectCache& pipelines,
                       const kube::ObjectCache& deployments, TcpProber& prober, common::Clock& clock,
                       common::Random& random, ReconcilerOptions options)
    : client_(client),
      pipelines_(pipelines),
      deployments_(deployments),
      prober_(prober),
      clock_(clock),
      options_(std::move(options)),
      applier_(client, deployments, clock, random,
               OwnedApplyOptions{options_.workerImage, options_.resync, options_.resyncJitter,
                                 options_.deploymentFirst}),
      autoscale_(client, clock,
                 AutoscaleOptions{options_.probe, options_.onScalingPoll, options_.onLagSample}) {}

ReconcileResult Reconciler::reconcile(const std::string& key) {
  const auto object = pipelines_.get(key);
  if (!object || object->contains("/metadata/deletionTimestamp"_json_pointer)) {
    // Gone or going: the garbage collector removes what it owned (owner references); the
    // autoscaler and its lag probe (and so its pooled connection) go with the memo.
    autoscale_.forget(key);
    applier_.forget(key);
    std::lock_guard<std::mutex> lock(mu_);
    probed_.erase(key);
    secretUse_.erase(key);
    return {Status::ok(), std::nullopt};
  }
  auto parsed = spec::parsePipelineJson(*object);
  if (!parsed.ok()) {
    Observations observed;
    observed.specError = parsed.errorText();
    observed.scalingPaused = parsed.pipeline.spec.scaling.paused;
    return {writeStatus(*object, observed, false), std::nullopt};  // terminal until the spec changes
  }
  const spec::ConsumerPipeline& pipeline = parsed.pipeline;
  Observations observed;
  if (auto refusal = imageRefusal(pipeline.spec.worker.image, options_.allowedImageRepositories)) {
    // Nothing applied: a Deployment the pipeline has keeps its last allowed image. Terminal until
    // the spec (or the operator's allow-list, with a restart) changes.
    observed.refused = Refusal{reason::kImageNotAllowed, std::move(*refusal)};
    observed.scalingPaused = pipeline.spec.scaling.paused;
    const auto current =
        deployments_.get(kube::objectKey(pipeline.metadata.namespace_, workerName(pipeline.metadata.name)));
    observed.deployment = current.get();
    return {writeStatus(*object, observed, false), std::nullopt};
  }
  Status secretError;
  SecretsByName secrets;  // the data of those that exist, for the lag probe's TLS/SASL settings
  std::map<std::string, ReadSecret> secretsRead;  // versions and key names, for the owned objects
  rememberSecretUse(key, pipeline.spec);
  observed.missingSecrets = missingSecrets(pipeline, secrets, secretsRead, secretError);
  if (!secretError) return {secretError, std::nullopt};
  observed.source = observeSource(key, pipeline);
  observed.sourceSummary = sourceSummary(pipeline.spec);
  observed.scalingPaused = pipeline.spec.scaling.paused;
  const std::string deploymentKey =
      kube::objectKey(pipeline.metadata.namespace_, workerName(pipeline.metadata.name));
  const ScalingStep step = autoscale_.scale(key, pipeline, deployments_.get(deploymentKey).get(), secrets);
  auto applied = applier_.apply(key, pipeline, *object, step.replicas, secretsRead);
  if (!applied) return {applied.status(), std::nullopt};
  if (!applied->refused.empty()) {
    // Nothing watched tells when the object in the way is gone: look again every probe interval.
    observed.refused = Refusal{reason::kOwnedObjectConflict, applied->refused};
    const auto current = deployments_.get(deploymentKey);
    observed.deployment = current.get();
    return {writeStatus(*object, observed, false),
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.probeInterval)};
  }
  if (applied->deferred) return {Status::ok(), std::nullopt, true};
  const auto deployment = deployments_.get(deploymentKey);
  // Just created: the watch has not delivered it yet, but the apply answered with it, so the first
  // status already describes it (and the watch event that follows changes nothing).
  observed.deployment =
      deployment ? deployment.get() : (applied->deployment.is_object() ? &applied->deployment : nullptr);
  observed.scaling = step.observation;
  observed.scalingHeld = step.held;
  // Counted and announced only now that the Deployment carries the decision.
  const std::optional<EventSpec> scaled = step.observation ? autoscale_.reportScaling(key) : std::nullopt;
  const Status written = writeStatus(*object, observed, applied->created, scaled);
  // Watches bring every change of the pipeline and its Deployment; what they cannot bring is a
  // source that became (un)reachable or a Secret that appeared, so only those are polled. Else
  // the next visit is the resync.
  const bool polled = observed.source && observed.source->state != SourceState::kSkipped;
  auto requeue = polled || !observed.missingSecrets.empty()
                     ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.probeInterval)
                     : applier_.untilResync(key);
  if (step.observation || step.held) {
    // New samples queue the key themselves; this only notices a sample going stale.
    requeue = std::min(requeue, staleSampleAge(pipeline.spec.scaling.pollIntervalSeconds));
  }
  return {written, requeue};
}

bool Reconciler::urgent(const std::string& key) {
  if (!options_.deploymentFirst) return false;
  const auto object = pipelines_.get(key);
  if (!object || object->contains("/metadata/deletionTimestamp"_json_pointer) ||
      generationReconciled(*object)) {
    return false;
  }
  const auto [ns, name] = kube::splitKey(key);
  if (deployments_.get(kube::objectKey(ns, workerName(name)))) return false;
  return applier_.neverApplied(key);
}

void Reconciler::rememberSecretUse(const std::string& key, const spec::PipelineSpec& spec) {
  std::set<std::string> names;
  for (const auto& use : referencedSecrets(spec)) names.insert(use.name);
  std::lock_guard<std::mutex> lock(mu_);
  if (names.empty()) {
    secretUse_.erase(key);
    return;
  }
  secretUse_[key] = std::move(names);
}

std::vector<std::string> Reconciler::pipelinesUsingSecret(const std::string& ns, const std::string& name) {
  std::vector<std::string> keys;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, names] : secretUse_) {
    if (kube::splitKey(key).first == ns && names.count(name)) keys.push_back(key);
  }
  return keys;
}

std::vector<SecretUse> Reconciler::missingSecrets(const spec::ConsumerPipeline& pipeline,
                                                  SecretsByName& found,
                                                  std::map<std::string, ReadSecret>& read, Status& error) {
  std::vector<SecretUse> missing;
  for (const auto& use : referencedSecrets(pipeline.spec)) {
    auto secret = client_.get(kube::resources::kSecrets, pipeline.metadata.namespace_, use.name);
    if (secret) {
      SecretValues values = decodeSecret(*secret);  // held for this reconcile only, never logged
      ReadSecret& seen = read[use.name];
      seen.uid = secret->value("/metadata/uid"_json_pointer, std::string());
      seen.resourceVersion = secret->value("/metadata/resourceVersion"_json_pointer, std::string());
      for (const auto& entry : values) seen.keys.insert(entry.first);
      // The workers use it either way; the lag probe only with consent (probeSecretRefusal).
      if (auto refusal = probeSecretRefusal(*secret, use.field, options_.probe.unlabelledSecrets)) {
        found.refused[use.name] = std::move(*refusal);
        continue;
      }
      found[use.name] = std::move(values);
      continue;
    }
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
  for (const auto& e : sourceEndpoints(pipeline.spec))
    endpoints += e.host + ":" + std::to_string(e.port) + ",";
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = probed_.find(key);
    if (it != probed_.end() && it->second.endpoints == endpoints &&
        clock_.now() - it->second.at < options_.probeInterval) {
      return it->second.observation;
    }
  }
  const SourceObservation observed = probeSource(pipeline.spec, prober_, options_.probe);
  std::lock_guard<std::mutex> lock(mu_);
  probed_[key] = ProbedSource{observed, endpoints, clock_.now()};
  return observed;
}

Status Reconciler::writeStatus(const json& object, const Observations& observed, bool deploymentCreated,
                               const std::optional<EventSpec>& scaled) {
  const json previous = object.value("status", json::object());
  const json status = computeStatus(object, observed, previous, clock_.wallNow()).toJson();
  for (const auto& event : transitionEvents(previous, status, deploymentCreated)) {
    // With the autoscaler, its own Scaled event (with the reason in words) replaces the generic one.
    if (observed.scaling && event.reason == event::kScaled) continue;
    recordEvent(object, event);
  }
  if (scaled) recordEvent(object, *scaled);
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

#include "operator/controller/reconciler.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <utility>

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

// The status describes the pipeline's current generation: a reconcile got past its applies.
bool generationReconciled(const json& object) {
  const auto generation = object.value("/metadata/generation"_json_pointer, int64_t{-1});
  return generation >= 0 && object.value("/status/observedGeneration"_json_pointer, int64_t{-2}) == generation;
}

}  // namespace

void trimCachedDeployment(json& deployment) {
  if (auto spec = deployment.find("spec"); spec != deployment.end() && spec->is_object()) spec->erase("template");
}

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
                       TcpProber& prober, common::Clock& clock, common::Random& random, ReconcilerOptions options)
    : client_(client),
      pipelines_(pipelines),
      deployments_(deployments),
      prober_(prober),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      sampler_(clock, options_.onLagSample) {}

std::chrono::milliseconds staleSampleAge(int pollIntervalSeconds) {
  return std::chrono::seconds(3 * std::max(pollIntervalSeconds, 1) + 10);
}

std::optional<Reconciler::Memo> Reconciler::memo(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = memos_.find(key);
  if (it == memos_.end()) return std::nullopt;
  return it->second;
}

common::SteadyTime Reconciler::nextResync() {
  const double factor = 1.0 + options_.resyncJitter * (2.0 * random_.uniform01() - 1.0);
  const auto resync = std::chrono::duration<double, std::milli>(options_.resync) * factor;
  return clock_.now() + std::chrono::duration_cast<std::chrono::milliseconds>(resync);
}

// The pipeline's next re-apply, drawn when it was last applied (or found applied after a restart).
std::chrono::milliseconds Reconciler::untilResync(const std::string& key) {
  const auto previous = memo(key);
  const auto at = previous && !previous->appliedHash.empty() ? previous->resyncAt : nextResync();
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(at - clock_.now()));
}

void Reconciler::remember(const std::string& key, const std::function<void(Memo&)>& update) {
  std::lock_guard<std::mutex> lock(mu_);
  update(memos_[key]);
}

ReconcileResult Reconciler::reconcile(const std::string& key) {
  const auto object = pipelines_.get(key);
  if (!object || object->contains("/metadata/deletionTimestamp"_json_pointer)) {
    // Gone or going: the garbage collector removes what it owned (owner references); the
    // autoscaler and its lag probe (and so its pooled connection) go with the memo.
    sampler_.untrack(key);
    std::lock_guard<std::mutex> lock(mu_);
    memos_.erase(key);
    scalers_.erase(key);
    return {Status::ok(), std::nullopt};
  }
  auto parsed = spec::parsePipelineJson(*object);
  if (!parsed.ok()) {
    Observations observed;
    observed.specError = parsed.errorText();
    return {writeStatus(*object, observed, false), std::nullopt};  // terminal until the spec changes
  }
  const spec::ConsumerPipeline& pipeline = parsed.pipeline;
  Status secretError;
  Observations observed;
  SecretsByName secrets;  // the data of those that exist, for the lag probe's TLS/SASL settings
  observed.missingSecrets = missingSecrets(pipeline, secrets, secretError);
  if (!secretError) return {secretError, std::nullopt};
  observed.source = observeSource(key, pipeline);
  observed.sourceSummary = sourceSummary(pipeline.spec);
  const std::string deploymentKey = kube::objectKey(pipeline.metadata.namespace_, workerName(pipeline.metadata.name));
  const ScalingStep step = scale(key, pipeline, deployments_.get(deploymentKey).get(), secrets);
  auto applied = applyOwned(key, pipeline, *object, step.replicas);
  if (!applied) return {applied.status(), std::nullopt};
  if (applied->deferred) return {Status::ok(), std::nullopt, true};
  const auto deployment = deployments_.get(deploymentKey);
  // Just created: the watch has not delivered it yet, but the apply answered with it, so the first
  // status already describes it (and the watch event that follows changes nothing).
  observed.deployment = deployment ? deployment.get() : (applied->deployment.is_object() ? &applied->deployment : nullptr);
  observed.scaling = step.observation;
  observed.scalingHeld = step.held;
  // Counted and announced only now that the Deployment carries the decision.
  const std::optional<EventSpec> scaled = step.observation ? reportScaling(key) : std::nullopt;
  const Status written = writeStatus(*object, observed, applied->created, scaled);
  // Watches bring every change of the pipeline and its Deployment; what they cannot bring is a
  // source that became (un)reachable or a Secret that appeared, so only those are polled. Else
  // the next visit is the resync.
  const bool polled = observed.source && observed.source->state != SourceState::kSkipped;
  auto requeue = polled || !observed.missingSecrets.empty()
                     ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.probeInterval)
                     : untilResync(key);
  if (step.observation || step.held) {
    // New samples queue the key themselves; this only notices a sample going stale.
    requeue = std::min(requeue, staleSampleAge(pipeline.spec.scaling.pollIntervalSeconds));
  }
  return {written, requeue};
}

bool Reconciler::urgent(const std::string& key) {
  if (!options_.deploymentFirst) return false;
  const auto object = pipelines_.get(key);
  if (!object || object->contains("/metadata/deletionTimestamp"_json_pointer) || generationReconciled(*object)) {
    return false;
  }
  const auto [ns, name] = kube::splitKey(key);
  if (deployments_.get(kube::objectKey(ns, workerName(name)))) return false;
  const auto previous = memo(key);
  return !previous || (previous->appliedHash.empty() && previous->urgentHash.empty());
}

Reconciler::ScalingState* Reconciler::scalingState(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& state = scalers_[key];
  if (!state) state = std::make_unique<ScalingState>(clock_);
  return state.get();
}

// Tells the sampler what to probe for the pipeline's current source settings (a new probe when
// they change). False, with the reason logged once, when the source may not or cannot be probed.
bool Reconciler::trackLagProbe(const std::string& key, ScalingState& state, const spec::ConsumerPipeline& pipeline,
                               const SecretsByName& secrets) {
  std::string why;
  std::string fingerprint;
  LagSampler::ProbeFactory make;
  if (!mayContactSource(pipeline.spec, options_.probe, why)) {
    fingerprint = "skip:" + why;
  } else if (auto kafka = kafkaProbeConfig(pipeline, secrets, why)) {
    fingerprint = "kafka:" + kafka->connection.key() + "|" + kafka->groupId + "|" +
                  std::string(spec::toString(kafka->startFrom));
    for (const auto& topic : kafka->topics) fingerprint += "|" + topic;
    make = [this, config = std::move(*kafka)] { return std::make_unique<scaling::KafkaLagProbe>(kafkaPool_, config); };
  } else if (auto nats = natsProbeConfig(pipeline, secrets, why)) {
    fingerprint = "nats:" + nats->connection.key() + "|" + nats->stream + "|" + nats->consumer + "|" +
                  nats->filterSubject;
    make = [this, config = std::move(*nats)] { return std::make_unique<scaling::NatsLagProbe>(natsPool_, config); };
  } else {
    fingerprint = "skip:" + why;
  }
  if (fingerprint != state.probeFingerprint && !make) {
    spdlog::info("pipeline {}: not autoscaling: {}", key, why);
  }
  state.probeFingerprint = fingerprint;
  if (!make) {
    sampler_.untrack(key);
    return false;
  }
  const auto interval = std::chrono::seconds(std::max(pipeline.spec.scaling.pollIntervalSeconds, 1));
  sampler_.track(key, fingerprint, interval, make);
  return true;
}

// The worker heartbeat Leases of the pipeline. A failed list is logged once per distinct error and
// counts as no reports: the lag alone still scales.
std::vector<json> Reconciler::workerLeases(ScalingState& state, const spec::ConsumerPipeline& pipeline) {
  kube::ListOptions options;
  options.labelSelector = std::string(contract::kPipelineLabel) + "=" + pipeline.metadata.name;
  auto leases = client_.list(kube::resources::kLeases, pipeline.metadata.namespace_, options);
  if (leases) {
    state.leaseError.clear();
    return std::move(leases->items);
  }
  const std::string error = leases.status().toString();
  if (error != state.leaseError) spdlog::warn("listing worker Leases of {}: {}", pipeline.metadata.name, error);
  state.leaseError = error;
  return {};
}

// One autoscaler poll per new lag sample: reconciles triggered by watch events in between reuse
// the last poll, so its decision keeps being applied and no Event repeats. Without a usable
// sample (none yet, or older than staleSampleAge) the replicas hold and `held` says why.
Reconciler::ScalingStep Reconciler::scale(const std::string& key, const spec::ConsumerPipeline& pipeline,
                                          const json* deployment, const SecretsByName& secrets) {
  if (options_.replicas) return {options_.replicas(pipeline), nullptr, std::nullopt};
  const int fallback = defaultReplicas(pipeline.spec.scaling);
  if (!options_.autoscale) return {fallback, nullptr, std::nullopt};
  ScalingState& state = *scalingState(key);
  if (!trackLagProbe(key, state, pipeline, secrets)) {
    state.last.reset();
    state.sampleSequence = 0;
    // Credentials the probe cannot use are the user's to fix: say so in the status, not only the log.
    std::optional<Condition> held;
    if (const Status credentials = sourceProbeSecurity(pipeline.spec, secrets); !credentials) {
      held = Condition{condition::kScaling, "False", reason::kProbeCredentialsUnusable,
                       "not autoscaling, holding " + std::to_string(fallback) + " replicas: " + credentials.message()};
    }
    return {fallback, nullptr, held};
  }
  int current = fallback;
  if (state.last) current = state.last->outcome.decision.to;  // applied, maybe not cached yet
  if (deployment) current = deployment->value("/spec/replicas"_json_pointer, current);
  const auto sample = sampler_.latest(key);
  const std::string source = sourceSummary(pipeline.spec);
  if (!sample) {
    return {current, nullptr,
            Condition{condition::kScaling, "Unknown", reason::kLagSampleMissing,
                      "holding " + std::to_string(current) + " replicas until the first lag sample of " + source}};
  }
  if (sample->sequence != state.sampleSequence || !state.last) {
    const auto leases = workerLeases(state, pipeline);
    state.last = pollScaling(state.autoscaler, pipeline.spec, current, leases, sample->lag, clock_.wallNow());
    state.sampleSequence = sample->sequence;
    state.reported = false;
    const auto& decision = state.last->outcome.decision;
    if (decision.changed()) {
      spdlog::info("pipeline {}: scaling {} -> {}: {}", key, decision.from, decision.to, decision.reason);
    }
    return {decision.to, &*state.last, std::nullopt};
  }
  const auto age = clock_.now() - sample->takenAt;
  if (age > staleSampleAge(pipeline.spec.scaling.pollIntervalSeconds)) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(age).count();
    return {current, nullptr,
            Condition{condition::kScaling, "Unknown", reason::kLagSampleStale,
                      "holding " + std::to_string(current) + " replicas: the last lag sample of " + source + " is " +
                          std::to_string(seconds) + " s old (the probe is slow or behind)"}};
  }
  return {state.last->outcome.decision.to, &*state.last, std::nullopt};
}

// The poll's metrics and its Scaled event, once per poll (the first successful apply after it).
std::optional<EventSpec> Reconciler::reportScaling(const std::string& key) {
  ScalingState& state = *scalingState(key);
  if (state.reported || !state.last) return std::nullopt;
  state.reported = true;
  if (options_.onScalingPoll) options_.onScalingPoll(key, *state.last);
  return state.last->event;
}

// Applies the five owned objects unless exactly these were applied recently and the Deployment is
// still there, or (after a restart, when the memo is empty) the cached Deployment carries the hash
// of exactly these objects and the status shows the generation reconciled: steady state and
// restarts make no writes. The ServiceAccount, the ConfigMap and then the Deployment go first
// (pods need the account to be admitted and, on a change, must not start before the new
// pipeline.yaml is in place); the Role and RoleBinding follow (a worker retries its heartbeat
// until they exist). For a new pipeline (no Deployment, never applied) with deploymentFirst, this
// call applies only what the Deployment needs at once and says `deferred`; the next call applies
// the others.
Result<Reconciler::Applied> Reconciler::applyOwned(const std::string& key, const spec::ConsumerPipeline& pipeline,
                                                   const json& object, std::optional<int> replicas) {
  DesiredOptions desired{options_.workerImage, replicas};
  DesiredObjects objects = desiredObjects(pipeline, object, desired);
  const std::string hash = hashOf(objects);
  objects.deployment["metadata"]["annotations"][kAppliedHashAnnotation] = hash;
  const std::string deploymentKey = kube::objectKey(pipeline.metadata.namespace_, workerName(pipeline.metadata.name));
  const auto cached = deployments_.get(deploymentKey);
  const auto previous = memo(key);
  if (previous && previous->appliedHash == hash && cached && clock_.now() < previous->resyncAt) {
    return Applied{};
  }
  const bool neverApplied = !previous || previous->appliedHash.empty();  // by this process
  if (neverApplied && cached && generationReconciled(object) &&
      cached->value("/metadata/annotations"_json_pointer, json::object()).value(kAppliedHashAnnotation, "") == hash) {
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

std::vector<SecretUse> Reconciler::missingSecrets(const spec::ConsumerPipeline& pipeline, SecretsByName& found,
                                                 Status& error) {
  std::vector<SecretUse> missing;
  for (const auto& use : referencedSecrets(pipeline.spec)) {
    auto secret = client_.get(kube::resources::kSecrets, pipeline.metadata.namespace_, use.name);
    if (secret) {
      found[use.name] = decodeSecret(*secret);  // held for this reconcile only, never logged
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

Status Reconciler::writeStatus(const json& object, const Observations& observed, bool deploymentCreated,
                               const std::optional<EventSpec>& scaled) {
  const json previous = object.value("status", json::object());
  const json status = computeStatus(object, observed, previous, clock_.wallNow());
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

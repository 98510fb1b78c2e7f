#include "operator/controller/status.h"

#include "common/spec/limits.h"
#include "operator/controller/reasons.h"

namespace sluice::controller {
namespace {

using nlohmann::json;

int intAt(const json* object, const json::json_pointer& pointer, int fallback = 0) {
  if (!object) return fallback;
  const json value = object->value(pointer, json());
  return value.is_number_integer() ? value.get<int>() : fallback;
}

std::string secretsMessage(const std::vector<SecretUse>& missing, const std::string& ns) {
  std::string message;
  for (const auto& use : missing) {
    if (!message.empty()) message += "; ";
    message += "Secret \"" + use.name + "\" named by " + use.field + " does not exist in namespace " + ns;
  }
  return message;
}

Condition readyCondition(const Observations& observed, const std::string& ns, int desired, int ready) {
  if (!observed.specError.empty())
    return {condition::kReady, "False", reason::kSpecInvalid, observed.specError};
  if (observed.refused)
    return {condition::kReady, "False", observed.refused->reason, observed.refused->message};
  if (!observed.missingSecrets.empty()) {
    return {condition::kReady, "False", reason::kSecretNotFound, secretsMessage(observed.missingSecrets, ns)};
  }
  if (!observed.deployment) {
    return {condition::kReady, "False", reason::kDeploymentPending,
            "waiting for the worker Deployment to be created"};
  }
  if (desired == 0) return {condition::kReady, "True", reason::kScaledToZero, "scaled to zero replicas"};
  const std::string counts = std::to_string(ready) + "/" + std::to_string(desired) + " workers ready";
  if (ready >= desired) return {condition::kReady, "True", reason::kWorkersReady, counts};
  return {condition::kReady, "False", reason::kWorkersNotReady, counts};
}

// The lag probe talks to the source itself, so when it ran its answer is the better evidence.
std::optional<Condition> lagProbeSourceCondition(const Observations& observed) {
  if (!observed.scaling) return std::nullopt;
  const auto& outcome = observed.scaling->outcome;
  switch (outcome.sourceState) {
    case scaling::SourceState::kOk:
      return Condition{condition::kSourceReachable, "True", reason::kSourceConnected,
                       "the lag probe answered"};
    case scaling::SourceState::kMissing:
      return Condition{condition::kSourceReachable, "False", reason::kSourceMissing, outcome.sourceMessage};
    case scaling::SourceState::kUnreachable:
      return Condition{condition::kSourceReachable, "False", reason::kSourceUnreachable,
                       outcome.sourceMessage};
  }
  return std::nullopt;
}

Condition sourceCondition(const Observations& observed) {
  if (auto byLag = lagProbeSourceCondition(observed)) return *byLag;
  if (!observed.source) {
    return {condition::kSourceReachable, "Unknown", reason::kProbeSkipped, "the source was not probed"};
  }
  switch (observed.source->state) {
    case SourceState::kReachable:
      return {condition::kSourceReachable, "True", reason::kSourceConnected, observed.source->message};
    case SourceState::kUnreachable:
      return {condition::kSourceReachable, "False", reason::kSourceUnreachable, observed.source->message};
    case SourceState::kSkipped:
      return {condition::kSourceReachable, "Unknown", reason::kProbeSkipped, observed.source->message};
  }
  return {condition::kSourceReachable, "Unknown", reason::kProbeSkipped, ""};
}

Condition scalingCondition(const Observations& observed, int desired, int current) {
  if (observed.scalingPaused) {
    return {condition::kScaling, "False", reason::kScalingPaused, "scaling is paused (spec.scaling.paused)"};
  }
  if (observed.scalingHeld) return *observed.scalingHeld;
  if (observed.scaling) {
    const auto& decision = observed.scaling->outcome.decision;
    const bool moving = !observed.deployment || desired != current;
    return {condition::kScaling, moving ? "True" : "False", scaling::reasonName(decision.cause),
            decision.reason};
  }
  if (observed.deployment && desired != current) {
    return {condition::kScaling, "True", reason::kScalingInProgress,
            "scaling from " + std::to_string(current) + " to " + std::to_string(desired) + " replicas"};
  }
  return {condition::kScaling, "False", reason::kScalingStable, std::to_string(desired) + " replicas"};
}

// A Deployment that cannot make progress (quota, bad image, deadline) degrades the pipeline.
std::optional<std::string> deploymentFailure(const json* deployment) {
  if (!deployment) return std::nullopt;
  for (const auto& c : deployment->value("/status/conditions"_json_pointer, json::array())) {
    const std::string type = c.value("type", "");
    const std::string status = c.value("status", "");
    if ((type == "ReplicaFailure" && status == "True") || (type == "Progressing" && status == "False")) {
      return type + ": " + c.value("reason", "") + ": " + c.value("message", "");
    }
  }
  return std::nullopt;
}

Condition degradedCondition(const Observations& observed, const std::string& ns) {
  if (!observed.specError.empty())
    return {condition::kDegraded, "True", reason::kSpecInvalid, observed.specError};
  if (observed.refused) {
    return {condition::kDegraded, "True", observed.refused->reason, observed.refused->message};
  }
  if (!observed.missingSecrets.empty()) {
    return {condition::kDegraded, "True", reason::kSecretNotFound,
            secretsMessage(observed.missingSecrets, ns)};
  }
  if (auto failure = deploymentFailure(observed.deployment)) {
    return {condition::kDegraded, "True", reason::kDeploymentFailing, *failure};
  }
  if (observed.scaling && observed.scaling->outcome.decision.degraded) {
    const auto& decision = observed.scaling->outcome.decision;
    return {condition::kDegraded, "True", scaling::reasonName(decision.cause), decision.reason};
  }
  if (observed.scaling && !observed.scaling->workers.sourceDrift.empty()) {
    return {
        condition::kDegraded, "True", reason::kSourceSettingsDiffer,
        observed.scaling->workers.sourceDrift +
            " (the worker does not change a shared consumer: delete it to have it created from the spec, or "
            "make the spec match)"};
  }
  return {condition::kDegraded, "False", reason::kAsExpected, "the workers run as specified"};
}

std::string conditionReason(const json& status, const char* type) {
  const json* c = findCondition(status, type);
  return c ? c->value("reason", "") : "";
}

}  // namespace

const json* findCondition(const json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array())
    return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

json setCondition(const json& conditions, const Condition& condition, int64_t observedGeneration,
                  common::WallTime now) {
  json out = conditions.is_array() ? conditions : json::array();
  json entry = {
      {"type", condition.type},
      {"status", condition.status},
      {"observedGeneration", observedGeneration},
      {"lastTransitionTime", common::formatRfc3339(now)},
      {"reason", condition.reason},
      {"message", spec::truncateUtf8(condition.message, spec::maxLengthOf("status.conditions[].message"))}};
  for (auto& existing : out) {
    if (existing.value("type", "") != condition.type) continue;
    if (existing.value("status", "") == condition.status && existing.contains("lastTransitionTime")) {
      entry["lastTransitionTime"] = existing["lastTransitionTime"];
    }
    existing = entry;
    return out;
  }
  out.push_back(entry);
  return out;
}

PipelineStatus computeStatus(const json& pipelineObject, const Observations& observed,
                             const json& previousStatus, common::WallTime now) {
  const int64_t generation = pipelineObject.value("/metadata/generation"_json_pointer, int64_t{0});
  const std::string ns = pipelineObject.value("/metadata/namespace"_json_pointer, std::string());
  const int desired = observed.scaling ? observed.scaling->outcome.decision.to
                                       : intAt(observed.deployment, "/spec/replicas"_json_pointer, 0);
  const int current = intAt(observed.deployment, "/status/replicas"_json_pointer, 0);
  const int ready = intAt(observed.deployment, "/status/readyReplicas"_json_pointer, 0);
  json conditions =
      previousStatus.is_object() ? previousStatus.value("conditions", json::array()) : json::array();
  conditions = setCondition(conditions, readyCondition(observed, ns, desired, ready), generation, now);
  conditions = setCondition(conditions, sourceCondition(observed), generation, now);
  conditions = setCondition(conditions, scalingCondition(observed, desired, current), generation, now);
  conditions = setCondition(conditions, degradedCondition(observed, ns), generation, now);
  PipelineStatus status;
  status.observedGeneration = generation;
  status.replicas = current;
  status.desiredReplicas = desired;
  status.readyReplicas = ready;
  status.source = observed.sourceSummary;
  status.conditions = std::move(conditions);
  if (observed.scaling) status.autoscaling = observed.scaling->status;
  return status;
}

bool statusChanged(const json& previous, const json& status) {
  if (!previous.is_object()) return true;
  for (const auto& [key, value] : status.items()) {
    if (!previous.contains(key) || previous[key] != value) return true;
  }
  return false;
}

std::vector<EventSpec> transitionEvents(const json& previous, const json& status, bool deploymentCreated) {
  std::vector<EventSpec> events;
  const std::string before = conditionReason(previous, condition::kReady);
  const std::string after = conditionReason(status, condition::kReady);
  const json* ready = findCondition(status, condition::kReady);
  const std::string message = ready ? ready->value("message", "") : "";
  if (after == reason::kSpecInvalid && before != after)
    events.push_back({"Warning", event::kSpecInvalid, message});
  if (after == reason::kSecretNotFound && before != after)
    events.push_back({"Warning", event::kSecretNotFound, message});
  for (const char* refusal : {reason::kOwnedObjectConflict, reason::kImageNotAllowed}) {
    if (after == refusal && before != after) events.push_back({"Warning", refusal, message});
  }
  if (deploymentCreated)
    events.push_back({"Normal", event::kCreated, "created the worker Deployment and its RBAC"});
  const int from = previous.is_object() ? previous.value("desiredReplicas", -1) : -1;
  const int to = status.value("desiredReplicas", 0);
  const bool hadWorkers = !before.empty() && before != reason::kDeploymentPending;
  if (hadWorkers && from >= 0 && from != to) {
    events.push_back(
        {"Normal", event::kScaled,
         "scaled workers from " + std::to_string(from) + " to " + std::to_string(to) + " replicas"});
  }
  return events;
}

}  // namespace sluice::controller

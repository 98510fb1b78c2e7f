#pragma once
// ConsumerPipeline status as a pure function of what the reconciler observed: the pipeline, its
// Deployment, the parse outcome, missing Secrets, the source probe, the autoscaler's poll, the
// previous status and the time. The result is a PipelineStatus (pipeline_status.h). Conditions are
// metav1.Condition (type, status, observedGeneration, lastTransitionTime, reason, message);
// lastTransitionTime moves only when a condition's status flips.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "operator/controller/autoscale.h"
#include "operator/controller/conditions.h"
#include "operator/controller/desired.h"
#include "operator/controller/pipeline_status.h"

namespace sluice::controller {

enum class SourceState { kReachable, kUnreachable, kSkipped };

struct SourceObservation {
  SourceState state = SourceState::kSkipped;
  std::string message;
};

// The operator will not act on a pipeline until something outside its syntax is fixed (an object
// at an owned name that is not the pipeline's; an image the operator's allow-list refuses):
// Ready=False and Degraded=True with this reason, a Warning Event when it starts.
struct Refusal {
  std::string reason;   // a reasons.h constant
  std::string message;  // names the object or field and the fix
};

struct Observations {
  std::string specError;  // non-empty: the spec cannot be acted on
  std::optional<Refusal> refused;
  std::vector<SecretUse> missingSecrets;
  std::optional<SourceObservation> source;     // nullopt: not probed
  const nlohmann::json* deployment = nullptr;  // the owned Deployment as cached, if any
  // The autoscaler's poll, when the lag was probed: desiredReplicas and the lag probe's view of the
  // source win over the Deployment and the TCP probe; its status fields are merged in.
  const ScalingObservation* scaling = nullptr;
  // The autoscaler could not poll (no lag sample yet, or a stale one): the replicas hold and this
  // is the Scaling condition.
  std::optional<Condition> scalingHeld;
  std::string sourceSummary;   // status.source ("kafka:orders"); empty leaves it out
  bool scalingPaused = false;  // spec.scaling.paused of the parsed spec
};

// Sets `condition` in a metav1.Condition list, keeping lastTransitionTime unless status changed.
nlohmann::json setCondition(const nlohmann::json& conditions, const Condition& condition,
                            int64_t observedGeneration, common::WallTime now);

// The status: observedGeneration, replicas, desiredReplicas, readyReplicas, source, conditions,
// and with observed.scaling the autoscaler's lag, rates, workers and lastScale.
PipelineStatus computeStatus(const nlohmann::json& pipelineObject, const Observations& observed,
                             const nlohmann::json& previousStatus, common::WallTime now);

// True when `status` differs from the same fields of `previous` (then one merge patch is due).
bool statusChanged(const nlohmann::json& previous, const nlohmann::json& status);

// The condition of `type` in a status, or nullptr.
const nlohmann::json* findCondition(const nlohmann::json& status, const std::string& type);

// Events for the important transitions between two statuses (spec became invalid, a Secret went
// missing, the workers were scaled), plus WorkersCreated when the Deployment was just created.
std::vector<EventSpec> transitionEvents(const nlohmann::json& previous, const nlohmann::json& status,
                                        bool deploymentCreated);

}  // namespace sluice::controller

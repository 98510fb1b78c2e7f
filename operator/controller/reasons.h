#pragma once
// Condition types and reasons the controller writes into ConsumerPipeline status, and the reasons
// of the Kubernetes Events it emits. One place, so users (and alerts) can rely on the spelling.
namespace sluice::controller {

namespace condition {
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kSourceReachable = "SourceReachable";
inline constexpr const char* kScaling = "Scaling";
inline constexpr const char* kDegraded = "Degraded";
}  // namespace condition

namespace reason {
// Ready
inline constexpr const char* kWorkersReady = "WorkersReady";
inline constexpr const char* kScaledToZero = "ScaledToZero";
inline constexpr const char* kWorkersNotReady = "WorkersNotReady";
inline constexpr const char* kDeploymentPending = "DeploymentPending";
inline constexpr const char* kSpecInvalid = "SpecInvalid";
inline constexpr const char* kSecretNotFound = "SecretNotFound";
// (also Degraded, and the Warning Event's reason) An object at one of the owned names (the
// ServiceAccount, ConfigMap, Deployment, Role, RoleBinding) exists and is not controlled by the
// pipeline: the operator does not adopt it.
inline constexpr const char* kOwnedObjectConflict = "OwnedObjectConflict";
// (also Degraded, and the Warning Event's reason) spec.worker.image is outside the operator's
// allow-list of image repositories (--allowed-image-repositories).
inline constexpr const char* kImageNotAllowed = "ImageNotAllowed";
// SourceReachable
inline constexpr const char* kSourceConnected = "Connected";
inline constexpr const char* kSourceUnreachable = "Unreachable";
inline constexpr const char* kSourceMissing = "SourceMissing";  // topic, stream or consumer absent
inline constexpr const char* kProbeSkipped = "ProbeSkipped";
// Scaling (with the autoscaler, the reason is scaling::reasonName() of the decisive cause)
inline constexpr const char* kScalingInProgress = "ScalingInProgress";
inline constexpr const char* kScalingStable = "Stable";
inline constexpr const char* kScalingPaused = "Paused";
inline constexpr const char* kLagSampleMissing = "AwaitingLagSample";  // the first probe has not finished
inline constexpr const char* kLagSampleStale = "LagSampleStale";       // the last sample is too old
// The lag probe cannot use the source's TLS/SASL/auth settings (a Secret or key missing, a file only
// the worker can read): not autoscaling until the spec or the Secret is fixed.
inline constexpr const char* kProbeCredentialsUnusable = "ProbeCredentialsUnusable";
// Degraded (also scaling::reasonName(Cause::kStalled) for lag that does not move)
inline constexpr const char* kAsExpected = "AsExpected";
inline constexpr const char* kDeploymentFailing = "DeploymentFailing";
// A worker reports that the source's existing consumer differs from the spec (NATS: the durable
// consumer was created with other settings); the worker keeps it as it is and says so.
inline constexpr const char* kSourceSettingsDiffer = "SourceSettingsDiffer";
}  // namespace reason

namespace event {
inline constexpr const char* kCreated = "WorkersCreated";
inline constexpr const char* kSpecInvalid = "SpecInvalid";
inline constexpr const char* kSecretNotFound = "SecretNotFound";
inline constexpr const char* kScaled = "Scaled";
inline constexpr const char* kRolled = "WorkersUpdated";
inline constexpr const char* kApplyFailed = "ApplyFailed";
}  // namespace event

}  // namespace sluice::controller

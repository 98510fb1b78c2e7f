#pragma once
// The controller's side of autoscaling (issue 7), pure apart from the PipelineAutoscaler's own
// state (which takes the injected clock): worker heartbeat Leases -> reports, one poll -> the
// replica decision, the scaling part of the status and the Scaled Event. The reconciler does the
// I/O around it (lists the Leases, runs the LagProbe, applies the Deployment, writes the status).
//
// Threading: called from the reconcile of one key at a time, like PipelineAutoscaler.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "operator/controller/conditions.h"
#include "operator/controller/pipeline_status.h"
#include "operator/controller/probe_credentials.h"
#include "operator/scaling/autoscaler.h"
#include "operator/scaling/kafka_lag_probe.h"
#include "operator/scaling/nats_lag_probe.h"

namespace sluice::controller {

// The reports in the contract::kReportAnnotation annotation of coordination.k8s.io/v1 Leases; a Lease
// without one or with one that does not decode is left out (its pod is starting or not ours).
std::vector<contract::WorkerReport> reportsFromLeases(const std::vector<nlohmann::json>& leases);

// The Leases whose report the autoscaler may trust: each names a Pod of the pipeline by its owner
// reference (kind Pod, the Lease's own name, that Pod's uid; the worker writes it so), and that
// Pod is among `pods` (the pipeline's Pods as listed by its label). A worker account may create
// and patch Leases in its namespace (Lease names are per Pod, so RBAC cannot narrow them by name),
// but cannot read Pods: a Lease labelled for another pipeline, or without an owner, is left out,
// as is one whose Pod is gone.
std::vector<nlohmann::json> trustedReportLeases(std::vector<nlohmann::json> leases,
                                                const std::vector<nlohmann::json>& pods);

// status.source, the CRD's Source printer column: "kafka:<first topic>" or "nats:<stream>".
std::string sourceSummary(const spec::PipelineSpec& spec);

// One poll's result, as the status computation and the reconciler need it.
struct ScalingObservation {
  scaling::PollOutcome outcome;
  scaling::WorkersStatus workers;
  ScalingStatus status;            // lag, rates, lastScale (on a change), workers
  std::optional<EventSpec> event;  // Scaled, when the replicas change
};

// Runs one autoscaler poll over what the reconciler gathered. `currentReplicas` is the Deployment's
// spec.replicas (what runs or is being rolled out).
ScalingObservation pollScaling(scaling::PipelineAutoscaler& autoscaler, const spec::PipelineSpec& spec,
                               int currentReplicas, const std::vector<nlohmann::json>& leases,
                               const common::Result<scaling::LagSnapshot>& lag, common::WallTime now);

// Lag probe configuration for the pipeline's source, TLS/SASL/NATS auth resolved from `secrets`
// (the data of the Secrets the spec names; see probe_credentials.h). nullopt with `why` set when the
// lag cannot be probed: a Secret or key is missing, or a credential is one only the worker can read.
std::optional<scaling::KafkaLagProbeConfig> kafkaProbeConfig(const spec::ConsumerPipeline& pipeline,
                                                             const SecretsByName& secrets, std::string& why);
std::optional<scaling::NatsLagProbeConfig> natsProbeConfig(const spec::ConsumerPipeline& pipeline,
                                                           const SecretsByName& secrets, std::string& why);

}  // namespace sluice::controller

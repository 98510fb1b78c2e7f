#pragma once
// PipelineAutoscaler: the per-pipeline state the controller keeps between polls, and the one call
// it makes each poll. It owns the RateTracker, StallDetector, IdleTracker and Stabilizer of one
// pipeline and runs recommend() in between. No I/O: the controller's LagSampler probes the source
// on its own threads (LagProbe::probe()); the reconcile folds the worker Leases (foldReports()) and
// calls poll() once per new lag sample.
//
//   auto& scaler = autoscalers_.try_emplace(key, clock).first->second;   // one per pipeline key
//   auto lag = latestSample(key);                                        // Result<LagSnapshot>
//   auto workers = foldReports(decodedLeaseReports, clock.wallNow());
//   PollOutcome out = scaler.poll(pipeline.spec.scaling, sourceKind, deployment.replicas, lag, workers);
//   if (out.decision.changed()) { patch replicas = out.decision.to; emit Event(out.decision.reason); }
//   status: the controller turns `out` into the status (controller/pipeline_status.h).
//
// Not thread-safe: one reconcile per key at a time (the work queue guarantees it).
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "operator/scaling/lag_probe.h"
#include "operator/scaling/rate_tracker.h"
#include "operator/scaling/recommender.h"
#include "operator/scaling/stabilizer.h"
#include "operator/scaling/workers_status.h"

namespace sluice::scaling {

struct AutoscalerOptions {
  StabilizerOptions stabilizer;
  // Rates are averaged over max(rateWindowPolls x pollIntervalSeconds, 15 s).
  int rateWindowPolls = 3;
  // Lag is Stalled after max(stallMinSeconds, stallPolls x pollIntervalSeconds) without progress.
  int stallPolls = 12;
  int stallMinSeconds = 60;
};

struct PollOutcome {
  ScalingInputs inputs;
  Recommendation recommendation;
  ScaleDecision decision;
  Rates rates;
  SourceState sourceState = SourceState::kOk;
  std::string sourceMessage;  // the probe's error when not Ok
  int partitionsWithLag = 0;
  int64_t maxPartitionLag = 0;
};

class PipelineAutoscaler {
 public:
  explicit PipelineAutoscaler(common::Clock& clock, AutoscalerOptions options = {});

  PollOutcome poll(const spec::ScalingSpec& scaling, spec::SourceKind source, int currentReplicas,
                   const common::Result<LagSnapshot>& lag, const WorkersStatus& workers);

 private:
  common::Clock& clock_;
  AutoscalerOptions options_;
  RateTracker rates_;
  StallDetector stall_;
  IdleTracker idle_;
  Stabilizer stabilizer_;
};

}  // namespace sluice::scaling

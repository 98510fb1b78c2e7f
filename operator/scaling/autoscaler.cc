#include "operator/scaling/autoscaler.h"

#include <algorithm>
#include <cmath>

namespace sluice::scaling {
namespace {

SourceState stateOf(const common::Status& status) {
  return status.code() == common::ErrorCode::kNotFound ? SourceState::kMissing : SourceState::kUnreachable;
}

}  // namespace

PipelineAutoscaler::PipelineAutoscaler(common::Clock& clock, AutoscalerOptions options)
    : clock_(clock),
      options_(options),
      rates_(clock),
      stall_(clock),
      idle_(clock),
      stabilizer_(clock, options.stabilizer) {}

PollOutcome PipelineAutoscaler::poll(const spec::ScalingSpec& scaling, spec::SourceKind source,
                                     int currentReplicas, const common::Result<LagSnapshot>& lag,
                                     const WorkersStatus& workers) {
  PollOutcome out;
  ScalingInputs& in = out.inputs;
  in.scaling = scaling;
  in.source = source;
  in.currentReplicas = currentReplicas;
  in.perReplicaThroughput = workers.perReplicaThroughput;
  const int poll = std::max(scaling.pollIntervalSeconds, 1);
  if (!lag.isOk()) {
    out.sourceState = stateOf(lag.status());
    out.sourceMessage = lag.status().message();
  } else {
    const LagSnapshot& snap = *lag;
    in.totalLag = snap.totalLag;
    in.partitionCount = snap.partitionCount;
    for (const PartitionLag& p : snap.partitions) in.partitionLag.push_back(p.lag);
    out.partitionsWithLag = snap.partitionsWithLag();
    out.maxPartitionLag = snap.maxPartitionLag();
    rates_.setWindow(std::chrono::seconds(std::max(options_.rateWindowPolls * poll, 15)));
    out.rates = rates_.observe(snap.producedSum, snap.consumedSum);
    in.inPerSecond = out.rates.inPerSecond;
    const bool workersLive = currentReplicas > 0 && workers.ready + (workers.anyDegraded ? 1 : 0) > 0;
    const auto stallWindow =
        std::chrono::seconds(std::max(options_.stallMinSeconds, options_.stallPolls * poll));
    in.lagStalled = stall_.observe(snap.consumedSum, snap.totalLag, workersLive, stallWindow);
    in.idleSeconds = idle_.observe(out.rates.known && snap.totalLag == 0 && out.rates.inPerSecond <= 0);
  }
  in.sourceState = out.sourceState;
  if (out.sourceState != SourceState::kOk) in.sourceState = out.sourceState;
  out.recommendation = recommend(in);
  if (out.sourceState != SourceState::kOk && !out.sourceMessage.empty()) {
    out.recommendation.message += " (" + out.sourceMessage + ")";
  }
  out.decision = stabilizer_.stabilize(scaling, currentReplicas, out.recommendation);
  return out;
}

}  // namespace sluice::scaling

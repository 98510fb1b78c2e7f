#pragma once
// PipelineStatus: the ConsumerPipeline status the operator writes, one member per status field of
// the CRD; toJson() is the one place it becomes JSON (the /status merge patch). computeStatus()
// (status.h) fills it; an autoscaler poll contributes its ScalingStatus (autoscale.h).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "operator/scaling/autoscaler.h"

namespace sluice::controller {

struct LagStatus {
  int64_t total = 0;
  int partitionsWithLag = 0;
  int64_t maxPartitionLag = 0;
};

struct RatesStatus {
  double inPerSecond = 0;  // rounded to 0.01
  double outPerSecond = 0;
};

struct ScaleChange {
  common::WallTime time{};
  int from = 0;
  int to = 0;
  std::string reason;
};

// What one autoscaler poll adds to the status.
struct ScalingStatus {
  LagStatus lag;
  RatesStatus rates;
  std::optional<ScaleChange>
      lastScale;  // only when this poll changed the replicas (the merge patch keeps the last)
  scaling::WorkersStatus workers;
};

// The poll's part of the status, at `now` (the poll's time: lastScale.time).
ScalingStatus scalingStatus(const scaling::PollOutcome& outcome, const scaling::WorkersStatus& workers,
                            common::WallTime now);

struct PipelineStatus {
  int64_t observedGeneration = 0;
  int replicas = 0;
  int desiredReplicas = 0;
  int readyReplicas = 0;
  std::string source;                                   // "kafka:orders"; empty: left out
  nlohmann::json conditions = nlohmann::json::array();  // metav1.Condition list (setCondition, status.h)
  std::optional<ScalingStatus> autoscaling;             // when the autoscaler polled

  nlohmann::json toJson() const;
  // A status as the API server stores it (written by this or an earlier operator), for the
  // operator's per-pipeline metrics: the counts, source, conditions, lag and rates. lastScale and
  // the workers are not read back (nothing needs them); a field of another type reads as absent.
  static PipelineStatus fromJson(const nlohmann::json& status);
};

}  // namespace sluice::controller

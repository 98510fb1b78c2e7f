#pragma once
// The pure recommender: measured inputs -> desired replicas and the reason in words.
// No clients, no clock, no state: the caller (PipelineAutoscaler, or a test table) gathers the inputs.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/spec/pipeline.h"

namespace sluice::scaling {

// What the lag probe could say about the source this poll.
enum class SourceState {
  kOk,
  kMissing,      // topic / stream / consumer does not exist: a condition, never max replicas
  kUnreachable,  // broker or server not answering: hold, report SourceReachable=False
};

struct ScalingInputs {
  spec::ScalingSpec scaling;
  spec::SourceKind source = spec::SourceKind::kKafka;
  SourceState sourceState = SourceState::kOk;
  int currentReplicas = 0;
  int64_t totalLag = 0;
  std::vector<int64_t> partitionLag;           // Kafka, one entry per partition; empty for NATS
  std::optional<int> partitionCount;           // Kafka; nullopt for NATS or when unknown
  double inPerSecond = 0;                      // messages arriving per second
  std::optional<double> perReplicaThroughput;  // messages/s one replica processes (worker reports)
  double idleSeconds = 0;                      // how long lag and input have both been zero
  bool lagStalled = false;                     // commits not moving while workers are healthy and lag > 0
};

// The decisive cause of a recommendation; reasonName() gives the CamelCase form used in
// conditions, events and metrics labels.
enum class Cause {
  kLagPerReplica,      // ceil(lag / lagPerReplica) was the largest target
  kDrainTime,          // ceil((in + lag/drainSeconds) / throughput) was the largest target
  kInputRate,          // ceil(in / throughput): enough replicas to keep up with the input
  kNoThroughputYet,    // only drainSeconds is set and no worker has reported throughput
  kActivation,         // 0 -> 1: lag rose above activationLag
  kBelowActivation,    // at zero and lag at or below activationLag: stay at zero
  kKeepOneUntilIdle,   // no lag, but not idle for idleSecondsBeforeZero yet
  kIdleToZero,         // idle long enough: scale to zero
  kMinReplicas,        // clamped up to minReplicas
  kMaxReplicas,        // clamped down to maxReplicas
  kPartitionCap,       // capped at the partition count (allowIdleConsumers is false)
  kStalled,            // lag not moving while workers are healthy: more replicas cannot help
  kSourceMissing,      // topic / stream / consumer missing: hold
  kSourceUnreachable,  // source not answering: hold
};

const char* reasonName(Cause cause);

struct Recommendation {
  int replicas = 0;
  Cause cause = Cause::kLagPerReplica;
  std::string message;             // "lag 48000 over 4 replicas; drain target 60s needs 6"
  bool degraded = false;           // Degraded condition should be True (stalled lag)
  std::optional<int> lagTarget;    // ceil(lag / lagPerReplica), before clamps
  std::optional<int> drainTarget;  // drain-time target, before clamps
  std::optional<int> inputTarget;  // keep-up target ceil(in / throughput), before clamps
};

Recommendation recommend(const ScalingInputs& inputs);

// The smallest N with ceil(P/N) == ceil(P/n): more consumers than that leave the busiest one
// with the same number of partitions. n in [1, P]; P = 8 gives 1, 2, 3, 4, 8.
int partitionStep(int replicas, int partitions);

}  // namespace sluice::scaling

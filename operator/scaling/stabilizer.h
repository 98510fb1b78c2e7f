#pragma once
// Stabilizer: turns a stream of recommendations into replica changes that do not flap.
//
// - Scale up at once, bounded: one change adds at most max(4, current) replicas, so the new count is
//   at most max(current + 4, 2 x current) (the HPA's default scale-up policies, without its 15 s
//   period: the next poll may step again).
// - Scale down to the highest recommendation seen in the last scaleDownStabilizationSeconds (never
//   above the current count or maxReplicas). Scaling to zero after idleSecondsBeforeZero is exempt:
//   the idle period is already the stabilization.
// - At most one change per minimum interval (default: pollIntervalSeconds), so reconciles triggered
//   by watch events between polls cannot double-step.
// - spec.scaling.paused: recommendations are still computed and recorded, replicas do not move.
//
// One Stabilizer per pipeline; not thread-safe (the controller reconciles one key at a time).
// The first call seeds the history with the current replica count, so an operator restart does not
// scale down before a full stabilization window has been observed.
#include <deque>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/spec/pipeline.h"
#include "operator/scaling/recommender.h"

namespace sluice::scaling {

enum class Direction { kNone, kUp, kDown };
const char* toString(Direction direction);

// Why the stabilizer did not follow the recommendation exactly.
enum class Restraint {
  kNone,
  kPaused,           // spec.scaling.paused
  kStepLimit,        // scale-up step bounded
  kStabilizing,      // scale-down held by the window's highest recommendation
  kMinimumInterval,  // the last change was too recent
};
const char* toString(Restraint restraint);

struct ScaleDecision {
  int from = 0;
  int to = 0;
  int recommended = 0;
  Direction direction = Direction::kNone;
  Restraint restraint = Restraint::kNone;
  Cause cause = Cause::kLagPerReplica;
  bool degraded = false;
  std::string reason;  // the recommendation's words plus what the stabilizer did
  bool changed() const { return to != from; }
};

struct StabilizerOptions {
  std::optional<int> minChangeIntervalSeconds;  // default: spec.scaling.pollIntervalSeconds
};

class Stabilizer {
 public:
  explicit Stabilizer(common::Clock& clock, StabilizerOptions options = {});

  ScaleDecision stabilize(const spec::ScalingSpec& scaling, int currentReplicas,
                          const Recommendation& recommendation);

  // The largest step up from `current` in one change: max(current + 4, 2 x current).
  static int maxStepUpTo(int current);

 private:
  struct Sample {
    common::SteadyTime at;
    int replicas;
  };
  void record(const spec::ScalingSpec& scaling, int currentReplicas, int recommended);
  int highestInWindow() const;
  int targetFor(const spec::ScalingSpec& scaling, int current, const Recommendation& rec,
                ScaleDecision& decision) const;

  common::Clock& clock_;
  StabilizerOptions options_;
  std::deque<Sample> history_;
  std::optional<common::SteadyTime> lastChange_;
};

}  // namespace sluice::scaling

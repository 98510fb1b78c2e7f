#include "operator/scaling/stabilizer.h"

#include <algorithm>
#include <chrono>

namespace sluice::scaling {
namespace {

using std::chrono::seconds;

std::string arrow(int from, int to) { return std::to_string(from) + " -> " + std::to_string(to); }

}  // namespace

const char* toString(Direction direction) {
  switch (direction) {
    case Direction::kNone:
      return "none";
    case Direction::kUp:
      return "up";
    case Direction::kDown:
      return "down";
  }
  return "unknown";
}

const char* toString(Restraint restraint) {
  switch (restraint) {
    case Restraint::kNone:
      return "None";
    case Restraint::kPaused:
      return "Paused";
    case Restraint::kStepLimit:
      return "StepLimit";
    case Restraint::kStabilizing:
      return "Stabilizing";
    case Restraint::kMinimumInterval:
      return "MinimumInterval";
  }
  return "Unknown";
}

Stabilizer::Stabilizer(common::Clock& clock, StabilizerOptions options) : clock_(clock), options_(options) {}

int Stabilizer::maxStepUpTo(int current) { return current + std::max(4, current); }

void Stabilizer::record(const spec::ScalingSpec& scaling, int currentReplicas, int recommended) {
  const common::SteadyTime now = clock_.now();
  if (history_.empty() && !lastChange_) {
    history_.push_back({now, currentReplicas});  // seed: no scale-down before one full window
  }
  history_.push_back({now, recommended});
  const auto window = seconds(std::max(scaling.scaleDownStabilizationSeconds, 0));
  while (history_.size() > 1 && now - history_.front().at > window) history_.pop_front();
}

int Stabilizer::highestInWindow() const {
  int highest = 0;
  for (const Sample& s : history_) highest = std::max(highest, s.replicas);
  return highest;
}

int Stabilizer::targetFor(const spec::ScalingSpec& scaling, int current, const Recommendation& rec,
                          ScaleDecision& decision) const {
  const int recommended = rec.replicas;
  if (recommended > current) {
    const int bounded = std::min(recommended, maxStepUpTo(current));
    if (bounded < recommended) {
      decision.restraint = Restraint::kStepLimit;
      decision.reason +=
          "; step limited to " + std::to_string(bounded) + " (at most max(current+4, 2x current))";
    }
    return bounded;
  }
  if (recommended == current) return current;
  if (rec.cause == Cause::kIdleToZero) return recommended;
  const int held = std::min({highestInWindow(), current, std::max(scaling.maxReplicas, scaling.minReplicas)});
  if (held > recommended) {
    decision.restraint = Restraint::kStabilizing;
    decision.reason += "; holding " + std::to_string(held) + ": highest recommendation in the last " +
                       std::to_string(scaling.scaleDownStabilizationSeconds) + "s";
  }
  return std::max(held, recommended);
}

ScaleDecision Stabilizer::stabilize(const spec::ScalingSpec& scaling, int currentReplicas,
                                    const Recommendation& recommendation) {
  record(scaling, currentReplicas, recommendation.replicas);
  ScaleDecision d;
  d.from = currentReplicas;
  d.to = currentReplicas;
  d.recommended = recommendation.replicas;
  d.cause = recommendation.cause;
  d.degraded = recommendation.degraded;
  d.reason = recommendation.message;
  if (scaling.paused) {
    d.restraint = Restraint::kPaused;
    if (recommendation.replicas != currentReplicas) {
      d.reason +=
          "; paused (spec.scaling.paused): not scaling " + arrow(currentReplicas, recommendation.replicas);
    }
    return d;
  }
  const int target = targetFor(scaling, currentReplicas, recommendation, d);
  if (target == currentReplicas) return d;
  const common::SteadyTime now = clock_.now();
  const auto minInterval = seconds(options_.minChangeIntervalSeconds.value_or(scaling.pollIntervalSeconds));
  if (lastChange_ && now - *lastChange_ < minInterval) {
    d.restraint = Restraint::kMinimumInterval;
    const auto ago = std::chrono::duration_cast<seconds>(now - *lastChange_).count();
    d.reason += "; last change " + std::to_string(ago) + "s ago (minimum interval " +
                std::to_string(minInterval.count()) + "s): not yet " + arrow(currentReplicas, target);
    return d;
  }
  d.to = target;
  d.direction = target > currentReplicas ? Direction::kUp : Direction::kDown;
  d.reason += "; scaling " + arrow(currentReplicas, target);
  lastChange_ = now;
  return d;
}

}  // namespace sluice::scaling

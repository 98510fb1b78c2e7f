#include "operator/scaling/recommender.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace sluice::scaling {
namespace {

std::string formatRate(double perSecond) {
  char buf[32];
  if (perSecond >= 100 || perSecond == std::floor(perSecond)) {
    std::snprintf(buf, sizeof(buf), "%.0f", perSecond);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f", perSecond);
  }
  return buf;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int clampInt(int64_t value) { return static_cast<int>(std::min<int64_t>(value, 1'000'000)); }

std::string replicasWord(int n) { return std::to_string(n) + (n == 1 ? " replica" : " replicas"); }

// The largest configured target and its cause, before zero handling, partition cap and clamps.
struct Targets {
  int replicas = 0;
  Cause cause = Cause::kLagPerReplica;
  std::optional<int> lag;
  std::optional<int> drain;
  std::optional<int> input;
  std::string message;  // "lagPerReplica 1000 needs 48; drain target 60s needs 6 (...)"
};

void addPart(std::string& message, const std::string& part) {
  if (!message.empty()) message += "; ";
  message += part;
}

// Keep-up target: with measured throughput, never fewer replicas than the input needs, whatever the
// lag. Without it a lag-only target sees ~0 lag under steady load, scales down, lets lag build and
// scales up again: the flapping lag-based autoscalers are known for.
void addInputTarget(const ScalingInputs& in, Targets& t) {
  if (!in.perReplicaThroughput || *in.perReplicaThroughput <= 0 || in.inPerSecond <= 0) return;
  t.input = clampInt(static_cast<int64_t>(std::ceil(in.inPerSecond / *in.perReplicaThroughput - 1e-9)));
  if (*t.input > t.replicas) {
    t.replicas = *t.input;
    t.cause = Cause::kInputRate;
  }
}

Targets computeTargets(const ScalingInputs& in) {
  Targets t;
  // 0: no lag target (drainSeconds only). The parser gave a manifest without a scaling block
  // spec::kDefaultLagPerReplica.
  const int64_t lagPerReplica = in.scaling.lagPerReplica.value_or(0);
  if (lagPerReplica > 0) {
    t.lag = clampInt(ceilDiv(std::max<int64_t>(in.totalLag, 0), lagPerReplica));
    t.replicas = *t.lag;
    addPart(t.message, "lagPerReplica " + std::to_string(lagPerReplica) + " needs " + std::to_string(*t.lag));
  }
  addInputTarget(in, t);
  if (!in.scaling.drainSeconds || *in.scaling.drainSeconds <= 0) return t;
  const int drainSeconds = *in.scaling.drainSeconds;
  const bool throughputKnown = in.perReplicaThroughput && *in.perReplicaThroughput > 0;
  if (!throughputKnown) {
    addPart(t.message,
            "drain target " + std::to_string(drainSeconds) + "s: no worker throughput reported yet");
    if (lagPerReplica == 0 && in.totalLag > 0) {
      // Only the drain target is set: keep what runs (at least one worker, so throughput gets measured).
      t.replicas = std::max(in.currentReplicas, 1);
      t.cause = Cause::kNoThroughputYet;
    }
    return t;
  }
  const double needed = (std::max(in.inPerSecond, 0.0) +
                         static_cast<double>(std::max<int64_t>(in.totalLag, 0)) / drainSeconds) /
                        *in.perReplicaThroughput;
  // A small epsilon so 6.0000001 from floating point does not become 7.
  t.drain = clampInt(static_cast<int64_t>(std::ceil(needed - 1e-9)));
  addPart(t.message, "drain target " + std::to_string(drainSeconds) + "s needs " + std::to_string(*t.drain) +
                         " (in " + formatRate(in.inPerSecond) + "/s, " +
                         formatRate(*in.perReplicaThroughput) + "/s per replica)");
  if (*t.drain >= t.replicas || !t.lag) {
    t.replicas = *t.drain;
    t.cause = Cause::kDrainTime;
  }
  return t;
}

Recommendation hold(const ScalingInputs& in, Cause cause, const std::string& why) {
  Recommendation r;
  r.replicas = std::clamp(in.currentReplicas, in.scaling.minReplicas,
                          std::max(in.scaling.maxReplicas, in.scaling.minReplicas));
  r.cause = cause;
  r.message = why + "; holding at " + replicasWord(r.replicas);
  return r;
}

bool isKafkaCapped(const ScalingInputs& in) {
  return in.source == spec::SourceKind::kKafka && !in.scaling.allowIdleConsumers && in.partitionCount &&
         *in.partitionCount > 0;
}

// Zero handling: activation from zero, and a floor of one worker until idle long enough.
void applyZeroRules(const ScalingInputs& in, Recommendation& r) {
  const spec::ScalingSpec& s = in.scaling;
  if (in.currentReplicas == 0) {
    if (in.totalLag <= s.activationLag) {
      r.replicas = 0;
      r.cause = Cause::kBelowActivation;
      r.message += "; lag " + std::to_string(in.totalLag) + " at or below activationLag " +
                   std::to_string(s.activationLag) + ": staying at zero";
      return;
    }
    r.replicas = std::max(r.replicas, 1);
    r.cause = Cause::kActivation;
    r.message += "; lag " + std::to_string(in.totalLag) + " above activationLag " +
                 std::to_string(s.activationLag) + ": activating";
    return;
  }
  if (r.replicas > 0) return;
  const bool idle = in.totalLag == 0 && in.inPerSecond <= 0;
  if (idle && in.idleSeconds >= s.idleSecondsBeforeZero) {
    r.replicas = 0;
    r.cause = Cause::kIdleToZero;
    r.message += "; no lag and no input for " + formatRate(in.idleSeconds) + "s (idleSecondsBeforeZero " +
                 std::to_string(s.idleSecondsBeforeZero) + "): scaling to zero";
    return;
  }
  r.replicas = 1;
  r.cause = Cause::kKeepOneUntilIdle;
  r.message += idle ? "; idle for " + formatRate(in.idleSeconds) + "s of " +
                          std::to_string(s.idleSecondsBeforeZero) + "s before zero: keeping one"
                    : "; input " + formatRate(in.inPerSecond) + "/s: keeping one";
}

// Partition cap, maxReplicas, partition steps, then minReplicas (an explicit floor wins over all).
void applyLimits(const ScalingInputs& in, Recommendation& r) {
  const spec::ScalingSpec& s = in.scaling;
  if (isKafkaCapped(in) && r.replicas > *in.partitionCount) {
    r.message += "; capped at " + std::to_string(*in.partitionCount) + " partitions";
    r.replicas = *in.partitionCount;
    r.cause = Cause::kPartitionCap;
  }
  if (r.replicas > s.maxReplicas) {
    r.message += "; clamped to maxReplicas " + std::to_string(s.maxReplicas);
    r.replicas = s.maxReplicas;
    r.cause = Cause::kMaxReplicas;
  }
  if (isKafkaCapped(in) && r.replicas > 0) {
    const int p = *in.partitionCount;
    const int stepped = partitionStep(r.replicas, p);
    if (stepped < r.replicas) {
      r.message += "; " + std::to_string(r.replicas) + " and " + std::to_string(stepped) + " both leave " +
                   std::to_string((p + stepped - 1) / stepped) + " of " + std::to_string(p) +
                   " partitions on the busiest consumer: " + std::to_string(stepped);
      r.replicas = stepped;
    }
  }
  if (r.replicas < s.minReplicas) {
    r.message += "; raised to minReplicas " + std::to_string(s.minReplicas);
    r.replicas = s.minReplicas;
    r.cause = Cause::kMinReplicas;
  }
}

}  // namespace

const char* reasonName(Cause cause) {
  switch (cause) {
    case Cause::kLagPerReplica:
      return "LagPerReplica";
    case Cause::kDrainTime:
      return "DrainTime";
    case Cause::kInputRate:
      return "InputRate";
    case Cause::kNoThroughputYet:
      return "NoThroughputYet";
    case Cause::kActivation:
      return "Activation";
    case Cause::kBelowActivation:
      return "BelowActivation";
    case Cause::kKeepOneUntilIdle:
      return "KeepOneUntilIdle";
    case Cause::kIdleToZero:
      return "IdleToZero";
    case Cause::kMinReplicas:
      return "MinReplicas";
    case Cause::kMaxReplicas:
      return "MaxReplicas";
    case Cause::kPartitionCap:
      return "PartitionCap";
    case Cause::kStalled:
      return "Stalled";
    case Cause::kSourceMissing:
      return "SourceMissing";
    case Cause::kSourceUnreachable:
      return "SourceUnreachable";
  }
  return "Unknown";
}

int partitionStep(int replicas, int partitions) {
  if (partitions <= 0 || replicas <= 0) return replicas;
  const int n = std::min(replicas, partitions);
  const int perConsumer = (partitions + n - 1) / n;
  // Smallest N with ceil(P/N) == perConsumer is ceil(P/perConsumer).
  return (partitions + perConsumer - 1) / perConsumer;
}

Recommendation recommend(const ScalingInputs& in) {
  const std::string lagWords =
      "lag " + std::to_string(in.totalLag) + " over " + replicasWord(in.currentReplicas);
  switch (in.sourceState) {
    case SourceState::kMissing:
      return hold(in, Cause::kSourceMissing, lagWords + "; source missing");
    case SourceState::kUnreachable:
      return hold(in, Cause::kSourceUnreachable, "source unreachable");
    case SourceState::kOk:
      break;
  }
  if (in.lagStalled && in.totalLag > 0) {
    Recommendation r = hold(in, Cause::kStalled,
                            lagWords +
                                " is not moving while workers are healthy (a message that keeps failing?); "
                                "more replicas cannot help");
    r.degraded = true;
    return r;
  }
  Targets t = computeTargets(in);
  Recommendation r;
  r.replicas = t.replicas;
  r.cause = t.cause;
  r.lagTarget = t.lag;
  r.drainTarget = t.drain;
  r.inputTarget = t.input;
  r.message = lagWords;
  addPart(r.message, t.message);
  if (t.cause == Cause::kInputRate) {  // mentioned only when decisive, to keep the words short
    addPart(r.message, "input " + formatRate(in.inPerSecond) + "/s needs " + std::to_string(*t.input) +
                           " at " + formatRate(*in.perReplicaThroughput) + "/s per replica");
  }
  applyZeroRules(in, r);
  applyLimits(in, r);
  return r;
}

}  // namespace sluice::scaling

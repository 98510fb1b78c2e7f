#pragma once
// RateTracker: turns the probe's monotonic counters (producedSum, consumedSum) into messages per
// second over a sliding window. Pure apart from the injected clock; one per pipeline.
// A counter going backwards (topic recreated, partitions reassigned, stream purged) restarts the
// window instead of producing a negative rate.
#include <chrono>
#include <cstdint>
#include <deque>

#include "common/clock.h"

namespace sluice::scaling {

struct Rates {
  double inPerSecond = 0;
  double outPerSecond = 0;
  bool known = false;  // false until two samples span some time
};

class RateTracker {
 public:
  explicit RateTracker(common::Clock& clock, std::chrono::seconds window = std::chrono::seconds(30));
  Rates observe(int64_t producedSum, int64_t consumedSum);
  void setWindow(std::chrono::seconds window) { window_ = window; }

 private:
  struct Sample {
    common::SteadyTime at;
    int64_t produced;
    int64_t consumed;
  };
  common::Clock& clock_;
  std::chrono::seconds window_;
  std::deque<Sample> samples_;
};

// StallDetector: lag that does not move. Stalled when, for at least `window`, lag stayed above
// zero, live workers were reporting, and the consumed counter did not advance (a message that
// keeps failing without a dead-letter destination, a sink that refuses everything).
class StallDetector {
 public:
  explicit StallDetector(common::Clock& clock) : clock_(clock) {}
  bool observe(int64_t consumedSum, int64_t totalLag, bool workersLive, std::chrono::seconds window);
  // Seconds the current stall has lasted (0 when not stalling).
  double stalledSeconds() const;

 private:
  common::Clock& clock_;
  bool tracking_ = false;
  int64_t consumed_ = 0;
  common::SteadyTime since_{};
};

// IdleTracker: how long lag and input have both been zero.
class IdleTracker {
 public:
  explicit IdleTracker(common::Clock& clock) : clock_(clock) {}
  double observe(bool idle);  // returns idle seconds so far (0 when not idle)

 private:
  common::Clock& clock_;
  bool idle_ = false;
  common::SteadyTime since_{};
};

}  // namespace sluice::scaling

#include "operator/scaling/rate_tracker.h"

namespace sluice::scaling {
namespace {

double secondsBetween(common::SteadyTime a, common::SteadyTime b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

RateTracker::RateTracker(common::Clock& clock, std::chrono::seconds window)
    : clock_(clock), window_(window) {}

Rates RateTracker::observe(int64_t producedSum, int64_t consumedSum) {
  const common::SteadyTime now = clock_.now();
  if (!samples_.empty() &&
      (producedSum < samples_.back().produced || consumedSum < samples_.back().consumed)) {
    samples_.clear();
  }
  samples_.push_back({now, producedSum, consumedSum});
  // Keep the newest sample at or before the window start so the window is always fully covered.
  while (samples_.size() > 2 && now - samples_[1].at >= window_) samples_.pop_front();
  Rates r;
  const Sample& first = samples_.front();
  const double dt = secondsBetween(first.at, now);
  if (samples_.size() < 2 || dt <= 0) return r;
  r.known = true;
  r.inPerSecond = static_cast<double>(producedSum - first.produced) / dt;
  r.outPerSecond = static_cast<double>(consumedSum - first.consumed) / dt;
  return r;
}

bool StallDetector::observe(int64_t consumedSum, int64_t totalLag, bool workersLive,
                            std::chrono::seconds window) {
  const common::SteadyTime now = clock_.now();
  if (totalLag <= 0 || !workersLive || !tracking_ || consumedSum != consumed_) {
    tracking_ = totalLag > 0 && workersLive;
    consumed_ = consumedSum;
    since_ = now;
    return false;
  }
  return now - since_ >= window;
}

double StallDetector::stalledSeconds() const { return tracking_ ? secondsBetween(since_, clock_.now()) : 0; }

double IdleTracker::observe(bool idle) {
  const common::SteadyTime now = clock_.now();
  if (!idle) {
    idle_ = false;
    return 0;
  }
  if (!idle_) {
    idle_ = true;
    since_ = now;
  }
  return secondsBetween(since_, now);
}

}  // namespace sluice::scaling

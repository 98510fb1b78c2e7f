#include "common/clock.h"

#include <ctime>
#include <string>

namespace sluice::common {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

FakeClock::FakeClock()
    // A fixed, recognisable start so golden outputs are stable: 2026-01-01T00:00:00Z.
    : steady_(std::chrono::hours(1000)), wall_(std::chrono::seconds(1767225600)) {}

SteadyTime FakeClock::now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steady_;
}

WallTime FakeClock::wallNow() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_;
}

void FakeClock::advance(std::chrono::nanoseconds by) {
  std::lock_guard<std::mutex> lock(mu_);
  steady_ += by;
  wall_ += std::chrono::duration_cast<WallTime::duration>(by);
}

std::string formatRfc3339(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace sluice::common

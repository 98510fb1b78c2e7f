#pragma once
// Time comes in through this interface so every timing decision can be tested with FakeClock.
#include <chrono>
#include <mutex>

namespace sluice::common {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for intervals and deadlines.
  virtual SteadyTime now() const = 0;
  // Calendar time for timestamps shown to people (status, events, heartbeats).
  virtual WallTime wallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance();
};

// Thread-safe manual clock for tests: time moves only when advance() is called.
class FakeClock final : public Clock {
 public:
  FakeClock();
  SteadyTime now() const override;
  WallTime wallNow() const override;
  void advance(std::chrono::nanoseconds by);

 private:
  mutable std::mutex mu_;
  SteadyTime steady_;
  WallTime wall_;
};

// RFC 3339 with seconds precision in UTC, as Kubernetes writes metav1.Time: 2026-11-22T21:04:35Z
std::string formatRfc3339(WallTime t);

}  // namespace sluice::common

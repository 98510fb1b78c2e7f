#pragma once
// StopSignal: an interruptible wait for the threads that back off between attempts (lanes
// isolating a message, the dead-letter retries). stop() wakes every waiter at once and makes later
// waits return at once, so a stopping worker never sits out a backoff.
// Threading: any thread may wait, stop or ask.
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "common/clock.h"

namespace sluice::worker {

class StopSignal {
 public:
  // Waits `delay` unless stopped first; true when the whole delay passed without a stop.
  bool sleepFor(common::Millis delay) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, delay, [this] { return stopped_.load(); });
    return !stopped_;
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const { return stopped_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopped_{false};
};

}  // namespace sluice::worker

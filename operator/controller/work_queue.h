#pragma once
// A work queue of object keys in the manner of client-go's: a key is queued at most once (dedup),
// is handed to one worker at a time, and a key re-added while being processed is queued again when
// that worker calls done(). Failed keys come back after a per-key exponential backoff, bounded
// overall by a token bucket (the max of the two, as client-go's default controller rate limiter).
// Time comes from the injected clock; tests drive it with FakeClock and tryGet().
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/clock.h"

namespace sluice::controller {

struct WorkQueueOptions {
  std::chrono::milliseconds baseDelay{5};
  std::chrono::milliseconds maxDelay{std::chrono::seconds(300)};
  double qps = 10.0;  // global rate of rate-limited requeues
  int burst = 100;
  // A normal key ready this long is handed out before urgent ones, one at a time (bounds its
  // starvation while urgent keys keep coming).
  std::chrono::milliseconds maxNormalWait{std::chrono::seconds(5)};
  // At most this many normal keys in process at once; 0 = no limit.
  int maxNormalInProcess = 0;
  // While urgent keys are queued or in process (a burst of new pipelines), at most this many
  // normal keys in process, the overdue one included; 0 = only maxNormalInProcess. Normal passes
  // write several objects each and would take the API server's time from the urgent ones.
  int maxNormalInBurst = 0;
};

enum class Priority { kNormal, kUrgent };

class WorkQueue {
 public:
  WorkQueue(WorkQueueOptions options, common::Clock& clock);

  void add(const std::string& key, Priority priority = Priority::kNormal);
  // Queues the key once `delay` has passed (an earlier pending time wins), then with `priority`.
  void addAfter(const std::string& key, std::chrono::milliseconds delay,
                Priority priority = Priority::kNormal);
  // After a failure: per-key exponential backoff, bounded by the global token bucket.
  void addRateLimited(const std::string& key, Priority priority = Priority::kNormal);
  // After a success: the key's backoff starts over.
  void forget(const std::string& key);
  int failures(const std::string& key) const;

  // A ready key, or nullopt; the key is then being processed until done().
  std::optional<std::string> tryGet();
  // Blocks up to `maxWait` for a key; nullopt on timeout or shutdown.
  std::optional<std::string> get(std::chrono::milliseconds maxWait);
  void done(const std::string& key);
  void shutDown();

  size_t depth() const;         // queued (both priorities) + waiting keys
  size_t urgentCount() const;   // urgent keys ready to be handed out
  size_t waitingCount() const;  // keys waiting for their time
  // Time until the earliest waiting key is due (0 if one is due), nullopt when none waits.
  std::optional<std::chrono::milliseconds> nextDue() const;

 private:
  struct Ready {
    std::string key;
    common::SteadyTime since;  // when it became ready (normal keys age from here)
  };
  struct Waiting {
    common::SteadyTime due;
    Priority priority;
  };
  void addLocked(const std::string& key, Priority priority);
  void pushLocked(const std::string& key, Priority priority);
  void promoteDueLocked();
  bool burstLocked() const;
  bool normalAllowedLocked() const;
  std::chrono::milliseconds bucketDelayLocked();
  std::optional<std::string> popLocked();

  const WorkQueueOptions options_;
  common::Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Ready> urgent_;
  std::deque<Ready> normal_;
  std::map<std::string, Priority> dirty_;  // queued, or to be queued again by done()
  std::set<std::string> processing_;
  std::set<std::string> normalInProcess_;  // the subset of processing_ handed out as normal
  std::optional<std::string> overdue_;     // the normal key handed out ahead of urgent ones, until done()
  std::map<std::string, Waiting> waiting_;
  std::map<std::string, int> failures_;
  double tokens_;
  common::SteadyTime lastRefill_;
  bool shutDown_ = false;
};

}  // namespace sluice::controller

#pragma once
// LagSampler: runs each autoscaled pipeline's lag probe on its own schedule, off the reconcile
// path, and keeps the latest sample per pipeline key for the reconcile to read. A slow or
// unreachable broker then delays only its own samples (they arrive late or as errors), never the
// applies of other pipelines waiting in the work queue.
//
//   reconcile(key):  sampler.track(key, probeKey, pollInterval, makeProbe);
//                    auto sample = sampler.latest(key);   // new sequence -> poll the autoscaler
//   probe threads:   while (running) sampler.runOnce(500ms);   // claim a due key, probe, publish
//   on a sample:     onSample(key) -> the operator queues the key, so its reconcile sees it
//
// Scheduling: a newly tracked key is due at once; after each probe it is due again `interval`
// after that probe finished (so a probe slower than its interval never piles up). A key is probed
// by one thread at a time; other threads take other due keys, earliest due first. A changed
// ProbeKey (the source settings changed) replaces the probe and drops the old sample; a probe that
// was running for the old ProbeKey or for an untracked key is discarded when it finishes.
//
// Threading: every method is thread-safe. Time comes from the injected clock; tests drive the
// schedule with FakeClock and claimDue()/complete() on the test thread. The probes themselves run
// on the threads that call runOnce() (LagProbe implementations are thread-safe per instance as
// long as one call runs at a time, which the one-claim-per-key rule guarantees).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "operator/controller/probe_key.h"
#include "operator/scaling/lag_probe.h"

namespace sluice::controller {

struct LagSample {
  common::Result<scaling::LagSnapshot> lag;
  common::SteadyTime takenAt{};  // when the probe finished
  // Increases with every sample the sampler publishes (over all keys): a reconcile that remembers
  // the sequence it last used knows whether this one is new.
  uint64_t sequence = 0;
};

class LagSampler {
 public:
  using ProbeFactory = std::function<std::unique_ptr<scaling::LagProbe>()>;
  using OnSample = std::function<void(const std::string& key)>;

  // `onSample` is called (without the sampler's lock held) after each published sample.
  LagSampler(common::Clock& clock, OnSample onSample);

  // Probe `key` every `interval` with the probe `make` builds. Same ProbeKey as before: only the
  // interval changes (the next probe moves earlier if the new interval says so). A new ProbeKey
  // builds a new probe, drops the previous sample and is due at once.
  void track(const std::string& key, const ProbeKey& probeKey, std::chrono::milliseconds interval,
             const ProbeFactory& make);
  void untrack(const std::string& key);
  std::optional<LagSample> latest(const std::string& key) const;
  size_t trackedCount() const;

  // One unit of probe work: the key, which tracking it belongs to, and the probe to run.
  struct Job {
    std::string key;
    uint64_t generation = 0;
    std::shared_ptr<scaling::LagProbe> probe;
  };
  // The earliest-due key that no other thread is probing, now claimed; nullopt when none is due.
  std::optional<Job> claimDue();
  // Publishes the result of a claimed job (unless the key was untracked or re-tracked meanwhile),
  // schedules the key's next probe and calls onSample.
  void complete(const Job& job, common::Result<scaling::LagSnapshot> lag);
  // Time until the earliest unclaimed key is due (0 when one is due); nullopt when none is tracked.
  std::optional<std::chrono::milliseconds> nextDue() const;

  // Probe thread body: waits up to `maxWait` for a due key, probes it, publishes. Returns whether a
  // probe ran. Returns at once after shutDown().
  bool runOnce(std::chrono::milliseconds maxWait);
  void shutDown();

 private:
  struct Target {
    ProbeKey probeKey;
    uint64_t generation = 0;
    std::chrono::milliseconds interval{0};
    std::shared_ptr<scaling::LagProbe> probe;
    common::SteadyTime due{};
    bool claimed = false;
    std::optional<LagSample> sample;
  };
  std::optional<Job> claimDueLocked();
  // When the earliest unclaimed target is due (nullopt: none). Caller holds mu_.
  std::optional<common::SteadyTime> earliestDueLocked() const;

  common::Clock& clock_;
  OnSample onSample_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Target> targets_;
  uint64_t nextGeneration_ = 1;
  uint64_t nextSequence_ = 1;
  bool shutDown_ = false;
};

}  // namespace sluice::controller

#include "operator/controller/lag_sampler.h"

#include <algorithm>

namespace sluice::controller {

using std::chrono::milliseconds;

LagSampler::LagSampler(common::Clock& clock, OnSample onSample)
    : clock_(clock), onSample_(std::move(onSample)) {}

void LagSampler::track(const std::string& key, const ProbeKey& probeKey, milliseconds interval,
                       const ProbeFactory& make) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = targets_.find(key);
    if (it != targets_.end() && it->second.probeKey == probeKey) {
      Target& target = it->second;
      if (interval < target.interval && target.sample) {
        target.due = std::min(target.due, target.sample->takenAt + interval);
        cv_.notify_one();
      }
      target.interval = interval;
      return;
    }
  }
  std::shared_ptr<scaling::LagProbe> probe = make();  // built outside the lock; no I/O until probed
  std::lock_guard<std::mutex> lock(mu_);
  Target& target = targets_[key];
  target = Target{};
  target.probeKey = probeKey;
  target.generation = nextGeneration_++;
  target.interval = interval;
  target.probe = std::move(probe);
  target.due = clock_.now();
  cv_.notify_one();
}

void LagSampler::untrack(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.erase(key);  // a running probe keeps its own reference and is discarded in complete()
}

std::optional<LagSample> LagSampler::latest(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = targets_.find(key);
  if (it == targets_.end()) return std::nullopt;
  return it->second.sample;
}

size_t LagSampler::trackedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return targets_.size();
}

std::optional<LagSampler::Job> LagSampler::claimDueLocked() {
  const auto now = clock_.now();
  Target* earliest = nullptr;
  const std::string* earliestKey = nullptr;
  for (auto& [key, target] : targets_) {
    if (target.claimed || target.due > now) continue;
    if (earliest && earliest->due <= target.due) continue;
    earliest = &target;
    earliestKey = &key;
  }
  if (!earliest) return std::nullopt;
  earliest->claimed = true;
  return Job{*earliestKey, earliest->generation, earliest->probe};
}

std::optional<LagSampler::Job> LagSampler::claimDue() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutDown_) return std::nullopt;
  return claimDueLocked();
}

void LagSampler::complete(const Job& job, common::Result<scaling::LagSnapshot> lag) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = targets_.find(job.key);
    if (it == targets_.end() || it->second.generation != job.generation) return;  // untracked or replaced
    Target& target = it->second;
    const auto now = clock_.now();
    target.claimed = false;
    target.sample = LagSample{std::move(lag), now, nextSequence_++};
    target.due = now + target.interval;
    cv_.notify_one();
  }
  if (onSample_) onSample_(job.key);
}

std::optional<common::SteadyTime> LagSampler::earliestDueLocked() const {
  std::optional<common::SteadyTime> earliest;
  for (const auto& [key, target] : targets_) {
    if (target.claimed) continue;
    if (!earliest || target.due < *earliest) earliest = target.due;
  }
  return earliest;
}

std::optional<milliseconds> LagSampler::nextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto earliest = earliestDueLocked();
  if (!earliest) return std::nullopt;
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(*earliest - clock_.now()));
}

bool LagSampler::runOnce(milliseconds maxWait) {
  std::optional<Job> job;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + maxWait;
    while (!shutDown_ && !(job = claimDueLocked())) {
      auto wait = deadline - std::chrono::steady_clock::now();
      if (wait <= std::chrono::steady_clock::duration::zero()) return false;
      if (const auto due = earliestDueLocked()) {
        wait = std::min<std::chrono::steady_clock::duration>(wait, *due - clock_.now());
      }
      cv_.wait_for(lock, std::max<std::chrono::steady_clock::duration>(wait, milliseconds(1)));
    }
    if (!job) return false;
  }
  complete(*job, job->probe->probe());
  return true;
}

void LagSampler::shutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutDown_ = true;
  cv_.notify_all();
}

}  // namespace sluice::controller

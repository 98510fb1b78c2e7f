#include "operator/controller/work_queue.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sluice::controller {

using std::chrono::milliseconds;

WorkQueue::WorkQueue(WorkQueueOptions options, common::Clock& clock)
    : options_(options), clock_(clock), tokens_(options.burst), lastRefill_(clock.now()) {}

void WorkQueue::pushLocked(const std::string& key, Priority priority) {
  (priority == Priority::kUrgent ? urgent_ : normal_).push_back({key, clock_.now()});
  cv_.notify_one();
}

void WorkQueue::addLocked(const std::string& key, Priority priority) {
  if (shutDown_) return;
  waiting_.erase(key);
  const auto dirty = dirty_.find(key);
  if (dirty == dirty_.end()) {
    dirty_.emplace(key, priority);
    if (!processing_.count(key)) pushLocked(key, priority);  // else queued again by done()
    return;
  }
  if (priority == Priority::kNormal || dirty->second == Priority::kUrgent) return;
  dirty->second = Priority::kUrgent;
  if (processing_.count(key)) return;
  // Queued normal, now urgent: move it up.
  normal_.erase(std::find_if(normal_.begin(), normal_.end(), [&](const Ready& r) { return r.key == key; }));
  pushLocked(key, Priority::kUrgent);
}

void WorkQueue::add(const std::string& key, Priority priority) {
  std::lock_guard<std::mutex> lock(mu_);
  addLocked(key, priority);
}

void WorkQueue::addAfter(const std::string& key, milliseconds delay, Priority priority) {
  std::lock_guard<std::mutex> lock(mu_);
  if (delay.count() <= 0) {
    addLocked(key, priority);
    return;
  }
  if (shutDown_ || dirty_.count(key)) return;
  const auto due = clock_.now() + delay;
  auto [it, inserted] = waiting_.emplace(key, Waiting{due, priority});
  if (!inserted) {
    it->second.due = std::min(it->second.due, due);
    it->second.priority = std::max(it->second.priority, priority);
  }
  cv_.notify_one();
}

milliseconds WorkQueue::bucketDelayLocked() {
  const auto now = clock_.now();
  const double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
  tokens_ = std::min<double>(options_.burst, tokens_ + elapsed * options_.qps);
  lastRefill_ = now;
  tokens_ -= 1.0;  // reserve, possibly going into debt like x/time/rate
  if (tokens_ >= 0.0) return milliseconds(0);
  return milliseconds(static_cast<long long>(std::ceil(-tokens_ / options_.qps * 1000.0)));
}

void WorkQueue::addRateLimited(const std::string& key, Priority priority) {
  milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int n = failures_[key]++;
    const double perKey = static_cast<double>(options_.baseDelay.count()) * std::pow(2.0, std::min(n, 40));
    delay = milliseconds(
        static_cast<long long>(std::min(perKey, static_cast<double>(options_.maxDelay.count()))));
    delay = std::max(delay, bucketDelayLocked());
  }
  addAfter(key, delay, priority);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promoteDueLocked() {
  const auto now = clock_.now();
  std::vector<std::pair<std::string, Priority>> due;
  for (const auto& [key, waiting] : waiting_) {
    if (waiting.due <= now) due.emplace_back(key, waiting.priority);
  }
  for (const auto& [key, priority] : due) addLocked(key, priority);
}

// Urgent keys queued or in process (every key in process that was not handed out as normal).
bool WorkQueue::burstLocked() const {
  return !urgent_.empty() || processing_.size() > normalInProcess_.size();
}

bool WorkQueue::normalAllowedLocked() const {
  const auto below = [&](int limit) {
    return limit <= 0 || normalInProcess_.size() < static_cast<size_t>(limit);
  };
  return below(options_.maxNormalInProcess) && (!burstLocked() || below(options_.maxNormalInBurst));
}

std::optional<std::string> WorkQueue::popLocked() {
  promoteDueLocked();
  const bool normalAllowed = normalAllowedLocked();
  const bool overdue = !overdue_ && normalAllowed && !normal_.empty() &&
                       clock_.now() - normal_.front().since >= options_.maxNormalWait;
  const bool urgent = !urgent_.empty() && !overdue;
  if (!urgent && (normal_.empty() || !normalAllowed)) return std::nullopt;
  std::deque<Ready>& from = urgent ? urgent_ : normal_;
  std::string key = std::move(from.front().key);
  from.pop_front();
  if (!urgent) {
    normalInProcess_.insert(key);
    if (!urgent_.empty()) overdue_ = key;
  }
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::tryGet() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutDown_) return std::nullopt;
  return popLocked();
}

std::optional<std::string> WorkQueue::get(milliseconds maxWait) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + maxWait;
  while (!shutDown_) {
    if (auto key = popLocked()) return key;
    auto wait = deadline - std::chrono::steady_clock::now();
    if (wait <= std::chrono::steady_clock::duration::zero()) return std::nullopt;
    for (const auto& [key, w] : waiting_)
      wait = std::min<std::chrono::steady_clock::duration>(wait, w.due - clock_.now());
    cv_.wait_for(lock, std::max<std::chrono::steady_clock::duration>(wait, milliseconds(1)));
  }
  return std::nullopt;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (overdue_ == key) overdue_.reset();
  // A normal slot is free again, or this urgent key ended a burst that held normal keys back:
  // waiting workers look again (not at each urgent key done while the burst goes on).
  const bool wasNormal = normalInProcess_.erase(key) > 0;
  const bool endedBurst = !wasNormal && options_.maxNormalInBurst > 0 && !normal_.empty() && !burstLocked();
  if (wasNormal || endedBurst) cv_.notify_all();
  const auto dirty = dirty_.find(key);
  if (dirty != dirty_.end() && !shutDown_) pushLocked(key, dirty->second);
}

void WorkQueue::shutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutDown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return urgent_.size() + normal_.size() + waiting_.size();
}

size_t WorkQueue::urgentCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return urgent_.size();
}

size_t WorkQueue::waitingCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

std::optional<milliseconds> WorkQueue::nextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (waiting_.empty()) return std::nullopt;
  auto earliest = waiting_.begin()->second.due;
  for (const auto& [key, w] : waiting_) earliest = std::min(earliest, w.due);
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(earliest - clock_.now()));
}

}  // namespace sluice::controller

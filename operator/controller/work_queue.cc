#include "operator/controller/work_queue.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sluice::controller {

using std::chrono::milliseconds;

WorkQueue::WorkQueue(WorkQueueOptions options, common::Clock& clock)
    : options_(options), clock_(clock), tokens_(options.burst), lastRefill_(clock.now()) {}

void WorkQueue::addLocked(const std::string& key) {
  if (shutDown_ || dirty_.count(key)) return;
  dirty_.insert(key);
  waiting_.erase(key);
  if (processing_.count(key)) return;  // queued again by done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (delay.count() <= 0) {
    addLocked(key);
    return;
  }
  if (shutDown_ || dirty_.count(key)) return;
  const auto due = clock_.now() + delay;
  auto [it, inserted] = waiting_.emplace(key, due);
  if (!inserted) it->second = std::min(it->second, due);
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

void WorkQueue::addRateLimited(const std::string& key) {
  milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int n = failures_[key]++;
    const double perKey = static_cast<double>(options_.baseDelay.count()) * std::pow(2.0, std::min(n, 40));
    delay = milliseconds(static_cast<long long>(std::min(perKey, static_cast<double>(options_.maxDelay.count()))));
    delay = std::max(delay, bucketDelayLocked());
  }
  addAfter(key, delay);
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
  std::vector<std::string> due;
  for (const auto& [key, at] : waiting_) {
    if (at <= now) due.push_back(key);
  }
  for (const auto& key : due) {
    waiting_.erase(key);
    addLocked(key);
  }
}

std::optional<std::string> WorkQueue::popLocked() {
  promoteDueLocked();
  if (queue_.empty()) return std::nullopt;
  std::string key = queue_.front();
  queue_.pop_front();
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
    for (const auto& [key, at] : waiting_) wait = std::min<std::chrono::steady_clock::duration>(wait, at - clock_.now());
    cv_.wait_for(lock, std::max<std::chrono::steady_clock::duration>(wait, milliseconds(1)));
  }
  return std::nullopt;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) && !shutDown_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutDown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() + waiting_.size();
}

size_t WorkQueue::waitingCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

std::optional<milliseconds> WorkQueue::nextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (waiting_.empty()) return std::nullopt;
  auto earliest = waiting_.begin()->second;
  for (const auto& [key, at] : waiting_) earliest = std::min(earliest, at);
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(earliest - clock_.now()));
}

}  // namespace sluice::controller

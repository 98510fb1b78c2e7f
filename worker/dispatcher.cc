#include "worker/dispatcher.h"

#include <algorithm>

namespace sluice::worker {

std::string Dispatcher::groupOf(const Message& m) const {
  switch (ordering_) {
    case spec::Ordering::kNone:
      return std::string();
    case spec::Ordering::kPartition:
      return m.topic + '\0' + std::to_string(m.partition);
    case spec::Ordering::kKey:
      // A message without a key keeps its partition's order among the other keyless messages.
      return m.topic + '\0' + std::to_string(m.partition) + (m.key ? std::string("\0k", 2) + *m.key : std::string("\0n", 2));
  }
  return std::string();
}

void Dispatcher::markReady(const std::string& name, Group& group) {
  if (group.ready || group.held || group.queue.empty()) return;
  group.ready = true;
  ready_.push_back(name);
}

bool Dispatcher::sameGroup(const Message& a, const Message& b) const {
  switch (ordering_) {
    case spec::Ordering::kNone:
      return true;
    case spec::Ordering::kPartition:
      return a.partition == b.partition && a.topic == b.topic;
    case spec::Ordering::kKey:
      return a.partition == b.partition && a.key == b.key && a.topic == b.topic;
  }
  return false;
}

void Dispatcher::submit(Batch batch) {
  // Batches come in runs of one group: name and look up a group only when the run changes.
  std::string name;
  Group* group = nullptr;
  for (auto& message : batch) {
    if (!group || group->queue.empty() || !sameGroup(group->queue.back(), message)) {
      name = groupOf(message);
      group = &groups_[name];  // unordered_map references stay valid across inserts
    }
    group->queue.emplace_back(std::move(message));
    ++queued_;
    markReady(name, *group);
  }
}

// Moves the group's messages into the work until it is empty or the limits are reached; returns
// true when the work is full.
bool Dispatcher::takeFromGroup(Group& group, Work& work, int64_t& bytes) {
  while (!group.queue.empty()) {
    const int64_t cost = budgetBytes(group.queue.front());
    const bool full = static_cast<int>(work.messages.size()) >= maxMessages_ ||
                      (!work.messages.empty() && bytes + cost > maxBytes_);
    if (full) return true;
    bytes += cost;
    work.messages.push_back(std::move(group.queue.front()));
    group.queue.pop_front();
    --queued_;
  }
  return static_cast<int>(work.messages.size()) >= maxMessages_;
}

std::optional<Work> Dispatcher::take(common::SteadyTime now) {
  auto due = std::min_element(parked_.begin(), parked_.end(),
                              [](const Parked& a, const Parked& b) { return a.when < b.when; });
  if (due != parked_.end() && due->when <= now) {
    Work work = std::move(due->work);
    parked_.erase(due);
    return work;
  }
  if (ready_.empty()) return std::nullopt;
  Work work;
  work.id = nextId_++;
  work.messages.reserve(std::min(queued_, static_cast<size_t>(maxMessages_)));  // no regrowth moves
  int64_t bytes = 0;
  bool full = false;
  while (!full && !ready_.empty()) {
    const std::string name = ready_.front();
    Group& group = groups_[name];
    // A group joins the work only when at least one of its messages fits.
    if (!work.messages.empty() && bytes + budgetBytes(group.queue.front()) > maxBytes_) break;
    full = takeFromGroup(group, work, bytes);
    if (!holdsGroups() && !group.queue.empty()) break;  // the shared queue stays ready
    ready_.pop_front();
    group.ready = false;
    if (holdsGroups()) {
      group.held = true;
      work.groups.push_back(name);
    }
  }
  if (work.messages.empty()) return std::nullopt;
  return work;
}

void Dispatcher::complete(const Work& work) {
  for (const auto& name : work.groups) {
    auto it = groups_.find(name);
    if (it == groups_.end()) continue;
    it->second.held = false;
    if (it->second.queue.empty()) {
      groups_.erase(it);
      continue;
    }
    markReady(name, it->second);
  }
}

void Dispatcher::retryAt(Work work, common::SteadyTime when) { parked_.push_back({when, std::move(work)}); }

std::optional<common::SteadyTime> Dispatcher::nextRetryAt() const {
  std::optional<common::SteadyTime> next;
  for (const auto& p : parked_) {
    if (!next || p.when < *next) next = p.when;
  }
  return next;
}

Batch Dispatcher::dropPartitions(const std::set<TopicPartition>& partitions) {
  Batch dropped;
  auto revoked = [&](const Message& m) { return partitions.count(m.topicPartition()) > 0; };
  for (auto& [name, group] : groups_) {
    auto keep = std::stable_partition(group.queue.begin(), group.queue.end(), [&](const Message& m) { return !revoked(m); });
    queued_ -= static_cast<size_t>(group.queue.end() - keep);
    std::move(keep, group.queue.end(), std::back_inserter(dropped));
    group.queue.eraseFrom(keep);
  }
  std::vector<Parked> stillParked;
  for (auto& p : parked_) {
    auto keep = std::stable_partition(p.work.messages.begin(), p.work.messages.end(),
                                      [&](const Message& m) { return !revoked(m); });
    std::move(keep, p.work.messages.end(), std::back_inserter(dropped));
    p.work.messages.erase(keep, p.work.messages.end());
    if (p.work.messages.empty()) {
      complete(p.work);
    } else {
      stillParked.push_back(std::move(p));
    }
  }
  parked_ = std::move(stillParked);
  std::erase_if(ready_, [&](const std::string& name) {
    Group& group = groups_[name];
    if (!group.queue.empty()) return false;
    group.ready = false;
    return true;
  });
  std::erase_if(groups_, [](const auto& entry) { return !entry.second.held && entry.second.queue.empty(); });
  return dropped;
}

}  // namespace sluice::worker

#include "worker/dispatcher.h"

#include <algorithm>

namespace sluice::worker {

size_t GroupKeyHash::operator()(const GroupKey& g) const {
  size_t h = std::hash<std::string>{}(g.topic);
  h = h * 31 + std::hash<int32_t>{}(g.partition);
  if (g.key) h = (h * 31 + std::hash<std::string>{}(*g.key)) ^ 1;
  return h;
}

GroupKey Dispatcher::groupOf(const Message& m) const {
  switch (ordering_) {
    case spec::Ordering::kNone:
      return {};
    case spec::Ordering::kPartition:
      return {m.topic, m.partition, std::nullopt};
    case spec::Ordering::kKey:
      // A message without a key keeps its partition's order among the other keyless messages.
      return {m.topic, m.partition, m.key};
  }
  return {};
}

void Dispatcher::markReady(const GroupKey& name, Group& group) {
  if (group.ready || group.held || group.empty()) return;
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

void Dispatcher::enqueue(GroupKey name, Run run) {
  queued_ += run.messages.size();
  auto [it, inserted] = groups_.try_emplace(std::move(name));  // references stay valid across inserts
  it->second.runs.push_back(std::move(run));
  markReady(it->first, it->second);
}

void Dispatcher::submit(Batch batch) {
  if (batch.empty()) return;
  // Queues batch[begin, end) as one run of its group; a batch that is one run is queued as it is.
  auto queueRun = [&](size_t begin, size_t end, int64_t bytes) {
    Batch messages = begin == 0 && end == batch.size()
                         ? std::move(batch)
                         : Batch(std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(begin)),
                                 std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(end)));
    GroupKey name = groupOf(messages.front());
    enqueue(std::move(name), Run{std::move(messages), 0, bytes});
  };
  // Batches come in runs of one group: split where the group changes.
  size_t begin = 0;
  int64_t bytes = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i > begin && !sameGroup(batch[begin], batch[i])) {
      queueRun(begin, i, bytes);
      begin = i;
      bytes = 0;
    }
    bytes += budgetBytes(batch[i]);
  }
  queueRun(begin, batch.size(), bytes);
}

// Moves the group's messages into the work until it is empty or the limits are reached; returns
// true when the work is full. A whole run that fits an empty work becomes its message vector.
bool Dispatcher::takeFromGroup(Group& group, Work& work, int64_t& bytes) {
  auto full = [&] { return static_cast<int>(work.messages.size()) >= maxMessages_; };
  while (!group.runs.empty() && !full()) {
    Run& run = group.runs.front();
    const size_t count = run.messages.size() - run.head;
    if (work.messages.empty() && run.head == 0 && static_cast<int>(count) <= maxMessages_ &&
        (run.bytes <= maxBytes_ || count == 1)) {
      work.messages = std::move(run.messages);
      bytes += run.bytes;
      queued_ -= count;
      group.runs.pop_front();
      continue;
    }
    if (work.messages.capacity() < static_cast<size_t>(maxMessages_)) {
      work.messages.reserve(static_cast<size_t>(maxMessages_));  // no regrowth moves
    }
    while (run.head < run.messages.size()) {
      Message& next = run.messages[run.head];
      const int64_t cost = budgetBytes(next);
      if (full() || (!work.messages.empty() && bytes + cost > maxBytes_)) return true;
      bytes += cost;
      run.bytes -= cost;
      work.messages.push_back(std::move(next));
      ++run.head;
      --queued_;
    }
    group.runs.pop_front();
  }
  return full();
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
  int64_t bytes = 0;
  bool full = false;
  while (!full && !ready_.empty()) {
    const GroupKey name = ready_.front();
    Group& group = groups_[name];
    // A group joins the work only when at least one of its messages fits.
    if (!work.messages.empty() && bytes + budgetBytes(group.front()) > maxBytes_) break;
    full = takeFromGroup(group, work, bytes);
    if (!holdsGroups() && !group.empty()) break;  // the shared queue stays ready
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
    if (it->second.empty()) {
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
    for (Run& run : group.runs) {
      const size_t before = dropped.size();
      run.bytes -= moveOutIf(run.messages, run.head, revoked, dropped);
      queued_ -= dropped.size() - before;
    }
    group.runs.eraseIf([](const Run& run) { return run.head == run.messages.size(); });
  }
  std::vector<Parked> stillParked;
  for (auto& p : parked_) {
    moveOutIf(p.work.messages, 0, revoked, dropped);
    if (p.work.messages.empty()) {
      complete(p.work);
    } else {
      stillParked.push_back(std::move(p));
    }
  }
  parked_ = std::move(stillParked);
  std::erase_if(ready_, [&](const GroupKey& name) {
    Group& group = groups_[name];
    if (!group.empty()) return false;
    group.ready = false;
    return true;
  });
  std::erase_if(groups_, [](const auto& entry) { return !entry.second.held && entry.second.empty(); });
  return dropped;
}

}  // namespace sluice::worker

#include "worker/offset_tracker.h"

#include <algorithm>

namespace sluice::worker {

void OffsetTracker::assign(const TopicPartition& partition) {
  std::lock_guard<std::mutex> lock(mu_);
  partitions_[partition] = Partition{};
}

void OffsetTracker::forget(const TopicPartition& partition) {
  std::lock_guard<std::mutex> lock(mu_);
  partitions_.erase(partition);
}

bool OffsetTracker::tracks(const TopicPartition& partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  return partitions_.count(partition) > 0;
}

bool OffsetTracker::trackLocked(Partition& p, int64_t offset) {
  if (offset <= p.lastTracked) return false;
  p.entries.push_back({offset, false});
  p.lastTracked = offset;
  return true;
}

void OffsetTracker::completeLocked(Partition& p, int64_t offset) {
  auto entry = std::lower_bound(p.entries.begin(), p.entries.end(), offset,
                                [](const Entry& e, int64_t o) { return e.offset < o; });
  if (entry == p.entries.end() || entry->offset != offset || entry->done) return;
  entry->done = true;
  while (!p.entries.empty() && p.entries.front().done) {
    p.position = p.entries.front().offset + 1;
    p.entries.pop_front();
  }
}

bool OffsetTracker::track(const TopicPartition& partition, int64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(partition);
  return it != partitions_.end() && trackLocked(it->second, offset);
}

void OffsetTracker::complete(const TopicPartition& partition, int64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(partition);
  if (it != partitions_.end()) completeLocked(it->second, offset);
}

OffsetTracker::Partition* OffsetTracker::partitionOf(const Message& m,
                                                     std::map<TopicPartition, Partition>::iterator& cached) {
  const bool same =
      cached != partitions_.end() && cached->first.partition == m.partition && cached->first.topic == m.topic;
  if (!same) cached = partitions_.find(m.topicPartition());
  return cached == partitions_.end() ? nullptr : &cached->second;
}

void OffsetTracker::trackAll(std::vector<Message>& messages) {
  std::lock_guard<std::mutex> lock(mu_);
  auto cached = partitions_.end();
  std::erase_if(messages, [&](const Message& m) {
    Partition* p = partitionOf(m, cached);
    return !p || !trackLocked(*p, m.offset);
  });
}

void OffsetTracker::completeAll(std::span<const Message> messages) {
  std::lock_guard<std::mutex> lock(mu_);
  auto cached = partitions_.end();
  for (const auto& m : messages) {
    if (Partition* p = partitionOf(m, cached)) completeLocked(*p, m.offset);
  }
}

std::vector<PartitionOffset> OffsetTracker::committable() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PartitionOffset> out;
  for (const auto& [tp, p] : partitions_) {
    if (p.position) out.push_back({tp, *p.position});
  }
  return out;
}

std::vector<PartitionOffset> OffsetTracker::committable(const std::set<TopicPartition>& wanted) const {
  std::vector<PartitionOffset> out;
  for (auto& po : committable()) {
    if (wanted.count(po.partition)) out.push_back(std::move(po));
  }
  return out;
}

std::optional<int64_t> OffsetTracker::position(const TopicPartition& partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return std::nullopt;
  return it->second.position;
}

std::optional<int64_t> OffsetTracker::lastTracked(const TopicPartition& partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end() || it->second.lastTracked < 0) return std::nullopt;
  return it->second.lastTracked;
}

size_t OffsetTracker::outstanding(const TopicPartition& partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return 0;
  return static_cast<size_t>(std::count_if(it->second.entries.begin(), it->second.entries.end(),
                                           [](const Entry& e) { return !e.done; }));
}

}  // namespace sluice::worker

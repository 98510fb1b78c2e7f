#include "worker/batcher.h"

#include <algorithm>
#include <map>

namespace sluice::worker {

void Batcher::add(Message message) {
  const auto arrived = clock_.now();
  const int64_t bytes = budgetBytes(message);
  if (chunks_.empty() || chunks_.back().arrived != arrived)
    chunks_.emplace_back(Chunk{arrived, Batch{}, 0, 0});
  Chunk& chunk = chunks_.back();
  chunk.messages.push_back(std::move(message));
  chunk.bytes += bytes;
  ++size_;
  pendingBytes_ += bytes;
}

void Batcher::add(Batch messages, common::SteadyTime arrived, int64_t bytes) {
  if (messages.empty()) return;
  size_ += messages.size();
  pendingBytes_ += bytes;
  chunks_.emplace_back(Chunk{arrived, std::move(messages), 0, bytes});
}

bool Batcher::due() const {
  if (empty()) return false;
  if (static_cast<int64_t>(size_) >= limits_.maxMessages) return true;
  if (pendingBytes_ >= limits_.maxBytes) return true;
  return clock_.now() - chunks_.front().arrived >= limits_.maxWait;
}

common::Millis Batcher::untilDue() const {
  if (empty()) return limits_.maxWait;
  if (due()) return common::Millis(0);
  const auto waited = std::chrono::duration_cast<common::Millis>(clock_.now() - chunks_.front().arrived);
  return std::max(common::Millis(0), limits_.maxWait - waited);
}

size_t Batcher::roomInBatch() const {
  const auto max = static_cast<size_t>(std::max(1, limits_.maxMessages));
  return max - size_ % max;
}

// The chunk is a batch by itself: untouched, within the limits, and either full or alone.
bool Batcher::leavesWhole(const Chunk& chunk) const {
  if (chunk.head != 0 || static_cast<int64_t>(chunk.messages.size()) > limits_.maxMessages) return false;
  if (chunk.bytes > limits_.maxBytes && chunk.messages.size() > 1) return false;
  return static_cast<int64_t>(chunk.messages.size()) == limits_.maxMessages || chunks_.size() == 1;
}

Batch Batcher::take() {
  Batch batch;
  if (empty()) return batch;
  if (Chunk& front = chunks_.front(); leavesWhole(front)) {
    batch = std::move(front.messages);
    size_ -= batch.size();
    pendingBytes_ -= front.bytes;
    chunks_.pop_front();
    if (groupByKey_) groupKeys(batch);
    return batch;
  }
  batch.reserve(std::min(size_, static_cast<size_t>(limits_.maxMessages)));  // no regrowth moves
  int64_t bytes = 0;
  while (!chunks_.empty() && static_cast<int>(batch.size()) < limits_.maxMessages) {
    Chunk& chunk = chunks_.front();
    const int64_t cost = budgetBytes(chunk.messages[chunk.head]);
    if (!batch.empty() && bytes + cost > limits_.maxBytes) break;
    bytes += cost;
    chunk.bytes -= cost;
    batch.push_back(std::move(chunk.messages[chunk.head]));
    if (++chunk.head == chunk.messages.size()) chunks_.pop_front();
  }
  size_ -= batch.size();
  pendingBytes_ -= bytes;
  if (groupByKey_) groupKeys(batch);
  return batch;
}

void Batcher::groupKeys(Batch& batch) const {
  // Rank each (topic, key) by its first appearance, then stable-sort by rank.
  std::map<std::pair<std::string, std::optional<std::string>>, size_t> rank;
  std::vector<size_t> order(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    order[i] = rank.try_emplace({batch[i].topic, batch[i].key}, rank.size()).first->second;
  }
  std::vector<size_t> index(batch.size());
  for (size_t i = 0; i < index.size(); ++i) index[i] = i;
  std::stable_sort(index.begin(), index.end(), [&](size_t a, size_t b) { return order[a] < order[b]; });
  Batch grouped;
  grouped.reserve(batch.size());
  for (size_t i : index) grouped.push_back(std::move(batch[i]));
  batch = std::move(grouped);
}

Batch Batcher::removePartitions(const std::set<TopicPartition>& partitions) {
  Batch removed;
  auto revoked = [&](const Message& m) { return partitions.count(m.topicPartition()) > 0; };
  for (Chunk& chunk : chunks_) {
    const int64_t bytes = moveOutIf(chunk.messages, chunk.head, revoked, removed);
    chunk.bytes -= bytes;
    pendingBytes_ -= bytes;
  }
  size_ -= removed.size();
  chunks_.eraseIf([](const Chunk& chunk) { return chunk.pending() == 0; });
  return removed;
}

}  // namespace sluice::worker

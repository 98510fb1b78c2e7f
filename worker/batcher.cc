#include "worker/batcher.h"

#include <algorithm>
#include <map>

namespace sluice::worker {

void Batcher::add(Message message) { add(std::move(message), clock_.now()); }

void Batcher::add(Message message, common::SteadyTime arrived) {
  pendingBytes_ += budgetBytes(message);
  pending_.emplace_back(arrived, std::move(message));  // one move, no temporary
}

bool Batcher::due() const {
  if (pending_.empty()) return false;
  if (static_cast<int64_t>(pending_.size()) >= limits_.maxMessages) return true;
  if (pendingBytes_ >= limits_.maxBytes) return true;
  return clock_.now() - pending_.front().arrived >= limits_.maxWait;
}

common::Millis Batcher::untilDue() const {
  if (pending_.empty()) return limits_.maxWait;
  if (due()) return common::Millis(0);
  const auto waited = std::chrono::duration_cast<common::Millis>(clock_.now() - pending_.front().arrived);
  return std::max(common::Millis(0), limits_.maxWait - waited);
}

Batch Batcher::take() {
  Batch batch;
  batch.reserve(std::min(pending_.size(), static_cast<size_t>(limits_.maxMessages)));  // no regrowth moves
  int64_t bytes = 0;
  while (!pending_.empty() && static_cast<int>(batch.size()) < limits_.maxMessages) {
    const int64_t cost = budgetBytes(pending_.front().message);
    if (!batch.empty() && bytes + cost > limits_.maxBytes) break;
    bytes += cost;
    batch.push_back(std::move(pending_.front().message));
    pending_.pop_front();
  }
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
  auto revoked = std::stable_partition(pending_.begin(), pending_.end(), [&](const Pending& p) {
    return partitions.count(p.message.topicPartition()) == 0;
  });
  for (auto it = revoked; it != pending_.end(); ++it) {
    pendingBytes_ -= budgetBytes(it->message);
    removed.push_back(std::move(it->message));
  }
  pending_.eraseFrom(revoked);
  return removed;
}

}  // namespace sluice::worker

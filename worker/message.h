#pragma once
// The unit of work inside the worker: one consumed record, owned (copied out of the client library's
// buffers) so it can outlive the poll that produced it.
#include <algorithm>
#include <compare>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sluice::worker {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  std::string toString() const { return topic + "/" + std::to_string(partition); }
};

// A position to commit: the next offset to consume (last completed + 1), as Kafka defines it.
struct PartitionOffset {
  TopicPartition partition;
  int64_t offset = 0;
};

struct Message {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestampMs = -1;  // -1 when the broker gave none
  // NATS JetStream: topic is the subject, offset the stream sequence, partition 0, stream the stream.
  std::string stream;
  // The source's handle for acknowledging this one delivery (Acknowledgement::kPerMessage sources).
  uint64_t deliveryId = 0;
  // What the sink's wire encoding adds to the raw bytes (JSON escapes, base64), set by the pipeline
  // when the message is admitted (Sink::encodingExtraBytes) and counted by budgetBytes().
  int64_t encodingExtraBytes = 0;

  TopicPartition topicPartition() const { return {topic, partition}; }
};

// Fixed allowance per message for the struct, its strings and the allocator, so a flood of tiny
// messages still counts against the byte budget.
inline constexpr int64_t kMessageOverheadBytes = 160;

// What a message costs against the in-flight byte budget.
inline int64_t budgetBytes(const Message& m) {
  int64_t bytes =
      kMessageOverheadBytes + m.encodingExtraBytes + static_cast<int64_t>(m.value.size() + m.topic.size());
  if (m.key) bytes += static_cast<int64_t>(m.key->size());
  for (const auto& [name, value] : m.headers) bytes += static_cast<int64_t>(name.size() + value.size() + 64);
  return bytes;
}

using Batch = std::vector<Message>;

inline int64_t budgetBytes(std::span<const Message> messages) {
  int64_t bytes = 0;
  for (const auto& m : messages) bytes += budgetBytes(m);
  return bytes;
}

// Moves the messages of batch[from..] that `drop` holds for to the end of `out`, both keeping their
// order, and erases them from `batch`; returns their budgetBytes() total. (Revoked partitions: the
// batcher's chunks, the dispatcher's runs and parked work.)
template <typename Pred>
int64_t moveOutIf(Batch& batch, size_t from, Pred drop, Batch& out) {
  const auto first = std::stable_partition(batch.begin() + static_cast<std::ptrdiff_t>(from), batch.end(),
                                           [&](const Message& m) { return !drop(m); });
  int64_t bytes = 0;
  for (auto it = first; it != batch.end(); ++it) {
    bytes += budgetBytes(*it);
    out.push_back(std::move(*it));
  }
  batch.erase(first, batch.end());
  return bytes;
}

// Keeps, in order, the messages of batch[0..filled) whose partition is not in `revoked` at the front
// and returns how many; the others stay behind them as storage to reuse. A poll that saw a revoke
// drops what it fetched before it: a partition re-assigned within the same poll is fetched again
// from its last commit, and the stale copies would take the place of that refetch (the tracker
// refuses offsets below ones it saw) and let the commit pass messages the revoke dropped.
inline size_t keepUnrevoked(Batch& batch, size_t filled, const std::set<TopicPartition>& revoked) {
  const auto end = batch.begin() + static_cast<std::ptrdiff_t>(filled);
  const auto kept = std::stable_partition(
      batch.begin(), end, [&](const Message& m) { return revoked.count(m.topicPartition()) == 0; });
  return static_cast<size_t>(kept - batch.begin());
}

}  // namespace sluice::worker

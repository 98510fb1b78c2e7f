#pragma once
// The unit of work inside the worker: one consumed record, owned (copied out of the client library's
// buffers) so it can outlive the poll that produced it.
#include <compare>
#include <cstdint>
#include <optional>
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

  TopicPartition topicPartition() const { return {topic, partition}; }
};

// Fixed allowance per message for the struct, its strings and the allocator, so a flood of tiny
// messages still counts against the byte budget.
inline constexpr int64_t kMessageOverheadBytes = 160;

// What a message costs against the in-flight byte budget.
inline int64_t budgetBytes(const Message& m) {
  int64_t bytes = kMessageOverheadBytes + static_cast<int64_t>(m.value.size() + m.topic.size());
  if (m.key) bytes += static_cast<int64_t>(m.key->size());
  for (const auto& [name, value] : m.headers) bytes += static_cast<int64_t>(name.size() + value.size() + 64);
  return bytes;
}

using Batch = std::vector<Message>;

}  // namespace sluice::worker

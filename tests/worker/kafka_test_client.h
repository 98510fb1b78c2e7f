#pragma once
// Test-side Kafka access for the worker's integration tests (the only test file including
// librdkafka): create topics, produce, read committed offsets and consume a topic.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "worker/message.h"

namespace sluice::worker::testing {

struct Record {
  std::optional<std::string> key;
  std::string value;
  int32_t partition = -1;  // -1: by key hash
  std::vector<std::pair<std::string, std::string>> headers;
};

void createTopic(const std::string& bootstrap, const std::string& topic, int partitions);
void produce(const std::string& bootstrap, const std::string& topic, const std::vector<Record>& records);
// Committed offset per partition for the group (-1001 = none).
std::map<int32_t, int64_t> committedOffsets(const std::string& bootstrap, const std::string& group,
                                            const std::string& topic, int partitions);
std::map<int32_t, int64_t> highWatermarks(const std::string& bootstrap, const std::string& topic,
                                          int partitions);
// Reads the topic from the beginning until `expected` messages arrived or the timeout passed.
std::vector<Message> consumeAll(const std::string& bootstrap, const std::string& topic, size_t expected,
                                std::chrono::seconds timeout);

}  // namespace sluice::worker::testing

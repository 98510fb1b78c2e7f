#pragma once
// Message builders shared by the worker's unit tests.
#include <optional>
#include <string>

#include "worker/message.h"

namespace sluice::worker::testing {

inline Message msg(int32_t partition, int64_t offset, std::optional<std::string> key = std::nullopt,
                   std::string value = "v", std::string topic = "t") {
  Message m;
  m.topic = std::move(topic);
  m.partition = partition;
  m.offset = offset;
  m.key = std::move(key);
  m.value = std::move(value);
  return m;
}

}  // namespace sluice::worker::testing

#include "worker/simple_sinks.h"

#include <spdlog/spdlog.h>

#include "worker/http_delivery.h"

namespace sluice::worker {

DeliveryResult LogSink::deliver(std::span<const Message> batch) {
  for (const auto& m : batch) {
    const std::string value =
        isValidUtf8(m.value) ? m.value.substr(0, 200) : "base64:" + base64Encode(m.value.substr(0, 150));
    spdlog::info("message {}/{}@{} key={} value={}", m.topic, m.partition, m.offset, m.key.value_or("<none>"),
                 value);
  }
  return DeliveryResult::delivered();
}

}  // namespace sluice::worker

// libFuzzer target: an HTTP sink's Retry-After header (delay-seconds or an HTTP-date), which the
// destination controls. Any value must end in a delay of zero or more (RetryPolicy caps it) or nullopt.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "worker/http_delivery.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  // 2026-01-01T00:00:00Z: a fixed "now" keeps the runs deterministic.
  const sluice::common::WallTime now{std::chrono::seconds(1767225600)};
  const auto delay = sluice::worker::parseRetryAfter(value, now);
  if (delay && delay->count() < 0) std::abort();
  return 0;
}

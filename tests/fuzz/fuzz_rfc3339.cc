// libFuzzer target: RFC 3339 timestamps as the API server writes them (a Lease's renewTime, a
// report's lastHeartbeat), parsed by common::parseRfc3339. Any text must parse or be refused.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/time_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)sluice::common::parseRfc3339(text);
  return 0;
}

// libFuzzer target: the sluice.dev/report annotation of a worker's heartbeat Lease, which the operator
// decodes and folds into scaling decisions; anyone who may write Leases in the namespace controls it.
// Any text must decode or be refused; a decoded report must encode and decode to the same report.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/contract/worker_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view encoded(reinterpret_cast<const char*>(data), size);
  auto report = sluice::contract::decodeReport(encoded, "pod-0");
  if (!report.isOk()) return 0;
  auto again = sluice::contract::decodeReport(sluice::contract::encodeReport(report.value()), "pod-0");
  if (!again.isOk()) std::abort();  // what we encode, we must decode
  return 0;
}

#pragma once
// Kubernetes' time formats beyond metav1.Time (common::formatRfc3339 in clock.h), written by the
// operator (leader-election Lease) and the worker (heartbeat Lease) alike, and read back.
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace sluice::common {

// metav1.MicroTime, as Lease spec.renewTime/acquireTime want it: 2026-11-22T21:04:35.123456Z
std::string formatMicroTime(WallTime t);

// RFC 3339 "2026-01-01T00:00:00Z" (fractional seconds and offsets accepted) -> wall time.
Result<WallTime> parseRfc3339(std::string_view text);

}  // namespace sluice::common

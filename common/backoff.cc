#include "common/backoff.h"

#include <algorithm>
#include <cmath>

namespace sluice::common {

std::chrono::milliseconds Backoff::delayFor(int retry) const {
  const double maxMs = static_cast<double>(policy_.max.count());
  const int exponent = std::max(0, retry - 1);
  double base = static_cast<double>(policy_.initial.count()) * std::pow(policy_.multiplier, exponent);
  base = std::min(base, maxMs);
  // uniform01 in [0,1) maps to a factor in [1 - jitter, 1 + jitter).
  const double factor = 1.0 + policy_.jitter * (2.0 * random_.uniform01() - 1.0);
  const double delay = std::clamp(base * factor, 0.0, maxMs);
  return std::chrono::milliseconds(static_cast<long long>(std::llround(delay)));
}

}  // namespace sluice::common

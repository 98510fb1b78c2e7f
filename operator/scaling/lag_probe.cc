#include "operator/scaling/lag_probe.h"

#include <algorithm>

namespace sluice::scaling {

int LagSnapshot::partitionsWithLag() const {
  return static_cast<int>(
      std::count_if(partitions.begin(), partitions.end(), [](const PartitionLag& p) { return p.lag > 0; }));
}

int64_t LagSnapshot::maxPartitionLag() const {
  int64_t highest = 0;
  for (const PartitionLag& p : partitions) highest = std::max(highest, p.lag);
  return highest;
}

int64_t effectiveCommitted(int64_t low, int64_t high, std::optional<int64_t> committed,
                           spec::StartFrom startFrom) {
  low = std::max<int64_t>(low, 0);
  high = std::max(high, low);
  if (!committed || *committed < 0) {
    switch (startFrom) {
      case spec::StartFrom::kEarliest:
        return low;
      case spec::StartFrom::kLatest:
        return high;
    }
  }
  return std::clamp(*committed, low, high);
}

int64_t partitionLag(int64_t low, int64_t high, std::optional<int64_t> committed, spec::StartFrom startFrom) {
  return std::max(high, std::max<int64_t>(low, 0)) - effectiveCommitted(low, high, committed, startFrom);
}

LagSnapshot summarize(std::vector<PartitionLag> partitions, spec::StartFrom startFrom) {
  LagSnapshot s;
  for (const PartitionLag& p : partitions) {
    s.totalLag += p.lag;
    s.producedSum += p.high;
    s.consumedSum += effectiveCommitted(p.low, p.high, p.committed, startFrom);
  }
  s.partitionCount = static_cast<int>(partitions.size());
  s.partitions = std::move(partitions);
  return s;
}

}  // namespace sluice::scaling

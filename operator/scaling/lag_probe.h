#pragma once
// LagProbe: how far the pipeline's consumers are behind, measured at the source. Implementations:
// KafkaLagProbe (kafka_lag_probe.h, the only scaling file that includes librdkafka) and
// NatsLagProbe (nats_lag_probe.h, the only one that includes nats.c). Tests and the benchmark can
// implement it with fixed numbers.
//
// Errors: NotFound = the topic, stream or consumer does not exist (a condition, the replicas hold);
// anything else = the source could not be asked this time (SourceReachable=False, the replicas hold).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/spec/pipeline.h"

namespace sluice::scaling {

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t low = 0;                   // oldest retained offset
  int64_t high = 0;                  // next offset to be written
  std::optional<int64_t> committed;  // the group's committed offset; nullopt = never committed
  int64_t lag = 0;
};

struct LagSnapshot {
  int64_t totalLag = 0;
  std::vector<PartitionLag> partitions;  // Kafka only
  std::optional<int> partitionCount;     // Kafka only
  // Monotonic counters for RateTracker: messages that arrived and messages the group finished.
  // Kafka: sum of high watermarks / sum of effective committed offsets.
  // NATS: ack floor + ack pending + pending / ack floor (consumer sequences; redeliveries count).
  int64_t producedSum = 0;
  int64_t consumedSum = 0;
  int partitionsWithLag() const;
  int64_t maxPartitionLag() const;
};

class LagProbe {
 public:
  virtual ~LagProbe() = default;
  virtual common::Result<LagSnapshot> probe() = 0;
};

// Retention-safe lag of one partition: never more than high - low (records deleted by retention
// cannot be consumed), never negative; without a committed offset, startFrom decides
// (earliest: everything retained is lag, latest: nothing is).
int64_t partitionLag(int64_t low, int64_t high, std::optional<int64_t> committed, spec::StartFrom startFrom);

// Where the group effectively stands: the committed offset clamped into [low, high], or startFrom's
// position without one. Used for consumedSum so deleted records do not count as consumed later.
int64_t effectiveCommitted(int64_t low, int64_t high, std::optional<int64_t> committed,
                           spec::StartFrom startFrom);

// Fills totals, producedSum and consumedSum from `partitions` (whose lag fields must be set).
LagSnapshot summarize(std::vector<PartitionLag> partitions, spec::StartFrom startFrom);

}  // namespace sluice::scaling

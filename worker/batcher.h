#pragma once
// Batcher: collects consumed messages and says when they make a batch: maxMessages or maxBytes
// reached, or the oldest message has waited maxWait (spec.batch). With ordering `key` a batch is
// grouped by key (stable: each key's messages keep their order; keys appear in the order their
// first message arrived), so sinks receive runs of one key together.
// Threading: owned by the consumer thread; not thread-safe. Time comes from the injected clock.
#include <chrono>
#include <set>

#include "common/clock.h"
#include "worker/message.h"
#include "worker/vec_queue.h"

namespace sluice::worker {

struct BatchLimits {
  int maxMessages = 500;
  int64_t maxBytes = 1 << 20;
  common::Millis maxWait{2000};
};

class Batcher {
 public:
  Batcher(BatchLimits limits, bool groupByKey, const common::Clock& clock)
      : limits_(limits), groupByKey_(groupByKey), clock_(clock) {}

  void add(Message message);
  void add(Message message, common::SteadyTime arrived);  // saves a clock read per message
  bool due() const;
  // How long until due() turns true with no more arrivals (zero when due; maxWait when empty).
  common::Millis untilDue() const;
  // Up to the limits (always at least one message when not empty), oldest first.
  Batch take();
  // Removes pending messages of these partitions (revoked); returns them so the caller can
  // release their budget.
  Batch removePartitions(const std::set<TopicPartition>& partitions);

  bool empty() const { return pending_.empty(); }
  size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    common::SteadyTime arrived;
    Message message;
  };
  void groupKeys(Batch& batch) const;

  BatchLimits limits_;
  bool groupByKey_;
  const common::Clock& clock_;
  VecQueue<Pending> pending_;
  int64_t pendingBytes_ = 0;
};

}  // namespace sluice::worker

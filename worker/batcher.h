#pragma once
// Batcher: collects consumed messages and says when they make a batch: maxMessages or maxBytes
// reached, or the oldest message has waited maxWait (spec.batch). With ordering `key` a batch is
// grouped by key (stable: each key's messages keep their order; keys appear in the order their
// first message arrived), so sinks receive runs of one key together.
// Messages are kept in the chunks they arrived in (a poll's worth). A chunk that is a batch by
// itself (it fills maxMessages, or nothing else is pending) and fits the limits leaves whole: the
// hot path moves one vector per batch instead of every message. The pipeline sizes its polls so
// that chunks line up with batches.
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

  void add(Message message);  // joins the last chunk when it arrived at the same clock reading
  // A poll's worth that arrived together; `bytes` is their budgetBytes() total.
  void add(Batch messages, common::SteadyTime arrived, int64_t bytes);
  bool due() const;
  // How long until due() turns true with no more arrivals (zero when due; maxWait when empty).
  common::Millis untilDue() const;
  // Up to the limits (always at least one message when not empty), oldest first.
  Batch take();
  // Removes pending messages of these partitions (revoked); returns them so the caller can
  // release their budget.
  Batch removePartitions(const std::set<TopicPartition>& partitions);

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Messages still to add before the pending ones fill a batch (maxMessages when none pending).
  size_t roomInBatch() const;

 private:
  struct Chunk {
    common::SteadyTime arrived;
    Batch messages;
    size_t head = 0;    // messages[head..] are pending
    int64_t bytes = 0;  // of the pending ones
    size_t pending() const { return messages.size() - head; }
  };
  bool leavesWhole(const Chunk& chunk) const;
  void groupKeys(Batch& batch) const;

  BatchLimits limits_;
  bool groupByKey_;
  const common::Clock& clock_;
  VecQueue<Chunk> chunks_;
  size_t size_ = 0;
  int64_t pendingBytes_ = 0;
};

}  // namespace sluice::worker

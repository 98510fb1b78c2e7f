#pragma once
// OffsetTracker: per partition, the offsets handed to the pipeline and which of them are done
// (delivered or dead-lettered). The commit position is the lowest contiguous completed offset + 1,
// so out-of-order completion (lanes finish in any order) never commits past unfinished work.
// Offsets need not be consecutive (compaction, transaction markers): order comes from track().
// Threading: track/assign/forget on the consumer thread, complete from lanes; internally locked.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "worker/message.h"
#include "worker/vec_queue.h"

namespace sluice::worker {

class OffsetTracker {
 public:
  void assign(const TopicPartition& partition);
  void forget(const TopicPartition& partition);
  bool tracks(const TopicPartition& partition) const;

  // Offsets must be tracked in increasing order per partition. Returns false (and ignores the
  // offset) for a partition that is not assigned or an offset not above the last one tracked.
  bool track(const TopicPartition& partition, int64_t offset);
  // Unknown partitions or offsets are ignored (work finishing after its partition was revoked).
  void complete(const TopicPartition& partition, int64_t offset);

  // The batch forms of track() and complete(), one lock per call and one partition look-up per
  // run of same-partition messages (the hot path: a poll's worth, a delivered batch).
  // trackAll removes the messages track() would refuse.
  void trackAll(std::vector<Message>& messages);
  void completeAll(std::span<const Message> messages);

  // The commit position of every partition that has one (lowest contiguous completed + 1).
  std::vector<PartitionOffset> committable() const;
  std::vector<PartitionOffset> committable(const std::set<TopicPartition>& partitions) const;
  std::optional<int64_t> position(const TopicPartition& partition) const;
  // The highest offset tracked since the partition was assigned.
  std::optional<int64_t> lastTracked(const TopicPartition& partition) const;
  // Tracked offsets not yet completed.
  size_t outstanding(const TopicPartition& partition) const;

 private:
  struct Entry {
    int64_t offset;
    bool done;
  };
  struct Partition {
    VecQueue<Entry> entries;          // a deque allocated and freed a block per 32 entries
    std::optional<int64_t> position;  // next offset to commit
    int64_t lastTracked = -1;
  };

  // The partition of `m`, reusing `cached` when `m` is in the same one (caller holds mu_).
  Partition* partitionOf(const Message& m, std::map<TopicPartition, Partition>::iterator& cached);
  static bool trackLocked(Partition& p, int64_t offset);
  static void completeLocked(Partition& p, int64_t offset);

  mutable std::mutex mu_;
  std::map<TopicPartition, Partition> partitions_;
};

}  // namespace sluice::worker

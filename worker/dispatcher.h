#pragma once
// Dispatcher: hands batches to processing.concurrency lanes while keeping the order the spec asks
// for. Messages are queued per ordering group: (topic, partition, key) for `key`, (topic,
// partition) for `partition`, one shared free-for-all queue for `none`. A lane takes work made of
// whole runs of groups that nobody else holds; while a lane holds a group (delivering, or parked
// for a retry) no other lane may take that group's later messages. A retry therefore parks only
// its own keys/partitions: the other groups keep flowing to the other lanes.
// A group queues runs (vectors) of its messages as they came in a batch. A run that is a whole
// batch, or that fills an empty work by itself, becomes the work's message vector as it is: with
// `none`, or `partition` and single-partition batches, a batch reaches a lane without a per-message
// move.
// Threading: not thread-safe; the pipeline guards it with its mutex. Time is passed in.
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/spec/pipeline.h"
#include "worker/message.h"
#include "worker/vec_queue.h"

namespace sluice::worker {

// An ordering group: (topic, partition, key) for `key`, (topic, partition) for `partition`, the one
// empty key for `none`. A message without a key and one with an empty key are in different groups.
struct GroupKey {
  std::string topic;
  int32_t partition = 0;
  std::optional<std::string> key;

  bool operator==(const GroupKey&) const = default;
};

struct GroupKeyHash {
  size_t operator()(const GroupKey& g) const;
};

struct Work {
  uint64_t id = 0;
  Batch messages;
  int attempts = 0;              // delivery attempts made so far
  std::vector<GroupKey> groups;  // ordering groups this work holds
  uint64_t takenAt = 0;          // Lanes' revocation count when a lane took it (Lanes::dropRevoked)
};

class Dispatcher {
 public:
  Dispatcher(spec::Ordering ordering, int maxMessages, int64_t maxBytes)
      : ordering_(ordering), maxMessages_(maxMessages), maxBytes_(maxBytes) {}

  void submit(Batch batch);
  // Work for a free lane: a parked retry that is due first, else queued messages of free groups
  // up to the batch limits. nullopt when nothing can run now.
  std::optional<Work> take(common::SteadyTime now);
  // The lane finished (delivered, dead-lettered or gave up) the work: its groups are free again.
  void complete(const Work& work);
  // Parks the work until `when`; its groups stay held so their later messages wait behind it.
  void retryAt(Work work, common::SteadyTime when);
  std::optional<common::SteadyTime> nextRetryAt() const;
  // Removes queued and parked messages of these partitions (revoked) and returns them.
  Batch dropPartitions(const std::set<TopicPartition>& partitions);

  size_t queuedMessages() const { return queued_; }
  // Queued messages of groups no lane holds: take() has work for one more lane.
  bool hasReady() const { return !ready_.empty(); }
  size_t parkedWork() const { return parked_.size(); }
  bool idle() const { return queued_ == 0 && parked_.empty(); }

  // The ordering group a message belongs to (exposed for tests).
  GroupKey groupOf(const Message& message) const;

 private:
  struct Run {
    Batch messages;
    size_t head = 0;    // messages[head..] are queued
    int64_t bytes = 0;  // of the queued ones
  };
  struct Group {
    VecQueue<Run> runs;
    bool held = false;
    bool ready = false;  // listed in ready_
    bool empty() const { return runs.empty(); }
    const Message& front() const { return runs.front().messages[runs.front().head]; }
  };
  struct Parked {
    common::SteadyTime when;
    Work work;
  };
  bool holdsGroups() const { return ordering_ != spec::Ordering::kNone; }
  bool sameGroup(const Message& a, const Message& b) const;
  void markReady(const GroupKey& name, Group& group);
  void enqueue(GroupKey name, Run run);
  bool takeFromGroup(Group& group, Work& work, int64_t& bytes);

  spec::Ordering ordering_;
  int maxMessages_;
  int64_t maxBytes_;
  std::unordered_map<GroupKey, Group, GroupKeyHash> groups_;
  std::deque<GroupKey> ready_;  // groups with queued messages that no lane holds
  std::vector<Parked> parked_;
  size_t queued_ = 0;
  uint64_t nextId_ = 1;
};

}  // namespace sluice::worker

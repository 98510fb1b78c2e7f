#pragma once
// Lanes: the processing.concurrency threads that deliver, and the work they share with the
// consumer thread (the Dispatcher, what each partition has in a lane, stalled work, settlements).
//
// Delivery: a failed batch is parked in the dispatcher with a backoff (only its own groups wait).
// When it has no attempts left, or fails terminally, Isolation delivers its messages one by one so
// the bad ones are isolated and dead-lettered; one that can be neither delivered nor dead-lettered
// stops its lane (the work stays held, nothing after it in its group is delivered or committed) and
// the worker reports Degraded.
//
// Completion: for Kafka (Acknowledgement::kOffsets) lanes mark offsets done in the OffsetTracker
// and the consumer thread commits the contiguous prefix. For NATS (kPerMessage) lanes queue one
// Settlement per message (delivered, dead-lettered, or released when the worker gives it up) that
// the consumer thread takes with takeSettlements().
//
// Threading: the dispatcher, held counts and stalled work are guarded by mu_; settlements by
// settleMu_; FlowControl, OffsetTracker and MessagePool guard themselves.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/dead_letterer.h"
#include "worker/dispatcher.h"
#include "worker/flow_control.h"
#include "worker/isolation.h"
#include "worker/message_pool.h"
#include "worker/offset_tracker.h"
#include "worker/retry_policy.h"
#include "worker/sink.h"
#include "worker/source.h"
#include "worker/stats.h"
#include "worker/stop_signal.h"

namespace sluice::worker {

class Lanes {
 public:
  // `flow`, `tracker` and `pool` belong to the consumer loop and must outlive this.
  Lanes(const spec::PipelineSpec& spec, Sink& sink, DeadLetterer& deadLetter, WorkerStats& stats,
        common::Clock& clock, common::Random& random, FlowControl& flow, OffsetTracker& tracker,
        MessagePool& pool);
  ~Lanes();
  Lanes(const Lanes&) = delete;
  Lanes& operator=(const Lanes&) = delete;

  // Starts the lane threads; completion follows the source's acknowledgement.
  void start(Acknowledgement acknowledgement);
  // Joins the lane threads (after abandon(), or when nothing is left to deliver).
  void stop();
  // The worker is stopping: waits between attempts end, undelivered work is given up (released).
  void abandon();
  bool abandoned() const { return abandon_.stopped(); }

  // Consumer thread.
  void submit(Batch batch);
  // Removes the queued, parked and stalled messages of these partitions (revoked) and returns them.
  Batch dropPartitions(const std::set<TopicPartition>& partitions);
  // Waits until no lane holds a message of these partitions, or the deadline.
  void waitForPartitions(const std::set<TopicPartition>& partitions, common::SteadyTime deadline);
  // Waits until a lane lets messages go, at most `atMost`.
  void waitForRoom(common::Millis atMost);
  std::vector<Settlement> takeSettlements();

  // Fails once a lane stopped on a message it could neither deliver nor dead-letter.
  common::Status health() const;

 private:
  void laneLoop();
  std::optional<Work> nextWork();
  void process(Work work);
  void isolate(Work work, const DeliveryResult& failure);
  void completeMessages(std::span<const Message> messages, Disposition disposition);
  void giveUp(std::span<const Message> messages, common::Millis redeliverAfter);
  void settle(std::span<const Message> messages, Disposition disposition, common::Millis redeliverAfter);
  common::Millis backoffAfter(int attempts, const DeliveryResult& failure) const;
  void releaseWork(const Work& work);
  void letGo(std::span<const Message> messages);
  void unhold(std::span<const Message> messages);
  void countHeld(std::span<const Message> messages, int64_t delta);
  void park(Work work, common::Millis delay);
  void stall(Work work, size_t from, const std::string& error);
  bool dropRevoked(Work& work);

  const int concurrency_;
  Sink& sink_;
  DeadLetterer& deadLetter_;
  WorkerStats& stats_;
  common::Clock& clock_;
  RetryPolicy retry_;
  FlowControl& flow_;
  OffsetTracker& tracker_;
  MessagePool& pool_;
  StopSignal abandon_;
  Isolation isolation_;

  mutable std::mutex mu_;
  std::condition_variable workCv_;  // lanes wait for work
  std::condition_variable doneCv_;  // revoke/drain wait for work to finish
  Dispatcher dispatcher_;
  std::map<TopicPartition, int64_t> held_;  // messages lanes hold, per partition
  std::vector<Work> stalled_;
  std::string degradedReason_;
  // Revocations so far, and the count at each partition's latest: work taken before its
  // partition's revoke is not this worker's any more (dropRevoked).
  uint64_t revocations_ = 0;
  std::map<TopicPartition, uint64_t> revokedAt_;

  std::atomic<bool> lanesStop_{false};
  bool perMessage_ = false;  // set by start() before the lanes run
  std::mutex settleMu_;
  std::vector<Settlement> settlements_;
  std::vector<std::thread> lanes_;
};

}  // namespace sluice::worker

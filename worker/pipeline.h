#pragma once
// Pipeline: source -> flow control -> batcher -> dispatcher -> lanes -> sink -> offset tracker.
//
// Threads: the caller's thread is the consumer thread (polls the Source, applies flow control,
// batches, commits, handles rebalances, drains on stop). processing.concurrency lane threads take
// Work from the Dispatcher and deliver it. Shared state (dispatcher, held counts, stalled work) is
// guarded by mu_; OffsetTracker and FlowControl guard themselves.
//
// Delivery: a failed batch is parked in the dispatcher with a backoff (only its own groups wait).
// When it has no attempts left, or fails terminally, its messages are delivered one by one so the
// bad ones are isolated; each of those gets its own attempts, then goes to the dead-letter sink, or,
// without one, stops its lane (the work stays held, nothing after it in its group is delivered or
// committed) and the worker reports Degraded.
//
// Completion: for Kafka (Acknowledgement::kOffsets) lanes mark offsets done in the OffsetTracker and
// the consumer thread commits the contiguous prefix. For NATS (kPerMessage) lanes queue one
// Settlement per message (delivered, dead-lettered, or released when the worker gives it up) and the
// consumer thread hands them to Source::settle() on every turn of its loop.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/batcher.h"
#include "worker/dispatcher.h"
#include "worker/flow_control.h"
#include "worker/message_pool.h"
#include "worker/metrics.h"
#include "worker/offset_tracker.h"
#include "worker/retry_policy.h"
#include "worker/sink.h"
#include "worker/source.h"

namespace sluice::worker {

struct PipelineTiming {
  common::Millis commitInterval{1000};
  common::Millis revokeBound{30000};  // how long a revoke waits for the partitions' in-flight work
};

class Pipeline final : public RebalanceListener {
 public:
  Pipeline(const spec::PipelineSpec& spec, Sink& sink, DeadLetterSink* deadLetter, WorkerMetrics& metrics,
           common::Clock& clock, common::Random& random, PipelineTiming timing = {});
  ~Pipeline() override;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Runs on the calling thread until stopRequested() returns true; then calls onStopping(), stops
  // fetching, drains in-flight work within drainTimeout, commits and closes the source.
  common::Status run(Source& source, const std::function<bool()>& stopRequested, common::Millis drainTimeout,
                     const std::function<void()>& onStopping);

  // Fails once a lane stopped on a message it could neither deliver nor dead-letter.
  common::Status health() const;

  void onAssigned(const std::vector<TopicPartition>& partitions) override;
  std::vector<PartitionOffset> onRevoking(const std::vector<TopicPartition>& partitions, bool lost) override;

 private:
  struct SingleOutcome {
    bool delivered = false;
    bool abandoned = false;
    std::string error;
    int attempts = 0;
  };

  // Consumer thread.
  common::Status pollOnce(Source& source);
  void admit(std::vector<Message> messages);
  void flushBatches(bool everything);
  void acknowledge(Source& source);
  void applyFlowControl(Source& source);
  void waitForRoom(common::Millis atMost);
  void periodic(Source& source);
  void drain(Source& source, common::Millis timeout);
  void waitForPartitions(const std::set<TopicPartition>& partitions, common::SteadyTime deadline);
  void dropPartitions(const std::set<TopicPartition>& partitions);
  // Lanes.
  void laneLoop();
  std::optional<Work> nextWork();
  void process(Work work);
  void isolate(Work work, const DeliveryResult& failure);
  SingleOutcome deliverSingle(const Message& message);
  bool deadLetter(const Message& message, const std::string& error, int attempts);
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
  bool sleepFor(common::Millis delay);
  void observe(size_t messages, common::SteadyTime started);

  const spec::PipelineSpec spec_;
  Sink& sink_;
  DeadLetterSink* deadLetter_;
  WorkerMetrics& metrics_;
  common::Clock& clock_;
  RetryPolicy retry_;
  PipelineTiming timing_;
  FlowControl flow_;
  Batcher batcher_;
  OffsetTracker tracker_;
  MessagePool pool_;  // delivered batches' storage, reused by the next polls

  mutable std::mutex mu_;
  std::condition_variable workCv_;  // lanes wait for work
  std::condition_variable doneCv_;  // revoke/drain wait for work to finish
  Dispatcher dispatcher_;
  std::map<TopicPartition, int64_t> held_;  // messages lanes hold, per partition
  std::vector<Work> stalled_;
  std::string degradedReason_;

  std::mutex sleepMu_;
  std::condition_variable sleepCv_;
  std::atomic<bool> abandon_{false};
  std::atomic<bool> lanesStop_{false};
  bool perMessage_ = false;  // set by run() before the lanes start
  common::Millis holdFor_{0};  // Source::holdBeforePause(), set by run()
  std::mutex settleMu_;
  std::vector<Settlement> settlements_;  // queued by lanes, handed to the source by the consumer thread
  std::vector<std::thread> lanes_;

  // Consumer thread only.
  common::SteadyTime lastPeriodic_{};
  Source* source_ = nullptr;
};

}  // namespace sluice::worker

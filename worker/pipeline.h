#pragma once
// Pipeline: source -> flow control -> batcher -> lanes (dispatcher -> sink) -> offset tracker.
//
// Threads: the caller's thread is the consumer thread: it polls the Source, applies flow control,
// batches, hands batches to the Lanes, commits or settles, handles rebalances and drains on stop.
// How a batch is delivered, retried, isolated and dead-lettered is the Lanes' job (lanes.h).
#include <functional>
#include <set>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/batcher.h"
#include "worker/dead_letterer.h"
#include "worker/flow_control.h"
#include "worker/lanes.h"
#include "worker/message_pool.h"
#include "worker/offset_tracker.h"
#include "worker/sink.h"
#include "worker/source.h"
#include "worker/stats.h"

namespace sluice::worker {

struct PipelineTiming {
  common::Millis commitInterval{1000};
  common::Millis revokeBound{30000};  // how long a revoke waits for the partitions' in-flight work
};

class Pipeline final : public RebalanceListener {
 public:
  // `deadLetter` is shared with the source (dead-letter on arrival) and must outlive this.
  Pipeline(const spec::PipelineSpec& spec, Sink& sink, DeadLetterer& deadLetter, WorkerStats& stats,
           common::Clock& clock, common::Random& random, PipelineTiming timing = {});
  ~Pipeline() override = default;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Runs on the calling thread until stopRequested() returns true; then calls onStopping(), stops
  // fetching, drains in-flight work within drainTimeout, commits and closes the source.
  common::Status run(Source& source, const std::function<bool()>& stopRequested, common::Millis drainTimeout,
                     const std::function<void()>& onStopping);

  // Fails once a lane stopped on a message it could neither deliver nor dead-letter.
  common::Status health() const { return lanes_.health(); }

  void onAssigned(const std::vector<TopicPartition>& partitions) override;
  std::vector<PartitionOffset> onRevoking(const std::vector<TopicPartition>& partitions, bool lost) override;

 private:
  common::Status pollOnce(Source& source);
  void admit(std::vector<Message> messages);
  void flushBatches(bool everything);
  void acknowledge(Source& source);
  void applyFlowControl(Source& source);
  void periodic(Source& source);
  void drain(Source& source, common::Millis timeout);
  void dropPartitions(const std::set<TopicPartition>& partitions);

  const spec::PipelineSpec spec_;
  WorkerStats& stats_;
  common::Clock& clock_;
  PipelineTiming timing_;
  FlowControl flow_;
  Batcher batcher_;
  OffsetTracker tracker_;
  MessagePool pool_;  // delivered batches' storage, reused by the next polls
  const Sink& sink_;
  Lanes lanes_;  // after what it refers to: stopped and joined first

  // Consumer thread only.
  bool perMessage_ = false;    // the source settles messages instead of committing offsets
  common::Millis holdFor_{0};  // Source::holdBeforePause(), set by run()
  common::SteadyTime lastPeriodic_{};
};

}  // namespace sluice::worker

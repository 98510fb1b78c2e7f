#include "worker/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;

FlowBudget budgetOf(const spec::BackpressureSpec& b) {
  return {b.maxInFlightMessages, b.maxInFlightBytes, b.resumeRatio};
}

BatchLimits limitsOf(const spec::BatchSpec& b) {
  return {b.maxMessages, b.maxBytes, common::Millis(b.maxWaitMs)};
}

}  // namespace

Pipeline::Pipeline(const spec::PipelineSpec& spec, Sink& sink, DeadLetterer& deadLetter, WorkerStats& stats,
                   common::Clock& clock, common::Random& random, PipelineTiming timing)
    : spec_(spec),
      stats_(stats),
      clock_(clock),
      timing_(timing),
      flow_(budgetOf(spec.backpressure)),
      batcher_(limitsOf(spec.batch), spec::effectiveOrdering(spec) == spec::Ordering::kKey, clock),
      pool_(spec.backpressure.maxInFlightMessages, spec.backpressure.maxInFlightBytes / 8),
      sink_(sink),
      lanes_(spec, sink, deadLetter, stats, clock, random, flow_, tracker_, pool_) {}

common::Status Pipeline::run(Source& source, const std::function<bool()>& stopRequested,
                             common::Millis drainTimeout, const std::function<void()>& onStopping) {
  perMessage_ = source.acknowledgement() == Acknowledgement::kPerMessage;
  holdFor_ = source.holdBeforePause();
  lanes_.start(source.acknowledgement());
  common::Status status;
  while (!stopRequested()) {
    status = pollOnce(source);
    if (!status) break;
    periodic(source);
  }
  if (onStopping) onStopping();
  drain(source, drainTimeout);
  return status;
}

common::Status Pipeline::pollOnce(Source& source) {
  acknowledge(source);
  applyFlowControl(source);
  if (flow_.state() == FlowState::kHolding) {
    lanes_.waitForRoom(batcher_.empty() ? 20ms : std::min<common::Millis>(batcher_.untilDue(), 20ms));
    flushBatches(false);
    return common::Status::ok();
  }
  const bool paused = flow_.state() == FlowState::kPaused;
  const common::Millis timeout =
      batcher_.empty() ? 100ms : std::min<common::Millis>(batcher_.untilDue(), 100ms);
  // Polls sized to complete the pending batch, so a poll's chunk usually leaves the batcher whole.
  const auto batchRoom = static_cast<int64_t>(batcher_.roomInBatch());
  const size_t max =
      paused ? 1 : static_cast<size_t>(std::clamp<int64_t>(std::min(flow_.room(), batchRoom), 1, 5000));
  Batch messages = pool_.take();
  if (auto st = source.poll(timeout, max, messages); !st) return st;
  admit(std::move(messages));
  flushBatches(false);
  return common::Status::ok();
}

void Pipeline::admit(std::vector<Message> messages) {
  // Not assigned (any more): its new owner consumes it.
  if (!perMessage_) tracker_.trackAll(messages);
  if (messages.empty()) return;
  for (auto& m : messages) m.encodingExtraBytes = sink_.encodingExtraBytes(m);
  const size_t count = messages.size();
  const int64_t bytes = budgetBytes(messages);
  flow_.admit(static_cast<int64_t>(count), bytes);
  batcher_.add(std::move(messages), clock_.now(), bytes);  // one chunk: they arrived together
  stats_.consumed(count);
}

void Pipeline::flushBatches(bool everything) {
  while (batcher_.due() || (everything && !batcher_.empty())) lanes_.submit(batcher_.take());
}

void Pipeline::acknowledge(Source& source) {
  const std::vector<Settlement> settled = lanes_.takeSettlements();
  if (settled.empty()) return;
  if (auto st = source.settle(settled); !st)
    spdlog::warn("acknowledging {} message(s): {}", settled.size(), st.toString());
}

void Pipeline::applyFlowControl(Source& source) {
  const FlowState before = flow_.state();
  const FlowState now = flow_.evaluate(clock_.now(), holdFor_);
  if (before == now) return;
  switch (now) {
    case FlowState::kHolding:
      spdlog::debug(
          "in-flight budget reached ({} messages, {} bytes): holding for up to {} ms before pausing fetch",
          flow_.messages(), flow_.bytes(), holdFor_.count());
      break;
    case FlowState::kPaused:
      spdlog::info("in-flight budget reached ({} messages, {} bytes): pausing fetch", flow_.messages(),
                   flow_.bytes());
      if (auto st = source.pauseAll(); !st) spdlog::warn("pause: {}", st.toString());
      break;
    case FlowState::kFlowing:
      if (before != FlowState::kPaused) break;  // a hold ended: the source was never paused
      spdlog::info("in-flight back to the low watermark ({} messages, {} bytes): resuming fetch",
                   flow_.messages(), flow_.bytes());
      if (auto st = source.resumeAll(); !st) spdlog::warn("resume: {}", st.toString());
      break;
  }
}

void Pipeline::periodic(Source& source) {
  const auto now = clock_.now();
  if (now - lastPeriodic_ < timing_.commitInterval) return;
  lastPeriodic_ = now;
  if (auto st = source.commit(tracker_.committable(), false); !st)
    spdlog::warn("storing offsets: {}", st.toString());
  stats_.inFlight(flow_.messages(), flow_.bytes());
  stats_.pausedPartitions(source.pausedPartitions());
  for (const auto& w : source.watermarks()) {
    if (w.lag) {
      stats_.setLag(w.partition, *w.lag);
      continue;
    }
    if (w.high < 0) continue;
    auto position = tracker_.position(w.partition);
    if (!position) {
      const auto consumed = tracker_.lastTracked(w.partition);
      if (!consumed) continue;
      position = *consumed + 1;
    }
    stats_.setLag(w.partition, std::max<int64_t>(0, w.high - *position));
  }
}

void Pipeline::drain(Source& source, common::Millis timeout) {
  spdlog::info("stopping: fetch paused, draining {} in-flight message(s) within {} ms", flow_.messages(),
               timeout.count());
  if (auto st = source.pauseAll(); !st) spdlog::warn("pause: {}", st.toString());
  flushBatches(true);
  const auto deadline = clock_.now() + timeout;
  while (flow_.messages() > 0 && clock_.now() < deadline) {
    // Keep serving the group (heartbeats, rebalances); paused partitions return nothing new.
    acknowledge(source);
    Batch ignored;  // paused: nothing new comes
    (void)source.poll(50ms, 1, ignored);
    periodic(source);
  }
  if (flow_.messages() > 0) {
    spdlog::warn(
        "drain deadline passed with {} message(s) undelivered: they stay uncommitted and will be redelivered",
        flow_.messages());
  }
  lanes_.abandon();
  acknowledge(source);
  if (auto st = source.commit(tracker_.committable(), true); !st)
    spdlog::warn("final commit: {}", st.toString());
  if (auto st = source.close(); !st) spdlog::warn("closing the source: {}", st.toString());
  lanes_.stop();
  spdlog::info("stopped: {} message(s) still in flight were not committed", flow_.messages());
}

void Pipeline::onAssigned(const std::vector<TopicPartition>& partitions) {
  stats_.rebalanced();
  for (const auto& tp : partitions) tracker_.assign(tp);
}

void Pipeline::dropPartitions(const std::set<TopicPartition>& partitions) {
  Batch dropped = batcher_.removePartitions(partitions);
  Batch queued = lanes_.dropPartitions(partitions);
  std::move(queued.begin(), queued.end(), std::back_inserter(dropped));
  flow_.release(static_cast<int64_t>(dropped.size()), budgetBytes(dropped));
}

std::vector<PartitionOffset> Pipeline::onRevoking(const std::vector<TopicPartition>& partitions, bool lost) {
  stats_.rebalanced();
  const std::set<TopicPartition> revoked(partitions.begin(), partitions.end());
  dropPartitions(revoked);
  const common::Millis bound = lanes_.abandoned() ? common::Millis(1000) : timing_.revokeBound;
  if (!lost) lanes_.waitForPartitions(revoked, clock_.now() + bound);
  std::vector<PartitionOffset> offsets;
  if (!lost) offsets = tracker_.committable(revoked);
  for (const auto& tp : revoked) {
    tracker_.forget(tp);
    stats_.removeLag(tp);
  }
  return offsets;
}

}  // namespace sluice::worker

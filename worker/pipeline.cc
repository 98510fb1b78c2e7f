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

FailureKind kindOf(const DeliveryResult& result) {
  return result.outcome == DeliveryOutcome::kTerminal ? FailureKind::kTerminal : FailureKind::kRetryable;
}

int64_t bytesOf(std::span<const Message> messages) {
  int64_t bytes = 0;
  for (const auto& m : messages) bytes += budgetBytes(m);
  return bytes;
}

}  // namespace

Pipeline::Pipeline(const spec::PipelineSpec& spec, Sink& sink, DeadLetterSink* deadLetter, WorkerMetrics& metrics,
                   common::Clock& clock, common::Random& random, PipelineTiming timing)
    : spec_(spec),
      sink_(sink),
      deadLetter_(deadLetter),
      metrics_(metrics),
      clock_(clock),
      retry_(spec.processing.retry, deadLetter != nullptr, random),
      timing_(timing),
      flow_(budgetOf(spec.backpressure)),
      batcher_(limitsOf(spec.batch), spec::effectiveOrdering(spec) == spec::Ordering::kKey, clock),
      pool_(spec.backpressure.maxInFlightMessages, spec.backpressure.maxInFlightBytes / 8),
      dispatcher_(spec::effectiveOrdering(spec), spec.batch.maxMessages, spec.batch.maxBytes) {}

Pipeline::~Pipeline() {
  lanesStop_ = true;
  abandon_ = true;
  workCv_.notify_all();
  sleepCv_.notify_all();
  for (auto& lane : lanes_) {
    if (lane.joinable()) lane.join();
  }
}

common::Status Pipeline::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (degradedReason_.empty()) return common::Status::ok();
  return common::Status(common::ErrorCode::kUnavailable, "Degraded: " + degradedReason_);
}

// ---- consumer thread ------------------------------------------------------------------------

common::Status Pipeline::run(Source& source, const std::function<bool()>& stopRequested, common::Millis drainTimeout,
                             const std::function<void()>& onStopping) {
  source_ = &source;
  perMessage_ = source.acknowledgement() == Acknowledgement::kPerMessage;
  holdFor_ = source.holdBeforePause();
  for (int i = 0; i < std::max(1, spec_.processing.concurrency); ++i) lanes_.emplace_back([this] { laneLoop(); });
  common::Status status;
  while (!stopRequested()) {
    status = pollOnce(source);
    if (!status) break;
    periodic(source);
  }
  if (onStopping) onStopping();
  drain(source, drainTimeout);
  source_ = nullptr;
  return status;
}

common::Status Pipeline::pollOnce(Source& source) {
  acknowledge(source);
  applyFlowControl(source);
  if (flow_.state() == FlowState::kHolding) {
    waitForRoom(batcher_.empty() ? 20ms : std::min<common::Millis>(batcher_.untilDue(), 20ms));
    flushBatches(false);
    return common::Status::ok();
  }
  const bool paused = flow_.state() == FlowState::kPaused;
  const common::Millis timeout = batcher_.empty() ? 100ms : std::min<common::Millis>(batcher_.untilDue(), 100ms);
  // Polls sized to complete the pending batch, so a poll's chunk usually leaves the batcher whole.
  const auto batchRoom = static_cast<int64_t>(batcher_.roomInBatch());
  const size_t max = paused ? 1 : static_cast<size_t>(std::clamp<int64_t>(std::min(flow_.room(), batchRoom), 1, 5000));
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
  const auto count = static_cast<double>(messages.size());
  const int64_t bytes = bytesOf(messages);
  flow_.admit(static_cast<int64_t>(messages.size()), bytes);
  batcher_.add(std::move(messages), clock_.now(), bytes);  // one chunk: they arrived together
  metrics_.consumed.Increment(count);
}

void Pipeline::flushBatches(bool everything) {
  // One lane woken per batch (a batch makes at least one work): waking them all per batch costs
  // a thundering herd of futex wake-ups and context switches on a busy consumer thread.
  while (batcher_.due() || (everything && !batcher_.empty())) {
    Batch batch = batcher_.take();
    {
      std::lock_guard<std::mutex> lock(mu_);
      dispatcher_.submit(std::move(batch));
    }
    workCv_.notify_one();
  }
}

void Pipeline::acknowledge(Source& source) {
  std::vector<Settlement> settled;
  {
    std::lock_guard<std::mutex> lock(settleMu_);
    settled.swap(settlements_);
  }
  if (settled.empty()) return;
  if (auto st = source.settle(settled); !st) spdlog::warn("acknowledging {} message(s): {}", settled.size(), st.toString());
}

// Holding: lanes wake the consumer thread as they let messages go (doneCv_).
void Pipeline::waitForRoom(common::Millis atMost) {
  std::unique_lock<std::mutex> lock(mu_);
  doneCv_.wait_for(lock, atMost);
}

void Pipeline::applyFlowControl(Source& source) {
  const FlowState before = flow_.state();
  const FlowState now = flow_.evaluate(clock_.now(), holdFor_);
  if (before == now) return;
  switch (now) {
    case FlowState::kHolding:
      spdlog::debug("in-flight budget reached ({} messages, {} bytes): holding for up to {} ms before pausing fetch",
                    flow_.messages(), flow_.bytes(), holdFor_.count());
      break;
    case FlowState::kPaused:
      spdlog::info("in-flight budget reached ({} messages, {} bytes): pausing fetch", flow_.messages(), flow_.bytes());
      if (auto st = source.pauseAll(); !st) spdlog::warn("pause: {}", st.toString());
      break;
    case FlowState::kFlowing:
      if (before != FlowState::kPaused) break;  // a hold ended: the source was never paused
      spdlog::info("in-flight back to the low watermark ({} messages, {} bytes): resuming fetch", flow_.messages(),
                   flow_.bytes());
      if (auto st = source.resumeAll(); !st) spdlog::warn("resume: {}", st.toString());
      break;
  }
}

void Pipeline::periodic(Source& source) {
  const auto now = clock_.now();
  if (now - lastPeriodic_ < timing_.commitInterval) return;
  lastPeriodic_ = now;
  if (auto st = source.commit(tracker_.committable(), false); !st) spdlog::warn("storing offsets: {}", st.toString());
  metrics_.inFlightMessages.Set(static_cast<double>(flow_.messages()));
  metrics_.inFlightBytes.Set(static_cast<double>(flow_.bytes()));
  metrics_.pausedPartitions.Set(static_cast<double>(source.pausedPartitions()));
  for (const auto& w : source.watermarks()) {
    if (w.lag) {
      metrics_.setLag(w.partition, *w.lag);
      continue;
    }
    if (w.high < 0) continue;
    auto position = tracker_.position(w.partition);
    if (!position) {
      const auto consumed = tracker_.lastTracked(w.partition);
      if (!consumed) continue;
      position = *consumed + 1;
    }
    metrics_.setLag(w.partition, std::max<int64_t>(0, w.high - *position));
  }
}

void Pipeline::drain(Source& source, common::Millis timeout) {
  spdlog::info("stopping: fetch paused, draining {} in-flight message(s) within {} ms", flow_.messages(), timeout.count());
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
    spdlog::warn("drain deadline passed with {} message(s) undelivered: they stay uncommitted and will be redelivered",
                 flow_.messages());
  }
  abandon_ = true;
  sleepCv_.notify_all();
  acknowledge(source);
  if (auto st = source.commit(tracker_.committable(), true); !st) spdlog::warn("final commit: {}", st.toString());
  if (auto st = source.close(); !st) spdlog::warn("closing the source: {}", st.toString());
  lanesStop_ = true;
  workCv_.notify_all();
  for (auto& lane : lanes_) lane.join();
  lanes_.clear();
  spdlog::info("stopped: {} message(s) still in flight were not committed", flow_.messages());
}

void Pipeline::onAssigned(const std::vector<TopicPartition>& partitions) {
  metrics_.rebalances.Increment();
  for (const auto& tp : partitions) tracker_.assign(tp);
}

void Pipeline::dropPartitions(const std::set<TopicPartition>& partitions) {
  Batch dropped = batcher_.removePartitions(partitions);
  std::lock_guard<std::mutex> lock(mu_);
  Batch queued = dispatcher_.dropPartitions(partitions);
  std::move(queued.begin(), queued.end(), std::back_inserter(dropped));
  for (auto& work : stalled_) {
    const size_t before = dropped.size();
    moveOutIf(work.messages, 0, [&](const Message& m) { return partitions.count(m.topicPartition()) > 0; }, dropped);
    for (size_t i = before; i < dropped.size(); ++i) --held_[dropped[i].topicPartition()];
    if (work.messages.empty()) dispatcher_.complete(work);
  }
  std::erase_if(stalled_, [](const Work& w) { return w.messages.empty(); });
  flow_.release(static_cast<int64_t>(dropped.size()), bytesOf(dropped));
}

void Pipeline::waitForPartitions(const std::set<TopicPartition>& partitions, common::SteadyTime deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  auto busy = [&] {
    int64_t count = 0;
    for (const auto& tp : partitions) {
      if (auto it = held_.find(tp); it != held_.end()) count += it->second;
    }
    return count;
  };
  while (busy() > 0 && clock_.now() < deadline) doneCv_.wait_for(lock, 50ms);
  if (const int64_t left = busy(); left > 0) {
    spdlog::warn("revoke: giving up {} in-flight message(s) of revoked partitions after the bound", left);
  }
}

std::vector<PartitionOffset> Pipeline::onRevoking(const std::vector<TopicPartition>& partitions, bool lost) {
  metrics_.rebalances.Increment();
  const std::set<TopicPartition> revoked(partitions.begin(), partitions.end());
  dropPartitions(revoked);
  const common::Millis bound = abandon_ ? common::Millis(1000) : timing_.revokeBound;
  if (!lost) waitForPartitions(revoked, clock_.now() + bound);
  std::vector<PartitionOffset> offsets;
  if (!lost) offsets = tracker_.committable(revoked);
  for (const auto& tp : revoked) {
    tracker_.forget(tp);
    metrics_.removeLag(tp);
  }
  return offsets;
}

// ---- lanes ----------------------------------------------------------------------------------

void Pipeline::laneLoop() {
  while (auto work = nextWork()) process(std::move(*work));
}

std::optional<Work> Pipeline::nextWork() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (lanesStop_) return std::nullopt;
    const auto now = clock_.now();
    if (auto work = dispatcher_.take(now)) {
      countHeld(work->messages, 1);
      // Lanes are woken one per batch; pass the wake-up on while there is more to take, so work
      // queued faster than one lane delivers spreads over the lanes.
      if (dispatcher_.hasReady()) workCv_.notify_one();
      return work;
    }
    common::Millis wait = 100ms;
    if (auto next = dispatcher_.nextRetryAt()) {
      wait = std::clamp(std::chrono::duration_cast<common::Millis>(*next - now), common::Millis(1), wait);
    }
    workCv_.wait_for(lock, wait);
  }
}

void Pipeline::observe(size_t messages, common::SteadyTime started) {
  metrics_.batchSize.Observe(static_cast<double>(messages));
  metrics_.batchSeconds.Observe(std::chrono::duration<double>(clock_.now() - started).count());
}

void Pipeline::process(Work work) {
  const auto started = clock_.now();
  ++work.attempts;
  const DeliveryResult result = sink_.deliver(work.messages);
  observe(work.messages.size(), started);
  const auto n = static_cast<double>(work.messages.size());
  if (result.outcome == DeliveryOutcome::kDelivered) {
    metrics_.delivered.Increment(n);
    completeMessages(work.messages, Disposition::kDelivered);
    releaseWork(work);
    pool_.give(std::move(work.messages));
    return;
  }
  metrics_.failed.Increment(n);
  if (abandon_) {
    giveUp(work.messages, backoffAfter(work.attempts, result));
    return;
  }
  const RetryDecision decision = retry_.afterFailure(work.attempts, kindOf(result), result.retryAfter);
  switch (decision.step) {
    case NextStep::kRetry:
      metrics_.retried.Increment(n);
      spdlog::warn("delivery of {} message(s) to {} failed (attempt {}): {}; retrying in {} ms", work.messages.size(),
                   sink_.describe(), work.attempts, result.error, decision.delay.count());
      park(std::move(work), decision.delay);
      return;
    case NextStep::kDeadLetter:
    case NextStep::kStop:
      isolate(std::move(work), result);
      return;
  }
}

void Pipeline::park(Work work, common::Millis delay) {
  unhold(work.messages);
  std::lock_guard<std::mutex> lock(mu_);
  dispatcher_.retryAt(std::move(work), clock_.now() + delay);
}

void Pipeline::isolate(Work work, const DeliveryResult& failure) {
  if (work.messages.size() > 1) {
    spdlog::warn("batch of {} message(s) gave up after {} attempt(s) ({}): delivering them one by one to isolate the "
                 "failing ones", work.messages.size(), work.attempts, failure.error);
  }
  for (size_t i = 0; i < work.messages.size(); ++i) {
    const Message& m = work.messages[i];
    SingleOutcome outcome = work.messages.size() == 1 ? SingleOutcome{false, false, failure.error, work.attempts}
                                                      : deliverSingle(m);
    if (outcome.abandoned) {
      giveUp(std::span<const Message>(work.messages).subspan(i),
             backoffAfter(outcome.attempts, DeliveryResult::retryable(outcome.error)));
      return;
    }
    if (!outcome.delivered && !deadLetter(m, outcome.error, outcome.attempts)) {
      stall(std::move(work), i, outcome.error);
      return;
    }
    completeMessages(std::span<const Message>(&m, 1),
                     outcome.delivered ? Disposition::kDelivered : Disposition::kDeadLettered);
  }
  releaseWork(work);
}

Pipeline::SingleOutcome Pipeline::deliverSingle(const Message& message) {
  for (int attempts = 1;; ++attempts) {
    const auto started = clock_.now();
    const DeliveryResult result = sink_.deliver(std::span<const Message>(&message, 1));
    observe(1, started);
    if (result.outcome == DeliveryOutcome::kDelivered) {
      metrics_.delivered.Increment();
      return {true, false, "", attempts};
    }
    metrics_.failed.Increment();
    const RetryDecision decision = retry_.afterFailure(attempts, kindOf(result), result.retryAfter);
    if (decision.step != NextStep::kRetry) return {false, false, result.error, attempts};
    metrics_.retried.Increment();
    if (!sleepFor(decision.delay)) return {false, true, result.error, attempts};
  }
}

bool Pipeline::deadLetter(const Message& message, const std::string& error, int attempts) {
  if (!deadLetter_) return false;
  for (int tries = 1;; ++tries) {
    const auto status = deadLetter_->send(message, error, attempts);
    if (status) {
      metrics_.deadLettered.Increment();
      spdlog::warn("dead-lettered {}/{}@{} after {} attempt(s): {}", message.topic, message.partition, message.offset,
                   attempts, error);
      return true;
    }
    spdlog::error("dead-lettering {}/{}@{} to {} failed (try {}): {}", message.topic, message.partition, message.offset,
                  deadLetter_->describe(), tries, status.toString());
    const RetryDecision decision = retry_.afterFailure(tries, FailureKind::kRetryable, std::nullopt);
    if (decision.step != NextStep::kRetry || !sleepFor(decision.delay)) return false;
  }
}

void Pipeline::stall(Work work, size_t from, const std::string& error) {
  const Message& m = work.messages[from];
  const std::string reason = "cannot deliver " + m.topic + "/" + std::to_string(m.partition) + "@" +
                             std::to_string(m.offset) + " to " + sink_.describe() + " (" + error + ")" +
                             (deadLetter_ ? " nor dead-letter it" : " and no dead-letter destination is configured") +
                             ": its lane stopped; nothing after it in its key/partition is delivered or committed";
  if (abandon_) {
    giveUp(std::span<const Message>(work.messages).subspan(from), common::Millis(0));
    return;
  }
  spdlog::error("{}", reason);
  metrics_.degraded.Set(1);
  std::lock_guard<std::mutex> lock(mu_);
  degradedReason_ = reason;
  work.messages.erase(work.messages.begin(), work.messages.begin() + static_cast<std::ptrdiff_t>(from));
  stalled_.push_back(std::move(work));
}

bool Pipeline::sleepFor(common::Millis delay) {
  std::unique_lock<std::mutex> lock(sleepMu_);
  sleepCv_.wait_for(lock, delay, [this] { return abandon_.load(); });
  return !abandon_;
}

void Pipeline::completeMessages(std::span<const Message> messages, Disposition disposition) {
  if (perMessage_) {
    settle(messages, disposition, common::Millis(0));
  } else {
    tracker_.completeAll(messages);
  }
  letGo(messages);
}

// The worker stops holding undelivered messages (stopping): a per-message source may hand them to
// another worker after the delay; offset sources redeliver from the last commit anyway.
void Pipeline::giveUp(std::span<const Message> messages, common::Millis redeliverAfter) {
  if (perMessage_) settle(messages, Disposition::kReleased, redeliverAfter);
  letGo(messages);
}

void Pipeline::settle(std::span<const Message> messages, Disposition disposition, common::Millis redeliverAfter) {
  std::lock_guard<std::mutex> lock(settleMu_);
  for (const auto& m : messages) settlements_.push_back({m.deliveryId, disposition, redeliverAfter});
}

// The backoff the failed delivery would have waited for its next attempt (0 when it had none left).
common::Millis Pipeline::backoffAfter(int attempts, const DeliveryResult& failure) const {
  const RetryDecision decision = retry_.afterFailure(attempts, kindOf(failure), failure.retryAfter);
  return decision.step == NextStep::kRetry ? decision.delay : common::Millis(0);
}

// The messages leave the worker (done or given up): their budget is free again.
void Pipeline::letGo(std::span<const Message> messages) {
  flow_.release(static_cast<int64_t>(messages.size()), bytesOf(messages));
  unhold(messages);
}

// No lane holds the messages any more (they may still be parked in the dispatcher).
void Pipeline::unhold(std::span<const Message> messages) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    countHeld(messages, -1);
  }
  doneCv_.notify_all();
}

// Adds `delta` to held_ for each message, one map look-up per run of same-partition messages.
// Caller holds mu_.
void Pipeline::countHeld(std::span<const Message> messages, int64_t delta) {
  auto cached = held_.end();
  for (const auto& m : messages) {
    if (cached == held_.end() || cached->first.partition != m.partition || cached->first.topic != m.topic) {
      cached = held_.try_emplace(m.topicPartition(), 0).first;
    }
    cached->second += delta;
  }
}

void Pipeline::releaseWork(const Work& work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dispatcher_.complete(work);
  }
  // This lane looks for work itself next; one more may take what the freed groups have queued.
  workCv_.notify_one();
}

}  // namespace sluice::worker

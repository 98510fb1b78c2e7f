#include "worker/lanes.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sluice::worker {

using namespace std::chrono_literals;

Lanes::Lanes(const spec::PipelineSpec& spec, Sink& sink, DeadLetterer& deadLetter, WorkerStats& stats,
             common::Clock& clock, common::Random& random, FlowControl& flow, OffsetTracker& tracker,
             MessagePool& pool)
    : concurrency_(std::max(1, spec.processing.concurrency)),
      sink_(sink),
      deadLetter_(deadLetter),
      stats_(stats),
      clock_(clock),
      retry_(spec.processing.retry, deadLetter.configured(), random),
      flow_(flow),
      tracker_(tracker),
      pool_(pool),
      isolation_(sink, deadLetter, retry_, stats, clock, abandon_),
      dispatcher_(spec::effectiveOrdering(spec), spec.batch.maxMessages, spec.batch.maxBytes) {}

Lanes::~Lanes() {
  abandon();
  stop();
}

void Lanes::start(Acknowledgement acknowledgement) {
  perMessage_ = acknowledgement == Acknowledgement::kPerMessage;
  for (int i = 0; i < concurrency_; ++i) lanes_.emplace_back([this] { laneLoop(); });
}

void Lanes::stop() {
  lanesStop_ = true;
  workCv_.notify_all();
  for (auto& lane : lanes_) {
    if (lane.joinable()) lane.join();
  }
  lanes_.clear();
}

void Lanes::abandon() {
  abandon_.stop();
  deadLetter_.stop();
}

common::Status Lanes::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (degradedReason_.empty()) return common::Status::ok();
  return common::Status(common::ErrorCode::kUnavailable, "Degraded: " + degradedReason_);
}

// ---- consumer thread ------------------------------------------------------------------------

// One lane woken per batch (a batch makes at least one work): waking them all per batch costs a
// thundering herd of futex wake-ups and context switches on a busy consumer thread.
void Lanes::submit(Batch batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dispatcher_.submit(std::move(batch));
  }
  workCv_.notify_one();
}

Batch Lanes::dropPartitions(const std::set<TopicPartition>& partitions) {
  std::lock_guard<std::mutex> lock(mu_);
  ++revocations_;
  for (const auto& tp : partitions) revokedAt_[tp] = revocations_;
  Batch dropped = dispatcher_.dropPartitions(partitions);
  for (auto& work : stalled_) {
    const size_t before = dropped.size();
    moveOutIf(
        work.messages, 0, [&](const Message& m) { return partitions.count(m.topicPartition()) > 0; },
        dropped);
    for (size_t i = before; i < dropped.size(); ++i) --held_[dropped[i].topicPartition()];
    if (work.messages.empty()) dispatcher_.complete(work);
  }
  std::erase_if(stalled_, [](const Work& w) { return w.messages.empty(); });
  return dropped;
}

void Lanes::waitForPartitions(const std::set<TopicPartition>& partitions, common::SteadyTime deadline) {
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

// Holding: lanes wake the consumer thread as they let messages go (doneCv_).
void Lanes::waitForRoom(common::Millis atMost) {
  std::unique_lock<std::mutex> lock(mu_);
  doneCv_.wait_for(lock, atMost);
}

std::vector<Settlement> Lanes::takeSettlements() {
  std::vector<Settlement> settled;
  std::lock_guard<std::mutex> lock(settleMu_);
  settled.swap(settlements_);
  return settled;
}

// ---- lanes ----------------------------------------------------------------------------------

void Lanes::laneLoop() {
  while (auto work = nextWork()) process(std::move(*work));
}

std::optional<Work> Lanes::nextWork() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (lanesStop_) return std::nullopt;
    const auto now = clock_.now();
    if (auto work = dispatcher_.take(now)) {
      countHeld(work->messages, 1);
      work->takenAt = revocations_;
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

void Lanes::process(Work work) {
  ++work.attempts;
  const DeliveryResult result = isolation_.attempt(work.messages);
  if (result.outcome == DeliveryOutcome::kDelivered) {
    completeMessages(work.messages, Disposition::kDelivered);
    releaseWork(work);
    pool_.give(std::move(work.messages));
    return;
  }
  if (abandoned()) {
    giveUp(work.messages, backoffAfter(work.attempts, result));
    return;
  }
  if (dropRevoked(work)) {
    releaseWork(work);
    return;
  }
  const RetryDecision decision = retry_.afterFailure(work.attempts, failureKindOf(result), result.retryAfter);
  switch (decision.step) {
    case NextStep::kRetry:
      stats_.retried(work.messages.size());
      spdlog::warn("delivery of {} message(s) to {} failed (attempt {}): {}; retrying in {} ms",
                   work.messages.size(), sink_.describe(), work.attempts, result.error,
                   decision.delay.count());
      park(std::move(work), decision.delay);
      return;
    case NextStep::kDeadLetter:
    case NextStep::kStop:
      isolate(std::move(work), result);
      return;
  }
}

// A delivery that failed while its partition was revoked: that work belongs to the partition's new
// owner, which consumes it from the last commit. Retrying it here would deliver it again, out of
// order with the new owner's, hold budget, or stall the lane over a partition this worker no longer
// has (a false Degraded). So it is let go (offset sources only: per-message sources never revoke).
// True when nothing of the work is left.
bool Lanes::dropRevoked(Work& work) {
  Batch revoked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (revocations_ == work.takenAt) return false;
    moveOutIf(
        work.messages, 0,
        [&](const Message& m) {
          const auto it = revokedAt_.find(m.topicPartition());
          return it != revokedAt_.end() && it->second > work.takenAt;
        },
        revoked);
  }
  if (revoked.empty()) return false;
  spdlog::info("{} undelivered message(s) of revoked partitions left to their new owner: {}", revoked.size(),
               placeOf(revoked.front()));
  letGo(revoked);
  return work.messages.empty();
}

void Lanes::park(Work work, common::Millis delay) {
  unhold(work.messages);
  std::lock_guard<std::mutex> lock(mu_);
  dispatcher_.retryAt(std::move(work), clock_.now() + delay);
}

void Lanes::isolate(Work work, const DeliveryResult& failure) {
  if (work.messages.size() > 1) {
    spdlog::warn(
        "batch of {} message(s) gave up after {} attempt(s) ({}): delivering them one by one to isolate the "
        "failing ones",
        work.messages.size(), work.attempts, failure.error);
  }
  for (size_t i = 0; i < work.messages.size(); ++i) {
    const Message& m = work.messages[i];
    const IsolationOutcome outcome = work.messages.size() == 1
                                         ? isolation_.afterAttempts(m, failure.error, work.attempts)
                                         : isolation_.deliver(m);
    switch (outcome.result) {
      case IsolationResult::kAbandoned:
        giveUp(std::span<const Message>(work.messages).subspan(i),
               backoffAfter(outcome.attempts, DeliveryResult::retryable(outcome.error)));
        return;
      case IsolationResult::kUndeliverable:
        stall(std::move(work), i, outcome.error);
        return;
      case IsolationResult::kDelivered:
        completeMessages(std::span<const Message>(&m, 1), Disposition::kDelivered);
        break;
      case IsolationResult::kDeadLettered:
        completeMessages(std::span<const Message>(&m, 1), Disposition::kDeadLettered);
        break;
    }
  }
  releaseWork(work);
}

void Lanes::stall(Work work, size_t from, const std::string& error) {
  const Message& m = work.messages[from];
  const std::string reason =
      "cannot deliver " + placeOf(m) + " to " + sink_.describe() + " (" + error + ")" +
      (deadLetter_.configured() ? " nor dead-letter it" : " and no dead-letter destination is configured") +
      ": its lane stopped; nothing after it in its key/partition is delivered or committed";
  if (abandoned()) {
    giveUp(std::span<const Message>(work.messages).subspan(from), common::Millis(0));
    return;
  }
  spdlog::error("{}", reason);
  stats_.degraded();
  std::lock_guard<std::mutex> lock(mu_);
  degradedReason_ = reason;
  work.messages.erase(work.messages.begin(), work.messages.begin() + static_cast<std::ptrdiff_t>(from));
  stalled_.push_back(std::move(work));
}

void Lanes::completeMessages(std::span<const Message> messages, Disposition disposition) {
  if (perMessage_) {
    settle(messages, disposition, common::Millis(0));
  } else {
    tracker_.completeAll(messages);
  }
  letGo(messages);
}

// The worker stops holding undelivered messages (stopping): a per-message source may hand them to
// another worker after the delay; offset sources redeliver from the last commit anyway.
void Lanes::giveUp(std::span<const Message> messages, common::Millis redeliverAfter) {
  if (perMessage_) settle(messages, Disposition::kReleased, redeliverAfter);
  letGo(messages);
}

void Lanes::settle(std::span<const Message> messages, Disposition disposition,
                   common::Millis redeliverAfter) {
  std::lock_guard<std::mutex> lock(settleMu_);
  for (const auto& m : messages) settlements_.push_back({m.deliveryId, disposition, redeliverAfter});
}

// The backoff the failed delivery would have waited for its next attempt (0 when it had none left).
common::Millis Lanes::backoffAfter(int attempts, const DeliveryResult& failure) const {
  const RetryDecision decision = retry_.afterFailure(attempts, failureKindOf(failure), failure.retryAfter);
  return decision.step == NextStep::kRetry ? decision.delay : common::Millis(0);
}

// The messages leave the worker (done or given up): their budget is free again.
void Lanes::letGo(std::span<const Message> messages) {
  flow_.release(static_cast<int64_t>(messages.size()), budgetBytes(messages));
  unhold(messages);
}

// No lane holds the messages any more (they may still be parked in the dispatcher).
void Lanes::unhold(std::span<const Message> messages) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    countHeld(messages, -1);
  }
  doneCv_.notify_all();
}

// Adds `delta` to held_ for each message, one map look-up per run of same-partition messages.
// Caller holds mu_.
void Lanes::countHeld(std::span<const Message> messages, int64_t delta) {
  auto cached = held_.end();
  for (const auto& m : messages) {
    if (cached == held_.end() || cached->first.partition != m.partition || cached->first.topic != m.topic) {
      cached = held_.try_emplace(m.topicPartition(), 0).first;
    }
    cached->second += delta;
  }
}

void Lanes::releaseWork(const Work& work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dispatcher_.complete(work);
  }
  // This lane looks for work itself next; one more may take what the freed groups have queued.
  workCv_.notify_one();
}

}  // namespace sluice::worker

// NatsSource: a JetStream durable pull consumer (nats.c) behind worker::Source, composed of
// provisioning (nats_provisioning.*), the pull protocol (nats_puller.*), the ack ledger with its
// keep-alive (nats_ack_ledger.*), dead-letter on arrival (nats_dead_letter.*) and the lag
// (nats_lag.*). Every method runs on the consumer thread (source.h); nats.c's own threads only fill
// the inbox subscription's queue and run the connection callbacks in nats_connection.cc.
#include "worker/nats_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <thread>

#include "worker/nats_ack_ledger.h"
#include "worker/nats_config.h"
#include "worker/nats_connection.h"
#include "worker/nats_dead_letter.h"
#include "worker/nats_lag.h"
#include "worker/nats_provisioning.h"
#include "worker/nats_puller.h"
#include "worker/nats_takeover.h"

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;

// How often a worker taking over asks the server whether the deliveries it waits for are back.
constexpr common::Millis kTakeoverCheckEvery{200};
constexpr common::Millis kTakeoverReportEvery{10000};

std::vector<std::pair<std::string, std::string>> headersOf(natsMsg* m) {
  std::vector<std::pair<std::string, std::string>> out;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(m, &keys, &count) != NATS_OK) return out;
  for (int i = 0; i < count; ++i) {
    const char** values = nullptr;
    int n = 0;
    if (natsMsgHeader_Values(m, keys[i], &values, &n) != NATS_OK) continue;
    for (int j = 0; j < n; ++j) out.emplace_back(keys[i], values[j] ? values[j] : "");
    std::free(static_cast<void*>(values));
  }
  std::free(static_cast<void*>(keys));
  return out;
}

struct NatsSourceSettings {
  NatsEndpoint endpoint;
  std::string stream;
  NatsConsumerSettings consumer;
  NatsKeyRule keyRule;
  int64_t maxInFlightBytes = 0;
  spec::PipelineSpec spec;
};

class NatsSource final : public Source {
 public:
  NatsSource(NatsSourceSettings settings, DeadLetterer& deadLetter, WorkerStats& stats, common::Clock& clock)
      : settings_(std::move(settings)),
        deadLetter_(deadLetter),
        stats_(stats),
        clock_(clock),
        lag_(settings_.stream, settings_.consumer.durable, clock) {}
  NatsSource(const NatsSource&) = delete;
  NatsSource& operator=(const NatsSource&) = delete;

  common::Status open();
  common::Status poll(common::Millis timeout, size_t maxMessages, Batch& out) override;
  common::Status pauseAll() override {
    paused_ = true;
    return common::Status::ok();
  }
  common::Status resumeAll() override {
    paused_ = false;
    return common::Status::ok();
  }
  size_t pausedPartitions() const override { return paused_ ? 1 : 0; }
  common::Status commit(const std::vector<PartitionOffset>&, bool) override { return common::Status::ok(); }
  std::vector<PartitionWatermark> watermarks() override;
  common::Status close() override;
  Acknowledgement acknowledgement() const override { return Acknowledgement::kPerMessage; }
  common::Status settle(std::span<const Settlement> settlements) override {
    return ledger_->settle(settlements);
  }

 private:
  bool take(natsMsg* m, const NatsAckMetadata& meta, std::vector<Message>& out);
  common::Status startTakeover();
  void holdForTakeover(Batch& out);
  common::Status provision();

  static constexpr common::Millis kRecheckRefused{10000};

  NatsSourceSettings settings_;
  DeadLetterer& deadLetter_;
  WorkerStats& stats_;
  common::Clock& clock_;
  NatsLag lag_;
  NatsConnectionPtr nc_{nullptr, &natsConnection_Destroy};
  JetStreamPtr js_{nullptr, &jsCtx_Destroy};
  std::optional<NatsAckLedger> ledger_;   // from open(), on the connection
  std::optional<NatsPuller> puller_;      // likewise
  std::optional<NatsTakeover> takeover_;  // while another worker's deliveries may come back
  common::SteadyTime lastTakeoverCheck_{};
  common::SteadyTime lastTakeoverReport_{};
  bool paused_ = false;
  bool closed_ = false;
  bool refused_ = false;  // the existing consumer's settings are unsafe: not consuming (provision())
  common::SteadyTime recheckAt_{};
};

common::Status NatsSource::open() {
  auto nc = connectNats(settings_.endpoint);
  if (!nc) return nc.status();
  nc_ = std::move(*nc);
  auto js = jetStream(nc_.get());
  if (!js) return js.status();
  js_ = std::move(*js);
  // One fetch never exceeds a quarter of the byte budget, but always fits the largest message the
  // server accepts: a pull request whose MaxBytes is below a message's size would never return it.
  const int64_t maxPayload = natsConnection_GetMaxPayload(nc_.get());
  const int64_t fetchMaxBytes = std::max<int64_t>(settings_.maxInFlightBytes / 4, maxPayload + 64 * 1024);
  ledger_.emplace(nc_.get(), settings_.consumer.ackWaitSeconds, clock_);
  puller_.emplace(nc_.get(), settings_.stream, settings_.consumer.durable, fetchMaxBytes, clock_);
  return provision();
}

// Subscribes when the consumer may be used; otherwise stays refused (poll() asks again every
// kRecheckRefused) with the refusal reported as the source's drift.
common::Status NatsSource::provision() {
  auto verdict = provisionConsumer(js_.get(), settings_.stream, settings_.consumer, stats_);
  if (!verdict) return verdict.status();
  refused_ = !verdict->usable();
  if (refused_) {
    recheckAt_ = clock_.now() + kRecheckRefused;
    return common::Status::ok();
  }
  spdlog::info("nats: consuming {}/{}", settings_.stream, settings_.consumer.durable);
  if (auto st = puller_->subscribe(); !st) return st;
  return startTakeover();
}

// ordering: key only (other orderings promise nothing a takeover could break): deliveries another
// worker made and did not acknowledge may come back after their AckWait, behind newer messages of
// the same keys, so hold everything until they did (nats_takeover.h).
common::Status NatsSource::startTakeover() {
  if (spec::effectiveOrdering(settings_.spec) != spec::Ordering::kKey) return common::Status::ok();
  auto pending = consumerAckPending(js_.get(), settings_.stream, settings_.consumer.durable);
  if (!pending) return pending.status();
  if (*pending == 0) return common::Status::ok();
  takeover_.emplace(*pending);
  lastTakeoverCheck_ = lastTakeoverReport_ = clock_.now();
  spdlog::info(
      "nats: consumer {}/{} has {} unacknowledged deliveries from an earlier worker: holding new messages "
      "until they are redelivered here or settled, so that no key's newer message overtakes them",
      settings_.stream, settings_.consumer.durable, *pending);
  return common::Status::ok();
}

// While taking over: what this poll pulled is held; when the server's unacknowledged deliveries are
// all held here, the held messages start flowing in stream order.
void NatsSource::holdForTakeover(Batch& out) {
  for (auto& m : out) takeover_->hold(std::move(m));
  out.clear();
  const auto now = clock_.now();
  if (now - lastTakeoverCheck_ < kTakeoverCheckEvery) return;
  lastTakeoverCheck_ = now;
  auto pending = consumerAckPending(js_.get(), settings_.stream, settings_.consumer.durable);
  if (!pending) {
    spdlog::debug("{}", pending.status().message());
    return;
  }
  if (!takeover_->settledBy(*pending)) {
    if (now - lastTakeoverReport_ >= kTakeoverReportEvery) {
      lastTakeoverReport_ = now;
      spdlog::info(
          "nats: still holding {} message(s): the consumer has {} unacknowledged deliveries, {} of them here "
          "(another worker's come back after their AckWait)",
          takeover_->held(), *pending, takeover_->heldSequences());
    }
    return;
  }
  spdlog::info(
      "nats: the earlier worker's {} unacknowledged deliveries are back or settled; releasing {} held "
      "message(s) in stream order",
      takeover_->ackPendingAtStart(), takeover_->held());
  if (takeover_->state() == NatsTakeover::State::kDone) takeover_.reset();  // nothing was held
}

// A JetStream message is copied out and held by its reply subject, unless it is dead-lettered on
// arrival (then it is terminated and not taken).
bool NatsSource::take(natsMsg* m, const NatsAckMetadata& meta, std::vector<Message>& out) {
  Message message;
  message.topic = natsMsg_GetSubject(m);
  message.stream = settings_.stream;
  message.offset = static_cast<int64_t>(meta.streamSequence);
  message.timestampMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(meta.timestampNanos))
          .count();
  if (const char* data = natsMsg_GetData(m))
    message.value.assign(data, static_cast<size_t>(natsMsg_GetDataLength(m)));
  message.headers = headersOf(m);
  message.key = natsKey(settings_.keyRule, message.topic, message.headers);
  lag_.observed(static_cast<int64_t>(meta.numPending));
  std::string reply(natsMsg_GetReply(m));
  if (deliveriesExhausted(meta.numDelivered, settings_.spec) &&
      deadLetterOnArrival(deadLetter_, message, meta.numDelivered)) {
    if (const natsStatus s = ledger_->terminate(reply); s != NATS_OK) {
      spdlog::warn("{} (it is in the dead-letter destination; the server may deliver it once more)",
                   natsError(s, "term " + message.topic));
    }
    return false;
  }
  message.deliveryId = ledger_->hold(std::move(reply));
  out.push_back(std::move(message));
  return true;
}

// One pull at a time, sized by the pipeline's free budget (maxMessages) and a byte cap. Leftovers of
// earlier pulls come first; when there are any, they are this poll's answer.
common::Status NatsSource::poll(common::Millis timeout, size_t maxMessages, Batch& out) {
  ledger_->keepAlive();
  out.clear();  // recycled storage is not reused: NATS messages are built whole
  if (refused_ && !closed_ && clock_.now() >= recheckAt_) {
    if (auto st = provision(); !st) return st;
  }
  if (paused_ || closed_ || refused_) {
    std::this_thread::sleep_for(std::clamp<common::Millis>(timeout, common::Millis(1), 20ms));
    return common::Status::ok();
  }
  if (takeover_ && takeover_->state() == NatsTakeover::State::kReleasing) {
    takeover_->release(maxMessages, out);
    if (takeover_->state() == NatsTakeover::State::kDone) takeover_.reset();
    return common::Status::ok();
  }
  // Held messages are outside the pipeline's budget: pull only what it leaves (at least one, so that
  // redeliveries, which the server sends even past MaxAckPending, keep coming).
  const size_t budget = takeover_ ? maxMessages - std::min(maxMessages, takeover_->held()) : maxMessages;
  const size_t batch = std::clamp<size_t>(budget, 1, 100000);
  const NatsPuller::Take take = [&](natsMsg* m, const NatsAckMetadata& meta) {
    return this->take(m, meta, out);
  };
  if (puller_->takeLeftovers(batch, take) == 0) {
    if (auto st = puller_->pull(batch, timeout, take); !st) {
      out.clear();
      if (takeover_) holdForTakeover(out);  // nothing to hold; still ask whether it is over
      return st;
    }
  }
  if (takeover_) holdForTakeover(out);
  return common::Status::ok();
}

std::vector<PartitionWatermark> NatsSource::watermarks() {
  const auto pending = lag_.current(closed_ ? nullptr : js_.get());
  if (!pending) return {};
  return {PartitionWatermark{TopicPartition{settings_.stream, 0}, -1, *pending}};
}

// Whatever the pipeline still holds, and what arrived unread, goes back to the server at once (nak)
// instead of waiting out AckWait; then acks and naks are flushed before the connection closes.
common::Status NatsSource::close() {
  if (closed_) return common::Status::ok();
  closed_ = true;
  size_t released = ledger_->releaseAll();
  released +=
      puller_->releaseUnread([this](const char* reply) { return ledger_->release(reply) == NATS_OK; });
  if (released > 0) spdlog::info("nats: released {} undelivered message(s) for redelivery", released);
  const natsStatus s = natsConnection_FlushTimeout(nc_.get(), 5000);
  puller_->unsubscribe();
  natsConnection_Close(nc_.get());
  if (s != NATS_OK) return common::unavailable(natsError(s, "flushing acks on close"));
  return common::Status::ok();
}

}  // namespace

common::Result<std::unique_ptr<Source>> makeNatsSource(const spec::ConsumerPipeline& pipeline,
                                                       const std::string& podName, DeadLetterer& deadLetter,
                                                       WorkerStats& stats, common::Clock& clock) {
  const auto& nats = pipeline.spec.source.nats;
  if (!nats) return common::invalidArgument("spec.source.nats is required for a NATS source");
  NatsSourceSettings settings;
  settings.endpoint = {nats->servers, nats->tls, nats->auth,
                       "sluice-worker " + pipeline.metadata.namespace_ + "/" + pipeline.metadata.name +
                           (podName.empty() ? std::string() : " " + podName)};
  settings.stream = nats->stream;
  settings.consumer = desiredConsumer(pipeline);
  settings.keyRule = keyRuleOf(*nats);
  settings.maxInFlightBytes = pipeline.spec.backpressure.maxInFlightBytes;
  settings.spec = pipeline.spec;
  auto source = std::make_unique<NatsSource>(std::move(settings), deadLetter, stats, clock);
  if (auto st = source->open(); !st) return st;
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice::worker

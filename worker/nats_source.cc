// NatsSource: a JetStream durable pull consumer (nats.c). Every method runs on the consumer thread
// (source.h); nats.c's own threads only fill the inbox subscription's queue and run the connection
// callbacks in nats_connection.cc, which touch nothing of ours.
//
// Pulling: the source sends its pull requests itself ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>,
// one at a time, replies to an inbox of its own) and reads the answers from a plain synchronous
// subscription, instead of natsSubscription_FetchRequest. In nats.c 3.4.1 (Debian's libnats3.4) a
// fetch that starts with messages left over from an earlier request (they arrive after that fetch
// returned) sends a request for `Batch - leftovers`, then loops until its count *equals* that
// reduced number: when the leftovers are more than half the batch the count is already past it, and
// the loop appends to its Batch-sized array until the request expires. That heap overflow was the
// bench's "malloc(): invalid size" abort (a core showed a returned list of 6880 messages for a batch
// of at most 5000). Leftovers are normal with a budget-sized batch and short expiries, so the library
// fetch cannot be used safely on that version; the protocol is small.
//
// Acknowledging: every message is copied into a worker::Message and its natsMsg freed at once; only
// its reply (ack) subject is kept until the pipeline settles it, and ack / nak / term / in-progress
// are publishes of the JetStream ack protocol to it (what natsMsg_Ack and friends do). So in-flight
// memory is the budgeted copy plus ~100 bytes of subject per message (within the per-message
// allowance of budgetBytes), not a second copy of the payload. While a message waits, InProgress is
// sent every third of AckWait so the server does not redeliver work that is merely queued, parked
// for a retry or in a slow sink.
#include "worker/nats_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <unordered_map>

#include "worker/nats_config.h"
#include "worker/nats_connection.h"

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;
using SubscriptionPtr = std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)>;
using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, decltype(&jsConsumerInfo_Destroy)>;

constexpr int64_t kNanosPerMilli = 1000000;
constexpr int64_t kNanosPerSecond = 1000000000;
constexpr common::Millis kMinFetchWait{10};
// The lag gauge comes from the messages' metadata while they flow; when none arrived for this long
// it is read from the consumer info instead, so an idle worker does not report a stale lag.
constexpr common::Millis kLagRefresh{5000};
constexpr int64_t kConsumerInfoWaitMs = 2000;

// The JetStream acknowledgement protocol: the body published to a message's reply subject.
constexpr char kAckBody[] = "+ACK";
constexpr char kNakBody[] = "-NAK";
constexpr char kTermBody[] = "+TERM";
constexpr char kInProgressBody[] = "+WPI";

NatsConsumerSettings settingsOf(const jsConsumerInfo& info) {
  NatsConsumerSettings s;
  const jsConsumerConfig& c = *info.Config;
  s.durable = c.Durable ? c.Durable : "";
  s.filterSubject = c.FilterSubject ? c.FilterSubject : "";
  s.ackExplicit = c.AckPolicy == js_AckExplicit;
  s.ackWaitSeconds = c.AckWait / kNanosPerSecond;
  s.maxAckPending = c.MaxAckPending;
  s.maxDeliver = c.MaxDeliver <= 0 ? -1 : c.MaxDeliver;
  return s;
}

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

// What one message read from the inbox means for the pull in progress.
enum class PullStep {
  kContinue,  // a message (taken) or a status to ignore (heartbeat, an earlier request's end)
  kEnd,       // the server ended the current request (no messages, expired, or a 409 limit)
};

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
  NatsSource(NatsSourceSettings settings, DeadLetterSink* deadLetter, WorkerMetrics& metrics, common::Clock& clock)
      : settings_(std::move(settings)),
        deadLetter_(deadLetter),
        metrics_(metrics),
        clock_(clock),
        keepAliveEvery_(std::max<common::Millis>(common::Millis(settings_.consumer.ackWaitSeconds * 1000 / 3), 300ms)),
        pullSubject_("$JS.API.CONSUMER.MSG.NEXT." + settings_.stream + "." + settings_.consumer.durable) {}
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
  common::Status settle(std::span<const Settlement> settlements) override;

 private:
  struct Outstanding {
    std::string reply;  // the ack subject: all the server needs to settle this delivery
    common::SteadyTime touched;
  };
  common::Status ensureConsumer();
  common::Status checkExisting(const jsConsumerInfo& info);
  common::Status subscribe();
  void takeLeftovers(std::vector<Message>& out, size_t batch, int64_t& bytes);
  common::Status pull(std::vector<Message>& out, size_t batch, common::Millis wait);
  PullStep accept(natsMsg* m, std::string_view currentRequest, std::vector<Message>& out, int64_t& bytes);
  PullStep requestEnded(natsMsg* m, std::string_view currentRequest);
  bool deadLetterOnArrival(const Message& message, uint64_t numDelivered, const std::string& reply);
  natsStatus publishAck(const std::string& reply, const char* body);
  void keepAlive();
  void refreshLag();
  size_t releaseLeftovers();
  common::Status fetchFailed(natsStatus s, common::Millis timeout);

  NatsSourceSettings settings_;
  DeadLetterSink* deadLetter_;
  WorkerMetrics& metrics_;
  common::Clock& clock_;
  const common::Millis keepAliveEvery_;
  const std::string pullSubject_;
  NatsConnectionPtr nc_{nullptr, &natsConnection_Destroy};
  JetStreamPtr js_{nullptr, &jsCtx_Destroy};
  SubscriptionPtr sub_{nullptr, &natsSubscription_Destroy};
  std::string inbox_;  // requests reply to <inbox_>.<request number>
  uint64_t requestNumber_ = 0;
  common::SteadyTime pullOpenUntil_{};  // when the server will have expired the last pull request
  std::unordered_map<uint64_t, Outstanding> outstanding_;
  uint64_t nextDeliveryId_ = 1;
  int64_t fetchMaxBytes_ = 0;
  bool paused_ = false;
  bool closed_ = false;
  int64_t lastPending_ = -1;
  common::SteadyTime lastPendingAt_{};
  common::SteadyTime lastLagRefresh_{};
  common::SteadyTime lastKeepAlive_{};
  common::SteadyTime lastFetchWarning_{};
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
  fetchMaxBytes_ = std::max<int64_t>(settings_.maxInFlightBytes / 4, maxPayload + 64 * 1024);
  if (auto st = ensureConsumer(); !st) return st;
  return subscribe();
}

common::Status NatsSource::ensureConsumer() {
  const auto& want = settings_.consumer;
  jsConsumerInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&raw, js_.get(), settings_.stream.c_str(), want.durable.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    ConsumerInfoPtr info(raw, &jsConsumerInfo_Destroy);
    return checkExisting(*info);
  }
  if (jerr == JSStreamNotFoundErr) {
    return common::unavailable("nats stream '" + settings_.stream + "' does not exist: create it (spec.source.nats.stream)");
  }
  if (s != NATS_NOT_FOUND) return common::unavailable(natsError(s, "consumer info " + settings_.stream + "/" + want.durable));
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = want.durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.DeliverPolicy = js_DeliverAll;
  cfg.AckWait = want.ackWaitSeconds * kNanosPerSecond;
  cfg.MaxAckPending = want.maxAckPending;
  cfg.MaxDeliver = want.maxDeliver;
  cfg.FilterSubject = want.filterSubject.empty() ? nullptr : want.filterSubject.c_str();
  s = js_AddConsumer(&raw, js_.get(), settings_.stream.c_str(), &cfg, nullptr, &jerr);
  if (s != NATS_OK) {
    return common::unavailable(natsError(s, "creating consumer " + settings_.stream + "/" + want.durable));
  }
  ConsumerInfoPtr info(raw, &jsConsumerInfo_Destroy);
  spdlog::info("nats: created durable pull consumer {}/{} (filter '{}', ackWait {} s, maxAckPending {}, maxDeliver {})",
               settings_.stream, want.durable, want.filterSubject, want.ackWaitSeconds, want.maxAckPending,
               want.maxDeliver);
  // Two workers may create it at once with different specs: the server keeps the first one.
  return checkExisting(*info);
}

// An existing consumer is used as it is: changing it under other workers (or an operator's hand
// edit) is not the worker's call. The difference is logged and flagged for the operator.
common::Status NatsSource::checkExisting(const jsConsumerInfo& info) {
  if (!info.Config) return common::internalError("nats consumer info without a config");
  const std::string name = settings_.stream + "/" + settings_.consumer.durable;
  if (info.Config->DeliverSubject && *info.Config->DeliverSubject) {
    return common::invalidArgument("nats consumer " + name +
                                   " is a push consumer: spec.source.nats.consumer must name a pull consumer");
  }
  const auto have = settingsOf(info);
  const auto drift = consumerDrift(settings_.consumer, have);
  std::string summary;
  for (const auto& difference : drift) {
    spdlog::warn("nats consumer {} exists with other settings, kept as it is: {}", name, difference);
    summary += (summary.empty() ? "" : "; ") + difference;
  }
  metrics_.setSourceDrift(summary.empty() ? "" : "nats consumer " + name + " exists with other settings, kept as it is: " + summary);
  if (!have.ackExplicit) {
    return common::invalidArgument("nats consumer " + name +
                                   " does not use explicit acks: at-least-once delivery needs AckExplicit");
  }
  return common::Status::ok();
}

common::Status NatsSource::subscribe() {
  natsInbox* inbox = nullptr;
  if (const natsStatus s = natsInbox_Create(&inbox); s != NATS_OK) return common::internalError(natsError(s, "inbox"));
  inbox_ = inbox;
  natsInbox_Destroy(inbox);
  natsSubscription* sub = nullptr;
  const std::string subject = inbox_ + ".*";
  if (const natsStatus s = natsConnection_SubscribeSync(&sub, nc_.get(), subject.c_str()); s != NATS_OK) {
    return common::unavailable(natsError(s, "subscribing to the pull inbox"));
  }
  sub_.reset(sub);
  // What the server sends is bounded by the pull requests (sized by the free budget) and by
  // MaxAckPending, not by nats.c's slow-consumer limits, which would drop messages silently.
  if (const natsStatus s = natsSubscription_SetPendingLimits(sub, -1, -1); s != NATS_OK) {
    return common::internalError(natsError(s, "pull inbox limits"));
  }
  spdlog::info("nats: consuming {}/{} (fetches up to {} bytes)", settings_.stream, settings_.consumer.durable,
               fetchMaxBytes_);
  return common::Status::ok();
}

natsStatus NatsSource::publishAck(const std::string& reply, const char* body) {
  return natsConnection_PublishString(nc_.get(), reply.c_str(), body);
}

// A status message (no ack subject) ends the current request when it answers it; statuses of
// earlier requests and idle heartbeats are ignored.
PullStep NatsSource::requestEnded(natsMsg* m, std::string_view currentRequest) {
  if (currentRequest.empty() || currentRequest != natsMsg_GetSubject(m)) return PullStep::kContinue;
  const char* status = nullptr;
  if (natsMsgHeader_Get(m, "Status", &status) != NATS_OK || !status) return PullStep::kContinue;
  const std::string_view code(status);
  if (code == "100") return PullStep::kContinue;
  if (code != "404" && code != "408") {
    // 409: the consumer was deleted, MaxWaiting or MaxRequestBatch exceeded, a message above
    // max_bytes...: the next poll asks again; say why at most every 5 s.
    const char* description = nullptr;
    natsMsgHeader_Get(m, "Description", &description);
    const auto now = clock_.now();
    if (now - lastFetchWarning_ >= 5s) {
      lastFetchWarning_ = now;
      spdlog::warn("nats: pull from {}/{} ended with {} {}", settings_.stream, settings_.consumer.durable, code,
                   description ? description : "");
    }
  }
  return PullStep::kEnd;
}

// A JetStream message (its reply is an ack subject) is copied out and held by its reply subject.
PullStep NatsSource::accept(natsMsg* m, std::string_view currentRequest, std::vector<Message>& out, int64_t& bytes) {
  const char* reply = natsMsg_GetReply(m);
  const auto meta = reply ? parseAckSubject(reply) : std::nullopt;
  if (!meta) return requestEnded(m, currentRequest);
  Message message;
  message.topic = natsMsg_GetSubject(m);
  message.stream = settings_.stream;
  message.offset = static_cast<int64_t>(meta->streamSequence);
  message.timestampMs = meta->timestampNanos / kNanosPerMilli;
  if (const char* data = natsMsg_GetData(m)) message.value.assign(data, static_cast<size_t>(natsMsg_GetDataLength(m)));
  message.headers = headersOf(m);
  message.key = natsKey(settings_.keyRule, message.topic, message.headers);
  lastPending_ = static_cast<int64_t>(meta->numPending);
  lastPendingAt_ = clock_.now();
  std::string ack(reply);
  if (deliveriesExhausted(meta->numDelivered, settings_.spec) && deadLetterOnArrival(message, meta->numDelivered, ack)) {
    return PullStep::kContinue;
  }
  bytes += natsMsg_GetDataLength(m);
  message.deliveryId = nextDeliveryId_++;
  outstanding_.emplace(message.deliveryId, Outstanding{std::move(ack), lastPendingAt_});
  out.push_back(std::move(message));
  return PullStep::kContinue;
}

// A message whose earlier deliveries all ended unsettled (the worker crashed, was killed or stopped
// on it) as often as processing.retry.maxAttempts allows goes to the dead-letter destination before
// the sink sees it, then is terminated (see natsMaxDeliver). False when it could not be sent: the
// pipeline then handles it like any other message.
bool NatsSource::deadLetterOnArrival(const Message& message, uint64_t numDelivered, const std::string& reply) {
  const int earlier = static_cast<int>(numDelivered - 1);
  const std::string error = "delivered " + std::to_string(numDelivered) +
                            " times by the server without being settled (the worker crashed, was killed or stopped "
                            "before finishing it each time)";
  if (auto st = deadLetter_ ? deadLetter_->send(message, error, earlier)
                            : common::Status(common::ErrorCode::kUnavailable, "no dead-letter destination");
      !st) {
    spdlog::error("dead-lettering {}@{} on arrival failed, processing it instead: {}", message.topic, message.offset,
                  st.toString());
    return false;
  }
  metrics_.deadLettered.Increment();
  spdlog::warn("dead-lettered {}@{} on arrival: {}", message.topic, message.offset, error);
  if (const natsStatus s = publishAck(reply, kTermBody); s != NATS_OK) {
    spdlog::warn("{} (it is in the dead-letter destination; the server may deliver it once more)",
                 natsError(s, "term " + message.topic));
  }
  return true;
}

// Answers to earlier requests that arrived after their poll returned, without waiting.
void NatsSource::takeLeftovers(std::vector<Message>& out, size_t batch, int64_t& bytes) {
  int waiting = 0;
  int waitingBytes = 0;
  if (natsSubscription_GetPending(sub_.get(), &waiting, &waitingBytes) != NATS_OK) return;
  for (; waiting > 0 && out.size() < batch && bytes < fetchMaxBytes_; --waiting) {
    natsMsg* raw = nullptr;
    if (natsSubscription_NextMsg(&raw, sub_.get(), 1) != NATS_OK) return;
    NatsMsgPtr m(raw, &natsMsg_Destroy);
    accept(m.get(), std::string_view(), out, bytes);
  }
}

// One pull request for up to `batch` messages, read until the batch or the byte cap is reached, the
// server ends the request (404, 408, 409) or `wait` is over. What arrives later is a leftover for
// the next poll. The server expires the request a little before the worker stops waiting, so its
// 408 usually arrives in time (as nats.c does).
common::Status NatsSource::pull(std::vector<Message>& out, size_t batch, common::Millis wait) {
  wait = std::max(wait, kMinFetchWait);
  const int64_t expires = (wait >= 20ms ? wait - 10ms : wait).count() * kNanosPerMilli;
  const std::string request = inbox_ + "." + std::to_string(++requestNumber_);
  const std::string body = "{\"batch\":" + std::to_string(batch) + ",\"max_bytes\":" + std::to_string(fetchMaxBytes_) +
                           ",\"expires\":" + std::to_string(expires) + "}";
  natsStatus s = natsConnection_PublishRequest(nc_.get(), pullSubject_.c_str(), request.c_str(), body.data(),
                                               static_cast<int>(body.size()));
  if (s != NATS_OK) return fetchFailed(s, wait);
  const auto deadline = clock_.now() + wait;
  pullOpenUntil_ = deadline + 50ms;  // the server's expiry is earlier; the margin covers the trip there
  int64_t bytes = 0;
  while (out.size() < batch && bytes < fetchMaxBytes_) {
    const auto left = std::chrono::duration_cast<common::Millis>(deadline - clock_.now());
    if (left <= common::Millis(0)) break;
    natsMsg* raw = nullptr;
    s = natsSubscription_NextMsg(&raw, sub_.get(), left.count());
    if (s == NATS_TIMEOUT) break;
    if (s != NATS_OK) return out.empty() ? fetchFailed(s, wait) : common::Status::ok();
    NatsMsgPtr m(raw, &natsMsg_Destroy);
    if (accept(m.get(), request, out, bytes) == PullStep::kEnd) break;
  }
  return common::Status::ok();
}

common::Status NatsSource::fetchFailed(natsStatus s, common::Millis timeout) {
  if (s == NATS_CONNECTION_CLOSED) return common::unavailable(natsError(s, "fetch: the connection is closed"));
  const auto now = clock_.now();
  if (now - lastFetchWarning_ >= 5s) {
    lastFetchWarning_ = now;
    spdlog::warn("{} (retrying)", natsError(s, "fetch from " + settings_.stream + "/" + settings_.consumer.durable));
  }
  // Disconnected or the server is busy: do not spin while nats.c reconnects.
  std::this_thread::sleep_for(std::min<common::Millis>(timeout + kMinFetchWait, 100ms));
  return common::Status::ok();
}

// One pull at a time, sized by the pipeline's free budget (maxMessages) and a byte cap. Leftovers of
// earlier pulls come first; when there are any, they are this poll's answer.
common::Status NatsSource::poll(common::Millis timeout, size_t maxMessages, Batch& out) {
  keepAlive();
  out.clear();  // recycled storage is not reused: NATS messages are built whole
  if (paused_ || closed_) {
    std::this_thread::sleep_for(std::clamp<common::Millis>(timeout, common::Millis(1), 20ms));
    return common::Status::ok();
  }
  const size_t batch = std::clamp<size_t>(maxMessages, 1, 100000);
  int64_t bytes = 0;
  takeLeftovers(out, batch, bytes);
  if (!out.empty()) return common::Status::ok();
  if (auto st = pull(out, batch, timeout); !st) {
    out.clear();
    return st;
  }
  return common::Status::ok();
}

// InProgress for every message held longer than a third of AckWait (queued, parked for a retry, in
// a slow sink or stalled): the server redelivers only what a dead worker stopped touching.
void NatsSource::keepAlive() {
  const auto now = clock_.now();
  if (now - lastKeepAlive_ < keepAliveEvery_ / 2) return;
  lastKeepAlive_ = now;
  size_t failed = 0;
  for (auto& [id, held] : outstanding_) {
    if (now - held.touched < keepAliveEvery_) continue;
    held.touched = now;
    if (publishAck(held.reply, kInProgressBody) != NATS_OK) ++failed;
  }
  if (failed > 0) spdlog::warn("nats: InProgress failed for {} held message(s); the server may redeliver them", failed);
}

common::Status NatsSource::settle(std::span<const Settlement> settlements) {
  size_t failed = 0;
  natsStatus first = NATS_OK;
  for (const auto& settlement : settlements) {
    auto it = outstanding_.find(settlement.deliveryId);
    if (it == outstanding_.end()) continue;  // released on close already
    const std::string& reply = it->second.reply;
    natsStatus s = NATS_OK;
    switch (settlement.disposition) {
      case Disposition::kDelivered:
        s = publishAck(reply, kAckBody);
        break;
      case Disposition::kDeadLettered:
        s = publishAck(reply, kTermBody);
        break;
      case Disposition::kReleased: {
        const int64_t delay = settlement.redeliverAfter.count() * kNanosPerMilli;
        s = delay > 0 ? publishAck(reply, ("-NAK {\"delay\":" + std::to_string(delay) + "}").c_str())
                      : publishAck(reply, kNakBody);
        break;
      }
    }
    if (s != NATS_OK && failed++ == 0) first = s;
    outstanding_.erase(it);
  }
  // A lost ack only means a redelivery after AckWait: at-least-once holds.
  if (failed > 0) return common::unavailable(std::to_string(failed) + " " + natsError(first, "ack"));
  return common::Status::ok();
}

// num_pending from the consumer info: a request to the server, so at most every kLagRefresh and only
// when no message brought a fresher number.
void NatsSource::refreshLag() {
  const auto now = clock_.now();
  if (now - lastPendingAt_ < kLagRefresh || now - lastLagRefresh_ < kLagRefresh) return;
  lastLagRefresh_ = now;
  jsOptions opts;
  jsOptions_Init(&opts);
  opts.Wait = kConsumerInfoWaitMs;
  jsConsumerInfo* raw = nullptr;
  const natsStatus s = js_GetConsumerInfo(&raw, js_.get(), settings_.stream.c_str(), settings_.consumer.durable.c_str(),
                                          &opts, nullptr);
  if (s != NATS_OK) {
    spdlog::debug("{}", natsError(s, "consumer info for the lag of " + settings_.stream));
    return;
  }
  ConsumerInfoPtr info(raw, &jsConsumerInfo_Destroy);
  lastPending_ = static_cast<int64_t>(info->NumPending);
  lastPendingAt_ = now;
}

std::vector<PartitionWatermark> NatsSource::watermarks() {
  if (!closed_) refreshLag();
  if (lastPending_ < 0) return {};
  return {PartitionWatermark{TopicPartition{settings_.stream, 0}, -1, lastPending_}};
}

// Answers that arrived after the last poll (never handed to the pipeline), and any the last pull
// request still brings until the server expires it (at most ~100 ms), are nak'ed: otherwise they
// would wait out AckWait on a consumer nobody reads any more.
size_t NatsSource::releaseLeftovers() {
  size_t released = 0;
  while (sub_) {
    const auto left = std::chrono::duration_cast<common::Millis>(pullOpenUntil_ - clock_.now());
    int waiting = 0;
    int waitingBytes = 0;
    if (natsSubscription_GetPending(sub_.get(), &waiting, &waitingBytes) != NATS_OK) break;
    if (waiting == 0 && left <= common::Millis(0)) break;
    natsMsg* raw = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&raw, sub_.get(), std::max<int64_t>(1, left.count()));
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) break;
    NatsMsgPtr m(raw, &natsMsg_Destroy);
    const char* reply = natsMsg_GetReply(m.get());
    if (reply && parseAckSubject(reply) && publishAck(reply, kNakBody) == NATS_OK) ++released;
  }
  return released;
}

// Whatever the pipeline still holds goes back to the server at once (nak) instead of waiting out
// AckWait, then acks and naks are flushed before the connection closes.
common::Status NatsSource::close() {
  if (closed_) return common::Status::ok();
  closed_ = true;
  size_t released = 0;
  for (auto& [id, held] : outstanding_) {
    if (publishAck(held.reply, kNakBody) == NATS_OK) ++released;
  }
  outstanding_.clear();
  released += releaseLeftovers();
  if (released > 0) spdlog::info("nats: released {} undelivered message(s) for redelivery", released);
  const natsStatus s = natsConnection_FlushTimeout(nc_.get(), 5000);
  if (sub_) natsSubscription_Unsubscribe(sub_.get());
  sub_.reset();
  natsConnection_Close(nc_.get());
  if (s != NATS_OK) return common::unavailable(natsError(s, "flushing acks on close"));
  return common::Status::ok();
}

}  // namespace

common::Result<std::unique_ptr<Source>> makeNatsSource(const spec::ConsumerPipeline& pipeline,
                                                       const std::string& podName, DeadLetterSink* deadLetter,
                                                       WorkerMetrics& metrics, common::Clock& clock) {
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
  auto source = std::make_unique<NatsSource>(std::move(settings), deadLetter, metrics, clock);
  if (auto st = source->open(); !st) return st;
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice::worker

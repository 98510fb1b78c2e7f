// NatsSource: a JetStream durable pull consumer (nats.c). Every method runs on the consumer thread
// (source.h). The natsMsg of every message handed to the pipeline is kept until the pipeline settles
// it (ack / term / nak by deliveryId); while it waits, InProgress is sent every third of AckWait so
// the server does not redeliver work that is merely queued, parked for a retry or in a slow sink.
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
using MetaDataPtr = std::unique_ptr<jsMsgMetaData, decltype(&jsMsgMetaData_Destroy)>;

constexpr int64_t kNanosPerMilli = 1000000;
constexpr int64_t kNanosPerSecond = 1000000000;
constexpr common::Millis kMinFetchWait{10};

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

struct NatsSourceSettings {
  NatsEndpoint endpoint;
  std::string stream;
  NatsConsumerSettings consumer;
  NatsKeyRule keyRule;
  int64_t maxInFlightBytes = 0;
};

class NatsSource final : public Source {
 public:
  NatsSource(NatsSourceSettings settings, WorkerMetrics& metrics, common::Clock& clock)
      : settings_(std::move(settings)),
        metrics_(metrics),
        clock_(clock),
        keepAliveEvery_(std::max<common::Millis>(common::Millis(settings_.consumer.ackWaitSeconds * 1000 / 3), 300ms)) {}
  ~NatsSource() override {
    outstanding_.clear();  // messages before the subscription and connection they came from
  }
  NatsSource(const NatsSource&) = delete;
  NatsSource& operator=(const NatsSource&) = delete;

  common::Status open();
  common::Result<std::vector<Message>> poll(common::Millis timeout, size_t maxMessages) override;
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
    NatsMsgPtr msg;
    common::SteadyTime touched;
  };
  common::Status ensureConsumer();
  common::Status checkExisting(const jsConsumerInfo& info);
  common::Status subscribe();
  Message toMessage(natsMsg* m, uint64_t deliveryId);
  void keepAlive();
  common::Status fetchFailed(natsStatus s, common::Millis timeout);

  NatsSourceSettings settings_;
  WorkerMetrics& metrics_;
  common::Clock& clock_;
  const common::Millis keepAliveEvery_;
  NatsConnectionPtr nc_{nullptr, &natsConnection_Destroy};
  JetStreamPtr js_{nullptr, &jsCtx_Destroy};
  SubscriptionPtr sub_{nullptr, &natsSubscription_Destroy};
  std::unordered_map<uint64_t, Outstanding> outstanding_;
  uint64_t nextDeliveryId_ = 1;
  int64_t fetchMaxBytes_ = 0;
  bool paused_ = false;
  bool closed_ = false;
  int64_t lastPending_ = -1;
  std::string boundFilter_;  // the existing consumer's filter subject
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
  boundFilter_ = have.filterSubject;
  const auto drift = consumerDrift(settings_.consumer, have);
  metrics_.sourceConfigDrift.Set(drift.empty() ? 0 : 1);
  for (const auto& difference : drift) {
    spdlog::warn("nats consumer {} exists with other settings, kept as it is: {}", name, difference);
  }
  if (!have.ackExplicit) {
    return common::invalidArgument("nats consumer " + name +
                                   " does not use explicit acks: at-least-once delivery needs AckExplicit");
  }
  return common::Status::ok();
}

common::Status NatsSource::subscribe() {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = settings_.stream.c_str();
  so.Consumer = settings_.consumer.durable.c_str();
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const char* subject = boundFilter_.empty() ? nullptr : boundFilter_.c_str();
  const natsStatus s = js_PullSubscribe(&sub, js_.get(), subject, settings_.consumer.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return common::unavailable(natsError(s, "pull subscribe to " + settings_.stream + "/" + settings_.consumer.durable));
  }
  sub_.reset(sub);
  spdlog::info("nats: consuming {}/{} (fetches up to {} bytes)", settings_.stream, settings_.consumer.durable,
               fetchMaxBytes_);
  return common::Status::ok();
}

Message NatsSource::toMessage(natsMsg* m, uint64_t deliveryId) {
  Message out;
  out.topic = natsMsg_GetSubject(m);
  out.stream = settings_.stream;
  out.deliveryId = deliveryId;
  if (const char* data = natsMsg_GetData(m)) out.value.assign(data, static_cast<size_t>(natsMsg_GetDataLength(m)));
  jsMsgMetaData* raw = nullptr;
  if (natsMsg_GetMetaData(&raw, m) == NATS_OK) {
    MetaDataPtr meta(raw, &jsMsgMetaData_Destroy);
    out.offset = static_cast<int64_t>(meta->Sequence.Stream);
    out.timestampMs = meta->Timestamp / kNanosPerMilli;
    lastPending_ = static_cast<int64_t>(meta->NumPending);
  }
  out.headers = headersOf(m);
  out.key = natsKey(settings_.keyRule, out.topic, out.headers);
  return out;
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

// One fetch at a time, sized by the pipeline's free budget (maxMessages) and a byte cap.
common::Result<std::vector<Message>> NatsSource::poll(common::Millis timeout, size_t maxMessages) {
  keepAlive();
  std::vector<Message> out;
  if (paused_ || closed_) {
    std::this_thread::sleep_for(std::clamp<common::Millis>(timeout, common::Millis(1), 20ms));
    return out;
  }
  jsFetchRequest request;
  jsFetchRequest_Init(&request);
  request.Batch = static_cast<int>(std::clamp<size_t>(maxMessages, 1, 100000));
  request.MaxBytes = fetchMaxBytes_;
  request.Expires = std::max(timeout, kMinFetchWait).count() * kNanosPerMilli;
  natsMsgList list{nullptr, 0};
  const natsStatus s = natsSubscription_FetchRequest(&list, sub_.get(), &request);
  const auto now = clock_.now();
  out.reserve(static_cast<size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    if (!list.Msgs[i]) continue;
    const uint64_t id = nextDeliveryId_++;
    out.push_back(toMessage(list.Msgs[i], id));
    outstanding_.emplace(id, Outstanding{NatsMsgPtr(list.Msgs[i], &natsMsg_Destroy), now});
    list.Msgs[i] = nullptr;  // owned by outstanding_ now
  }
  natsMsgList_Destroy(&list);
  if (s != NATS_OK && s != NATS_TIMEOUT && out.empty()) {
    if (auto st = fetchFailed(s, timeout); !st) return st;
  }
  return out;
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
    if (natsMsg_InProgress(held.msg.get(), nullptr) != NATS_OK) ++failed;
  }
  if (failed > 0) spdlog::warn("nats: InProgress failed for {} held message(s); the server may redeliver them", failed);
}

common::Status NatsSource::settle(std::span<const Settlement> settlements) {
  size_t failed = 0;
  natsStatus first = NATS_OK;
  for (const auto& settlement : settlements) {
    auto it = outstanding_.find(settlement.deliveryId);
    if (it == outstanding_.end()) continue;  // released on close already
    natsMsg* m = it->second.msg.get();
    natsStatus s = NATS_OK;
    switch (settlement.disposition) {
      case Disposition::kDelivered:
        s = natsMsg_Ack(m, nullptr);
        break;
      case Disposition::kDeadLettered:
        s = natsMsg_Term(m, nullptr);
        break;
      case Disposition::kReleased:
        s = settlement.redeliverAfter.count() > 0 ? natsMsg_NakWithDelay(m, settlement.redeliverAfter.count(), nullptr)
                                                  : natsMsg_Nak(m, nullptr);
        break;
    }
    if (s != NATS_OK && failed++ == 0) first = s;
    outstanding_.erase(it);
  }
  // A lost ack only means a redelivery after AckWait: at-least-once holds.
  if (failed > 0) return common::unavailable(std::to_string(failed) + " " + natsError(first, "ack"));
  return common::Status::ok();
}

std::vector<PartitionWatermark> NatsSource::watermarks() {
  if (lastPending_ < 0) return {};
  return {PartitionWatermark{TopicPartition{settings_.stream, 0}, -1, lastPending_}};
}

// Whatever the pipeline still holds goes back to the server at once (nak) instead of waiting out
// AckWait, then acks and naks are flushed before the connection closes.
common::Status NatsSource::close() {
  if (closed_) return common::Status::ok();
  closed_ = true;
  size_t released = 0;
  for (auto& [id, held] : outstanding_) {
    if (natsMsg_Nak(held.msg.get(), nullptr) == NATS_OK) ++released;
  }
  outstanding_.clear();
  if (released > 0) spdlog::info("nats: released {} undelivered message(s) for redelivery", released);
  const natsStatus s = natsConnection_FlushTimeout(nc_.get(), 5000);
  sub_.reset();
  natsConnection_Close(nc_.get());
  if (s != NATS_OK) return common::unavailable(natsError(s, "flushing acks on close"));
  return common::Status::ok();
}

}  // namespace

common::Result<std::unique_ptr<Source>> makeNatsSource(const spec::ConsumerPipeline& pipeline,
                                                       const std::string& podName, WorkerMetrics& metrics,
                                                       common::Clock& clock) {
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
  auto source = std::make_unique<NatsSource>(std::move(settings), metrics, clock);
  if (auto st = source->open(); !st) return st;
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice::worker

#include "tests/worker/nats_test_client.h"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>

namespace sluice::worker::testing {

struct NatsTestClient::Impl {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* core = nullptr;
  std::atomic<uint64_t> coreCount{0};
};

NatsTestClient::NatsTestClient(const std::string& url) : impl_(std::make_unique<Impl>()) {
  EXPECT_EQ(natsConnection_ConnectTo(&impl_->nc, url.c_str()), NATS_OK) << "connect to " << url;
  if (impl_->nc) {
    EXPECT_EQ(natsConnection_JetStream(&impl_->js, impl_->nc, nullptr), NATS_OK);
  }
}

NatsTestClient::NatsTestClient(const std::string& url, const std::string& seedFile,
                               const std::string& nkeyPublic)
    : impl_(std::make_unique<Impl>()) {
  natsOptions* opts = nullptr;
  EXPECT_EQ(natsOptions_Create(&opts), NATS_OK);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetNKeyFromSeed(opts, nkeyPublic.c_str(), seedFile.c_str());
  EXPECT_EQ(natsConnection_Connect(&impl_->nc, opts), NATS_OK)
      << "connect to " << url << " as " << nkeyPublic;
  natsOptions_Destroy(opts);
  if (impl_->nc) {
    EXPECT_EQ(natsConnection_JetStream(&impl_->js, impl_->nc, nullptr), NATS_OK);
  }
}

NatsTestClient::~NatsTestClient() {
  if (impl_->core) natsSubscription_Destroy(impl_->core);
  if (impl_->js) jsCtx_Destroy(impl_->js);
  if (impl_->nc) natsConnection_Destroy(impl_->nc);
}

void NatsTestClient::createStream(const std::string& stream, const std::vector<std::string>& subjects) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.c_str();
  std::vector<const char*> subs;
  for (const auto& s : subjects) subs.push_back(s.c_str());
  cfg.Subjects = subs.data();
  cfg.SubjectsLen = static_cast<int>(subs.size());
  cfg.Storage = js_MemoryStorage;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(&si, impl_->js, &cfg, nullptr, &jerr), NATS_OK)
      << "stream " << stream << " jerr " << jerr;
  jsStreamInfo_Destroy(si);
}

void NatsTestClient::deleteStream(const std::string& stream) {
  js_DeleteStream(impl_->js, stream.c_str(), nullptr, nullptr);
}

void NatsTestClient::publish(const std::vector<NatsRecord>& records) {
  for (const auto& r : records) {
    natsMsg* m = nullptr;
    ASSERT_EQ(
        natsMsg_Create(&m, r.subject.c_str(), nullptr, r.value.data(), static_cast<int>(r.value.size())),
        NATS_OK);
    for (const auto& [k, v] : r.headers) natsMsgHeader_Add(m, k.c_str(), v.c_str());
    const natsStatus s = js_PublishMsgAsync(impl_->js, &m, nullptr);
    if (m) natsMsg_Destroy(m);
    ASSERT_EQ(s, NATS_OK) << natsStatus_GetText(s);
  }
  jsPubOptions opts;
  jsPubOptions_Init(&opts);
  opts.MaxWait = 30000;
  ASSERT_EQ(js_PublishAsyncComplete(impl_->js, &opts), NATS_OK);
}

std::optional<NatsConsumerState> NatsTestClient::consumer(const std::string& stream,
                                                          const std::string& consumer) {
  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, impl_->js, stream.c_str(), consumer.c_str(), nullptr, nullptr) != NATS_OK) {
    return std::nullopt;
  }
  NatsConsumerState out{ci->NumAckPending,   ci->NumPending, ci->NumRedelivered,    ci->Config->MaxAckPending,
                        ci->AckFloor.Stream, ci->NumWaiting, ci->Delivered.Consumer};
  jsConsumerInfo_Destroy(ci);
  return out;
}

void NatsTestClient::createConsumer(const std::string& stream, const std::string& consumer,
                                    const std::string& filterSubject, int ackWaitSeconds,
                                    int64_t maxAckPending, int64_t maxDeliver) {
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = consumer.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.DeliverPolicy = js_DeliverAll;
  cfg.AckWait = int64_t{ackWaitSeconds} * 1000000000;
  cfg.MaxAckPending = maxAckPending;
  cfg.MaxDeliver = maxDeliver;
  cfg.FilterSubject = filterSubject.c_str();
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddConsumer(&ci, impl_->js, stream.c_str(), &cfg, nullptr, &jerr), NATS_OK)
      << consumer << " jerr " << jerr;
  jsConsumerInfo_Destroy(ci);
}

namespace {

// Pulls one message of a durable pull consumer; returns its ack subject, or "" when nothing came
// within the request's 4 s (a status reply such as 408 has no ack subject).
std::string pullOne(natsConnection* nc, const std::string& stream, const std::string& consumer) {
  const std::string subject = "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer;
  natsMsg* reply = nullptr;
  if (natsConnection_RequestString(&reply, nc, subject.c_str(), "{\"batch\":1,\"expires\":4000000000}",
                                   5000) != NATS_OK) {
    return "";
  }
  const std::string ack = natsMsg_GetReply(reply) ? natsMsg_GetReply(reply) : "";
  natsMsg_Destroy(reply);
  return ack;
}

// The delivery count in $JS.ACK.<stream>.<consumer>.<delivered>.<...>; 0 for anything else.
uint64_t deliveryCountOf(const std::string& ack, const std::string& stream, const std::string& consumer) {
  const std::string prefix = "$JS.ACK." + stream + "." + consumer + ".";
  if (ack.rfind(prefix, 0) != 0) return 0;
  return std::stoull(ack.substr(prefix.size(), ack.find('.', prefix.size()) - prefix.size()));
}

}  // namespace

uint64_t NatsTestClient::pullAndAbandon(const std::string& stream, const std::string& consumer) {
  return deliveryCountOf(pullOne(impl_->nc, stream, consumer), stream, consumer);
}

uint64_t NatsTestClient::pullAndRelease(const std::string& stream, const std::string& consumer) {
  const std::string ack = pullOne(impl_->nc, stream, consumer);
  const uint64_t delivered = deliveryCountOf(ack, stream, consumer);
  if (delivered == 0) return 0;
  // An ack sent as a request is answered once the server has processed it (what AckSync does).
  natsMsg* done = nullptr;
  const natsStatus s = natsConnection_RequestString(&done, impl_->nc, ack.c_str(), "-NAK", 5000);
  if (done) natsMsg_Destroy(done);
  EXPECT_EQ(s, NATS_OK) << "nak of " << ack << ": " << natsStatus_GetText(s);
  return s == NATS_OK ? delivered : 0;
}

void NatsTestClient::purgeStream(const std::string& stream) {
  ASSERT_EQ(js_PurgeStream(impl_->js, stream.c_str(), nullptr, nullptr), NATS_OK) << stream;
}

uint64_t NatsTestClient::storedCount(const std::string& stream) {
  jsStreamInfo* si = nullptr;
  if (js_GetStreamInfo(&si, impl_->js, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
  const uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

std::vector<StoredMessage> NatsTestClient::stored(const std::string& stream, uint64_t limit) {
  std::vector<StoredMessage> out;
  jsStreamInfo* si = nullptr;
  if (js_GetStreamInfo(&si, impl_->js, stream.c_str(), nullptr, nullptr) != NATS_OK) return out;
  const uint64_t first = si->State.FirstSeq;
  const uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  for (uint64_t seq = first; seq <= last && out.size() < limit && seq > 0; ++seq) {
    natsMsg* m = nullptr;
    if (js_GetMsg(&m, impl_->js, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) continue;
    StoredMessage sm;
    sm.sequence = seq;
    sm.subject = natsMsg_GetSubject(m);
    sm.value.assign(natsMsg_GetData(m) ? natsMsg_GetData(m) : "",
                    static_cast<size_t>(natsMsg_GetDataLength(m)));
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(m, &keys, &count) == NATS_OK) {
      for (int i = 0; i < count; ++i) {
        const char* v = nullptr;
        if (natsMsgHeader_Get(m, keys[i], &v) == NATS_OK && v) sm.headers[keys[i]] = v;
      }
      free(static_cast<void*>(keys));
    }
    natsMsg_Destroy(m);
    out.push_back(std::move(sm));
  }
  return out;
}

}  // namespace sluice::worker::testing

namespace sluice::worker::testing {

void NatsTestClient::deleteConsumer(const std::string& stream, const std::string& consumer) {
  EXPECT_EQ(js_DeleteConsumer(impl_->js, stream.c_str(), consumer.c_str(), nullptr, nullptr), NATS_OK);
}

void NatsTestClient::countCore(const std::string& subject) {
  ASSERT_EQ(impl_->core, nullptr) << "one core subscription per client";
  auto onMessage = [](natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    static_cast<Impl*>(closure)->coreCount++;
    natsMsg_Destroy(msg);
  };
  ASSERT_EQ(natsConnection_Subscribe(&impl_->core, impl_->nc, subject.c_str(), onMessage, impl_.get()),
            NATS_OK);
  ASSERT_EQ(natsConnection_Flush(impl_->nc), NATS_OK);  // the server knows it before anything is published
}

uint64_t NatsTestClient::coreCount() const { return impl_->coreCount.load(); }

}  // namespace sluice::worker::testing

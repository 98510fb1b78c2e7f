// NatsLagProbe against the real local nats-server (JetStream) from scripts/dev-env (127.0.0.1 only).
#include "operator/scaling/nats_lag_probe.h"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <memory>
#include <string>

#include "tests/support/env_file.h"
#include "tests/support/tls_nats_server.h"

namespace sluice::scaling {
namespace {

class NatsLagProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url = testing::requireServiceEnv("NATS_URL");
    if (HasFatalFailure() || url.empty()) GTEST_SKIP() << "no NATS";
    ASSERT_EQ(url.rfind("nats://127.0.0.1:", 0), 0u) << "tests only talk to 127.0.0.1, got " << url;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK) << nats_GetLastError(nullptr);
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    stream = testing::uniqueName("LAG");
    for (char& c : stream) c = c == '-' || c == '.' ? '_' : c;
    subject = stream + ".in";
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream.c_str();
    const char* subjects[] = {subject.c_str()};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_MemoryStorage;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_AddStream(&si, js, &cfg, nullptr, &jerr), NATS_OK)
        << nats_GetLastError(nullptr) << " " << jerr;
    jsStreamInfo_Destroy(si);
  }

  void TearDown() override {
    if (js && !stream.empty()) js_DeleteStream(js, stream.c_str(), nullptr, nullptr);
    if (sub) natsSubscription_Destroy(sub);
    if (js) jsCtx_Destroy(js);
    if (nc) natsConnection_Destroy(nc);
  }

  void publish(int count) {
    for (int i = 0; i < count; ++i) {
      const std::string body = "m" + std::to_string(i);
      ASSERT_EQ(js_Publish(nullptr, js, subject.c_str(), body.data(), static_cast<int>(body.size()), nullptr,
                           nullptr),
                NATS_OK);
    }
  }

  // Fetches `count` messages through the durable pull consumer, acking the first `ack` of them.
  void fetch(int count, int ack) {
    if (!sub) {
      jsErrCode jerr = static_cast<jsErrCode>(0);
      ASSERT_EQ(js_PullSubscribe(&sub, js, subject.c_str(), consumer.c_str(), nullptr, nullptr, &jerr),
                NATS_OK)
          << nats_GetLastError(nullptr);
    }
    int got = 0;
    while (got < count) {
      natsMsgList list{};
      jsErrCode jerr = static_cast<jsErrCode>(0);
      ASSERT_EQ(natsSubscription_Fetch(&list, sub, count - got, 5000, &jerr), NATS_OK)
          << nats_GetLastError(nullptr);
      for (int i = 0; i < list.Count; ++i, ++got) {
        if (got < ack) {
          ASSERT_EQ(natsMsg_Ack(list.Msgs[i], nullptr), NATS_OK);
        }
      }
      natsMsgList_Destroy(&list);
    }
    natsConnection_Flush(nc);
  }

  NatsLagProbeConfig config() {
    NatsLagProbeConfig c;
    c.connection.servers = {url};
    c.stream = stream;
    c.consumer = consumer;
    return c;
  }

  std::string url, stream, subject, consumer = "workers";
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  NatsConnectionPool pool;
};

TEST_F(NatsLagProbeTest, LagIsPendingPlusAckPending) {
  publish(50);
  fetch(20, 20);
  NatsLagProbe probe(pool, config());
  auto snap = probe.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  EXPECT_EQ(snap->totalLag, 30);
  EXPECT_EQ(snap->consumedSum, 20);
  EXPECT_EQ(snap->producedSum, 50);
  EXPECT_FALSE(snap->partitionCount.has_value());

  fetch(10, 0);  // delivered but not acked: still lag (num_ack_pending)
  snap = probe.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  EXPECT_EQ(snap->totalLag, 30);
  EXPECT_EQ(snap->consumedSum, 20);

  publish(5);
  snap = probe.probe();
  ASSERT_TRUE(snap.isOk());
  EXPECT_EQ(snap->totalLag, 35);
  EXPECT_EQ(snap->producedSum, 55);
}

TEST_F(NatsLagProbeTest, MissingConsumerCountsMatchingStreamMessages) {
  // At zero workers the durable consumer does not exist yet: the backlog it will see (DeliverAll)
  // is every matching stream message, so the pipeline can scale from zero.
  publish(12);
  NatsLagProbeConfig c = config();
  c.consumer = "nobody";
  NatsLagProbe noConsumer(pool, c);
  auto snap = noConsumer.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  EXPECT_EQ(snap->totalLag, 12);
  EXPECT_EQ(snap->producedSum, 12);
  EXPECT_EQ(snap->consumedSum, 0);

  c.filterSubject = subject;
  NatsLagProbe filtered(pool, c);
  snap = filtered.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  EXPECT_EQ(snap->totalLag, 12);

  c.filterSubject = stream + ".nothing";
  NatsLagProbe unmatched(pool, c);
  snap = unmatched.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  EXPECT_EQ(snap->totalLag, 0);
}

TEST_F(NatsLagProbeTest, MissingStreamIsNotFound) {
  NatsLagProbeConfig c = config();
  c.stream = "NO_SUCH_STREAM_" + stream;
  NatsLagProbe noStream(pool, c);
  auto snap = noStream.probe();
  ASSERT_FALSE(snap.isOk());
  EXPECT_EQ(snap.status().code(), common::ErrorCode::kNotFound) << snap.status().toString();
  EXPECT_NE(snap.status().message().find("stream"), std::string::npos);

  c.consumer = "nobody";  // stream missing wins over consumer missing
  NatsLagProbe neither(pool, c);
  snap = neither.probe();
  ASSERT_FALSE(snap.isOk());
  EXPECT_EQ(snap.status().code(), common::ErrorCode::kNotFound);
  EXPECT_EQ(pool.liveConnections(), 1u) << "both probes share one connection";
}

TEST(NatsLagProbeUnreachable, ClosedPortIsUnavailable) {
  NatsConnectionPool pool;
  NatsLagProbeConfig c;
  c.connection.servers = {"nats://127.0.0.1:1"};
  c.stream = "S";
  c.consumer = "C";
  c.timeout = std::chrono::milliseconds(1000);
  NatsLagProbe probe(pool, c);
  auto snap = probe.probe();
  ASSERT_FALSE(snap.isOk());
  EXPECT_NE(snap.status().code(), common::ErrorCode::kNotFound) << snap.status().toString();
}

// #18 item 10: the probe verifies the server's name against its certificate. Two servers with
// certificates from the same CA, which the probe trusts: one for 127.0.0.1 (connects; the missing
// stream then answers NotFound), one for another name (refused at the handshake).
TEST(NatsLagProbeTls, RefusesACertificateForAnotherName) {
  testing::TlsNatsServer right({"IP:127.0.0.1"});
  ASSERT_TRUE(right.ok()) << right.error();
  testing::TlsNatsServer wrong({"DNS:elsewhere.example"});
  ASSERT_TRUE(wrong.ok()) << wrong.error();
  NatsConnectionPool pool;
  auto probeAt = [&](const testing::TlsNatsServer& server, const std::string& caPem) {
    NatsLagProbeConfig c;
    c.connection.servers = {server.url()};
    clients::NatsTls tls;
    tls.caPem = caPem;
    c.connection.tls = tls;
    c.stream = "S";
    c.consumer = "C";
    c.timeout = std::chrono::milliseconds(3000);
    return NatsLagProbe(pool, c).probe();
  };
  auto connected = probeAt(right, right.caPem());
  ASSERT_FALSE(connected.isOk());
  EXPECT_EQ(connected.status().code(), common::ErrorCode::kNotFound) << connected.status().toString();
  auto refused = probeAt(wrong, wrong.caPem());
  ASSERT_FALSE(refused.isOk());
  EXPECT_NE(refused.status().code(), common::ErrorCode::kNotFound) << refused.status().toString();
  EXPECT_NE(refused.status().message().find("mismatch"), std::string::npos) << refused.status().toString();
}

}  // namespace
}  // namespace sluice::scaling

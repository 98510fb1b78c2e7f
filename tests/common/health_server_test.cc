#include "common/health_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "tests/support/http_get.h"
#include "tests/support/raw_client.h"

namespace sluice::common {
namespace {

using sluice::testing::httpGet;

TEST(HealthServerTest, ServesHealthAndReadinessOverHttp) {
  auto server = HealthServer::start("127.0.0.1:0");
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  auto& health = **server;
  ASSERT_GT(health.port(), 0);

  EXPECT_EQ(httpGet(health.port(), "/readyz").status, 503);
  health.setReady(true);
  EXPECT_EQ(httpGet(health.port(), "/readyz").status, 200);
  EXPECT_EQ(httpGet(health.port(), "/healthz").status, 200);
  EXPECT_EQ(httpGet(health.port(), "/nothing").status, 404);

  bool sinkOk = true;
  health.addLivenessCheck("sink", [&] { return sinkOk ? Status::ok() : unavailable("sink lane stopped"); });
  EXPECT_EQ(httpGet(health.port(), "/healthz").status, 200);
  sinkOk = false;
  const auto reply = httpGet(health.port(), "/healthz");
  EXPECT_EQ(reply.status, 500);
  EXPECT_NE(reply.body.find("[-]sink failed: sink lane stopped"), std::string::npos) << reply.body;
}

// A client streaming header lines forever (#18: 200 MiB of them grew a worker from 15 to 164 MiB
// RSS) is cut off once the request passes the header limit, and the process does not hold them.
TEST(HealthServerTest, EndlessHeaderLinesAreCutOffAndMemoryStaysBounded) {
  auto server = HealthServer::start("127.0.0.1:0");
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  const size_t before = sluice::testing::residentBytes();
  sluice::testing::RawClient client((*server)->port());
  ASSERT_GE(client.fd(), 0);
  ASSERT_TRUE(client.sendAll("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  const std::string line = "X-Filler: " + std::string(1014, 'a') + "\r\n";  // 1 KiB
  std::string chunk;
  for (int i = 0; i < 256; ++i) chunk += line;  // 256 KiB
  size_t sent = 0;
  constexpr size_t kLimit = size_t{128} << 20;
  while (sent < kLimit && client.sendAll(chunk)) sent += chunk.size();
  EXPECT_LT(sent, kLimit) << "the server kept reading header lines";
  const size_t after = sluice::testing::residentBytes();
  EXPECT_LT(after, before + (size_t{16} << 20)) << "RSS grew from " << before << " to " << after;
  // And it still answers probes.
  (*server)->setReady(true);
  EXPECT_EQ(sluice::testing::httpGet((*server)->port(), "/readyz").status, 200);
}

// Clients that open a request and stop half way hold nothing for long: each is closed after the
// request timeout, and probes are answered meanwhile however many of them there are.
TEST(HealthServerTest, SlowClientsDoNotBlockProbesAndAreClosedAfterTheRequestTimeout) {
  HealthServer::Limits limits;
  limits.requestTimeout = std::chrono::milliseconds(300);
  auto server = HealthServer::start("127.0.0.1:0", limits);
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  const int port = (*server)->port();
  std::vector<std::unique_ptr<sluice::testing::RawClient>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<sluice::testing::RawClient>(port));
    ASSERT_GE(slow.back()->fd(), 0);
    ASSERT_TRUE(slow.back()->sendAll("GET /healthz HTTP/1.1\r\nX-Slow: "));
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sluice::testing::httpGet(port, "/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (auto& client : slow) EXPECT_TRUE(client->closedByPeerWithin(std::chrono::seconds(3)));
}

// A request whose headers exceed the limit gets 431 and the connection closed.
TEST(HealthServerTest, OversizedHeadersAreAnsweredWith431) {
  HealthServer::Limits limits;
  limits.maxRequestBytes = 1024;
  auto server = HealthServer::start("127.0.0.1:0", limits);
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  sluice::testing::RawClient client((*server)->port());
  ASSERT_TRUE(client.sendAll("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
  std::string reply;
  EXPECT_TRUE(client.closedByPeerWithin(std::chrono::seconds(3), &reply));
  EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << "[" << reply << "]";
}

// stop() waits for a check that is running and no check runs afterwards: the owner may destroy what
// its checks refer to once stop() returns (#18: a probe during teardown called into a destroyed
// pipeline).
TEST(HealthServerTest, NoCheckRunsAfterStop) {
  auto server = HealthServer::start("127.0.0.1:0");
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  const int port = (*server)->port();
  std::atomic<int> calls{0};
  (*server)->addLivenessCheck("counted", [&calls] {
    ++calls;
    return Status::ok();
  });
  EXPECT_EQ(sluice::testing::httpGet(port, "/healthz").status, 200);
  EXPECT_EQ(calls.load(), 1);
  (*server)->stop();
  EXPECT_EQ(sluice::testing::httpGet(port, "/healthz").status, 0) << "still serving after stop()";
  EXPECT_EQ(calls.load(), 1);
  (*server)->stop();  // idempotent
}

TEST(HealthServerTest, PortInUseIsAnError) {
  auto first = HealthServer::start("127.0.0.1:0");
  ASSERT_TRUE(first.isOk());
  auto second = HealthServer::start("127.0.0.1:" + std::to_string((*first)->port()));
  EXPECT_FALSE(second.isOk());
}

TEST(ParseHostPortTest, AcceptsHostPortAndBarePort) {
  auto a = parseHostPort("127.0.0.1:8081", "x");
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8081);
  auto b = parseHostPort(":9400", "x");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->first, "");
  EXPECT_EQ(b->second, 9400);
  auto bad = parseHostPort("localhost", "--health-address");
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("--health-address must be host:port"), std::string::npos);
  EXPECT_FALSE(parseHostPort(":99999", "x").isOk());
}

}  // namespace
}  // namespace sluice::common

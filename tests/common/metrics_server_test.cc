#include "common/metrics_server.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <vector>

#include "tests/support/http_get.h"
#include "tests/support/raw_client.h"

namespace sluice::common {
namespace {

TEST(MetricsServerTest, ServesRegistryOnMetricsPath) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family =
      prometheus::BuildCounter().Name("sluice_test_total").Help("test counter").Register(*registry);
  family.Add({{"pipeline", "orders"}}).Increment(3);
  auto server = MetricsServer::start("127.0.0.1:0", registry);
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  ASSERT_GT((*server)->port(), 0);
  const auto reply = sluice::testing::httpGet((*server)->port(), "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("sluice_test_total{pipeline=\"orders\"} 3"), std::string::npos) << reply.body;
}

// #18: the exposer ran 2 CivetWeb threads, so two clients that open a request and stop half way
// stalled every scrape until CivetWeb's 30 s request timeout.
TEST(MetricsServerTest, SlowClientsDoNotStallAScrape) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto server = MetricsServer::start("127.0.0.1:0", registry);
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  const int port = (*server)->port();
  std::vector<std::unique_ptr<sluice::testing::RawClient>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<sluice::testing::RawClient>(port));
    ASSERT_TRUE(slow.back()->sendAll("GET /metrics HTTP/1.1\r\nX-Slow: "));
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sluice::testing::httpGet(port, "/metrics").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// More slow clients than threads: each is dropped after the request timeout, and the scrape is
// answered once one is.
TEST(MetricsServerTest, SlowClientsAreDroppedAfterTheRequestTimeout) {
  auto registry = std::make_shared<prometheus::Registry>();
  MetricsServer::Limits limits;
  limits.threads = 2;
  limits.requestTimeout = std::chrono::milliseconds(500);
  auto server = MetricsServer::start("127.0.0.1:0", registry, limits);
  ASSERT_TRUE(server.isOk()) << server.status().toString();
  const int port = (*server)->port();
  std::vector<std::unique_ptr<sluice::testing::RawClient>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<sluice::testing::RawClient>(port));
    ASSERT_TRUE(slow.back()->sendAll("GET /metrics HTTP/1.1\r\nX-Slow: "));
  }
  EXPECT_EQ(sluice::testing::httpGet(port, "/metrics").status, 200);
  for (auto& client : slow) EXPECT_TRUE(client->closedByPeerWithin(std::chrono::seconds(3)));
}

TEST(MetricsServerTest, BadAddressIsAnErrorNamingIt) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto server = MetricsServer::start("256.1.1.1:1", registry);
  ASSERT_FALSE(server.isOk());
  EXPECT_NE(server.status().message().find("256.1.1.1:1"), std::string::npos);
}

}  // namespace
}  // namespace sluice::common

#include "common/health_server.h"

#include <gtest/gtest.h>

#include "tests/support/http_get.h"

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

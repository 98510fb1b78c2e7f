#include "common/metrics_server.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "tests/support/http_get.h"

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

TEST(MetricsServerTest, BadAddressIsAnErrorNamingIt) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto server = MetricsServer::start("256.1.1.1:1", registry);
  ASSERT_FALSE(server.isOk());
  EXPECT_NE(server.status().message().find("256.1.1.1:1"), std::string::npos);
}

}  // namespace
}  // namespace sluice::common

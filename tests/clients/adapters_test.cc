// The two client adapters refuse a bad setting with a message naming it (no broker or server needed:
// nothing connects).
#include <gtest/gtest.h>

#include "clients/nats_options.h"
#include "clients/rdkafka_conf.h"

namespace sluice::clients {
namespace {

TEST(MakeKafkaConf, SetsEveryPropertyOrNamesTheOneRefused) {
  auto conf =
      makeKafkaConf({{"bootstrap.servers", "127.0.0.1:9092"}, {"client.id", "test"}}, "kafka consumer");
  ASSERT_TRUE(conf.isOk()) << conf.status().toString();
  EXPECT_NE(conf->get(), nullptr);
  auto bad = makeKafkaConf({{"client.id", "test"}, {"no.such.property", "1"}}, "kafka producer");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), common::ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("kafka producer property no.such.property"), std::string::npos)
      << bad.status().message();
}

TEST(MakeNatsOptions, BuildsOrNamesTheSettingRefused) {
  NatsClientSettings settings;
  settings.servers = {"nats://127.0.0.1:4222"};
  settings.name = "test";
  settings.connectTimeout = std::chrono::milliseconds(500);
  settings.reconnect.wait = std::chrono::milliseconds(1000);
  settings.reconnect.jitter = std::chrono::milliseconds(1000);
  settings.reconnect.jitterTls = std::chrono::milliseconds(2000);
  settings.reconnect.bufferBytes = 8 * 1024 * 1024;
  settings.auth.username = "alice";
  settings.auth.password = "s3cret";
  auto options = makeNatsOptions(settings);
  ASSERT_TRUE(options.isOk()) << options.status().toString();
  EXPECT_NE(options->get(), nullptr);

  settings.tls = NatsTls{};
  settings.tls->caFile = "/nonexistent/ca.crt";
  auto bad = makeNatsOptions(settings);
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("tls.caFile /nonexistent/ca.crt"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace sluice::clients

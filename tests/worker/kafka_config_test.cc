#include "worker/kafka_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace sluice::worker {
namespace {

std::map<std::string, std::string> asMap(const KafkaProperties& props) {
  return std::map<std::string, std::string>(props.begin(), props.end());
}

EnvLookup fakeEnv(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

spec::ConsumerPipeline pipeline() {
  spec::ConsumerPipeline p;
  p.metadata.name = "orders";
  p.metadata.namespace_ = "shop";
  p.spec.source.kafka = spec::KafkaSourceSpec{};
  p.spec.source.kafka->bootstrapServers = "127.0.0.1:9092";
  p.spec.source.kafka->topics = {"orders"};
  p.spec.backpressure.maxInFlightBytes = 64 << 20;
  return p;
}

TEST(KafkaConfig, ConsumerUsesCooperativeStickyAndManualOffsetStore) {
  auto props = consumerProperties(pipeline(), "", fakeEnv({}));
  ASSERT_TRUE(props) << props.status().toString();
  auto m = asMap(*props);
  EXPECT_EQ(m["group.id"], "shop.orders");
  EXPECT_EQ(m["partition.assignment.strategy"], "cooperative-sticky");
  EXPECT_EQ(m["enable.auto.offset.store"], "false");
  EXPECT_EQ(m["auto.offset.reset"], "latest");
  EXPECT_EQ(m["queued.max.messages.kbytes"], "16384");  // a quarter of the 64 MiB budget
  EXPECT_EQ(m["queued.min.messages"], "20000");         // twice the 10 000-message budget
  EXPECT_EQ(m["fetch.max.bytes"], "2097152");           // an eighth of that per fetch response
  EXPECT_EQ(m["fetch.message.max.bytes"], "1048576");
  EXPECT_EQ(m["security.protocol"], "PLAINTEXT");
  EXPECT_FALSE(m.count("group.instance.id"));
}

TEST(KafkaConfig, PodNameGivesStaticMembership) {
  auto m = asMap(*consumerProperties(pipeline(), "orders-7d9f-x2", fakeEnv({})));
  EXPECT_EQ(m["group.instance.id"], "orders-7d9f-x2");
}

TEST(KafkaConfig, TlsAndSaslFromEnvironment) {
  auto p = pipeline();
  p.spec.source.kafka->tls = spec::TlsSpec{};
  p.spec.source.kafka->tls->caFile = "/etc/kafka/ca.crt";
  p.spec.source.kafka->sasl = spec::SaslSpec{};
  p.spec.source.kafka->sasl->mechanism = spec::SaslMechanism::kScramSha256;
  auto props =
      consumerProperties(p, "", fakeEnv({{"SLUICE_SASL_USERNAME", "u"}, {"SLUICE_SASL_PASSWORD", "s3cret"}}));
  ASSERT_TRUE(props);
  auto m = asMap(*props);
  EXPECT_EQ(m["security.protocol"], "SASL_SSL");
  EXPECT_EQ(m["ssl.ca.location"], "/etc/kafka/ca.crt");
  EXPECT_EQ(m["sasl.mechanisms"], "SCRAM-SHA-256");
  EXPECT_EQ(m["sasl.username"], "u");
  EXPECT_EQ(m["sasl.password"], "s3cret");
  const std::string shown = clients::redacted(*props);
  EXPECT_EQ(shown.find("s3cret"), std::string::npos);
  EXPECT_NE(shown.find("sasl.password=[redacted]"), std::string::npos);
}

TEST(KafkaConfig, SaslCredentialsFromFiles) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/user") << "alice\n";
  std::ofstream(dir + "/pass") << "pw\n";
  spec::SaslSpec sasl;
  sasl.mechanism = spec::SaslMechanism::kPlain;
  sasl.usernameFile = dir + "/user";
  sasl.passwordFile = dir + "/pass";
  auto m = asMap(*securityProperties(std::nullopt, sasl, fakeEnv({})));
  EXPECT_EQ(m["security.protocol"], "SASL_PLAINTEXT");
  EXPECT_EQ(m["sasl.username"], "alice");
  EXPECT_EQ(m["sasl.password"], "pw");
}

// #18 item 10: a destination on the source's cluster uses the source's security unless it sets its
// own; one on a cluster of its own uses only its own (before, a sink on the source's SASL_SSL cluster
// connected in plain text, and a dead-letter topic elsewhere could not authenticate at all).
TEST(KafkaConfig, DestinationSecurityIsItsOwnElseTheSourcesOnTheSameCluster) {
  spec::PipelineSpec spec;
  spec::KafkaSourceSpec source;
  source.bootstrapServers = "kafka:9093";
  source.tls = spec::TlsSpec{};
  spec.source.kafka = source;
  auto protocol = [&](const std::string& own, const std::optional<spec::TlsSpec>& tls) {
    auto props = destinationSecurity(own, tls, std::nullopt, spec, fakeEnv({}));
    EXPECT_TRUE(props) << props.status().toString();
    const auto m = props ? asMap(*props) : std::map<std::string, std::string>{};
    return m.count("security.protocol") ? m.at("security.protocol") : std::string("PLAINTEXT");
  };
  EXPECT_EQ(protocol("", std::nullopt), "SSL") << "the source's cluster: its TLS";
  EXPECT_EQ(protocol("kafka:9093", std::nullopt), "SSL") << "the same brokers named again";
  EXPECT_EQ(protocol("elsewhere:9092", std::nullopt), "PLAINTEXT")
      << "another cluster: nothing of the source's";
  spec::TlsSpec own;
  own.caFile = "/etc/other/ca.crt";
  auto props = destinationSecurity("elsewhere:9093", own, std::nullopt, spec, fakeEnv({}));
  ASSERT_TRUE(props);
  EXPECT_EQ(asMap(*props)["security.protocol"], "SSL");
  EXPECT_EQ(asMap(*props)["ssl.ca.location"], "/etc/other/ca.crt");
}

TEST(KafkaConfig, MissingSaslCredentialsNameTheFix) {
  spec::SaslSpec sasl;
  auto props = securityProperties(std::nullopt, sasl, fakeEnv({}));
  ASSERT_FALSE(props);
  EXPECT_NE(props.status().message().find("SLUICE_SASL_USERNAME"), std::string::npos);
  sasl.passwordFile = "/nonexistent/pass";
  auto missing = securityProperties(std::nullopt, sasl, fakeEnv({{"SLUICE_SASL_USERNAME", "u"}}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("/nonexistent/pass"), std::string::npos);
}

TEST(KafkaConfig, EnvironmentOverridesComeLast) {
  auto props = consumerProperties(
      pipeline(), "", fakeEnv({{"SLUICE_KAFKA_CONSUMER_PROPERTIES", "session.timeout.ms=6000,debug=cgrp"}}));
  ASSERT_TRUE(props);
  EXPECT_EQ(props->back(), (std::pair<std::string, std::string>{"debug", "cgrp"}));
  EXPECT_EQ(asMap(*props)["session.timeout.ms"], "6000");
  EXPECT_FALSE(propertyOverrides("novalue"));
  EXPECT_TRUE(propertyOverrides("")->empty());
}

// #18: an override storing offsets at poll time (or taking over commits or the group) would commit
// messages that were never delivered. The worker refuses to start with the variable and the
// property named.
TEST(KafkaConfig, OverridesThatBreakAtLeastOnceAreRefused) {
  for (const char* item :
       {"enable.auto.offset.store=true", "enable.auto.offset.store=false", "enable.auto.commit=false",
        "auto.commit.enable=false", "group.id=other", "group.instance.id=x",
        "partition.assignment.strategy=range", "ENABLE.AUTO.OFFSET.STORE=true"}) {
    auto props = consumerProperties(
        pipeline(), "",
        fakeEnv({{"SLUICE_KAFKA_CONSUMER_PROPERTIES", std::string("fetch.wait.max.ms=10,") + item}}));
    ASSERT_FALSE(props) << item;
    EXPECT_NE(props.status().message().find("SLUICE_KAFKA_CONSUMER_PROPERTIES may not set"),
              std::string::npos)
        << props.status().message();
  }
  EXPECT_TRUE(propertyOverrides("auto.commit.interval.ms=500,fetch.wait.max.ms=10"));
}

TEST(KafkaConfig, QueueLimitsAreTheLastSettingOrLibrdkafkasDefault) {
  EXPECT_EQ(queueLimits({}).messages, 100000);
  EXPECT_EQ(queueLimits({}).bytes, 65536LL * 1024);
  const auto limits = queueLimits({{"queued.min.messages", "10"},
                                   {"queued.max.messages.kbytes", "2048"},
                                   {"queued.min.messages", "5000"}});
  EXPECT_EQ(limits.messages, 5000);
  EXPECT_EQ(limits.bytes, 2048 * 1024);
  // The budget-derived consumer settings are what the source's PrefetchWaker sees.
  auto props = consumerProperties(pipeline(), "", fakeEnv({}));
  ASSERT_TRUE(props);
  const auto m = asMap(*props);
  EXPECT_EQ(queueLimits(*props).messages, std::stoll(m.at("queued.min.messages")));
  EXPECT_EQ(queueLimits(*props).bytes, std::stoll(m.at("queued.max.messages.kbytes")) * 1024);
}

TEST(KafkaConfig, ProducerIsIdempotentWithAcksAll) {
  auto m = asMap(producerProperties("127.0.0.1:9092", common::Millis(30000)));
  EXPECT_EQ(m["acks"], "all");
  EXPECT_EQ(m["enable.idempotence"], "true");
}

// Each message times out on its own after the sink's timeout, so no lane has to purge the shared
// queue (which took other lanes' messages with it, #18 item 15).
TEST(KafkaConfig, ProducerMessagesTimeOutAfterTheSinkTimeout) {
  EXPECT_EQ(asMap(producerProperties("k:9092", common::Millis(2500)))["message.timeout.ms"], "2500");
  EXPECT_EQ(asMap(producerProperties("k:9092", common::Millis(100)))["message.timeout.ms"], "100");
}

}  // namespace
}  // namespace sluice::worker

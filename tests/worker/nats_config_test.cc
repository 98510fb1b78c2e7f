// Tests worker/nats_config.cc: the consumer a pipeline wants, drift against an existing consumer,
// and key extraction from headers and subject tokens.
#include "worker/nats_config.h"

#include <gtest/gtest.h>

namespace sluice::worker {
namespace {

spec::ConsumerPipeline natsPipeline() {
  spec::ConsumerPipeline p;
  p.metadata.name = "orders";
  p.metadata.namespace_ = "shop";
  spec::NatsSourceSpec nats;
  nats.servers = {"nats://127.0.0.1:4222"};
  nats.stream = "ORDERS";
  nats.filterSubject = "orders.>";
  nats.ackWaitSeconds = 12;
  p.spec.source.nats = nats;
  p.spec.backpressure.maxInFlightMessages = 2500;
  return p;
}

TEST(DesiredConsumer, FollowsTheSpecAndTheBudget) {
  const auto want = desiredConsumer(natsPipeline());
  EXPECT_EQ(want.durable, "shop-orders");
  EXPECT_EQ(want.filterSubject, "orders.>");
  EXPECT_TRUE(want.ackExplicit);
  EXPECT_EQ(want.ackWaitSeconds, 12);
  EXPECT_EQ(want.maxAckPending, 2500);
  EXPECT_EQ(want.maxDeliver, -1);
}

TEST(DesiredConsumer, NamedConsumerWins) {
  auto p = natsPipeline();
  p.spec.source.nats->consumer = "workers";
  EXPECT_EQ(desiredConsumer(p).durable, "workers");
}

TEST(ConsumerDrift, NoneWhenEqual) {
  const auto want = desiredConsumer(natsPipeline());
  EXPECT_TRUE(consumerDrift(want, want).empty());
}

TEST(ConsumerDrift, NamesEveryDifferingSetting) {
  const auto want = desiredConsumer(natsPipeline());
  struct Row {
    const char* name;
    void (*change)(NatsConsumerSettings&);
    const char* expected;
  };
  const Row rows[] = {
      {"filter", [](NatsConsumerSettings& s) { s.filterSubject = ""; },
       "filterSubject is (none), the pipeline wants 'orders.>'"},
      {"ackWait", [](NatsConsumerSettings& s) { s.ackWaitSeconds = 30; }, "ackWait (s) is 30, the pipeline wants 12"},
      {"maxAckPending", [](NatsConsumerSettings& s) { s.maxAckPending = 1000; },
       "maxAckPending is 1000, the pipeline wants 2500"},
      {"maxDeliver", [](NatsConsumerSettings& s) { s.maxDeliver = 5; }, "maxDeliver is 5, the pipeline wants -1"},
      {"ackPolicy", [](NatsConsumerSettings& s) { s.ackExplicit = false; },
       "ackPolicy is not explicit, the pipeline needs explicit"},
  };
  for (const auto& row : rows) {
    auto have = want;
    row.change(have);
    const auto drift = consumerDrift(want, have);
    ASSERT_EQ(drift.size(), 1u) << row.name;
    EXPECT_EQ(drift[0], row.expected) << row.name;
  }
}

TEST(SubjectToken, OneBasedTokens) {
  struct Row {
    const char* subject;
    int token;
    std::optional<std::string> expected;
  };
  const Row rows[] = {
      {"orders.eu.42", 1, "orders"}, {"orders.eu.42", 2, "eu"},  {"orders.eu.42", 3, "42"},
      {"orders.eu.42", 4, std::nullopt}, {"orders", 1, "orders"}, {"orders", 0, std::nullopt},
      {"a..b", 2, ""},
  };
  for (const auto& row : rows) EXPECT_EQ(subjectToken(row.subject, row.token), row.expected) << row.subject << " " << row.token;
}

TEST(NatsKey, HeaderThenSubjectTokenThenNone) {
  const std::vector<std::pair<std::string, std::string>> headers = {{"Nats-Msg-Id", "x"}, {"Customer", "c-7"}};
  EXPECT_EQ(natsKey({"Customer", 0}, "orders.eu.42", headers), "c-7");
  EXPECT_EQ(natsKey({"customer", 0}, "orders.eu.42", headers), std::nullopt) << "header names are case-sensitive";
  EXPECT_EQ(natsKey({"Missing", 0}, "orders.eu.42", headers), std::nullopt);
  EXPECT_EQ(natsKey({"", 3}, "orders.eu.42", headers), "42");
  EXPECT_EQ(natsKey({"", 0}, "orders.eu.42", headers), std::nullopt);
}

TEST(NatsKey, RuleFromSpec) {
  spec::NatsSourceSpec nats;
  nats.keySubjectToken = 2;
  const auto rule = keyRuleOf(nats);
  EXPECT_EQ(rule.header, "");
  EXPECT_EQ(rule.subjectToken, 2);
}

}  // namespace
}  // namespace sluice::worker

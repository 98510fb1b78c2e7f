// Tests worker/nats_config.cc: the consumer a pipeline wants (MaxDeliver from the retry settings),
// drift against an existing consumer, ack subject metadata, and key extraction from headers and
// subject tokens.
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

spec::DeadLetterSpec natsDeadLetter() {
  spec::DeadLetterSpec dlq;
  dlq.nats = spec::NatsDeadLetterSpec{};
  dlq.nats->subject = "orders.dlq";
  return dlq;
}

TEST(MaxDeliver, FromTheRetrySettingsWhenThereIsADeadLetterDestination) {
  struct Row {
    int maxAttempts;
    bool deadLetter;
    int64_t expected;
  };
  const Row rows[] = {{5, true, 7},   {1, true, 3},   {0, true, 3},
                      {20, true, 22}, {5, false, -1}, {1, false, -1}};
  for (const auto& row : rows) {
    auto p = natsPipeline();
    p.spec.processing.retry.maxAttempts = row.maxAttempts;
    if (row.deadLetter) p.spec.processing.deadLetter = natsDeadLetter();
    EXPECT_EQ(natsMaxDeliver(p.spec), row.expected) << row.maxAttempts << " " << row.deadLetter;
    EXPECT_EQ(desiredConsumer(p).maxDeliver, row.expected);
  }
}

// The worker dead-letters on arrival before the server's last delivery, so the server never stops
// delivering a message the worker has not dead-lettered.
TEST(MaxDeliver, ExhaustedDeliveriesComeBeforeTheServersLimit) {
  auto p = natsPipeline();
  p.spec.processing.retry.maxAttempts = 3;
  p.spec.processing.deadLetter = natsDeadLetter();
  for (uint64_t delivered = 1; delivered <= 3; ++delivered)
    EXPECT_FALSE(deliveriesExhausted(delivered, p.spec)) << delivered;
  EXPECT_TRUE(deliveriesExhausted(4, p.spec));
  EXPECT_LT(4, natsMaxDeliver(p.spec)) << "a spare delivery after the one that dead-letters";
  p.spec.processing.deadLetter.reset();
  EXPECT_FALSE(deliveriesExhausted(1000, p.spec)) << "without a destination nothing is skipped";
}

TEST(AckSubject, ParsesBothForms) {
  const auto v1 = parseAckSubject("$JS.ACK.ORDERS.workers.3.1042.977.1732312345123000000.55");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->stream, "ORDERS");
  EXPECT_EQ(v1->consumer, "workers");
  EXPECT_EQ(v1->numDelivered, 3u);
  EXPECT_EQ(v1->streamSequence, 1042u);
  EXPECT_EQ(v1->consumerSequence, 977u);
  EXPECT_EQ(v1->timestampNanos, 1732312345123000000);
  EXPECT_EQ(v1->numPending, 55u);
  const auto v2 = parseAckSubject("$JS.ACK.hub.ACCHASH.ORDERS.workers.1.7.6.1732312345123000000.0.rnd");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->stream, "ORDERS");
  EXPECT_EQ(v2->streamSequence, 7u);
  EXPECT_EQ(v2->numPending, 0u);
  const auto noToken = parseAckSubject("$JS.ACK._.ACCHASH.ORDERS.workers.1.7.6.1732312345123000000.0");
  ASSERT_TRUE(noToken);
  EXPECT_EQ(noToken->consumer, "workers");
}

TEST(AckSubject, RejectsWhatIsNotAnAckSubject) {
  for (const char* reply : {"", "_INBOX.abc.1", "$JS.ACK.ORDERS.workers.3.1042.977.17",
                            "$JS.ACK.S.c.x.1.1.1.1", "$JS.ACK.S.c.1.1.1.1.-1", "$JS.ACKS.S.c.1.1.1.1.1"}) {
    EXPECT_FALSE(parseAckSubject(reply)) << reply;
  }
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
      {"ackWait", [](NatsConsumerSettings& s) { s.ackWaitSeconds = 30; },
       "ackWait (s) is 30, the pipeline wants 12"},
      {"maxAckPending", [](NatsConsumerSettings& s) { s.maxAckPending = 1000; },
       "maxAckPending is 1000, the pipeline wants 2500"},
      {"maxDeliver", [](NatsConsumerSettings& s) { s.maxDeliver = 5; },
       "maxDeliver is 5, the pipeline wants -1"},
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

// #18 item 14: an existing consumer that would redeliver work in progress or stop delivering a
// message before it is dead-lettered is refused, not just reported.
TEST(ConsumerHazards, ShorterAckWaitAndLowerMaxDeliverAreRefused) {
  auto want = desiredConsumer(natsPipeline());  // ackWait 12 s, no dead-letter: maxDeliver -1
  EXPECT_TRUE(consumerHazards(want, want).empty());
  auto have = want;
  have.ackWaitSeconds = 30;  // longer: only later redelivery after a crash
  have.maxAckPending = 10;   // fewer in flight: slower, not unsafe
  EXPECT_TRUE(consumerHazards(want, have).empty());

  have = want;
  have.ackWaitSeconds = 5;
  auto hazards = consumerHazards(want, have);
  ASSERT_EQ(hazards.size(), 1u);
  EXPECT_EQ(
      hazards[0],
      "its AckWait is 5 s, shorter than spec.source.nats.ackWaitSeconds (12 s): the server would redeliver "
      "messages still being processed (duplicates, per-key order broken)");

  have = want;
  have.maxDeliver = 50;  // any limit without a dead-letter destination skips messages
  hazards = consumerHazards(want, have);
  ASSERT_EQ(hazards.size(), 1u);
  EXPECT_NE(hazards[0].find("its MaxDeliver is 50 and the pipeline has no dead-letter destination"),
            std::string::npos);

  have = want;
  have.ackExplicit = false;
  EXPECT_EQ(consumerHazards(want, have).size(), 1u);
}

TEST(ConsumerHazards, WithADeadLetterMaxDeliverMustLeaveRoomToDeadLetter) {
  NatsConsumerSettings want;
  want.maxDeliver = 7;  // maxAttempts 5 + 2
  NatsConsumerSettings have = want;
  for (int64_t maxDeliver : {int64_t{-1}, int64_t{7}, int64_t{20}}) {
    have.maxDeliver = maxDeliver;
    EXPECT_TRUE(consumerHazards(want, have).empty()) << maxDeliver;
  }
  have.maxDeliver = 6;
  const auto hazards = consumerHazards(want, have);
  ASSERT_EQ(hazards.size(), 1u);
  EXPECT_EQ(
      hazards[0],
      "its MaxDeliver is 6, below 7 (processing.retry.maxAttempts + 2): the server may stop delivering a "
      "message before the worker dead-letters it");
}

TEST(SubjectToken, OneBasedTokens) {
  struct Row {
    const char* subject;
    int token;
    std::optional<std::string> expected;
  };
  const Row rows[] = {
      {"orders.eu.42", 1, "orders"},
      {"orders.eu.42", 2, "eu"},
      {"orders.eu.42", 3, "42"},
      {"orders.eu.42", 4, std::nullopt},
      {"orders", 1, "orders"},
      {"orders", 0, std::nullopt},
      {"a..b", 2, ""},
  };
  for (const auto& row : rows)
    EXPECT_EQ(subjectToken(row.subject, row.token), row.expected) << row.subject << " " << row.token;
}

TEST(NatsKey, HeaderThenSubjectTokenThenNone) {
  const std::vector<std::pair<std::string, std::string>> headers = {{"Nats-Msg-Id", "x"},
                                                                    {"Customer", "c-7"}};
  EXPECT_EQ(natsKey({"Customer", 0}, "orders.eu.42", headers), "c-7");
  EXPECT_EQ(natsKey({"customer", 0}, "orders.eu.42", headers), std::nullopt)
      << "header names are case-sensitive";
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

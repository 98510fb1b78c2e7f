#include "worker/nats_dead_letter.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "tests/worker/fake_dead_letter_sink.h"
#include "tests/worker/fake_stats.h"

namespace sluice::worker {
namespace {

spec::RetrySpec quickRetry(int maxAttempts) {
  spec::RetrySpec retry;
  retry.maxAttempts = maxAttempts;
  retry.initialBackoffMs = 1;
  retry.maxBackoffMs = 2;
  retry.jitter = 0;
  return retry;
}

Message natsMessage(int64_t sequence) {
  Message m;
  m.topic = "orders.created";
  m.stream = "ORDERS";
  m.offset = sequence;
  m.value = "{}";
  return m;
}

// A dead-letter destination that refuses its first `failures` sends, behind the DeadLetterer the
// source and the lanes share.
struct OnArrival {
  OnArrival(int failures, int maxAttempts)
      : sink(failures), deadLetter(&sink, quickRetry(maxAttempts), stats, random) {}
  testing::FlakyDeadLetterSink sink;
  testing::FakeStats stats;
  common::FixedRandom random{0.5};
  DeadLetterer deadLetter;
};

// The on-arrival path used to send once and hand the message to the sink when that failed; it now
// retries with the pipeline's policy like the lanes do.
TEST(DeadLetterOnArrival, RetriesAFailedSendWithThePipelinesPolicy) {
  OnArrival t(2, 5);
  EXPECT_TRUE(deadLetterOnArrival(t.deadLetter, natsMessage(42), 6));
  EXPECT_EQ(t.sink.tries(), 3);
  const auto sent = t.sink.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].offset, 42);
  EXPECT_EQ(sent[0].attempts, 5) << "the earlier, unsettled deliveries";
  EXPECT_NE(sent[0].error.find("delivered 6 times"), std::string::npos) << sent[0].error;
  EXPECT_EQ(t.stats.deadLetteredCount, 1u);
}

TEST(DeadLetterOnArrival, GivesTheMessageToThePipelineWhenTheSendsRunOut) {
  OnArrival t(10, 3);
  EXPECT_FALSE(deadLetterOnArrival(t.deadLetter, natsMessage(7), 6));
  EXPECT_EQ(t.sink.tries(), 3) << "processing.retry.maxAttempts sends";
  EXPECT_EQ(t.stats.deadLetteredCount, 0u);
}

TEST(DeadLetterOnArrival, WithoutADestinationTheMessageIsProcessed) {
  testing::FakeStats stats;
  common::FixedRandom random(0.5);
  DeadLetterer deadLetter(nullptr, quickRetry(3), stats, random);
  EXPECT_FALSE(deadLetterOnArrival(deadLetter, natsMessage(7), 6));
}

}  // namespace
}  // namespace sluice::worker

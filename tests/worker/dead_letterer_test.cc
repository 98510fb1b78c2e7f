#include "worker/dead_letterer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/random.h"
#include "tests/worker/fake_dead_letter_sink.h"
#include "tests/worker/fake_stats.h"

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;

spec::RetrySpec retryWithBackoff(int maxAttempts, int backoffMs) {
  spec::RetrySpec retry;
  retry.maxAttempts = maxAttempts;
  retry.initialBackoffMs = backoffMs;
  retry.maxBackoffMs = backoffMs;
  retry.jitter = 0;
  return retry;
}

Message kafkaMessage() {
  Message m;
  m.topic = "orders";
  m.partition = 3;
  m.offset = 1042;
  return m;
}

TEST(DeadLetterer, RetriesUntilTheDestinationTakesTheMessage) {
  testing::FlakyDeadLetterSink sink(2);
  testing::FakeStats stats;
  common::FixedRandom random(0.5);
  DeadLetterer deadLetter(&sink, retryWithBackoff(5, 1), stats, random);
  EXPECT_TRUE(deadLetter.configured());
  EXPECT_TRUE(deadLetter.send(kafkaMessage(), "HTTP 400", 5));
  EXPECT_EQ(sink.tries(), 3);
  ASSERT_EQ(sink.sent().size(), 1u);
  EXPECT_EQ(sink.sent()[0].error, "HTTP 400");
  EXPECT_EQ(sink.sent()[0].attempts, 5);
  EXPECT_EQ(stats.deadLetteredCount, 1u);
}

TEST(DeadLetterer, GivesUpAfterMaxAttemptsSends) {
  testing::FlakyDeadLetterSink sink(100);
  testing::FakeStats stats;
  common::FixedRandom random(0.5);
  DeadLetterer deadLetter(&sink, retryWithBackoff(4, 1), stats, random);
  const auto status = deadLetter.send(kafkaMessage(), "HTTP 400", 5);
  EXPECT_FALSE(status);
  EXPECT_NE(status.message().find("try 4"), std::string::npos) << status.toString();
  EXPECT_EQ(sink.tries(), 4);
  EXPECT_EQ(stats.deadLetteredCount, 0u);
}

TEST(DeadLetterer, WithoutADestinationEverySendFailsAndSaysWhatToSet) {
  testing::FakeStats stats;
  common::FixedRandom random(0.5);
  DeadLetterer deadLetter(nullptr, retryWithBackoff(3, 1), stats, random);
  EXPECT_FALSE(deadLetter.configured());
  const auto status = deadLetter.send(kafkaMessage(), "HTTP 400", 5);
  EXPECT_FALSE(status);
  EXPECT_NE(status.message().find("spec.processing.deadLetter"), std::string::npos) << status.toString();
}

// A stopping worker does not sit out the backoff: stop() ends the wait and the send gives up.
TEST(DeadLetterer, StopCutsTheBackoffShort) {
  testing::FlakyDeadLetterSink sink(100);
  testing::FakeStats stats;
  common::FixedRandom random(0.5);
  DeadLetterer deadLetter(&sink, retryWithBackoff(5, 60000), stats, random);
  std::thread stopper([&] {
    while (sink.tries() == 0) std::this_thread::yield();
    deadLetter.stop();
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(deadLetter.send(kafkaMessage(), "HTTP 400", 5));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s) << "the 60 s backoff was cut short";
  EXPECT_EQ(sink.tries(), 1);
}

TEST(PlaceOf, TopicPartitionAtOffset) { EXPECT_EQ(placeOf(kafkaMessage()), "orders/3@1042"); }

}  // namespace
}  // namespace sluice::worker

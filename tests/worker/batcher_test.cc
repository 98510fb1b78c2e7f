#include "worker/batcher.h"

#include <gtest/gtest.h>

#include "tests/worker/test_messages.h"

namespace sluice::worker {
namespace {

using testing::msg;
using namespace std::chrono_literals;

TEST(Batcher, FlushesWhenMaxMessagesIsReached) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 3, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  batcher.add(msg(0, 1));
  batcher.add(msg(0, 2));
  EXPECT_FALSE(batcher.due());
  batcher.add(msg(0, 3));
  batcher.add(msg(0, 4));
  ASSERT_TRUE(batcher.due());
  Batch batch = batcher.take();
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].offset, 1);
  EXPECT_EQ(batch[2].offset, 3);
  EXPECT_EQ(batcher.size(), 1u);
  EXPECT_FALSE(batcher.due());
}

TEST(Batcher, FlushesWhenMaxBytesIsReached) {
  common::FakeClock clock;
  const int64_t one = budgetBytes(msg(0, 1, std::nullopt, std::string(100, 'x')));
  Batcher batcher({.maxMessages = 100, .maxBytes = 2 * one, .maxWait = 1000ms}, false, clock);
  batcher.add(msg(0, 1, std::nullopt, std::string(100, 'x')));
  EXPECT_FALSE(batcher.due());
  batcher.add(msg(0, 2, std::nullopt, std::string(100, 'x')));
  batcher.add(msg(0, 3, std::nullopt, std::string(100, 'x')));
  ASSERT_TRUE(batcher.due());
  EXPECT_EQ(batcher.take().size(), 2u);  // the third would exceed maxBytes
}

TEST(Batcher, TakesAnOversizedMessageAlone) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 100, .maxBytes = 10, .maxWait = 1000ms}, false, clock);
  batcher.add(msg(0, 1, std::nullopt, std::string(1000, 'x')));
  batcher.add(msg(0, 2));
  ASSERT_TRUE(batcher.due());
  EXPECT_EQ(batcher.take().size(), 1u);
  EXPECT_EQ(batcher.size(), 1u);
}

TEST(Batcher, FlushesWhenTheOldestMessageWaitedMaxWait) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 100, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  EXPECT_EQ(batcher.untilDue(), 1000ms);
  batcher.add(msg(0, 1));
  clock.advance(600ms);
  batcher.add(msg(0, 2));
  EXPECT_FALSE(batcher.due());
  EXPECT_EQ(batcher.untilDue(), 400ms);
  clock.advance(399ms);
  EXPECT_FALSE(batcher.due());
  clock.advance(1ms);
  EXPECT_TRUE(batcher.due());
  EXPECT_EQ(batcher.untilDue(), 0ms);
  EXPECT_EQ(batcher.take().size(), 2u);
  EXPECT_FALSE(batcher.due());
}

TEST(Batcher, GroupsByKeyKeepingEachKeysOrder) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 6, .maxBytes = 1 << 20, .maxWait = 1000ms}, true, clock);
  batcher.add(msg(0, 1, "b"));
  batcher.add(msg(0, 2, "a"));
  batcher.add(msg(0, 3, "b"));
  batcher.add(msg(0, 4, std::nullopt));
  batcher.add(msg(0, 5, "a"));
  batcher.add(msg(0, 6, "b"));
  Batch batch = batcher.take();
  std::vector<int64_t> offsets;
  for (const auto& m : batch) offsets.push_back(m.offset);
  EXPECT_EQ(offsets, (std::vector<int64_t>{1, 3, 6, 2, 5, 4}));
}

TEST(Batcher, KeepsArrivalOrderWithoutKeyGrouping) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 3, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  batcher.add(msg(0, 1, "b"));
  batcher.add(msg(0, 2, "a"));
  batcher.add(msg(0, 3, "b"));
  Batch batch = batcher.take();
  EXPECT_EQ(batch[1].offset, 2);
}

TEST(Batcher, RemovesRevokedPartitions) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 10, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  batcher.add(msg(0, 1));
  batcher.add(msg(1, 1));
  batcher.add(msg(0, 2));
  Batch removed = batcher.removePartitions({{"t", 0}});
  EXPECT_EQ(removed.size(), 2u);
  ASSERT_EQ(batcher.size(), 1u);
  EXPECT_EQ(batcher.take()[0].partition, 1);
}

}  // namespace
}  // namespace sluice::worker

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

Batch batchOf(int32_t partition, int64_t firstOffset, size_t count) {
  Batch batch;
  for (size_t i = 0; i < count; ++i) batch.push_back(msg(partition, firstOffset + static_cast<int64_t>(i)));
  return batch;
}

int64_t bytesOf(const Batch& batch) {
  int64_t bytes = 0;
  for (const auto& m : batch) bytes += budgetBytes(m);
  return bytes;
}

TEST(Batcher, AChunkThatFillsABatchLeavesWhole) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 3, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  Batch chunk = batchOf(0, 1, 3);
  const Message* storage = chunk.data();
  const int64_t bytes = bytesOf(chunk);
  batcher.add(std::move(chunk), clock.now(), bytes);
  ASSERT_TRUE(batcher.due());
  Batch batch = batcher.take();
  EXPECT_EQ(batch.data(), storage);  // the same vector: no message was moved
  EXPECT_EQ(batch.size(), 3u);
  EXPECT_TRUE(batcher.empty());
  EXPECT_EQ(batcher.roomInBatch(), 3u);
}

TEST(Batcher, ALoneChunkLeavesWholeAfterMaxWait) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 10, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  Batch chunk = batchOf(0, 1, 4);
  const Message* storage = chunk.data();
  batcher.add(std::move(chunk), clock.now(), bytesOf(batchOf(0, 1, 4)));
  EXPECT_EQ(batcher.roomInBatch(), 6u);  // the pipeline polls this many next
  EXPECT_FALSE(batcher.due());
  clock.advance(1000ms);
  ASSERT_TRUE(batcher.due());
  Batch batch = batcher.take();
  EXPECT_EQ(batch.data(), storage);
  EXPECT_EQ(batch.size(), 4u);
}

TEST(Batcher, SmallChunksAreCombinedUpToTheLimitsInArrivalOrder) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 5, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  batcher.add(batchOf(0, 1, 2), clock.now(), bytesOf(batchOf(0, 1, 2)));
  clock.advance(10ms);
  batcher.add(batchOf(1, 1, 4), clock.now(), bytesOf(batchOf(1, 1, 4)));
  ASSERT_TRUE(batcher.due());
  Batch first = batcher.take();
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(first[1].partition, 0);
  EXPECT_EQ(first[2].partition, 1);
  EXPECT_EQ(first[4].offset, 3);
  EXPECT_EQ(batcher.size(), 1u);
  EXPECT_EQ(batcher.roomInBatch(), 4u);
  clock.advance(990ms);  // the rest keeps its chunk's arrival time
  EXPECT_FALSE(batcher.due());
  clock.advance(10ms);
  ASSERT_TRUE(batcher.due());
  Batch rest = batcher.take();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].offset, 4);
}

TEST(Batcher, AChunkOverMaxBytesIsSplit) {
  common::FakeClock clock;
  const int64_t one = budgetBytes(msg(0, 1));
  Batcher batcher({.maxMessages = 10, .maxBytes = 2 * one, .maxWait = 1000ms}, false, clock);
  batcher.add(batchOf(0, 1, 3), clock.now(), 3 * one);
  ASSERT_TRUE(batcher.due());
  EXPECT_EQ(batcher.take().size(), 2u);
  EXPECT_EQ(batcher.take().size(), 1u);
  EXPECT_TRUE(batcher.empty());
}

TEST(Batcher, RemovesRevokedPartitionsFromChunks) {
  common::FakeClock clock;
  Batcher batcher({.maxMessages = 10, .maxBytes = 1 << 20, .maxWait = 1000ms}, false, clock);
  Batch mixed = {msg(0, 1), msg(1, 1), msg(0, 2), msg(1, 2)};
  batcher.add(std::move(mixed), clock.now(), 4 * budgetBytes(msg(0, 1)));
  batcher.add(batchOf(0, 3, 2), clock.now() + 1ms, bytesOf(batchOf(0, 3, 2)));
  Batch removed = batcher.removePartitions({{"t", 0}});
  EXPECT_EQ(removed.size(), 4u);
  ASSERT_EQ(batcher.size(), 2u);
  clock.advance(1000ms);
  Batch left = batcher.take();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].partition, 1);
  EXPECT_EQ(left[1].offset, 2);
  EXPECT_TRUE(batcher.empty());
}

}  // namespace
}  // namespace sluice::worker

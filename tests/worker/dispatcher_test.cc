#include "worker/dispatcher.h"

#include <gtest/gtest.h>

#include "tests/worker/test_messages.h"

namespace sluice::worker {
namespace {

using testing::msg;
using namespace std::chrono_literals;

std::vector<int64_t> offsets(const Work& work) {
  std::vector<int64_t> out;
  for (const auto& m : work.messages) out.push_back(m.offset);
  return out;
}

TEST(Dispatcher, KeyOrderingHoldsAKeyWhileALaneHasIt) {
  Dispatcher d(spec::Ordering::kKey, 100, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1, "a"), msg(0, 2, "b")});
  auto first = d.take(now);
  ASSERT_TRUE(first);
  EXPECT_EQ(offsets(*first), (std::vector<int64_t>{1, 2}));
  d.submit({msg(0, 3, "a"), msg(0, 4, "c")});
  auto second = d.take(now);
  ASSERT_TRUE(second);
  EXPECT_EQ(offsets(*second), (std::vector<int64_t>{4}));  // "a" is held by the first lane
  EXPECT_FALSE(d.take(now));
  d.complete(*first);
  auto third = d.take(now);
  ASSERT_TRUE(third);
  EXPECT_EQ(offsets(*third), (std::vector<int64_t>{3}));
}

TEST(Dispatcher, PartitionOrderingHoldsThePartition) {
  Dispatcher d(spec::Ordering::kPartition, 100, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1, "a")});
  auto first = d.take(now);
  d.submit({msg(0, 2, "b"), msg(1, 1, "a")});
  auto second = d.take(now);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->messages.size(), 1u);
  EXPECT_EQ(second->messages[0].partition, 1);
  EXPECT_FALSE(d.take(now));
  d.complete(*first);
  EXPECT_EQ(offsets(*d.take(now)), (std::vector<int64_t>{2}));
}

TEST(Dispatcher, NoOrderingLetsEveryLaneTakeWork) {
  Dispatcher d(spec::Ordering::kNone, 2, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1, "a"), msg(0, 2, "a"), msg(0, 3, "a")});
  auto first = d.take(now);
  auto second = d.take(now);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(offsets(*first), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(offsets(*second), (std::vector<int64_t>{3}));
  EXPECT_TRUE(d.idle());
}

TEST(Dispatcher, RespectsTheBatchLimitsAndKeepsTheRestOfAGroupHeld) {
  Dispatcher d(spec::Ordering::kKey, 2, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1, "a"), msg(0, 2, "a"), msg(0, 3, "a"), msg(0, 4, "b")});
  auto first = d.take(now);
  EXPECT_EQ(offsets(*first), (std::vector<int64_t>{1, 2}));
  auto second = d.take(now);
  ASSERT_TRUE(second);
  EXPECT_EQ(offsets(*second), (std::vector<int64_t>{4}));  // a:3 must wait for a:1,2
  d.complete(*first);
  EXPECT_EQ(offsets(*d.take(now)), (std::vector<int64_t>{3}));
}

TEST(Dispatcher, ARetryParksOnlyItsOwnKeys) {
  Dispatcher d(spec::Ordering::kKey, 100, 1 << 20);
  common::SteadyTime now{};
  d.submit({msg(0, 1, "a")});
  auto failing = d.take(now);
  d.retryAt(std::move(*failing), now + 1000ms);
  d.submit({msg(0, 2, "a"), msg(0, 3, "b")});
  auto other = d.take(now);
  ASSERT_TRUE(other);
  EXPECT_EQ(offsets(*other), (std::vector<int64_t>{3}));  // b flows, a waits
  EXPECT_FALSE(d.take(now));
  ASSERT_TRUE(d.nextRetryAt());
  EXPECT_EQ(*d.nextRetryAt(), now + 1000ms);
  auto retried = d.take(now + 1000ms);
  ASSERT_TRUE(retried);
  EXPECT_EQ(offsets(*retried), (std::vector<int64_t>{1}));
  EXPECT_FALSE(d.take(now + 1000ms));  // a:2 still waits for the retry to finish
  d.complete(*retried);
  EXPECT_EQ(offsets(*d.take(now + 1000ms)), (std::vector<int64_t>{2}));
}

TEST(Dispatcher, DropsQueuedAndParkedMessagesOfRevokedPartitions) {
  Dispatcher d(spec::Ordering::kKey, 100, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1, "a"), msg(1, 1, "b")});
  auto work = d.take(now);
  d.retryAt(std::move(*work), now + 1000ms);
  d.submit({msg(0, 2, "a"), msg(1, 2, "c")});
  Batch dropped = d.dropPartitions({{"t", 0}});
  EXPECT_EQ(dropped.size(), 2u);  // the parked 0:1 and the queued 0:2
  auto c = d.take(now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->messages[0].partition, 1);
  EXPECT_EQ(c->messages[0].offset, 2);
  auto parked = d.take(now + 1000ms);
  ASSERT_TRUE(parked);
  ASSERT_EQ(parked->messages.size(), 1u);
  EXPECT_EQ(parked->messages[0].partition, 1);
}

TEST(Dispatcher, KeylessMessagesKeepTheirPartitionOrder) {
  Dispatcher d(spec::Ordering::kKey, 100, 1 << 20);
  EXPECT_EQ(d.groupOf(msg(0, 1)), d.groupOf(msg(0, 2)));
  EXPECT_NE(d.groupOf(msg(0, 1)), d.groupOf(msg(1, 1)));
  EXPECT_NE(d.groupOf(msg(0, 1, "a")), d.groupOf(msg(0, 1, "b")));
  EXPECT_NE(d.groupOf(msg(0, 1, "")), d.groupOf(msg(0, 1)));
}

TEST(Dispatcher, ASinglePartitionBatchBecomesTheWorkAsItIs) {
  Dispatcher d(spec::Ordering::kPartition, 3, 1 << 20);
  const common::SteadyTime now{};
  Batch batch = {msg(0, 1), msg(0, 2), msg(0, 3)};
  const Message* storage = batch.data();
  d.submit(std::move(batch));
  auto work = d.take(now);
  ASSERT_TRUE(work);
  EXPECT_EQ(work->messages.data(), storage);  // no message was moved
  EXPECT_EQ(offsets(*work), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(d.idle());
}

TEST(Dispatcher, AMixedBatchIsSplitIntoItsGroupsRuns) {
  Dispatcher d(spec::Ordering::kPartition, 10, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1), msg(0, 2), msg(1, 1), msg(0, 3)});
  auto first = d.take(now);  // the whole of partition 0 that is queued, then partition 1 joins
  ASSERT_TRUE(first);
  EXPECT_EQ(offsets(*first), (std::vector<int64_t>{1, 2, 3, 1}));
  EXPECT_EQ(first->messages[3].partition, 1);
  EXPECT_EQ(first->groups.size(), 2u);
  EXPECT_TRUE(d.idle());
}

TEST(Dispatcher, AWholeRunLargerThanTheRoomLeftIsTakenMessageByMessage) {
  Dispatcher d(spec::Ordering::kNone, 4, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1), msg(0, 2), msg(0, 3)});
  d.submit({msg(1, 1), msg(1, 2), msg(1, 3)});
  auto first = d.take(now);
  ASSERT_TRUE(first);
  EXPECT_EQ(offsets(*first), (std::vector<int64_t>{1, 2, 3, 1}));
  auto second = d.take(now);
  ASSERT_TRUE(second);
  EXPECT_EQ(offsets(*second), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(second->messages[0].partition, 1);
  EXPECT_TRUE(d.idle());
}

TEST(Dispatcher, DropsRevokedMessagesFromQueuedRuns) {
  Dispatcher d(spec::Ordering::kNone, 10, 1 << 20);
  const common::SteadyTime now{};
  d.submit({msg(0, 1), msg(1, 1), msg(0, 2)});
  Batch dropped = d.dropPartitions({{"t", 0}});
  EXPECT_EQ(dropped.size(), 2u);
  EXPECT_EQ(d.queuedMessages(), 1u);
  auto work = d.take(now);
  ASSERT_TRUE(work);
  ASSERT_EQ(work->messages.size(), 1u);
  EXPECT_EQ(work->messages[0].partition, 1);
  EXPECT_TRUE(d.idle());
}

TEST(Dispatcher, HasReadyWhileAnotherLaneCouldTakeWork) {
  Dispatcher d(spec::Ordering::kPartition, 10, 1 << 20);
  const common::SteadyTime now{};
  EXPECT_FALSE(d.hasReady());
  d.submit({msg(0, 1), msg(1, 1)});
  ASSERT_TRUE(d.hasReady());
  Batch more = {msg(0, 2)};
  auto first = d.take(now);  // both partitions fit one work
  ASSERT_TRUE(first);
  EXPECT_FALSE(d.hasReady());
  d.submit(std::move(more));
  EXPECT_FALSE(d.hasReady());  // partition 0 is held by the first work
  d.complete(*first);
  EXPECT_TRUE(d.hasReady());
}

}  // namespace
}  // namespace sluice::worker

#include "worker/offset_tracker.h"

#include <gtest/gtest.h>

namespace sluice::worker {
namespace {

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};

TEST(OffsetTracker, CommitsOnlyTheLowestContiguousCompletedOffset) {
  OffsetTracker tracker;
  tracker.assign(kP0);
  for (int64_t o = 10; o < 15; ++o) ASSERT_TRUE(tracker.track(kP0, o));
  tracker.complete(kP0, 12);
  tracker.complete(kP0, 13);
  EXPECT_FALSE(tracker.position(kP0));  // 10 is not done: nothing to commit
  tracker.complete(kP0, 10);
  EXPECT_EQ(tracker.position(kP0), 11);
  tracker.complete(kP0, 11);
  EXPECT_EQ(tracker.position(kP0), 14);
  EXPECT_EQ(tracker.outstanding(kP0), 1u);
  tracker.complete(kP0, 14);
  EXPECT_EQ(tracker.position(kP0), 15);
}

TEST(OffsetTracker, HandlesGapsInOffsets) {
  OffsetTracker tracker;
  tracker.assign(kP0);
  tracker.track(kP0, 5);
  tracker.track(kP0, 9);  // 6..8 compacted away
  tracker.complete(kP0, 9);
  EXPECT_FALSE(tracker.position(kP0));
  tracker.complete(kP0, 5);
  EXPECT_EQ(tracker.position(kP0), 10);
}

TEST(OffsetTracker, KeepsPartitionsApart) {
  OffsetTracker tracker;
  tracker.assign(kP0);
  tracker.assign(kP1);
  tracker.track(kP0, 1);
  tracker.track(kP1, 1);
  tracker.complete(kP1, 1);
  auto offsets = tracker.committable();
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].partition, kP1);
  EXPECT_EQ(offsets[0].offset, 2);
  EXPECT_TRUE(tracker.committable({kP0}).empty());
}

TEST(OffsetTracker, IgnoresUnknownPartitionsAndStaleCompletions) {
  OffsetTracker tracker;
  EXPECT_FALSE(tracker.track(kP0, 1));  // not assigned
  tracker.assign(kP0);
  tracker.track(kP0, 3);
  EXPECT_FALSE(tracker.track(kP0, 3));  // not above the last tracked
  tracker.complete(kP0, 2);             // never tracked
  tracker.complete(kP1, 3);             // other partition
  EXPECT_FALSE(tracker.position(kP0));
  tracker.forget(kP0);
  tracker.complete(kP0, 3);
  EXPECT_FALSE(tracker.tracks(kP0));
  EXPECT_TRUE(tracker.committable().empty());
}

Message at(const TopicPartition& tp, int64_t offset) {
  Message m;
  m.topic = tp.topic;
  m.partition = tp.partition;
  m.offset = offset;
  return m;
}

TEST(OffsetTracker, TrackAllDropsWhatTrackRefusesAndCompleteAllCommitsThePrefix) {
  OffsetTracker tracker;
  tracker.assign(kP0);
  tracker.assign(kP1);
  const TopicPartition revoked{"t", 7};
  std::vector<Message> polled = {at(kP0, 3), at(kP0, 4), at(revoked, 1), at(kP1, 8), at(kP0, 4), at(kP1, 9)};
  tracker.trackAll(polled);
  ASSERT_EQ(polled.size(), 4u);  // the unassigned partition and the repeated offset are gone
  EXPECT_EQ(tracker.lastTracked(kP0), 4);
  EXPECT_EQ(tracker.lastTracked(kP1), 9);
  EXPECT_FALSE(tracker.lastTracked(revoked));

  const std::vector<Message> delivered = {polled[1], polled[2], at(revoked, 1)};  // kP0@4, kP1@8
  tracker.completeAll(delivered);
  EXPECT_FALSE(tracker.position(kP0));  // 3 is not done
  EXPECT_EQ(tracker.position(kP1), 9);
  tracker.completeAll(std::span<const Message>(polled).first(1));
  EXPECT_EQ(tracker.position(kP0), 5);
}

}  // namespace
}  // namespace sluice::worker

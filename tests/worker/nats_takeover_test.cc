// Tests worker/nats_takeover.cc: a worker that starts while another one's deliveries are still
// unacknowledged holds what it pulls until the server's num_ack_pending counts only what it holds,
// then releases it in stream order.
#include "worker/nats_takeover.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::worker {
namespace {

Message at(int64_t sequence, const std::string& key) {
  Message m;
  m.topic = "orders." + key;
  m.offset = sequence;
  m.key = key;
  m.value = key + ":" + std::to_string(sequence);
  return m;
}

std::vector<int64_t> sequencesOf(const std::vector<Message>& messages) {
  std::vector<int64_t> out;
  for (const auto& m : messages) out.push_back(m.offset);
  return out;
}

TEST(NatsTakeover, NothingUnacknowledgedAtStartMeansNoHold) {
  NatsTakeover takeover(0);
  EXPECT_EQ(takeover.state(), NatsTakeover::State::kDone);
}

TEST(NatsTakeover, HoldsNewerMessagesUntilTheDeadWorkersComeBackThenReleasesInStreamOrder) {
  // The dead worker held 3 and 5 (key a) unacknowledged; 7.. are new; 3 and 5 come back later.
  NatsTakeover takeover(2);
  ASSERT_EQ(takeover.state(), NatsTakeover::State::kHolding);
  takeover.hold(at(7, "a"));
  takeover.hold(at(8, "b"));
  // The server counts the two it waits for plus the two held here.
  EXPECT_FALSE(takeover.settledBy(4));
  EXPECT_EQ(takeover.state(), NatsTakeover::State::kHolding);
  takeover.hold(at(5, "a"));  // redelivered
  takeover.hold(at(9, "a"));
  EXPECT_FALSE(takeover.settledBy(5)) << "3 is still out";
  takeover.hold(at(3, "a"));
  ASSERT_TRUE(takeover.settledBy(5));
  ASSERT_EQ(takeover.state(), NatsTakeover::State::kReleasing);
  std::vector<Message> out;
  EXPECT_EQ(takeover.release(3, out), 3u);
  EXPECT_EQ(takeover.state(), NatsTakeover::State::kReleasing);
  EXPECT_EQ(takeover.release(10, out), 2u);
  EXPECT_EQ(sequencesOf(out), (std::vector<int64_t>{3, 5, 7, 8, 9}));
  EXPECT_EQ(takeover.state(), NatsTakeover::State::kDone);
  EXPECT_EQ(takeover.held(), 0u);
  EXPECT_EQ(takeover.heldBytes(), 0);
}

TEST(NatsTakeover, SettlesWhenThePredecessorAckedWhatItHeld) {
  // A predecessor still draining acks its deliveries itself: none comes back here.
  NatsTakeover takeover(40);
  takeover.hold(at(41, "a"));
  EXPECT_FALSE(takeover.settledBy(41));
  ASSERT_TRUE(takeover.settledBy(1));
  std::vector<Message> out;
  takeover.release(10, out);
  EXPECT_EQ(sequencesOf(out), (std::vector<int64_t>{41}));
}

TEST(NatsTakeover, SettledWithNothingHeldIsDoneAtOnce) {
  NatsTakeover takeover(3);
  ASSERT_TRUE(takeover.settledBy(0));
  EXPECT_EQ(takeover.state(), NatsTakeover::State::kDone);
}

TEST(NatsTakeover, ASequenceHeldTwiceCountsOnceAndIsReleasedTwiceInArrivalOrder) {
  // A held message whose InProgress did not reach the server in time is redelivered while held:
  // the server has one pending delivery for it, not two.
  NatsTakeover takeover(1);
  Message first = at(2, "a");
  first.deliveryId = 1;
  Message again = at(2, "a");
  again.deliveryId = 2;
  takeover.hold(std::move(first));
  takeover.hold(at(4, "a"));
  takeover.hold(std::move(again));
  EXPECT_EQ(takeover.heldSequences(), 2u);
  EXPECT_FALSE(takeover.settledBy(3));
  ASSERT_TRUE(takeover.settledBy(2));
  std::vector<Message> out;
  takeover.release(10, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].deliveryId, 1u);
  EXPECT_EQ(out[1].deliveryId, 2u);
  EXPECT_EQ(out[2].offset, 4);
}

TEST(NatsTakeover, CountsTheBytesItHolds) {
  NatsTakeover takeover(1);
  const Message m = at(1, "a");
  takeover.hold(m);
  EXPECT_EQ(takeover.heldBytes(), budgetBytes(m));
  EXPECT_EQ(takeover.held(), 1u);
}

}  // namespace
}  // namespace sluice::worker

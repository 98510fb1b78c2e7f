#include "kube/leader.h"

#include <gtest/gtest.h>

namespace sluice::kube {
namespace {

using namespace std::chrono_literals;

LeaseRecord held(const std::string& holder, const std::string& renewTime, int transitions = 0) {
  LeaseRecord r;
  r.holderIdentity = holder;
  r.leaseDurationSeconds = 15;
  r.renewTime = renewTime;
  r.leaseTransitions = transitions;
  r.resourceVersion = "7";
  return r;
}

class LeaderDeciderTest : public ::testing::Test {
 protected:
  common::FakeClock clock_;
  LeaderDecider decider_{LeaderConfig{"me", "default", "sluice-operator-leader", 15s, 10s, 2s}, clock_};
};

TEST_F(LeaderDeciderTest, CreatesAMissingLeaseAndLeadsAfterTheWrite) {
  EXPECT_EQ(decider_.decide(std::nullopt), LeaderAction::kCreate);
  EXPECT_FALSE(decider_.leading());  // not before the write succeeded
  decider_.writeSucceeded();
  EXPECT_TRUE(decider_.leading());
}

TEST_F(LeaderDeciderTest, FollowsALiveLeaseAndTakesOverOnlyAfterItExpires) {
  EXPECT_EQ(decider_.decide(held("other", "t1")), LeaderAction::kFollow);
  clock_.advance(14s);
  EXPECT_EQ(decider_.decide(held("other", "t1")), LeaderAction::kFollow);
  clock_.advance(1s);
  EXPECT_EQ(decider_.decide(held("other", "t1")), LeaderAction::kTakeOver);
}

TEST_F(LeaderDeciderTest, ARenewByTheHolderRestartsTheExpiryWindow) {
  EXPECT_EQ(decider_.decide(held("other", "t1")), LeaderAction::kFollow);
  clock_.advance(10s);
  EXPECT_EQ(decider_.decide(held("other", "t2")), LeaderAction::kFollow);  // renewed
  clock_.advance(10s);
  EXPECT_EQ(decider_.decide(held("other", "t2")), LeaderAction::kFollow);  // 10 s since seen renewed
  clock_.advance(5s);
  EXPECT_EQ(decider_.decide(held("other", "t2")), LeaderAction::kTakeOver);
}

TEST_F(LeaderDeciderTest, AReleasedLeaseIsTakenAtOnce) {
  EXPECT_EQ(decider_.decide(held("", "t1")), LeaderAction::kTakeOver);
}

TEST_F(LeaderDeciderTest, StopsLeadingWhenRenewalsFailPastTheRenewDeadline) {
  EXPECT_EQ(decider_.decide(held("me", "t1")), LeaderAction::kRenew);
  decider_.writeSucceeded();
  clock_.advance(9s);
  EXPECT_TRUE(decider_.leading());
  clock_.advance(1s);  // 10 s without a successful renew
  EXPECT_FALSE(decider_.leading());
}

TEST_F(LeaderDeciderTest, SeeingAnotherHolderEndsLeadershipImmediately) {
  decider_.decide(held("me", "t1"));
  decider_.writeSucceeded();
  EXPECT_EQ(decider_.decide(held("other", "t9", 1)), LeaderAction::kFollow);
  EXPECT_FALSE(decider_.leading());
}

TEST_F(LeaderDeciderTest, LeaseBodiesCarryTheResourceVersionAndCountTransitions) {
  const auto observed = held("other", "t1", 3);
  const auto takeover = decider_.leaseFor(LeaderAction::kTakeOver, observed);
  EXPECT_EQ(takeover["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(takeover["spec"]["holderIdentity"], "me");
  EXPECT_EQ(takeover["spec"]["leaseTransitions"], 4);
  EXPECT_EQ(takeover["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(takeover["spec"]["renewTime"], "2026-01-01T00:00:00.000000Z");
  auto mine = held("me", "t1", 4);
  mine.acquireTime = "2025-12-31T23:00:00.000000Z";
  const auto renew = decider_.leaseFor(LeaderAction::kRenew, mine);
  EXPECT_EQ(renew["spec"]["leaseTransitions"], 4);
  EXPECT_EQ(renew["spec"]["acquireTime"], "2025-12-31T23:00:00.000000Z");
}

}  // namespace
}  // namespace sluice::kube

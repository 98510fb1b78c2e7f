#include "worker/flow_control.h"

#include <gtest/gtest.h>

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;

const common::SteadyTime kNow{};
constexpr common::Millis kNoHold{0};

TEST(FlowControl, PausesWhenTheMessageLimitIsReached) {
  FlowControl flow({.maxMessages = 4, .maxBytes = 1000, .resumeRatio = 0.5});
  for (int i = 0; i < 3; ++i) flow.admit(10);
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kFlowing);
  EXPECT_EQ(flow.room(), 1);
  flow.admit(10);
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kPaused);
  EXPECT_EQ(flow.room(), 0);
}

TEST(FlowControl, PausesWhenTheByteLimitIsReached) {
  FlowControl flow({.maxMessages = 100, .maxBytes = 1000, .resumeRatio = 0.5});
  flow.admit(999);
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kFlowing);
  flow.admit(1);
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kPaused);
}

TEST(FlowControl, StaysPausedAboveTheLowWatermarkAndResumesAtIt) {
  FlowControl flow({.maxMessages = 10, .maxBytes = 1000000, .resumeRatio = 0.5});
  for (int i = 0; i < 10; ++i) flow.admit(1);
  ASSERT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kPaused);
  flow.release(4, 4);  // 6 left: under the limit but above the low watermark of 5
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kPaused);
  flow.release(1, 1);  // 5 left: at the watermark
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kFlowing);
  EXPECT_EQ(flow.messages(), 5);
  EXPECT_EQ(flow.bytes(), 5);
}

TEST(FlowControl, ResumesOnlyWhenBothMessagesAndBytesAreLow) {
  FlowControl flow({.maxMessages = 10, .maxBytes = 100, .resumeRatio = 0.5});
  flow.admit(100);
  ASSERT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kPaused);
  flow.admit(0);
  flow.release(1, 40);  // 1 message, 60 bytes: messages low, bytes not
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kPaused);
  flow.release(0, 10);  // 50 bytes
  EXPECT_EQ(flow.evaluate(kNow, kNoHold), FlowState::kFlowing);
}

TEST(FlowControl, HoldsAtTheLimitAndPausesOnlyAfterHoldFor) {
  FlowControl flow({.maxMessages = 10, .maxBytes = 1000000, .resumeRatio = 0.5});
  const auto start = kNow + 5s;
  for (int i = 0; i < 10; ++i) flow.admit(1);
  EXPECT_EQ(flow.evaluate(start, 1000ms), FlowState::kHolding);
  EXPECT_EQ(flow.room(), 0);
  EXPECT_EQ(flow.evaluate(start + 999ms, 1000ms), FlowState::kHolding);
  EXPECT_EQ(flow.evaluate(start + 1000ms, 1000ms), FlowState::kPaused);
  flow.release(5, 5);
  EXPECT_EQ(flow.evaluate(start + 1001ms, 1000ms), FlowState::kFlowing);
}

TEST(FlowControl, AHoldThatDrainsToTheLowWatermarkNeverPauses) {
  FlowControl flow({.maxMessages = 10, .maxBytes = 1000000, .resumeRatio = 0.5});
  for (int i = 0; i < 10; ++i) flow.admit(1);
  ASSERT_EQ(flow.evaluate(kNow, 1000ms), FlowState::kHolding);
  flow.release(4, 4);  // under the limit, above the watermark: still holding
  EXPECT_EQ(flow.evaluate(kNow + 500ms, 1000ms), FlowState::kHolding);
  flow.release(1, 1);
  EXPECT_EQ(flow.evaluate(kNow + 900ms, 1000ms), FlowState::kFlowing);
  for (int i = 0; i < 5; ++i) flow.admit(1);  // a new hold starts its own clock
  EXPECT_EQ(flow.evaluate(kNow + 5000ms, 1000ms), FlowState::kHolding);
  EXPECT_EQ(flow.evaluate(kNow + 5999ms, 1000ms), FlowState::kHolding);
}

}  // namespace
}  // namespace sluice::worker

#include "common/clock.h"

#include <gtest/gtest.h>

namespace sluice::common {
namespace {

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  const auto start = clock.now();
  const auto wallStart = clock.wallNow();
  EXPECT_EQ(clock.now(), start);
  clock.advance(std::chrono::seconds(90));
  EXPECT_EQ(clock.now() - start, std::chrono::seconds(90));
  EXPECT_EQ(clock.wallNow() - wallStart, std::chrono::seconds(90));
}

TEST(FakeClockTest, FormatsRfc3339InUtc) {
  FakeClock clock;
  EXPECT_EQ(formatRfc3339(clock.wallNow()), "2026-01-01T00:00:00Z");
  clock.advance(std::chrono::seconds(3661));
  EXPECT_EQ(formatRfc3339(clock.wallNow()), "2026-01-01T01:01:01Z");
}

}  // namespace
}  // namespace sluice::common

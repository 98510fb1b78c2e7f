#include "common/time_format.h"

#include <gtest/gtest.h>

namespace sluice::common {
namespace {

TEST(MicroTime, HasSixFractionDigits) {
  const auto t = WallTime(std::chrono::microseconds(1767225600123456LL));
  EXPECT_EQ(formatMicroTime(t), "2026-01-01T00:00:00.123456Z");
}

TEST(Rfc3339, ParseOffsets) {
  auto z = parseRfc3339("2026-01-01T01:00:00Z");
  auto plus = parseRfc3339("2026-01-01T02:00:00+01:00");
  ASSERT_TRUE(z.isOk() && plus.isOk());
  EXPECT_EQ(*z, *plus);
}

// Found by tests/fuzz/fuzz_rfc3339 and fuzz_worker_report (a Lease's lastHeartbeat): years outside
// what WallTime's 64-bit nanoseconds hold overflowed (signed overflow, UBSan) instead of being refused.
TEST(Rfc3339, RefusesYearsAWallTimeCannotHold) {
  for (const char* text : {"202-01-01T00:00:05.250000Z", "4052-01-01T00:00:00Z", "1000-01-01T00:00:00Z"}) {
    auto parsed = parseRfc3339(text);
    ASSERT_FALSE(parsed.isOk()) << text;
    EXPECT_NE(parsed.status().message().find("outside the years 1678 to 2261"), std::string::npos)
        << parsed.status().message();
  }
  EXPECT_TRUE(parseRfc3339("2261-12-31T23:59:59Z").isOk());
  EXPECT_TRUE(parseRfc3339("1970-01-01T00:00:00Z").isOk());
}

}  // namespace
}  // namespace sluice::common

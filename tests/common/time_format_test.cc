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

}  // namespace
}  // namespace sluice::common

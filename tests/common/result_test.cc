#include "common/result.h"

#include <gtest/gtest.h>

namespace sluice::common {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return invalidArgument("n must be even (got " + std::to_string(n) + ")");
  return n / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(*ok, 2);
  EXPECT_TRUE(ok.status().isOk());

  auto bad = half(3);
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.status().toString(), "InvalidArgument: n must be even (got 3)");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status st = unavailable("connection refused");
  Status wrapped = st.withContext("fetching offsets");
  EXPECT_EQ(wrapped.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(wrapped.message(), "fetching offsets: connection refused");
  EXPECT_TRUE(Status::ok().withContext("x").isOk());
}

}  // namespace
}  // namespace sluice::common

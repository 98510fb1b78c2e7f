#include "common/logging.h"

#include <gtest/gtest.h>

namespace sluice::common {
namespace {

TEST(LoggingTest, JsonEscapeHandlesQuotesAndControlCharacters) {
  EXPECT_EQ(jsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
}

TEST(LoggingTest, RejectsUnknownFormatAndLevel) {
  EXPECT_FALSE(parseLogFormat("xml").isOk());
  EXPECT_EQ(*parseLogFormat("json"), LogFormat::kJson);
  Status st = setupLogging({"verbose", LogFormat::kText}, "test");
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("(got 'verbose')"), std::string::npos);
  EXPECT_TRUE(setupLogging({"debug", LogFormat::kJson}, "test").isOk());
  EXPECT_TRUE(setupLogging({"info", LogFormat::kText}, "test").isOk());
}

}  // namespace
}  // namespace sluice::common

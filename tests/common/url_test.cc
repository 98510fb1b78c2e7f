#include "common/url.h"

#include <gtest/gtest.h>

namespace sluice::common {
namespace {

TEST(RedactUserinfo, HidesUserAndPasswordOnly) {
  EXPECT_EQ(redactUserinfo("http://user:pw@ingest.shop:8080/batch?x=1"),
            "http://[redacted]@ingest.shop:8080/batch?x=1");
  EXPECT_EQ(redactUserinfo("https://token@ingest.shop/b"), "https://[redacted]@ingest.shop/b");
  EXPECT_EQ(redactUserinfo("http://u:p@ss@host/b"), "http://[redacted]@host/b");  // the last '@' ends it
  EXPECT_EQ(redactUserinfo("http://ingest.shop/a@b"), "http://ingest.shop/a@b");  // '@' in the path
  EXPECT_EQ(redactUserinfo("http://ingest.shop/batch"), "http://ingest.shop/batch");
  EXPECT_EQ(redactUserinfo("not a url"), "not a url");
  EXPECT_EQ(redactUserinfo(""), "");
}

TEST(RedactUserinfo, ScrubsALibrarysMessageQuotingTheUrl) {
  EXPECT_EQ(
      redactUserinfoIn("Failed to connect to http://user:pw@host/ (user:pw@host)", "http://user:pw@host/"),
      "Failed to connect to http://[redacted]@host/ ([redacted]@host)");
  EXPECT_EQ(redactUserinfoIn("timed out", "http://host/"), "timed out");
}

}  // namespace
}  // namespace sluice::common

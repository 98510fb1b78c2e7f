#include "worker/http_delivery.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/worker/test_messages.h"

namespace sluice::worker {
namespace {

using testing::msg;
using namespace std::chrono_literals;

TEST(HttpDelivery, ValidatesUtf8) {
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xff"));
  EXPECT_FALSE(isValidUtf8("\xc3"));          // truncated
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));  // surrogate
}

TEST(HttpDelivery, EncodesBase64) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode(std::string("\xff\x00\x01", 3)), "/wAB");
}

TEST(HttpDelivery, EncodesAMessageAsDocumented) {
  Message m = msg(3, 42, "k1", "{\"id\":1}", "orders");
  m.headers = {{"trace", "abc"}};
  m.timestampMs = 1700000000000;
  auto j = nlohmann::json::parse(encodeMessageJson(m));
  EXPECT_EQ(j["topic"], "orders");
  EXPECT_EQ(j["partition"], 3);
  EXPECT_EQ(j["offset"], 42);
  EXPECT_EQ(j["key"], "k1");
  EXPECT_EQ(j["value"], "{\"id\":1}");
  EXPECT_EQ(j["headers"]["trace"], "abc");
  EXPECT_EQ(j["timestamp"], 1700000000000);
  EXPECT_FALSE(j.contains("valueEncoding"));
}

TEST(HttpDelivery, EncodesBinaryValuesAsBase64AndNullKeys) {
  Message m = msg(0, 1, std::nullopt, std::string("\xff\xfe", 2));
  auto j = nlohmann::json::parse(encodeMessageJson(m));
  EXPECT_TRUE(j["key"].is_null());
  EXPECT_EQ(j["value"], "//4=");
  EXPECT_EQ(j["valueEncoding"], "base64");
  EXPECT_TRUE(j["timestamp"].is_null());
}

TEST(HttpDelivery, EncodesJsonArraysAndNdjson) {
  std::vector<Message> batch = {msg(0, 1), msg(0, 2)};
  auto array = nlohmann::json::parse(encodeBatch(batch, spec::HttpFormat::kJson));
  ASSERT_TRUE(array.is_array());
  EXPECT_EQ(array.size(), 2u);
  EXPECT_EQ(array[1]["offset"], 2);
  const std::string nd = encodeBatch(batch, spec::HttpFormat::kNdjson);
  EXPECT_EQ(std::count(nd.begin(), nd.end(), '\n'), 2);
  EXPECT_EQ(nlohmann::json::parse(nd.substr(0, nd.find('\n')))["offset"], 1);
}

TEST(HttpDelivery, ClassifiesStatuses) {
  EXPECT_EQ(classifyHttpStatus(200), DeliveryOutcome::kDelivered);
  EXPECT_EQ(classifyHttpStatus(204), DeliveryOutcome::kDelivered);
  EXPECT_EQ(classifyHttpStatus(429), DeliveryOutcome::kRetryable);
  EXPECT_EQ(classifyHttpStatus(500), DeliveryOutcome::kRetryable);
  EXPECT_EQ(classifyHttpStatus(503), DeliveryOutcome::kRetryable);
  EXPECT_EQ(classifyHttpStatus(400), DeliveryOutcome::kTerminal);
  EXPECT_EQ(classifyHttpStatus(422), DeliveryOutcome::kTerminal);
  EXPECT_EQ(classifyHttpStatus(301), DeliveryOutcome::kTerminal);
}

TEST(HttpDelivery, ParsesRetryAfterSecondsAndDates) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parseRetryAfter("7", now), 7000ms);
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30000ms);
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0ms);
  EXPECT_FALSE(parseRetryAfter("", now));
  EXPECT_FALSE(parseRetryAfter("soon", now));
}

TEST(HttpDelivery, BuildsResultsWithRetryAfter) {
  const auto now = std::chrono::system_clock::now();
  auto busy = httpResult(429, "2", "slow down", now);
  EXPECT_EQ(busy.outcome, DeliveryOutcome::kRetryable);
  EXPECT_EQ(busy.retryAfter, 2000ms);
  EXPECT_EQ(busy.error, "HTTP 429: slow down");
  EXPECT_EQ(httpResult(404, "", "", now).outcome, DeliveryOutcome::kTerminal);
  EXPECT_EQ(httpResult(200, "", "", now).outcome, DeliveryOutcome::kDelivered);
}

}  // namespace
}  // namespace sluice::worker

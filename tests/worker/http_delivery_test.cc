#include "worker/http_delivery.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/worker/test_messages.h"
#include "worker/retry_policy.h"

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

// #18: a NATS subject is bytes; one that is not UTF-8 made nlohmann throw from the encoder on a
// lane thread (std::terminate). It is base64 like keys and values, and says so.
TEST(HttpDelivery, EncodesANonUtf8SubjectAsBase64) {
  Message m = msg(0, 7, "", "v", std::string("orders.\xff\xfe", 9));
  std::string body;
  ASSERT_NO_THROW(body = encodeMessageJson(m));
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["topic"], base64Encode(m.topic));
  EXPECT_EQ(j["topicEncoding"], "base64");
  EXPECT_FALSE(
      nlohmann::json::parse(encodeMessageJson(msg(0, 7, "", "v", "orders"))).contains("topicEncoding"));
}

// #18: control characters take up to 6 bytes each once JSON-escaped, binary 4/3 as base64: the byte
// budget counts what the body will take, not the raw bytes.
TEST(HttpDelivery, TheBudgetCountsAtLeastTheEncodedSize) {
  const std::string controls(10000, '\x01');
  const std::string binary(9999, '\xff');
  std::vector<Message> cases;
  cases.push_back(msg(0, 1, "", controls, "t"));
  cases.push_back(msg(0, 1, controls, "\"\\\n\t", "t"));
  cases.push_back(msg(0, 1, "", binary, std::string(300, '\x1f')));
  cases.push_back(msg(-2147483647, -9223372036854775807, binary.substr(0, 7), "", std::string(5, '\xfe')));
  cases.back().timestampMs = -1;
  cases.back().key.reset();
  Message headers = msg(0, 1, "", "", "t");
  for (int i = 0; i < 50; ++i)
    headers.headers.push_back({controls.substr(0, 40) + std::to_string(i), binary.substr(0, 41)});
  headers.headers.push_back({binary.substr(0, 5), controls.substr(0, 100)});
  cases.push_back(headers);
  cases.push_back(msg(0, 1, "", "", ""));
  for (auto& m : cases) {
    const auto encoded = static_cast<int64_t>(encodeMessageJson(m).size()) + 1;  // + separator
    m.encodingExtraBytes = jsonEncodingExtraBytes(m);
    EXPECT_GE(budgetBytes(m), encoded) << "value of " << m.value.size() << " bytes";
    // ... and not wildly more: the estimate is for memory, it should not starve the budget.
    EXPECT_LT(budgetBytes(m), encoded + 200 + 64 * static_cast<int64_t>(m.headers.size()));
  }
}

// headersFrom: the value comes from a file (the operator mounts the Secret there), trailing
// newlines dropped; a value that would split the header is refused with the field named.
TEST(HttpDelivery, RequestHeadersReadValuesFromFiles) {
  const std::string dir = ::testing::TempDir() + "headers-from-" + std::to_string(::getpid()) + "/";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "token") << "Bearer abc\n";
  std::ofstream(dir + "split") << "Bearer abc\r\nX-Injected: 1\n";
  spec::HttpSinkSpec http;
  http.headers = {{"X-Inline", "1"}};
  http.headersFrom = {{"Authorization", spec::SecretKeyRef{"s", "token"}, dir + "token"}};
  auto headers = requestHeaders(http);
  ASSERT_TRUE(headers) << headers.status().toString();
  const std::vector<std::pair<std::string, std::string>> want = {{"X-Inline", "1"},
                                                                 {"Authorization", "Bearer abc"}};
  EXPECT_EQ(*headers, want);

  http.headersFrom = {{"Authorization", std::nullopt, dir + "split"}};
  auto split = requestHeaders(http);
  ASSERT_FALSE(split);
  EXPECT_NE(split.status().message().find("spec.sink.http.headersFrom[0].valueFile"), std::string::npos);

  http.headersFrom = {{"Authorization", std::nullopt, dir + "missing"}};
  EXPECT_FALSE(requestHeaders(http));
  http.headersFrom = {{"Authorization", std::nullopt, dir}};
  auto directory = requestHeaders(http);
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.status().message().find("is a directory"), std::string::npos);

  http.headersFrom = {{"Authorization", spec::SecretKeyRef{"ingest", "token"}, ""}};
  auto standalone = requestHeaders(http);
  ASSERT_FALSE(standalone);
  EXPECT_NE(standalone.status().message().find("set spec.sink.http.headersFrom[0].valueFile"),
            std::string::npos)
      << standalone.status().message();
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

// Found by tests/fuzz/fuzz_retry_after: a date centuries away overflowed WallTime's nanoseconds
// (signed overflow, UBSan). Far future: the longest wait; far past: no wait.
TEST(HttpDelivery, RetryAfterDatesCenturiesAwayDoNotOverflow) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parseRetryAfter("Fri, 02 Jan 1013 00:00:00 GMT", now), 0ms);
  EXPECT_EQ(parseRetryAfter("Fri, 02 Jan 9999 00:00:00 GMT", now), kMaxRetryAfter);
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 08:28:00 GMT", now), kMaxRetryAfter);
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

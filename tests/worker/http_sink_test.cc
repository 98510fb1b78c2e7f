// HttpSink against a loopback peer of the test's own that answers the way a broken or hostile
// endpoint would (no HTTP library on the peer's side: it writes raw bytes).
#include "worker/http_sink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "tests/support/raw_client.h"
#include "tests/worker/test_messages.h"
#include "worker/http_delivery.h"

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;

// Accepts connections on 127.0.0.1, reads each request head, then writes `head` and up to
// `bodyBytes` of 'x' (as fast as the client takes them) before closing.
class RawHttpPeer {
 public:
  RawHttpPeer(std::string head, size_t bodyBytes) : head_(std::move(head)), bodyBytes_(bodyBytes) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawHttpPeer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/batch"; }
  size_t bodySent() const { return sent_; }

 private:
  void serve() {
    while (!stop_) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buf, sizeof(buf), 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      ::send(client, head_.data(), head_.size(), MSG_NOSIGNAL);
      const std::string chunk(64 * 1024, 'x');
      for (size_t body = 0; body < bodyBytes_ && !stop_;) {
        const size_t n = std::min(chunk.size(), bodyBytes_ - body);
        const ssize_t wrote = ::send(client, chunk.data(), n, MSG_NOSIGNAL);
        if (wrote <= 0) break;
        body += static_cast<size_t>(wrote);
        sent_ += static_cast<size_t>(wrote);
      }
      ::close(client);
    }
  }

  std::string head_;
  size_t bodyBytes_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> sent_{0};
  std::thread thread_;
};

std::unique_ptr<Sink> sinkFor(const std::string& url) {
  spec::HttpSinkSpec spec;
  spec.url = url;
  auto sink = makeHttpSink(spec, common::Millis(10000));
  EXPECT_TRUE(sink.isOk()) << sink.status().toString();
  return std::move(*sink);
}

// #18: the sink read the whole body of an error response into memory. A 500 with a 512 MiB body
// yields an error with an excerpt, quickly, and the process does not hold the body.
TEST(HttpSink, ReadsOnlyAnExcerptOfAHugeErrorBody) {
  constexpr size_t kBody = size_t{512} << 20;
  RawHttpPeer peer(
      "HTTP/1.1 500 Internal Server Error\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n", kBody);
  auto sink = sinkFor(peer.url());
  const size_t before = sluice::testing::residentBytes();
  const std::vector<Message> batch = {testing::msg(0, 1, "k", "v")};
  auto result = std::async(std::launch::async, [&] { return sink->deliver(batch); });
  ASSERT_EQ(result.wait_for(20s), std::future_status::ready) << "deliver() still reading the body";
  const DeliveryResult delivered = result.get();
  EXPECT_EQ(delivered.outcome, DeliveryOutcome::kRetryable);
  EXPECT_EQ(delivered.error.rfind("HTTP 500: xxx", 0), 0u) << delivered.error.substr(0, 300);
  const size_t after = sluice::testing::residentBytes();
  EXPECT_LT(after, before + (size_t{32} << 20)) << "RSS grew from " << before << " to " << after;
  EXPECT_LT(peer.bodySent(), kBody / 2) << "the sink kept reading";
}

// A 2xx with a body longer than the excerpt buffer is still delivered.
TEST(HttpSink, DeliversWhateverTheSuccessBody) {
  constexpr size_t kBody = size_t{1} << 20;
  RawHttpPeer peer("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n", kBody);
  auto sink = sinkFor(peer.url());
  const std::vector<Message> batch = {testing::msg(0, 1, "k", "v")};
  EXPECT_EQ(sink->deliver(batch).outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(sink->deliver(batch).outcome, DeliveryOutcome::kDelivered);
}

// #18: a NATS subject that is not UTF-8 reached the JSON encoder outside the sink's try and
// terminated the process; it is encoded (base64) and delivered.
TEST(HttpSink, DeliversAMessageWhoseSubjectIsNotUtf8) {
  RawHttpPeer peer("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 0);
  auto sink = sinkFor(peer.url());
  const std::vector<Message> batch = {testing::msg(0, 1, "k", "v", std::string("orders.\xff", 8))};
  EXPECT_EQ(sink->deliver(batch).outcome, DeliveryOutcome::kDelivered);
}

// #18: a URL's userinfo is a credential: it is not in describe() (logged at start) nor in a failed
// delivery's error (logged, and copied into the sluice.error header of dead-lettered messages).
TEST(HttpSink, KeepsTheUrlsUserinfoOutOfLogsAndErrors) {
  RawHttpPeer peer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 0);
  std::string url = peer.url();
  url.insert(url.find("127.0.0.1"), "alice:s3cret@");
  auto sink = sinkFor(url);
  EXPECT_EQ(sink->describe().find("s3cret"), std::string::npos) << sink->describe();
  EXPECT_NE(sink->describe().find("[redacted]@127.0.0.1"), std::string::npos) << sink->describe();
  const std::vector<Message> batch = {testing::msg(0, 1, "k", "v")};
  EXPECT_EQ(sink->deliver(batch).outcome, DeliveryOutcome::kRetryable);
  auto refused = sinkFor("http://alice:s3cret@127.0.0.1:1/batch");
  const DeliveryResult failed = refused->deliver(batch);
  EXPECT_EQ(failed.outcome, DeliveryOutcome::kRetryable);
  EXPECT_EQ(failed.error.find("s3cret"), std::string::npos) << failed.error;
  EXPECT_NE(failed.error.find("[redacted]@127.0.0.1:1"), std::string::npos) << failed.error;
}

// The sink's encoding size is what the pipeline counts against the budget.
TEST(HttpSink, CountsItsJsonEncodingAgainstTheBudget) {
  auto sink = sinkFor("http://127.0.0.1:1/batch");
  Message controls = testing::msg(0, 1, "", std::string(1000, '\x01'));
  controls.encodingExtraBytes = sink->encodingExtraBytes(controls);
  EXPECT_GE(budgetBytes(controls), static_cast<int64_t>(encodeMessageJson(controls).size()));
  EXPECT_GT(controls.encodingExtraBytes, 4 * 1000);
}

}  // namespace
}  // namespace sluice::worker

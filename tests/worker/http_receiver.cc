#include "tests/worker/http_receiver.h"

#include <cpprest/http_listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace sluice::worker::testing {

namespace http = web::http;

namespace {

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::vector<Received> parseBatch(const std::string& body) {
  std::vector<Received> out;
  for (const auto& j : nlohmann::json::parse(body)) {
    Received r;
    r.topic = j.at("topic");
    r.partition = j.at("partition");
    r.offset = j.at("offset");
    if (!j.at("key").is_null()) r.key = j.at("key").get<std::string>();
    r.value = j.at("value");
    if (j.contains("headers")) {
      for (const auto& [name, value] : j.at("headers").items()) r.headers[name] = value.get<std::string>();
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

struct HttpReceiver::Impl {
  Decide decide;
  int port = 0;
  std::unique_ptr<http::experimental::listener::http_listener> listener;
  mutable std::mutex mu;
  std::vector<Received> accepted;
  std::set<std::string> values;
  int requests = 0;
  int rejected = 0;

  void handle(http::http_request request) {
    const std::string body = request.extract_utf8string(true).get();
    std::vector<Received> batch = parseBatch(body);
    int number = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      number = requests++;
    }
    Reply reply = decide ? decide(batch, number) : Reply{};
    {
      std::lock_guard<std::mutex> lock(mu);
      if (reply.status >= 200 && reply.status < 300) {
        for (auto& r : batch) {
          values.insert(r.value);
          accepted.push_back(std::move(r));
        }
      } else {
        ++rejected;
      }
    }
    http::http_response response(static_cast<http::status_code>(reply.status));
    if (!reply.retryAfter.empty()) response.headers().add("Retry-After", reply.retryAfter);
    request.reply(response).wait();
  }
};

HttpReceiver::HttpReceiver(Decide decide) : impl_(std::make_unique<Impl>()) {
  impl_->decide = std::move(decide);
  impl_->port = freePort();
  impl_->listener = std::make_unique<http::experimental::listener::http_listener>(url());
  impl_->listener->support(http::methods::POST,
                           [impl = impl_.get()](http::http_request r) { impl->handle(std::move(r)); });
  impl_->listener->open().wait();
}

HttpReceiver::~HttpReceiver() {
  try {
    impl_->listener->close().wait();
  } catch (const std::exception&) {
    // Closing a listener with requests in flight may throw; the test is over either way.
  }
}

std::string HttpReceiver::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port) + "/batch"; }

std::vector<Received> HttpReceiver::accepted() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->accepted;
}

size_t HttpReceiver::acceptedCount() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->accepted.size();
}

size_t HttpReceiver::distinctValues() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->values.size();
}

int HttpReceiver::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

int HttpReceiver::rejected() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rejected;
}

bool HttpReceiver::waitForDistinct(size_t count, std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (distinctValues() >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return distinctValues() >= count;
}

}  // namespace sluice::worker::testing

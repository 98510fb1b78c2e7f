// HttpSink: the only worker file that includes cpprest. Catches cpprest's exceptions here and turns
// them into retryable DeliveryResults.
#include "worker/http_sink.h"

#include <cpprest/http_client.h>
#include <cpprest/rawptrstream.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/url.h"
#include "worker/http_delivery.h"

namespace sluice::worker {
namespace {

namespace http = web::http;

// What is kept of a response body: an excerpt for the error message, never the whole body a
// misbehaving endpoint sends. cpprest writes the body into this buffer as it arrives and fails the
// response (closing the connection) once it would overflow; 64 KiB is cpprest's read chunk, so the
// first read of any body fits.
constexpr size_t kMaxResponseBodyBytes = 64 * 1024;

class HttpSink final : public Sink {
 public:
  HttpSink(const spec::HttpSinkSpec& spec, std::vector<std::pair<std::string, std::string>> headers,
           common::Millis timeout)
      : spec_(spec),
        shownUrl_(common::redactUserinfo(spec.url)),
        headers_(std::move(headers)),
        client_(utility::conversions::to_string_t(spec.url), configFor(timeout)) {}

  DeliveryResult deliver(std::span<const Message> batch) override {
    // The body is kept until cpprest is done with it, however this call ends (see keepUntilDone).
    auto body = std::make_shared<std::vector<uint8_t>>(kMaxResponseBodyBytes, 0);
    try {
      http::http_request request(http::methods::POST);
      for (const auto& [name, value] : headers_) request.headers().add(name, value);
      request.set_body(encodeBatch(batch, spec_.format), contentType(spec_.format));
      concurrency::streams::rawptr_buffer<uint8_t> buffer(body->data(), body->size(), std::ios::out);
      request.set_response_stream(buffer.create_ostream());
      http::http_response response = client_.request(request).get();
      keepUntilDone(response, body);
      const int status = response.status_code();
      if (status >= 200 && status < 300) return DeliveryResult::delivered();
      std::string retryAfter;
      if (auto it = response.headers().find("Retry-After"); it != response.headers().end())
        retryAfter = it->second;
      return httpResult(status, retryAfter, excerpt(response, *body), std::chrono::system_clock::now());
    } catch (const std::exception& e) {
      return DeliveryResult::retryable("POST " + shownUrl_ + ": " +
                                       common::redactUserinfoIn(e.what(), spec_.url));
    }
  }

  int64_t encodingExtraBytes(const Message& message) const override {
    return jsonEncodingExtraBytes(message);
  }

  std::string describe() const override {
    return "http POST " + shownUrl_ + " (" + spec::toString(spec_.format) + ")";
  }

 private:
  // cpprest keeps writing the body after the headers arrived: the buffer lives until it is done.
  static void keepUntilDone(http::http_response& response,
                            const std::shared_ptr<std::vector<uint8_t>>& body) {
    response.content_ready().then([body](const pplx::task<http::http_response>& done) {
      try {
        done.wait();
      } catch (const std::exception&) {
        // The body overflowed the buffer or the connection broke; the status was all we needed.
      }
    });
  }

  // Up to kMaxResponseBodyBytes of an error response's body (text up to its first NUL).
  static std::string excerpt(http::http_response& response, const std::vector<uint8_t>& body) {
    try {
      response.content_ready().wait();
    } catch (const std::exception&) {
      // Longer than the buffer, or cut short: what arrived is excerpt enough.
    }
    const auto* text = reinterpret_cast<const char*>(body.data());
    return std::string(text, ::strnlen(text, body.size()));
  }

  static http::client::http_client_config configFor(common::Millis timeout) {
    http::client::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    return config;
  }

  spec::HttpSinkSpec spec_;
  std::string shownUrl_;  // the URL without its userinfo, for logs and errors (and so DLQ headers)
  std::vector<std::pair<std::string, std::string>> headers_;
  http::client::http_client client_;
};

}  // namespace

common::Result<std::unique_ptr<Sink>> makeHttpSink(const spec::HttpSinkSpec& http, common::Millis timeout) {
  auto headers = requestHeaders(http);
  if (!headers) return headers.status();
  try {
    return std::unique_ptr<Sink>(std::make_unique<HttpSink>(http, std::move(*headers), timeout));
  } catch (const std::exception& e) {
    return common::invalidArgument("spec.sink.http.url " + common::redactUserinfo(http.url) + ": " +
                                   common::redactUserinfoIn(e.what(), http.url));
  }
}

}  // namespace sluice::worker

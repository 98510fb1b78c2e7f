// HttpSink: the only worker file that includes cpprest. Catches cpprest's exceptions here and turns
// them into retryable DeliveryResults.
#include "worker/http_sink.h"

#include <cpprest/http_client.h>

#include "worker/http_delivery.h"

namespace sluice::worker {
namespace {

namespace http = web::http;

class HttpSink final : public Sink {
 public:
  HttpSink(const spec::HttpSinkSpec& spec, common::Millis timeout)
      : spec_(spec), client_(utility::conversions::to_string_t(spec.url), configFor(timeout)) {}

  DeliveryResult deliver(std::span<const Message> batch) override {
    http::http_request request(http::methods::POST);
    for (const auto& [name, value] : spec_.headers) request.headers().add(name, value);
    request.set_body(encodeBatch(batch, spec_.format), contentType(spec_.format));
    try {
      http::http_response response = client_.request(request).get();
      const int status = response.status_code();
      if (status >= 200 && status < 300) return DeliveryResult::delivered();
      std::string retryAfter;
      if (auto it = response.headers().find("Retry-After"); it != response.headers().end())
        retryAfter = it->second;
      std::string body;
      try {
        body = response.extract_utf8string(true).get();
      } catch (const std::exception&) {
        // The status already says what happened; a body we cannot read adds nothing.
      }
      return httpResult(status, retryAfter, body, std::chrono::system_clock::now());
    } catch (const std::exception& e) {
      return DeliveryResult::retryable(std::string("POST ") + spec_.url + ": " + e.what());
    }
  }

  std::string describe() const override {
    return std::string("http POST ") + spec_.url + " (" + spec::toString(spec_.format) + ")";
  }

 private:
  static http::client::http_client_config configFor(common::Millis timeout) {
    http::client::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    return config;
  }

  spec::HttpSinkSpec spec_;
  http::client::http_client client_;
};

}  // namespace

common::Result<std::unique_ptr<Sink>> makeHttpSink(const spec::HttpSinkSpec& http, common::Millis timeout) {
  try {
    return std::unique_ptr<Sink>(std::make_unique<HttpSink>(http, timeout));
  } catch (const std::exception& e) {
    return common::invalidArgument("spec.sink.http.url " + http.url + ": " + e.what());
  }
}

}  // namespace sluice::worker

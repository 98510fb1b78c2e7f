// The only file of the operator that includes cpprestsdk. Threading: request() may be called from
// any thread (one pooled http_client per timeout value); each stream() owns its own connection.
#include "kube/cpprest_transport.h"

#include <cpprest/http_client.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

#include "kube/system_trust.h"

namespace sluice::kube {
namespace {

using common::Result;
namespace http = web::http;

struct TlsMaterial {
  std::string caPem;
  std::string certPem;
  std::string keyPem;
};

// With a CA in the kubeconfig, it is the only one trusted (as client-go): whatever cpprest loaded
// from OpenSSL's defaults before this callback (the system bundle, ~1 MiB of parsed certificates,
// unless divertSystemCaBundle() emptied them) gives way to a fresh store. Without one, the
// system's CAs are trusted: named here when they were diverted (system_trust.h).
void configureTls(boost::asio::ssl::context& ctx, const TlsMaterial& tls) {
  if (!tls.caPem.empty()) {
    if (X509_STORE* only = X509_STORE_new())
      SSL_CTX_set_cert_store(ctx.native_handle(), only);  // frees the old
    ctx.add_certificate_authority(boost::asio::buffer(tls.caPem));
  } else if (!systemCaBundle().empty()) {
    ctx.load_verify_file(systemCaBundle());
  }
  if (!tls.certPem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(tls.certPem));
    ctx.use_private_key(boost::asio::buffer(tls.keyPem), boost::asio::ssl::context::pem);
  }
}

common::Status checkTls(const TlsMaterial& tls) {
  try {
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    configureTls(ctx, tls);
  } catch (const std::exception& e) {
    return common::invalidArgument(std::string("kubeconfig certificates are not valid PEM: ") + e.what());
  }
  return common::Status::ok();
}

common::Status transportError(const std::exception& e, const HttpRequest& request) {
  const std::string what = request.method + " " + request.path + ": " + e.what();
  if (const auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    if (he->error_code() == std::errc::timed_out) return common::timeoutError(what);
  }
  return common::unavailable(what);
}

class CpprestTransport final : public Transport {
 public:
  explicit CpprestTransport(KubeConfig config)
      : config_(std::move(config)), tls_{config_.caPem, config_.clientCertPem, config_.clientKeyPem} {}

  Result<HttpResponse> request(const HttpRequest& request) override {
    try {
      auto client = pooledClient(request.timeout);
      auto response = client->request(buildRequest(request)).get();
      return HttpResponse{response.status_code(), response.extract_utf8string(true).get()};
    } catch (const std::exception& e) {
      return transportError(e, request);
    }
  }

  Result<HttpResponse> stream(const HttpRequest& request, const std::function<void(std::string_view)>& onLine,
                              Cancellation& cancel) override {
    pplx::cancellation_token_source source;
    const int callbackId = cancel.onCancel([&source] { source.cancel(); });
    auto result = streamLines(request, onLine, source.get_token());
    cancel.removeCallback(callbackId);
    if (cancel.cancelled()) return common::Status(common::ErrorCode::kCancelled, "watch cancelled");
    return result;
  }

 private:
  Result<HttpResponse> streamLines(const HttpRequest& request,
                                   const std::function<void(std::string_view)>& onLine,
                                   const pplx::cancellation_token& token) {
    try {
      http::client::http_client client(config_.server, clientConfig(request.timeout));
      auto response = client.request(buildRequest(request), token).get();
      if (response.status_code() < 200 || response.status_code() >= 300) {
        return HttpResponse{response.status_code(), response.extract_utf8string(true).get()};
      }
      // What has arrived is taken in one piece, and only an idle stream waits, for one byte.
      // (cpprest's read_line went through a task per byte: ~10 % of the operator's CPU in a
      // burst of new pipelines, bench/README.md.)
      auto body = response.body().streambuf();
      using Traits = decltype(body)::traits;
      LineSplitter lines(onLine);
      std::vector<uint8_t> block(64 * 1024);
      while (true) {
        const size_t available = std::min(body.in_avail(), block.size());
        if (available == 0) {
          const auto c = body.bumpc().get();  // waits; takes the byte (getc() would only peek)
          if (c == Traits::eof()) {
            if (body.is_eof()) break;
            continue;
          }
          const char byte = static_cast<char>(c);
          lines.feed(std::string_view(&byte, 1));
          continue;
        }
        const size_t n = body.getn(block.data(), available).get();
        if (n == 0) break;
        lines.feed(std::string_view(reinterpret_cast<const char*>(block.data()), n));
      }
      lines.finish();
      return HttpResponse{response.status_code(), ""};
    } catch (const std::exception& e) {
      return transportError(e, request);
    }
  }

  http::client::http_client_config clientConfig(std::chrono::milliseconds timeout) const {
    http::client::http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(!config_.insecureSkipTlsVerify);
    const TlsMaterial tls = tls_;
    cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) { configureTls(ctx, tls); });
    return cfg;
  }

  std::shared_ptr<http::client::http_client> pooledClient(std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& client = clients_[timeout.count()];
    if (!client) client = std::make_shared<http::client::http_client>(config_.server, clientConfig(timeout));
    return client;
  }

  http::http_request buildRequest(const HttpRequest& request) {
    http::http_request out(request.method);
    web::uri_builder uri(request.path);
    for (const auto& [key, value] : request.query) uri.append_query(key, value, true);
    out.set_request_uri(uri.to_uri());
    out.headers().add("Accept", "application/json");
    out.headers().add("User-Agent", "sluice-operator");
    const std::string token = currentToken();
    if (!token.empty()) out.headers().add("Authorization", "Bearer " + token);
    if (!request.body.empty()) out.set_body(request.body, request.contentType);
    return out;
  }

  // Bound service-account tokens rotate: re-read the token file at most once a minute.
  std::string currentToken() {
    if (config_.tokenFile.empty()) return config_.token;
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - tokenReadAt_ > std::chrono::minutes(1)) {
      if (auto token = readFile(config_.tokenFile)) {
        token_ = *token;
        while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
      }
      tokenReadAt_ = now;
    }
    return token_.empty() ? config_.token : token_;
  }

  const KubeConfig config_;
  const TlsMaterial tls_;
  std::mutex mu_;
  std::map<long long, std::shared_ptr<http::client::http_client>> clients_;
  std::string token_;
  std::chrono::steady_clock::time_point tokenReadAt_{};
};

}  // namespace

Result<std::unique_ptr<Transport>> makeCpprestTransport(const KubeConfig& config) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return common::invalidArgument("API server address must start with https:// (got '" + config.server +
                                   "')");
  }
  if (auto st = checkTls({config.caPem, config.clientCertPem, config.clientKeyPem}); !st) return st;
  return std::unique_ptr<Transport>(std::make_unique<CpprestTransport>(config));
}

}  // namespace sluice::kube

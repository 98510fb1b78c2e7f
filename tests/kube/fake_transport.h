#pragma once
// A narrow scripted Transport for what the real API server cannot do on demand: answer a watch
// with ERROR 410, drop a stream, return 429. Requests are recorded for assertions.
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kube/transport.h"

namespace sluice::kube::testing {

struct ScriptedStream {
  std::vector<std::string> lines;
  common::Result<HttpResponse> end = HttpResponse{200, ""};
};

class FakeTransport final : public Transport {
 public:
  // Answers requests in order; when the script runs out, answers 500.
  void addResponse(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    responses_.push_back(HttpResponse{status, std::move(body)});
  }
  void addStream(ScriptedStream stream) {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.push_back(std::move(stream));
  }
  // Called when the stream script runs out (e.g. to cancel the watcher under test).
  void onStreamsExhausted(std::function<void()> callback) { exhausted_ = std::move(callback); }

  // Consulted before the script: an answer it gives does not consume a scripted response (e.g.
  // the reads a write path makes before each write).
  std::function<std::optional<HttpResponse>(const HttpRequest&)> answer;

  common::Result<HttpResponse> request(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests.push_back(request);
    if (answer) {
      if (auto answered = answer(request)) return *answered;
    }
    if (responses_.empty()) return HttpResponse{500, R"({"kind":"Status","message":"no scripted response"})"};
    auto response = responses_.front();
    responses_.pop_front();
    return response;
  }

  common::Result<HttpResponse> stream(const HttpRequest& request,
                                      const std::function<void(std::string_view)>& onLine,
                                      Cancellation& cancel) override {
    ScriptedStream script;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests.push_back(request);
      if (streams_.empty()) {
        if (exhausted_) exhausted_();
        return common::Status(common::ErrorCode::kCancelled, "script exhausted");
      }
      script = streams_.front();
      streams_.pop_front();
    }
    for (const auto& line : script.lines) {
      if (cancel.cancelled()) return common::Status(common::ErrorCode::kCancelled, "cancelled");
      onLine(line);
    }
    if (cancel.cancelled()) return common::Status(common::ErrorCode::kCancelled, "cancelled");
    return script.end;
  }

  std::vector<HttpRequest> requests;

 private:
  std::mutex mu_;
  std::deque<HttpResponse> responses_;
  std::deque<ScriptedStream> streams_;
  std::function<void()> exhausted_;
};

inline std::string queryValue(const HttpRequest& request, const std::string& key) {
  for (const auto& [k, v] : request.query) {
    if (k == key) return v;
  }
  return "";
}

}  // namespace sluice::kube::testing

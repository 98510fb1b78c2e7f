#pragma once
// An HTTP sink receiver for the worker's integration tests: a cpprest http_listener on 127.0.0.1
// that records every message of every batch in arrival order and answers as the test decides.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sluice::worker::testing {

struct Received {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::string> headers;
};

struct Reply {
  int status = 200;
  std::string retryAfter;
};

class HttpReceiver {
 public:
  // Decides the reply for one request (its batch, its 0-based request number). Accepted batches
  // (2xx) are recorded; the decider may sleep to act as a slow sink.
  using Decide = std::function<Reply(const std::vector<Received>& batch, int request)>;

  explicit HttpReceiver(Decide decide = {});
  ~HttpReceiver();
  std::string url() const;

  std::vector<Received> accepted() const;
  size_t acceptedCount() const;
  // Distinct message values accepted so far.
  size_t distinctValues() const;
  int requests() const;
  int rejected() const;
  // Polls until at least `count` distinct values were accepted or the timeout passes.
  bool waitForDistinct(size_t count, std::chrono::seconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::worker::testing

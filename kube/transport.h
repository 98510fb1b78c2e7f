#pragma once
// The seam between the Kubernetes client and an HTTP library. Only cpprest_transport.cc talks to
// cpprestsdk; tests substitute a narrow fake where the real API server cannot act on demand
// (injecting a 410 or a dropped stream).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"

namespace sluice::kube {

using Query = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // "/apis/apps/v1/namespaces/shop/deployments/orders"
  Query query;       // values are URL-encoded by the transport
  std::string body;
  std::string contentType;
  std::chrono::milliseconds timeout{30000};
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Cancels a stream from another thread; also a sleep that wakes up on cancel. Thread-safe.
class Cancellation {
 public:
  void cancel();
  bool cancelled() const;
  // Runs `callback` on cancel (at once when already cancelled). One callback at a time; the
  // returned id removes it.
  int onCancel(std::function<void()> callback);
  // After it returns the callback neither runs nor will run: when cancel() is running it on another
  // thread, this waits for it to finish (as std::stop_callback's destructor), so the callback may
  // refer to what its owner destroys next. From inside the callback itself it does not wait.
  void removeCallback(int id);
  // Sleeps up to `duration`; returns false when cancelled.
  bool sleepFor(std::chrono::milliseconds duration);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  int nextId_ = 1;
  int running_ = 0;  // the id of the callback cancel() is running, 0 when none
  std::thread::id runner_;
  std::vector<std::pair<int, std::function<void()>>> callbacks_;
};

// Cuts a byte stream into newline-terminated lines, whatever the chunking: feed() what arrived,
// each complete line (without "\n" or "\r\n"; empty lines skipped) goes to onLine; finish() hands
// over a last line the stream ended without a newline. Not thread-safe: one per stream.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<void(std::string_view line)> onLine) : onLine_(std::move(onLine)) {}
  void feed(std::string_view bytes);
  void finish();

 private:
  void emit(std::string_view line);

  std::function<void(std::string_view line)> onLine_;
  std::string pending_;  // the line begun but not yet ended
};

class Transport {
 public:
  virtual ~Transport() = default;
  // One request. Any HTTP status is a successful Result; only a failure to talk to the server
  // (connection refused, TLS, timeout) is an error (Unavailable / Timeout).
  virtual common::Result<HttpResponse> request(const HttpRequest& request) = 0;
  // A streaming GET (watch): each newline-terminated line of the body goes to onLine as it
  // arrives. Returns when the server closes the stream (the response with an empty body), when
  // `cancel` fires (Cancelled), or on an error. A non-2xx answer returns its status and body
  // without calling onLine.
  virtual common::Result<HttpResponse> stream(const HttpRequest& request,
                                              const std::function<void(std::string_view line)>& onLine,
                                              Cancellation& cancel) = 0;
};

}  // namespace sluice::kube

#pragma once
// /healthz (liveness) and /readyz (readiness) over HTTP. Liveness fails when any registered check
// fails; readiness is set by the owner (false while starting and while draining).
//
// Threading: one thread serves every connection from a poll loop (health_server_posix.cc) and runs
// the checks on it, so a check never runs concurrently with another. A request must arrive whole
// within Limits::requestTimeout and Limits::maxRequestBytes, else the connection is closed (431 for
// oversized headers): a slow or endless client holds one socket for at most the timeout and never
// memory beyond the limit. stop() (also run by the destructor) closes the port and waits for a check
// in progress; call it before destroying anything a check refers to.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace sluice::common {

class HealthServer {
 public:
  using Check = std::function<Status()>;

  struct Limits {
    size_t maxRequestBytes = 8 * 1024;               // request line + headers
    std::chrono::milliseconds requestTimeout{5000};  // from accept to the end of the answer
    size_t maxConnections = 64;                      // the oldest is closed to admit another
  };

  virtual ~HealthServer() = default;
  // address is host:port; ":8081" listens on all interfaces (inside a pod).
  static Result<std::unique_ptr<HealthServer>> start(const std::string& address, Limits limits);
  static Result<std::unique_ptr<HealthServer>> start(const std::string& address) {
    return start(address, Limits{});
  }
  // Stops serving: the port is closed and no check runs once this returns. Idempotent.
  virtual void stop() = 0;

  void setReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }
  void addLivenessCheck(std::string name, Check check);
  virtual int port() const = 0;

  // The body and HTTP code each endpoint answers with; pure, so tests need no socket.
  struct Answer {
    int code;
    std::string body;
  };
  Answer answerHealthz() const;
  Answer answerReadyz() const;

 protected:
  HealthServer() = default;

 private:
  std::atomic<bool> ready_{false};
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, Check>> checks_;
};

// "host:port" -> parts; ":port" -> ("", port). Rejects anything else with a message naming `what`.
Result<std::pair<std::string, int>> parseHostPort(const std::string& address, const std::string& what);

}  // namespace sluice::common

#pragma once
// /healthz (liveness) and /readyz (readiness) over HTTP. Liveness fails when any registered check
// fails; readiness is set by the owner (false while starting and while draining).
#include <atomic>
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

  virtual ~HealthServer() = default;
  // address is host:port; ":8081" listens on all interfaces (inside a pod).
  static Result<std::unique_ptr<HealthServer>> start(const std::string& address);

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

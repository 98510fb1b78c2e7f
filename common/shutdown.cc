#include "common/shutdown.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>

namespace sluice::common {

Shutdown& Shutdown::instance() {
  static Shutdown shutdown;
  return shutdown;
}

void Shutdown::install() {
  std::lock_guard<std::mutex> lock(mu_);
  if (installed_) return;
  installed_ = true;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, set] {
    for (;;) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      if (requested()) {
        spdlog::warn("second signal {} while stopping: exiting now", signal);
        std::_Exit(128 + signal);
      }
      request(signal == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  });
  thread_.detach();
}

void Shutdown::request(const std::string& reason) {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (requested_) return;
    requested_ = true;
    callbacks = callbacks_;
  }
  spdlog::info("graceful stop requested ({})", reason);
  cv_.notify_all();
  for (auto& callback : callbacks) callback();
}

bool Shutdown::requested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requested_;
}

bool Shutdown::waitFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return requested_; });
  return requested_;
}

void Shutdown::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return requested_; });
}

void Shutdown::onShutdown(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  callbacks_.push_back(std::move(callback));
}

}  // namespace sluice::common

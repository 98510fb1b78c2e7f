#pragma once
// Graceful stop on SIGTERM/SIGINT. install() must run in main() before any thread starts: it blocks
// the signals in every thread and waits for them on one dedicated thread, so handlers run ordinary
// code (no async-signal-safety traps). A second signal while stopping exits at once.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice::common {

class Shutdown {
 public:
  static Shutdown& instance();
  void install();
  // Starts the graceful stop (also used by tests and by the owner on fatal errors).
  void request(const std::string& reason);
  bool requested() const;
  // Waits until a stop is requested or the timeout passes; returns requested().
  bool waitFor(std::chrono::milliseconds timeout);
  void wait();
  void onShutdown(std::function<void()> callback);

 private:
  Shutdown() = default;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool installed_ = false;
  std::vector<std::function<void()>> callbacks_;
  std::thread thread_;
};

}  // namespace sluice::common

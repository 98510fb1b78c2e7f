#pragma once
// A DeadLetterSink that refuses the first `failures` sends, then takes every message.
#include <mutex>
#include <string>
#include <vector>

#include "worker/sink.h"

namespace sluice::worker::testing {

class FlakyDeadLetterSink final : public DeadLetterSink {
 public:
  explicit FlakyDeadLetterSink(int failures) : failures_(failures) {}
  common::Status send(const Message& message, const std::string& error, int attempts) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++tries_;
    if (tries_ <= failures_)
      return common::unavailable("dead-letter destination down (try " + std::to_string(tries_) + ")");
    sent_.push_back({message.offset, error, attempts});
    return common::Status::ok();
  }
  std::string describe() const override { return "flaky"; }

  struct Sent {
    int64_t offset;
    std::string error;
    int attempts;
  };
  int tries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tries_;
  }
  std::vector<Sent> sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  mutable std::mutex mu_;
  const int failures_;
  int tries_ = 0;
  std::vector<Sent> sent_;
};

}  // namespace sluice::worker::testing

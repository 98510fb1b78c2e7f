#pragma once
// Exponential backoff with jitter. Defaults match KafkaJS's retry options
// (initialRetryTime 300 ms, multiplier 2, factor 0.2, maxRetryTime 30 s, retries 5), so teams moving
// from KafkaJS/NestJS consumers keep the timing they tuned.
#include <chrono>

#include "common/random.h"

namespace sluice::common {

struct BackoffPolicy {
  std::chrono::milliseconds initial{300};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  double jitter = 0.2;  // +/- fraction of the computed delay
  int maxRetries = 5;   // retries after the first attempt
};

class Backoff {
 public:
  Backoff(BackoffPolicy policy, Random& random) : policy_(policy), random_(random) {}

  // Delay before retry number `retry` (1 = the first retry). Never exceeds policy.max.
  std::chrono::milliseconds delayFor(int retry) const;
  // True while another retry is allowed after `retriesSoFar` retries.
  bool canRetry(int retriesSoFar) const { return retriesSoFar < policy_.maxRetries; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  Random& random_;
};

}  // namespace sluice::common

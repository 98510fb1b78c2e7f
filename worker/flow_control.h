#pragma once
// FlowControl: one budget of in-flight messages and bytes for the whole worker (spec.backpressure).
// A message is "in flight" from the moment the source hands it over until it is delivered,
// dead-lettered or dropped on revoke. At either limit the pipeline first holds: it takes nothing
// more from the source but leaves the source fetching into its own bounded queue. A hold that
// lasts `holdFor` becomes a pause of the source (Kafka: librdkafka's pause, which also drops its
// prefetched messages, so a short hold is much cheaper than a pause/resume cycle). Both end only
// when messages and bytes are back at or below resumeRatio of their limits (hysteresis, so the
// source does not flap). Threading: admit()/evaluate() on the consumer thread; release() from any
// lane; counters are atomics so gauges can read them anywhere. Time is passed in.
#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace sluice::worker {

struct FlowBudget {
  int64_t maxMessages = 10000;
  int64_t maxBytes = 64 << 20;
  double resumeRatio = 0.5;
};

enum class FlowState {
  kFlowing,  // take from the source
  kHolding,  // at a limit: take nothing; the source keeps fetching into its own bounded queue
  kPaused,   // at a limit for longer than holdFor: the source is paused
};

class FlowControl {
 public:
  explicit FlowControl(FlowBudget budget) : budget_(budget) {}

  void admit(int64_t bytes);
  void admit(int64_t messages, int64_t bytes);  // a poll's worth at once
  void release(int64_t messages, int64_t bytes);
  // The state fetching should be in now; moves between states only at the limit / low watermark,
  // and from holding to paused once it held for `holdFor` (zero: pause at the limit at once).
  FlowState evaluate(common::SteadyTime now, common::Millis holdFor);
  FlowState state() const { return state_; }

  int64_t messages() const { return messages_.load(); }
  int64_t bytes() const { return bytes_.load(); }
  // Messages that may still be admitted before the message limit (0 when at or over it).
  int64_t room() const;
  const FlowBudget& budget() const { return budget_; }

 private:
  bool atLimit() const;
  bool atLowWatermark() const;

  FlowBudget budget_;
  std::atomic<int64_t> messages_{0};
  std::atomic<int64_t> bytes_{0};
  FlowState state_ = FlowState::kFlowing;
  common::SteadyTime holdingSince_{};
};

}  // namespace sluice::worker

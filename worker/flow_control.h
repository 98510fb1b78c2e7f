#pragma once
// FlowControl: one budget of in-flight messages and bytes for the whole worker (spec.backpressure).
// A message is "in flight" from the moment the source hands it over until it is delivered,
// dead-lettered or dropped on revoke. Fetching pauses when either limit is reached and resumes only
// when both are back at or below resumeRatio of their limit (hysteresis, so the source does not
// flap). Threading: admit()/evaluate() on the consumer thread; release() from any lane; counters are
// atomics so gauges can read them anywhere.
#include <atomic>
#include <cstdint>

namespace sluice::worker {

struct FlowBudget {
  int64_t maxMessages = 10000;
  int64_t maxBytes = 64 << 20;
  double resumeRatio = 0.5;
};

enum class FlowState { kFlowing, kPaused };

class FlowControl {
 public:
  explicit FlowControl(FlowBudget budget) : budget_(budget) {}

  void admit(int64_t bytes);
  void admit(int64_t messages, int64_t bytes);  // a poll's worth at once
  void release(int64_t messages, int64_t bytes);
  // The state fetching should be in now; moves between states only at the limit / low watermark.
  FlowState evaluate();
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
};

}  // namespace sluice::worker

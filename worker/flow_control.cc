#include "worker/flow_control.h"

#include <algorithm>

namespace sluice::worker {

void FlowControl::admit(int64_t bytes) { admit(1, bytes); }

void FlowControl::admit(int64_t messages, int64_t bytes) {
  messages_.fetch_add(messages);
  bytes_.fetch_add(bytes);
}

void FlowControl::release(int64_t messages, int64_t bytes) {
  messages_.fetch_sub(messages);
  bytes_.fetch_sub(bytes);
}

bool FlowControl::atLimit() const { return messages() >= budget_.maxMessages || bytes() >= budget_.maxBytes; }

bool FlowControl::atLowWatermark() const {
  const double messageMark = static_cast<double>(budget_.maxMessages) * budget_.resumeRatio;
  const double byteMark = static_cast<double>(budget_.maxBytes) * budget_.resumeRatio;
  return static_cast<double>(messages()) <= messageMark && static_cast<double>(bytes()) <= byteMark;
}

FlowState FlowControl::evaluate(common::SteadyTime now, common::Millis holdFor) {
  switch (state_) {
    case FlowState::kFlowing:
      if (!atLimit()) break;
      state_ = holdFor > common::Millis(0) ? FlowState::kHolding : FlowState::kPaused;
      holdingSince_ = now;
      break;
    case FlowState::kHolding:
      if (atLowWatermark()) {
        state_ = FlowState::kFlowing;
      } else if (now - holdingSince_ >= holdFor) {
        state_ = FlowState::kPaused;
      }
      break;
    case FlowState::kPaused:
      if (atLowWatermark()) state_ = FlowState::kFlowing;
      break;
  }
  return state_;
}

int64_t FlowControl::room() const { return std::max<int64_t>(0, budget_.maxMessages - messages()); }

}  // namespace sluice::worker

#include "worker/nats_takeover.h"

#include <algorithm>

namespace sluice::worker {

NatsTakeover::NatsTakeover(int64_t ackPendingAtStart)
    : ackPendingAtStart_(ackPendingAtStart), state_(ackPendingAtStart > 0 ? State::kHolding : State::kDone) {}

void NatsTakeover::hold(Message message) {
  sequences_.insert(message.offset);
  heldBytes_ += budgetBytes(message);
  held_.push_back(std::move(message));
}

bool NatsTakeover::settledBy(int64_t numAckPending) {
  if (state_ != State::kHolding) return true;
  if (numAckPending > static_cast<int64_t>(sequences_.size())) return false;
  // Stream order is each key's order; stable: a sequence held twice keeps its arrival order.
  std::stable_sort(held_.begin(), held_.end(),
                   [](const Message& a, const Message& b) { return a.offset < b.offset; });
  state_ = held_.empty() ? State::kDone : State::kReleasing;
  return true;
}

size_t NatsTakeover::release(size_t max, std::vector<Message>& out) {
  if (state_ != State::kReleasing) return 0;
  const size_t n = std::min(max, held_.size() - next_);
  for (size_t i = 0; i < n; ++i) {
    heldBytes_ -= budgetBytes(held_[next_]);
    out.push_back(std::move(held_[next_++]));
  }
  if (next_ == held_.size()) {
    held_.clear();
    held_.shrink_to_fit();
    sequences_.clear();
    next_ = 0;
    heldBytes_ = 0;
    state_ = State::kDone;
  }
  return n;
}

}  // namespace sluice::worker

#pragma once
// MessagePool: delivered batches handed back for their storage. A lane that delivered a batch gives
// its vector of messages back whole; the consumer thread takes one and the source copies the next
// poll's records into those messages (string::assign into capacity they already have), so the hot
// path allocates and frees nothing per message, and no lane frees what the consumer thread
// allocated (cross-thread frees were a third of the worker's malloc time).
// Bounded: it keeps at most `maxMessages` messages and `maxBytes` of their string capacity; a batch
// beyond that is freed by the lane that gives it back. The contents of a taken batch are leftovers:
// the taker overwrites every field it keeps.
// Threading: give() from any lane, take() from the consumer thread; internally locked.
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "worker/message.h"

namespace sluice::worker {

// The heap a message's strings hold on to (capacity beyond the small-string buffer counts).
inline int64_t retainedBytes(const Message& m) {
  int64_t bytes = static_cast<int64_t>(m.value.capacity() + m.topic.capacity());
  if (m.key) bytes += static_cast<int64_t>(m.key->capacity());
  return bytes;
}

class MessagePool {
 public:
  MessagePool(int64_t maxMessages, int64_t maxBytes) : maxMessages_(maxMessages), maxBytes_(maxBytes) {}

  void give(Batch&& batch) {
    if (batch.empty()) return;
    int64_t bytes = 0;
    for (const auto& m : batch) bytes += retainedBytes(m);
    const auto count = static_cast<int64_t>(batch.size());
    std::lock_guard<std::mutex> lock(mu_);
    if (messages_ + count > maxMessages_ || bytes_ + bytes > maxBytes_)
      return;  // freed by the caller's scope
    messages_ += count;
    bytes_ += bytes;
    batches_.push_back({std::move(batch), bytes});
  }

  // A batch of used messages to overwrite, or an empty one when none is pooled.
  Batch take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (batches_.empty()) return {};
    Pooled pooled = std::move(batches_.back());
    batches_.pop_back();
    messages_ -= static_cast<int64_t>(pooled.batch.size());
    bytes_ -= pooled.bytes;
    return std::move(pooled.batch);
  }

  int64_t messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  int64_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }

 private:
  struct Pooled {
    Batch batch;
    int64_t bytes;
  };
  const int64_t maxMessages_;
  const int64_t maxBytes_;
  mutable std::mutex mu_;
  std::vector<Pooled> batches_;
  int64_t messages_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace sluice::worker

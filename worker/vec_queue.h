#pragma once
// VecQueue: a FIFO over one std::vector with a moving head, for the hot path of the consumer thread
// (Batcher, Dispatcher groups). std::deque allocates a 512-byte block per two Messages (a Message is
// ~200 bytes); this allocates only when the vector grows, and a drained queue keeps its capacity.
// pop_front() is O(1); the consumed prefix is compacted away once it is at least half the storage,
// so memory stays within twice the live elements and each element moves at most once more.
// Threading: none (owned by one thread or guarded by its owner's mutex).
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace sluice::worker {

template <typename T>
class VecQueue {
 public:
  using iterator = typename std::vector<T>::iterator;

  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }

  void push_back(T value) { items_.push_back(std::move(value)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return items_.emplace_back(std::forward<Args>(args)...);
  }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& back() { return items_.back(); }
  const T& back() const { return items_.back(); }

  // Callers move the front element out first (as the pipeline does), so what stays behind until
  // compaction is an empty husk.
  void pop_front() {
    ++head_;
    compact();
  }

  // The live elements, oldest first.
  iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  iterator end() { return items_.end(); }
  auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return items_.end(); }

  // Removes [from, end()): the tail left behind by std::stable_partition and the like.
  void eraseFrom(iterator from) {
    items_.erase(from, items_.end());
    compact();
  }
  // Removes the live elements `pred` holds for, keeping the others' order.
  template <typename Pred>
  void eraseIf(Pred pred) {
    eraseFrom(std::remove_if(begin(), end(), pred));
  }

 private:
  void compact() {
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace sluice::worker

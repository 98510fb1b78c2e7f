#include "kube/transport.h"

#include <algorithm>

namespace sluice::kube {

void Cancellation::cancel() {
  std::vector<int> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    runner_ = std::this_thread::get_id();
    for (const auto& [id, callback] : callbacks_) ids.push_back(id);
  }
  cv_.notify_all();
  for (const int id : ids) {
    std::function<void()> callback;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto it =
          std::find_if(callbacks_.begin(), callbacks_.end(), [id](const auto& c) { return c.first == id; });
      if (it == callbacks_.end()) continue;  // removed meanwhile: its owner may be gone
      callback = it->second;
      running_ = id;
    }
    callback();
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = 0;
    }
    cv_.notify_all();
  }
}

bool Cancellation::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

int Cancellation::onCancel(std::function<void()> callback) {
  std::unique_lock<std::mutex> lock(mu_);
  if (cancelled_) {
    lock.unlock();
    callback();
    return 0;
  }
  const int id = nextId_++;
  callbacks_.emplace_back(id, std::move(callback));
  return id;
}

void Cancellation::removeCallback(int id) {
  std::unique_lock<std::mutex> lock(mu_);
  callbacks_.erase(
      std::remove_if(callbacks_.begin(), callbacks_.end(), [id](const auto& c) { return c.first == id; }),
      callbacks_.end());
  // 0: it ran at once in onCancel(). The runner: called from the callback itself.
  if (id == 0 || runner_ == std::this_thread::get_id()) return;
  cv_.wait(lock, [&] { return running_ != id; });
}

bool Cancellation::sleepFor(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, duration, [this] { return cancelled_; });
}

void LineSplitter::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t end = bytes.find('\n');
    if (end == std::string_view::npos) {
      pending_.append(bytes);
      return;
    }
    if (pending_.empty()) {
      emit(bytes.substr(0, end));  // the common case: a whole line in one chunk, no copy
    } else {
      pending_.append(bytes.substr(0, end));
      emit(pending_);
      pending_.clear();
    }
    bytes.remove_prefix(end + 1);
  }
}

void LineSplitter::finish() {
  emit(pending_);
  pending_.clear();
}

void LineSplitter::emit(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.empty()) onLine_(line);
}

}  // namespace sluice::kube

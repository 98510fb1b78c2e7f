#pragma once
// NatsLag: the consumer's num_pending for the lag gauge. It comes from the messages' metadata while
// they flow; when none arrived for kRefresh it is read from the consumer info (a request to the
// server) at most that often, so an idle worker does not report a stale lag.
// Threading: consumer thread only (source.h).
#include <optional>
#include <string>

#include "common/clock.h"
#include "worker/nats_connection.h"

namespace sluice::worker {

class NatsLag {
 public:
  static constexpr common::Millis kRefresh{5000};

  NatsLag(std::string stream, std::string durable, common::Clock& clock)
      : stream_(std::move(stream)), durable_(std::move(durable)), clock_(clock) {}

  // num_pending from a message's metadata.
  void observed(int64_t pending);
  // The latest num_pending, after asking the server when the last one is older than kRefresh
  // (`js` may be null: no asking); nullopt until one is known.
  std::optional<int64_t> current(jsCtx* js);

 private:
  void refresh(jsCtx* js);

  const std::string stream_;
  const std::string durable_;
  common::Clock& clock_;
  int64_t pending_ = -1;
  common::SteadyTime pendingAt_{};
  common::SteadyTime lastRefresh_{};
};

}  // namespace sluice::worker

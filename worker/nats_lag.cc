#include "worker/nats_lag.h"

#include <spdlog/spdlog.h>

#include "worker/nats_connection.h"
#include "worker/nats_provisioning.h"

namespace sluice::worker {
namespace {
constexpr int64_t kConsumerInfoWaitMs = 2000;
}  // namespace

void NatsLag::observed(int64_t pending) {
  pending_ = pending;
  pendingAt_ = clock_.now();
}

std::optional<int64_t> NatsLag::current(jsCtx* js) {
  if (js) refresh(js);
  if (pending_ < 0) return std::nullopt;
  return pending_;
}

void NatsLag::refresh(jsCtx* js) {
  const auto now = clock_.now();
  if (now - pendingAt_ < kRefresh || now - lastRefresh_ < kRefresh) return;
  lastRefresh_ = now;
  jsOptions opts;
  jsOptions_Init(&opts);
  opts.Wait = kConsumerInfoWaitMs;
  jsConsumerInfo* raw = nullptr;
  const natsStatus s = js_GetConsumerInfo(&raw, js, stream_.c_str(), durable_.c_str(), &opts, nullptr);
  if (s != NATS_OK) {
    spdlog::debug("{}", natsError(s, "consumer info for the lag of " + stream_));
    return;
  }
  ConsumerInfoPtr info(raw, &jsConsumerInfo_Destroy);
  observed(static_cast<int64_t>(info->NumPending));
}

}  // namespace sluice::worker

#include "worker/nats_puller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "worker/nats_connection.h"

namespace sluice::worker {

using namespace std::chrono_literals;

namespace {
constexpr common::Millis kMinFetchWait{10};
}  // namespace

NatsPuller::NatsPuller(natsConnection* connection, std::string stream, std::string durable,
                       int64_t fetchMaxBytes, common::Clock& clock)
    : connection_(connection),
      stream_(std::move(stream)),
      durable_(std::move(durable)),
      fetchMaxBytes_(fetchMaxBytes),
      clock_(clock),
      pullSubject_("$JS.API.CONSUMER.MSG.NEXT." + stream_ + "." + durable_) {}

common::Status NatsPuller::subscribe() {
  natsInbox* inbox = nullptr;
  if (const natsStatus s = natsInbox_Create(&inbox); s != NATS_OK)
    return common::internalError(natsError(s, "inbox"));
  inbox_ = inbox;
  natsInbox_Destroy(inbox);
  natsSubscription* sub = nullptr;
  const std::string subject = inbox_ + ".*";
  if (const natsStatus s = natsConnection_SubscribeSync(&sub, connection_, subject.c_str()); s != NATS_OK) {
    return common::unavailable(natsError(s, "subscribing to the pull inbox"));
  }
  sub_.reset(sub);
  // What the server sends is bounded by the pull requests (sized by the free budget) and by
  // MaxAckPending, not by nats.c's slow-consumer limits, which would drop messages silently.
  if (const natsStatus s = natsSubscription_SetPendingLimits(sub, -1, -1); s != NATS_OK) {
    return common::internalError(natsError(s, "pull inbox limits"));
  }
  spdlog::info("nats: consuming {}/{} (fetches up to {} bytes)", stream_, durable_, fetchMaxBytes_);
  return common::Status::ok();
}

// At most one warning every 5 s about fetches.
bool NatsPuller::warnNow() {
  const auto now = clock_.now();
  if (now - lastFetchWarning_ < 5s) return false;
  lastFetchWarning_ = now;
  return true;
}

// A status message (no ack subject) ends the current request when it answers it; statuses of
// earlier requests and idle heartbeats are ignored.
NatsPuller::PullStep NatsPuller::requestEnded(natsMsg* m, std::string_view currentRequest) {
  if (currentRequest.empty() || currentRequest != natsMsg_GetSubject(m)) return PullStep::kContinue;
  const char* status = nullptr;
  if (natsMsgHeader_Get(m, "Status", &status) != NATS_OK || !status) return PullStep::kContinue;
  const std::string_view code(status);
  if (code == "100") return PullStep::kContinue;
  // 409: the consumer was deleted, MaxWaiting or MaxRequestBatch exceeded, a message above
  // max_bytes...: the next poll asks again.
  if (code != "404" && code != "408" && warnNow()) {
    const char* description = nullptr;
    natsMsgHeader_Get(m, "Description", &description);
    spdlog::warn("nats: pull from {}/{} ended with {} {}", stream_, durable_, code,
                 description ? description : "");
  }
  return PullStep::kEnd;
}

// A JetStream message (its reply is an ack subject) goes to `take`; anything else may end the request.
NatsPuller::PullStep NatsPuller::read(natsMsg* m, std::string_view currentRequest, const Take& take,
                                      int64_t& bytes, size_t& taken) {
  const char* reply = natsMsg_GetReply(m);
  const auto meta = reply ? parseAckSubject(reply) : std::nullopt;
  if (!meta) return requestEnded(m, currentRequest);
  if (take(m, *meta)) {
    bytes += natsMsg_GetDataLength(m);
    ++taken;
  }
  return PullStep::kContinue;
}

size_t NatsPuller::takeLeftovers(size_t batch, const Take& take) {
  int waiting = 0;
  int waitingBytes = 0;
  if (natsSubscription_GetPending(sub_.get(), &waiting, &waitingBytes) != NATS_OK) return 0;
  int64_t bytes = 0;
  size_t taken = 0;
  for (; waiting > 0 && taken < batch && bytes < fetchMaxBytes_; --waiting) {
    natsMsg* raw = nullptr;
    if (natsSubscription_NextMsg(&raw, sub_.get(), 1) != NATS_OK) break;
    NatsMsgPtr m(raw, &natsMsg_Destroy);
    read(m.get(), std::string_view(), take, bytes, taken);
  }
  return taken;
}

// The server expires the request a little before the worker stops waiting, so its 408 usually
// arrives in time (as nats.c does).
common::Status NatsPuller::pull(size_t batch, common::Millis wait, const Take& take) {
  wait = std::max(wait, kMinFetchWait);
  const auto expires = std::chrono::nanoseconds(wait >= 20ms ? wait - 10ms : wait).count();
  const std::string request = inbox_ + "." + std::to_string(++requestNumber_);
  const std::string body = "{\"batch\":" + std::to_string(batch) +
                           ",\"max_bytes\":" + std::to_string(fetchMaxBytes_) +
                           ",\"expires\":" + std::to_string(expires) + "}";
  natsStatus s = natsConnection_PublishRequest(connection_, pullSubject_.c_str(), request.c_str(),
                                               body.data(), static_cast<int>(body.size()));
  if (s != NATS_OK) return fetchFailed(s, wait);
  const auto deadline = clock_.now() + wait;
  pullOpenUntil_ = deadline + 50ms;  // the server's expiry is earlier; the margin covers the trip there
  int64_t bytes = 0;
  size_t taken = 0;
  while (taken < batch && bytes < fetchMaxBytes_) {
    const auto left = std::chrono::duration_cast<common::Millis>(deadline - clock_.now());
    if (left <= common::Millis(0)) break;
    natsMsg* raw = nullptr;
    s = natsSubscription_NextMsg(&raw, sub_.get(), left.count());
    if (s == NATS_TIMEOUT) break;
    if (s != NATS_OK) return taken == 0 ? fetchFailed(s, wait) : common::Status::ok();
    NatsMsgPtr m(raw, &natsMsg_Destroy);
    if (read(m.get(), request, take, bytes, taken) == PullStep::kEnd) break;
  }
  return common::Status::ok();
}

common::Status NatsPuller::fetchFailed(natsStatus s, common::Millis timeout) {
  if (s == NATS_CONNECTION_CLOSED)
    return common::unavailable(natsError(s, "fetch: the connection is closed"));
  if (warnNow()) spdlog::warn("{} (retrying)", natsError(s, "fetch from " + stream_ + "/" + durable_));
  // Disconnected or the server is busy: do not spin while nats.c reconnects.
  std::this_thread::sleep_for(std::min<common::Millis>(timeout + kMinFetchWait, 100ms));
  return common::Status::ok();
}

// Without the naks, what arrived unread would wait out AckWait on a consumer nobody reads any more.
size_t NatsPuller::releaseUnread(const Release& release) {
  size_t released = 0;
  while (sub_) {
    const auto left = std::chrono::duration_cast<common::Millis>(pullOpenUntil_ - clock_.now());
    int waiting = 0;
    int waitingBytes = 0;
    if (natsSubscription_GetPending(sub_.get(), &waiting, &waitingBytes) != NATS_OK) break;
    if (waiting == 0 && left <= common::Millis(0)) break;
    natsMsg* raw = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&raw, sub_.get(), std::max<int64_t>(1, left.count()));
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) break;
    NatsMsgPtr m(raw, &natsMsg_Destroy);
    const char* reply = natsMsg_GetReply(m.get());
    if (reply && parseAckSubject(reply) && release(reply)) ++released;
  }
  return released;
}

void NatsPuller::unsubscribe() {
  if (sub_) natsSubscription_Unsubscribe(sub_.get());
  sub_.reset();
}

}  // namespace sluice::worker

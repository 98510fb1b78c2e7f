#include "worker/nats_ack_ledger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "worker/nats_connection.h"

namespace sluice::worker {

using namespace std::chrono_literals;

NatsAckLedger::NatsAckLedger(natsConnection* connection, int64_t ackWaitSeconds, common::Clock& clock)
    : connection_(connection),
      clock_(clock),
      keepAliveEvery_(std::max<common::Millis>(common::Millis(ackWaitSeconds * 1000 / 3), 300ms)) {}

natsStatus NatsAckLedger::publish(const std::string& reply, const char* body) {
  return natsConnection_PublishString(connection_, reply.c_str(), body);
}

uint64_t NatsAckLedger::hold(std::string reply) {
  const uint64_t id = nextDeliveryId_++;
  held_.emplace(id, Held{std::move(reply), clock_.now()});
  return id;
}

void NatsAckLedger::keepAlive() {
  const auto now = clock_.now();
  if (now - lastKeepAlive_ < keepAliveEvery_ / 2) return;
  lastKeepAlive_ = now;
  size_t failed = 0;
  for (auto& [id, held] : held_) {
    if (now - held.touched < keepAliveEvery_) continue;
    held.touched = now;
    if (publish(held.reply, "+WPI") != NATS_OK) ++failed;
  }
  if (failed > 0)
    spdlog::warn("nats: InProgress failed for {} held message(s); the server may redeliver them", failed);
}

common::Status NatsAckLedger::settle(std::span<const Settlement> settlements) {
  size_t failed = 0;
  natsStatus first = NATS_OK;
  for (const auto& settlement : settlements) {
    auto it = held_.find(settlement.deliveryId);
    if (it == held_.end()) continue;  // released on close already
    const std::string& reply = it->second.reply;
    natsStatus s = NATS_OK;
    switch (settlement.disposition) {
      case Disposition::kDelivered:
        s = publish(reply, "+ACK");
        break;
      case Disposition::kDeadLettered:
        s = terminate(reply);
        break;
      case Disposition::kReleased: {
        const auto delay = std::chrono::nanoseconds(settlement.redeliverAfter).count();
        s = delay > 0 ? publish(reply, ("-NAK {\"delay\":" + std::to_string(delay) + "}").c_str())
                      : release(reply);
        break;
      }
    }
    if (s != NATS_OK && failed++ == 0) first = s;
    held_.erase(it);
  }
  // A lost ack only means a redelivery after AckWait: at-least-once holds.
  if (failed > 0) return common::unavailable(std::to_string(failed) + " " + natsError(first, "ack"));
  return common::Status::ok();
}

size_t NatsAckLedger::releaseAll() {
  // In the order they were delivered: the server redelivers naked messages in the order of the naks,
  // and a key's order (ordering: key) must survive the hand-over to the next worker.
  std::vector<uint64_t> ids;
  ids.reserve(held_.size());
  for (const auto& [id, held] : held_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  size_t released = 0;
  for (const uint64_t id : ids) {
    if (release(held_.at(id).reply) == NATS_OK) ++released;
  }
  held_.clear();
  return released;
}

}  // namespace sluice::worker

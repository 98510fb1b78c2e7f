#pragma once
// NatsAckLedger: the deliveries a NatsSource handed to the pipeline and has not settled yet, each
// held by its reply (ack) subject only. The source copies every message into a worker::Message and
// frees its natsMsg at once, so in-flight memory is the budgeted copy plus ~100 bytes of subject per
// message (within the per-message allowance of budgetBytes), not a second copy of the payload.
// Settling publishes the JetStream ack protocol to that subject (what natsMsg_Ack and friends do).
// While a message waits, InProgress every third of AckWait keeps the server from redelivering work
// that is merely queued, parked for a retry, in a slow sink or stalled: the server redelivers only
// what a dead worker stopped touching.
// Threading: consumer thread only (source.h).
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "worker/nats_connection.h"
#include "worker/source.h"

namespace sluice::worker {

class NatsAckLedger {
 public:
  // `connection` must outlive the ledger.
  NatsAckLedger(natsConnection* connection, int64_t ackWaitSeconds, common::Clock& clock);

  // Holds a delivery until it is settled; returns its Message::deliveryId.
  uint64_t hold(std::string reply);
  // Acks (delivered), terminates (dead-lettered) or naks (released, with its delay) each one.
  common::Status settle(std::span<const Settlement> settlements);
  // InProgress for every delivery held longer than a third of AckWait; call it on every poll.
  void keepAlive();
  // Naks every held delivery, oldest first (the worker stops: another one may take them at once) and
  // forgets it; returns how many naks went out.
  size_t releaseAll();

  // The protocol for deliveries the ledger does not hold.
  natsStatus terminate(const std::string& reply) { return publish(reply, "+TERM"); }
  natsStatus release(const std::string& reply) { return publish(reply, "-NAK"); }

 private:
  struct Held {
    std::string reply;  // the ack subject: all the server needs to settle this delivery
    common::SteadyTime touched;
  };
  natsStatus publish(const std::string& reply, const char* body);

  natsConnection* connection_;
  common::Clock& clock_;
  const common::Millis keepAliveEvery_;
  std::unordered_map<uint64_t, Held> held_;
  uint64_t nextDeliveryId_ = 1;
  common::SteadyTime lastKeepAlive_{};
};

}  // namespace sluice::worker

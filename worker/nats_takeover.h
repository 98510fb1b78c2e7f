#pragma once
// NatsTakeover: keeps `ordering: key` across a crash of the worker before this one (issue #19).
//
// A worker that starts while its consumer has unacknowledged deliveries it did not make (a killed
// predecessor's, or one still draining) must not deliver a key's newer messages before those come
// back: the server redelivers them only when their AckWait runs out, and meanwhile answers pulls
// with newer messages. So the source holds everything it pulls (acknowledged as in progress, never
// handed to the pipeline) until every unacknowledged delivery of the consumer is one it holds itself:
// the consumer's num_ack_pending equals the number of distinct stream sequences held. Nothing older
// can come back after that (what the predecessor held was redelivered here or settled by it). Then
// the held messages go to the pipeline in stream order, which is each key's order, redeliveries
// included; the dispatcher keeps arrival order per key from there.
//
// Pure: NatsSource feeds it the messages and the server's num_ack_pending (read after a pull ended,
// so nothing is on its way to this worker that the count includes). A count read too early is only
// ever too high (a delivery in flight, an ack not yet processed): the hold lasts longer, never
// shorter. While holding, the pipeline's budget does not see these messages; the server's
// MaxAckPending (the in-flight message budget) bounds how many new ones it hands out, and
// redeliveries still come beyond it.
// Threading: consumer thread only (source.h).
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "worker/message.h"

namespace sluice::worker {

class NatsTakeover {
 public:
  enum class State {
    kHolding,    // unacknowledged deliveries of another worker may still come back
    kReleasing,  // all back or settled: the held messages go to the pipeline in stream order
    kDone,       // nothing held: the source passes messages through
  };

  // `ackPendingAtStart`: the consumer's num_ack_pending when the worker subscribed; 0 means no other
  // worker held anything, and the takeover is done at once.
  explicit NatsTakeover(int64_t ackPendingAtStart);

  State state() const { return state_; }
  int64_t ackPendingAtStart() const { return ackPendingAtStart_; }
  // While kHolding: keeps a message pulled now (Message::offset is its stream sequence).
  void hold(Message message);
  // While kHolding: the consumer's num_ack_pending read now. True (and kReleasing, or kDone when
  // nothing is held) when every unacknowledged delivery is held here.
  bool settledBy(int64_t numAckPending);
  // While kReleasing: moves up to `max` held messages, oldest stream sequence first, into `out`;
  // kDone once all are out.
  size_t release(size_t max, std::vector<Message>& out);

  size_t held() const { return held_.size() - next_; }
  int64_t heldBytes() const { return heldBytes_; }
  // Distinct stream sequences held (a delivery redelivered while held counts once).
  size_t heldSequences() const { return sequences_.size(); }

 private:
  const int64_t ackPendingAtStart_;
  State state_;
  std::vector<Message> held_;
  size_t next_ = 0;  // first not yet released, while kReleasing
  std::set<int64_t> sequences_;
  int64_t heldBytes_ = 0;
};

}  // namespace sluice::worker

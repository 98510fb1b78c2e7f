#pragma once
// Dead-letter on arrival (NATS): a message whose earlier deliveries all ended unsettled (the worker
// crashed, was killed or stopped on it) as often as processing.retry.maxAttempts allows
// (deliveriesExhausted, nats_config.h) goes to the dead-letter destination before the sink sees it,
// through the same DeadLetterer, and so the same retries, as the lanes' dead-lettering.
#include <cstdint>

#include "worker/dead_letterer.h"
#include "worker/message.h"

namespace sluice::worker {

// True when the message is in the dead-letter destination: the source terminates it. False when it
// could not be sent: the pipeline then handles it like any other message.
bool deadLetterOnArrival(DeadLetterer& deadLetter, const Message& message, uint64_t numDelivered);

}  // namespace sluice::worker

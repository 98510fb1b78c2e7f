#pragma once
// Isolation: what becomes of one message of a batch that gave up. Each message is delivered on its
// own with its own attempts (processing.retry); one the sink still refuses goes to the dead-letter
// destination. The caller (a lane) completes, stalls or gives up the message by the outcome.
// Threading: called from the lanes at once; it holds no state of its own.
#include <string>

#include "common/clock.h"
#include "worker/dead_letterer.h"
#include "worker/message.h"
#include "worker/retry_policy.h"
#include "worker/sink.h"
#include "worker/stats.h"
#include "worker/stop_signal.h"

namespace sluice::worker {

enum class IsolationResult {
  kDelivered,      // the sink took it
  kDeadLettered,   // it is in the dead-letter destination
  kAbandoned,      // the worker is stopping: it stays undelivered
  kUndeliverable,  // neither delivered nor dead-lettered: its lane must stop on it
};

struct IsolationOutcome {
  IsolationResult result = IsolationResult::kDelivered;
  std::string error;  // the last delivery failure
  int attempts = 0;   // delivery attempts made
};

class Isolation {
 public:
  // `abandon` ends the waits between attempts when the worker stops.
  Isolation(Sink& sink, DeadLetterer& deadLetter, const RetryPolicy& retry, WorkerStats& stats,
            common::Clock& clock, StopSignal& abandon)
      : sink_(sink),
        deadLetter_(deadLetter),
        retry_(retry),
        stats_(stats),
        clock_(clock),
        abandon_(abandon) {}

  // Delivers the message on its own, then dead-letters it when its attempts run out.
  IsolationOutcome deliver(const Message& message);
  // The message already failed `attempts` times with `error` (a batch of one): dead-letter it.
  IsolationOutcome afterAttempts(const Message& message, const std::string& error, int attempts);

  // One delivery attempt, timed and counted.
  DeliveryResult attempt(std::span<const Message> messages);

 private:
  Sink& sink_;
  DeadLetterer& deadLetter_;
  const RetryPolicy& retry_;
  WorkerStats& stats_;
  common::Clock& clock_;
  StopSignal& abandon_;
};

FailureKind failureKindOf(const DeliveryResult& result);

}  // namespace sluice::worker

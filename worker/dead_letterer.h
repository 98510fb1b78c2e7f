#pragma once
// DeadLetterer: the one path to the dead-letter destination. The lanes send a message that used up
// its attempts (or failed terminally); the NATS source sends one the server delivered too often
// (dead-letter on arrival). Both get the same policy: a failed send is retried with the backoff of
// processing.retry, up to processing.retry.maxAttempts sends, and stop() cuts the waiting short.
// Threading: send() from any thread at once (lanes, the consumer thread); the DeadLetterSink is
// thread-safe.
#include <string>

#include "common/random.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/message.h"
#include "worker/retry_policy.h"
#include "worker/sink.h"
#include "worker/stats.h"
#include "worker/stop_signal.h"

namespace sluice::worker {

class DeadLetterer {
 public:
  // `sink` may be null (no destination configured: every send fails); it must outlive this.
  DeadLetterer(DeadLetterSink* sink, const spec::RetrySpec& retry, WorkerStats& stats,
               common::Random& random);
  DeadLetterer(const DeadLetterer&) = delete;
  DeadLetterer& operator=(const DeadLetterer&) = delete;

  bool configured() const { return sink_ != nullptr; }
  std::string describe() const;

  // Ok once the message is in the destination (counted, logged), with `error` and `attempts` in its
  // headers. Otherwise the last send's failure: none configured, the sends used up, or stopped.
  common::Status send(const Message& message, const std::string& error, int attempts);
  // Stopping: a send waiting out its backoff gives up now; later sends try once.
  void stop() { stop_.stop(); }

 private:
  DeadLetterSink* sink_;
  RetryPolicy retry_;
  WorkerStats& stats_;
  StopSignal stop_;
};

// "orders/3@1042": a message's place in its source, for logs.
std::string placeOf(const Message& message);

}  // namespace sluice::worker

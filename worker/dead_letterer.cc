#include "worker/dead_letterer.h"

#include <spdlog/spdlog.h>

namespace sluice::worker {

DeadLetterer::DeadLetterer(DeadLetterSink* sink, const spec::RetrySpec& retry, WorkerStats& stats,
                           common::Random& random)
    : sink_(sink), retry_(retry, true, random), stats_(stats) {}

std::string DeadLetterer::describe() const { return sink_ ? sink_->describe() : "none"; }

common::Status DeadLetterer::send(const Message& message, const std::string& error, int attempts) {
  if (!sink_)
    return common::unavailable("no dead-letter destination is configured (spec.processing.deadLetter)");
  for (int tries = 1;; ++tries) {
    auto status = sink_->send(message, error, attempts);
    if (status) {
      stats_.deadLettered();
      spdlog::warn("dead-lettered {} after {} attempt(s): {}", placeOf(message), attempts, error);
      return status;
    }
    spdlog::error("dead-lettering {} to {} failed (try {}): {}", placeOf(message), sink_->describe(), tries,
                  status.toString());
    const RetryDecision decision = retry_.afterFailure(tries, FailureKind::kRetryable, std::nullopt);
    if (decision.step != NextStep::kRetry || !stop_.sleepFor(decision.delay)) return status;
  }
}

std::string placeOf(const Message& message) {
  return message.topic + "/" + std::to_string(message.partition) + "@" + std::to_string(message.offset);
}

}  // namespace sluice::worker

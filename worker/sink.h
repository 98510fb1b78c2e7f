#pragma once
// worker::Sink: where delivered batches go. One implementation per destination, each in its own
// adapter file (HttpSink in http_sink.cc is the only worker file that includes cpprest; KafkaSink
// in kafka_sink.cc holds the librdkafka producer). Lanes call deliver() concurrently: every sink
// must be thread-safe. A sink reports what happened; what to do about it is RetryPolicy's call.
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/message.h"

namespace sluice::worker {

enum class DeliveryOutcome { kDelivered, kRetryable, kTerminal };

struct DeliveryResult {
  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  std::string error;                         // what failed, for logs and the DLQ header
  std::optional<common::Millis> retryAfter;  // the destination asked to wait this long

  static DeliveryResult delivered() { return {}; }
  static DeliveryResult retryable(std::string error, std::optional<common::Millis> after = std::nullopt) {
    return {DeliveryOutcome::kRetryable, std::move(error), after};
  }
  static DeliveryResult terminal(std::string error) {
    return {DeliveryOutcome::kTerminal, std::move(error), {}};
  }
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual DeliveryResult deliver(std::span<const Message> batch) = 0;
  // "http POST http://127.0.0.1:8080/batch (json)", for logs.
  virtual std::string describe() const = 0;
  // Whether deliver() looks at Message::headers. When neither the sink nor a dead-letter
  // destination does, the Kafka source skips parsing them (a third of its per-message cost).
  virtual bool readsHeaders() const { return true; }
  // How many bytes more than its raw fields this message takes in deliver()'s wire encoding (JSON
  // escapes ~6x control characters, base64 4/3x binary): counted against the batch and in-flight
  // byte budgets, which would otherwise admit bodies several times their size.
  virtual int64_t encodingExtraBytes(const Message&) const { return 0; }
};

// Where messages go after maxAttempts. Provenance travels as headers: sluice.source.topic,
// sluice.source.partition, sluice.source.offset (Kafka sources) or sluice.source.stream,
// sluice.source.sequence, sluice.source.subject (NATS sources), then sluice.error, sluice.attempts.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  virtual common::Status send(const Message& message, const std::string& error, int attempts) = 0;
  virtual std::string describe() const = 0;
};

// The headers a dead-lettered message carries: its own, then the provenance ones.
std::vector<std::pair<std::string, std::string>> deadLetterHeaders(const Message& message,
                                                                   const std::string& error, int attempts);

// The configured sink (switch on spec.sink).
common::Result<std::unique_ptr<Sink>> makeSink(const spec::ConsumerPipeline& pipeline);
// The configured dead-letter destination, or nullptr when there is none.
common::Result<std::unique_ptr<DeadLetterSink>> makeDeadLetterSink(const spec::ConsumerPipeline& pipeline);

}  // namespace sluice::worker

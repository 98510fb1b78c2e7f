#pragma once
// Sinks without an external library: LogSink (one log line per message, for trying a pipeline
// out) and DiscardSink (drops everything; for benchmarks and draining a topic).
#include "worker/sink.h"

namespace sluice::worker {

class LogSink final : public Sink {
 public:
  DeliveryResult deliver(std::span<const Message> batch) override;
  std::string describe() const override { return "log"; }
  bool readsHeaders() const override { return false; }
};

class DiscardSink final : public Sink {
 public:
  DeliveryResult deliver(std::span<const Message>) override { return DeliveryResult::delivered(); }
  std::string describe() const override { return "discard"; }
  bool readsHeaders() const override { return false; }
};

}  // namespace sluice::worker

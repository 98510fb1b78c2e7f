// The factory switch: spec.sink / spec.processing.deadLetter -> the adapter that serves it.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "worker/http_sink.h"
#include "worker/kafka_sink.h"
#include "worker/nats_sink.h"
#include "worker/simple_sinks.h"
#include "worker/sink.h"

namespace sluice::worker {

std::vector<std::pair<std::string, std::string>> deadLetterHeaders(const Message& message,
                                                                   const std::string& error, int attempts) {
  auto headers = message.headers;
  if (!message.stream.empty()) {  // NATS JetStream: topic is the subject, offset the stream sequence
    headers.emplace_back("sluice.source.stream", message.stream);
    headers.emplace_back("sluice.source.sequence", std::to_string(message.offset));
    headers.emplace_back("sluice.source.subject", message.topic);
  } else {
    headers.emplace_back("sluice.source.topic", message.topic);
    headers.emplace_back("sluice.source.partition", std::to_string(message.partition));
    headers.emplace_back("sluice.source.offset", std::to_string(message.offset));
  }
  headers.emplace_back("sluice.error", error);
  headers.emplace_back("sluice.attempts", std::to_string(attempts));
  return headers;
}

namespace {

common::Millis requestTimeout(const spec::PipelineSpec& spec, int sinkTimeoutMs) {
  return common::Millis(std::min(spec.processing.timeoutMs, sinkTimeoutMs));
}

// The Kafka cluster a destination talks to: its own bootstrapServers, else the source's.
std::string clusterFor(const std::string& own, const spec::PipelineSpec& spec) {
  if (!own.empty()) return own;
  return spec.source.kafka ? spec.source.kafka->bootstrapServers : std::string();
}

}  // namespace

common::Result<std::unique_ptr<Sink>> makeSink(const spec::ConsumerPipeline& pipeline) {
  const auto& spec = pipeline.spec;
  using spec::SinkKind;
  switch (spec::sinkKindOf(spec.sink)) {
    case SinkKind::kHttp:
      return makeHttpSink(*spec.sink.http, requestTimeout(spec, spec.sink.http->timeoutMs));
    case SinkKind::kKafka: {
      const auto& kafka = *spec.sink.kafka;
      auto props = producerProperties(clusterFor(kafka.bootstrapServers, spec),
                                      common::Millis(spec.processing.timeoutMs));
      auto security = destinationSecurity(kafka.bootstrapServers, kafka.tls, kafka.sasl, spec, processEnv());
      if (!security) return security.status().withContext("spec.sink.kafka");
      props.insert(props.end(), security->begin(), security->end());
      return makeKafkaSink(props, kafka.topic, common::Millis(spec.processing.timeoutMs));
    }
    case SinkKind::kNats:
      return makeNatsSink(destinationEndpoint(spec.sink.nats->servers, spec.sink.nats->tls,
                                              spec.sink.nats->auth, spec, "sink"),
                          spec.sink.nats->subject, spec.sink.nats->publish,
                          common::Millis(spec.processing.timeoutMs));
    case SinkKind::kLog:
      return std::unique_ptr<Sink>(std::make_unique<LogSink>());
    case SinkKind::kDiscard:
      return std::unique_ptr<Sink>(std::make_unique<DiscardSink>());
  }
  return common::internalError("unknown sink kind");
}

common::Result<std::unique_ptr<DeadLetterSink>> makeDeadLetterSink(const spec::ConsumerPipeline& pipeline) {
  const auto& spec = pipeline.spec;
  if (!spec.processing.deadLetter) return std::unique_ptr<DeadLetterSink>();
  const auto& dlq = *spec.processing.deadLetter;
  if (dlq.nats) {
    return makeNatsDeadLetterSink(
        destinationEndpoint(dlq.nats->servers, dlq.nats->tls, dlq.nats->auth, spec, "dead-letter"),
        dlq.nats->subject, common::Millis(spec.processing.timeoutMs));
  }
  if (!dlq.kafka) return std::unique_ptr<DeadLetterSink>();
  auto props = producerProperties(clusterFor(dlq.kafka->bootstrapServers, spec),
                                  common::Millis(spec.processing.timeoutMs));
  // The dead-letter topic lives on the source cluster by default, so it shares its security.
  auto security =
      destinationSecurity(dlq.kafka->bootstrapServers, dlq.kafka->tls, dlq.kafka->sasl, spec, processEnv());
  if (!security) return security.status().withContext("spec.processing.deadLetter.kafka");
  props.insert(props.end(), security->begin(), security->end());
  return makeKafkaDeadLetterSink(props, dlq.kafka->topic, common::Millis(spec.processing.timeoutMs));
}

}  // namespace sluice::worker

#include "common/spec/pipeline.h"

namespace sluice::spec {

Ordering effectiveOrdering(const PipelineSpec& spec) {
  if (spec.processing.ordering) return *spec.processing.ordering;
  return spec.source.nats ? Ordering::kNone : Ordering::kKey;
}

std::string effectiveGroupId(const ConsumerPipeline& pipeline) {
  const auto& kafka = pipeline.spec.source.kafka;
  if (kafka && !kafka->groupId.empty()) return kafka->groupId;
  return pipeline.metadata.namespace_ + "." + pipeline.metadata.name;
}

std::string effectiveNatsConsumer(const ConsumerPipeline& pipeline) {
  const auto& nats = pipeline.spec.source.nats;
  if (nats && !nats->consumer.empty()) return nats->consumer;
  return pipeline.metadata.namespace_ + "-" + pipeline.metadata.name;
}

const char* toString(Ordering ordering) {
  switch (ordering) {
    case Ordering::kKey:
      return "key";
    case Ordering::kPartition:
      return "partition";
    case Ordering::kNone:
      return "none";
  }
  return "?";
}

const char* toString(StartFrom startFrom) {
  switch (startFrom) {
    case StartFrom::kEarliest:
      return "earliest";
    case StartFrom::kLatest:
      return "latest";
  }
  return "?";
}

const char* toString(SaslMechanism mechanism) {
  switch (mechanism) {
    case SaslMechanism::kPlain:
      return "PLAIN";
    case SaslMechanism::kScramSha256:
      return "SCRAM-SHA-256";
    case SaslMechanism::kScramSha512:
      return "SCRAM-SHA-512";
  }
  return "?";
}

const char* toString(NatsPublish publish) {
  switch (publish) {
    case NatsPublish::kJetStream:
      return "jetstream";
    case NatsPublish::kCore:
      return "core";
  }
  return "?";
}

const char* toString(HttpFormat format) {
  switch (format) {
    case HttpFormat::kJson:
      return "json";
    case HttpFormat::kNdjson:
      return "ndjson";
  }
  return "?";
}

SourceKind sourceKindOf(const SourceSpec& source) {
  return source.nats ? SourceKind::kNats : SourceKind::kKafka;
}

SinkKind sinkKindOf(const SinkSpec& sink) {
  if (sink.http) return SinkKind::kHttp;
  if (sink.kafka) return SinkKind::kKafka;
  if (sink.nats) return SinkKind::kNats;
  if (sink.log) return SinkKind::kLog;
  return SinkKind::kDiscard;
}

const char* toString(SourceKind kind) {
  switch (kind) {
    case SourceKind::kKafka:
      return "kafka";
    case SourceKind::kNats:
      return "nats";
  }
  return "?";
}

const char* toString(SinkKind kind) {
  switch (kind) {
    case SinkKind::kHttp:
      return "http";
    case SinkKind::kKafka:
      return "kafka";
    case SinkKind::kNats:
      return "nats";
    case SinkKind::kLog:
      return "log";
    case SinkKind::kDiscard:
      return "discard";
  }
  return "?";
}

}  // namespace sluice::spec

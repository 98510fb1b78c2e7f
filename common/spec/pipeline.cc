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

int64_t effectiveLagPerReplica(const ScalingSpec& scaling) { return scaling.lagPerReplica.value_or(0); }

const char* toString(Ordering ordering) {
  switch (ordering) {
    case Ordering::kKey: return "key";
    case Ordering::kPartition: return "partition";
    case Ordering::kNone: return "none";
  }
  return "?";
}

const char* toString(StartFrom startFrom) {
  switch (startFrom) {
    case StartFrom::kEarliest: return "earliest";
    case StartFrom::kLatest: return "latest";
  }
  return "?";
}

const char* toString(SaslMechanism mechanism) {
  switch (mechanism) {
    case SaslMechanism::kPlain: return "PLAIN";
    case SaslMechanism::kScramSha256: return "SCRAM-SHA-256";
    case SaslMechanism::kScramSha512: return "SCRAM-SHA-512";
  }
  return "?";
}

const char* toString(HttpFormat format) {
  switch (format) {
    case HttpFormat::kJson: return "json";
    case HttpFormat::kNdjson: return "ndjson";
  }
  return "?";
}

std::string sourceKind(const PipelineSpec& spec) { return spec.source.nats ? "nats" : "kafka"; }

std::string sinkKind(const PipelineSpec& spec) {
  if (spec.sink.http) return "http";
  if (spec.sink.kafka) return "kafka";
  if (spec.sink.nats) return "nats";
  if (spec.sink.log) return "log";
  return "discard";
}

}  // namespace sluice::spec

#include <sstream>

#include "worker/run.h"

namespace sluice::worker {

std::string describePipeline(const spec::ConsumerPipeline& p) {
  const auto& s = p.spec;
  std::ostringstream out;
  out << "pipeline " << p.metadata.namespace_ << "/" << p.metadata.name << " is valid\n";
  if (s.source.kafka) {
    out << "  source: kafka " << s.source.kafka->bootstrapServers << " topics=";
    for (size_t i = 0; i < s.source.kafka->topics.size(); ++i)
      out << (i ? "," : "") << s.source.kafka->topics[i];
    out << " group=" << spec::effectiveGroupId(p)
        << " startFrom=" << spec::toString(s.source.kafka->startFrom) << "\n";
  }
  if (s.source.nats) {
    out << "  source: nats stream=" << s.source.nats->stream << " consumer=" << spec::effectiveNatsConsumer(p)
        << "\n";
  }
  out << "  batch: maxMessages=" << s.batch.maxMessages << " maxBytes=" << s.batch.maxBytes
      << " maxWaitMs=" << s.batch.maxWaitMs << "\n";
  out << "  processing: ordering=" << spec::toString(spec::effectiveOrdering(s))
      << " concurrency=" << s.processing.concurrency << " timeoutMs=" << s.processing.timeoutMs
      << " retry.maxAttempts=" << s.processing.retry.maxAttempts
      << " deadLetter=" << (s.processing.deadLetter ? "yes" : "none") << "\n";
  out << "  backpressure: maxInFlightMessages=" << s.backpressure.maxInFlightMessages
      << " maxInFlightBytes=" << s.backpressure.maxInFlightBytes
      << " resumeRatio=" << s.backpressure.resumeRatio << "\n";
  out << "  sink: " << spec::toString(spec::sinkKindOf(s.sink)) << "\n";
  out << "  scaling: replicas " << s.scaling.minReplicas << ".." << s.scaling.maxReplicas;
  if (s.scaling.lagPerReplica) out << " lagPerReplica=" << *s.scaling.lagPerReplica;
  if (s.scaling.drainSeconds) out << " drainSeconds=" << *s.scaling.drainSeconds;
  out << "\n";
  return out.str();
}

}  // namespace sluice::worker

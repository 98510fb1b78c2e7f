#include "worker/run.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "common/health_server.h"
#include "common/metrics_server.h"
#include "common/random.h"
#include "common/shutdown.h"
#include "worker/dead_letterer.h"
#include "worker/heartbeat.h"
#include "worker/metrics.h"
#include "worker/nats_source.h"
#include "worker/pipeline.h"
#include "worker/sink.h"
#include "worker/source.h"

namespace sluice::worker {
namespace {

PipelineTiming timingFor(const spec::PipelineSpec& spec) {
  PipelineTiming timing;
  timing.revokeBound =
      common::Millis(std::min<int64_t>(int64_t{spec.worker.drainSeconds} * 1000, spec.processing.timeoutMs));
  return timing;
}

// The configured source (switch on spec.source: exactly one is set, validation saw to it).
common::Result<std::unique_ptr<Source>> makeSource(const spec::ConsumerPipeline& pipeline,
                                                   const RunOptions& options, Pipeline& engine,
                                                   const Sink& sink, DeadLetterer& deadLetter,
                                                   WorkerStats& stats) {
  switch (spec::sourceKindOf(pipeline.spec.source)) {
    case spec::SourceKind::kNats:
      return makeNatsSource(pipeline, options.podName, deadLetter, stats, common::SystemClock::instance());
    case spec::SourceKind::kKafka:
      // Dead-lettered messages keep their own headers, so a dead-letter destination reads them too.
      return makeKafkaSource(pipeline, options.podName, engine,
                             sink.readsHeaders() || deadLetter.configured());
  }
  return common::internalError("unknown source kind");
}

HeartbeatSetup heartbeatSetup(const spec::ConsumerPipeline& pipeline, const RunOptions& options) {
  return {options.kubeconfig,
          options.podName,
          options.podNamespace,
          options.podUid,
          pipeline.metadata.name,
          pipeline.metadata.namespace_,
          pipeline.spec.processing.concurrency,
          std::chrono::seconds(options.heartbeatSeconds)};
}

}  // namespace

common::Status runPipeline(const spec::ConsumerPipeline& pipeline, const RunOptions& options) {
  auto registry = std::make_shared<prometheus::Registry>();
  WorkerMetrics metrics(*registry);
  auto metricsServer = common::MetricsServer::start(options.metricsAddress, registry);
  if (!metricsServer) return metricsServer.status();
  auto health = common::HealthServer::start(options.healthAddress);
  if (!health) return health.status();
  spdlog::info("metrics on port {}, health on port {}", (*metricsServer)->port(), (*health)->port());

  auto sink = options.makeSink ? options.makeSink(pipeline) : makeSink(pipeline);
  if (!sink) return sink.status();
  auto deadLetter = makeDeadLetterSink(pipeline);
  if (!deadLetter) return deadLetter.status();
  common::StdRandom random;
  DeadLetterer deadLetterer(deadLetter->get(), pipeline.spec.processing.retry, metrics, random);
  Pipeline engine(pipeline.spec, **sink, deadLetterer, metrics, common::SystemClock::instance(), random,
                  timingFor(pipeline.spec));
  // /healthz and /readyz stop before the engine their check reads is destroyed, on every way out of
  // here (declared after the engine, so destroyed before it): a probe while the sinks flush their
  // producers at exit used to call into the destroyed engine.
  struct StopServing {
    common::HealthServer& server;
    ~StopServing() { server.stop(); }
  } stopServing{**health};
  (*health)->addLivenessCheck("delivery", [&engine] { return engine.health(); });

  auto source = makeSource(pipeline, options, engine, **sink, deadLetterer, metrics);
  if (!source) return source.status();
  spdlog::info("running pipeline {}/{}: sink {}, dead letter {}", pipeline.metadata.namespace_,
               pipeline.metadata.name, (*sink)->describe(), deadLetterer.describe());
  auto& healthServer = **health;
  healthServer.setReady(true);
  std::atomic<bool> draining{false};
  auto heartbeat = startHeartbeat(heartbeatSetup(pipeline, options), metrics, common::SystemClock::instance(),
                                  [&draining] { return draining.load(); });
  auto stop = [&] {
    if (!engine.health()) healthServer.setReady(false);
    return common::Shutdown::instance().requested();
  };
  const auto status =
      engine.run(**source, stop, common::Millis(int64_t{pipeline.spec.worker.drainSeconds} * 1000), [&] {
        healthServer.setReady(false);
        draining = true;
      });
  healthServer.stop();
  heartbeat.reset();
  source->reset();
  return status;
}

}  // namespace sluice::worker

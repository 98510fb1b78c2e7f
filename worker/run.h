#pragma once
// The worker's entry point: wires source, flow control, batcher, dispatcher, sink and offset
// tracking for one pipeline and runs until common::Shutdown is requested (then drains).
#include <functional>
#include <memory>
#include <string>

#include "common/contract/worker_report.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/sink.h"

namespace sluice::worker {

struct RunOptions {
  std::string metricsAddress = ":9400";
  std::string healthAddress = ":8081";
  std::string podName;
  // Heartbeat Lease (worker/heartbeat.h): on when running in a pod or given a kubeconfig + pod name.
  std::string kubeconfig;
  std::string podNamespace;
  std::string podUid;
  int heartbeatSeconds = contract::kDefaultHeartbeatSeconds;
  // The sink to deliver to; empty = the one spec.sink configures (makeSink). Tests pass their own.
  std::function<common::Result<std::unique_ptr<Sink>>(const spec::ConsumerPipeline&)> makeSink;
};

// Human-readable effective settings (defaults resolved), printed by --check.
std::string describePipeline(const spec::ConsumerPipeline& pipeline);

common::Status runPipeline(const spec::ConsumerPipeline& pipeline, const RunOptions& options);

}  // namespace sluice::worker

#pragma once
// NatsSource: a JetStream durable pull consumer behind worker::Source (nats_source.cc is the only
// file that includes nats.c for consuming). See source.h for the threading contract.
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/metrics.h"
#include "worker/source.h"

namespace sluice::worker {

// Connects, creates the durable consumer when absent (an existing one with other settings is kept,
// logged and flagged in sluice_worker_source_config_drift) and binds a pull subscription to it.
common::Result<std::unique_ptr<Source>> makeNatsSource(const spec::ConsumerPipeline& pipeline,
                                                       const std::string& podName, WorkerMetrics& metrics,
                                                       common::Clock& clock);

}  // namespace sluice::worker

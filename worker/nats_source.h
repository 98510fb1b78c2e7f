#pragma once
// NatsSource: a JetStream durable pull consumer behind worker::Source (nats_source.cc is the only
// file that includes nats.c for consuming). See source.h for the threading contract.
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/dead_letterer.h"
#include "worker/source.h"
#include "worker/stats.h"

namespace sluice::worker {

// Connects, creates the durable consumer when absent (an existing one with other settings is kept,
// logged and flagged in sluice_worker_source_config_drift) and subscribes to its pull inbox.
// `deadLetter` (must outlive the source) takes messages whose earlier deliveries all ended
// unsettled as often as the retry settings allow (see natsMaxDeliver in nats_config.h).
common::Result<std::unique_ptr<Source>> makeNatsSource(const spec::ConsumerPipeline& pipeline,
                                                       const std::string& podName, DeadLetterer& deadLetter,
                                                       WorkerStats& stats, common::Clock& clock);

}  // namespace sluice::worker

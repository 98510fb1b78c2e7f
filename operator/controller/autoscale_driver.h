#pragma once
// AutoscaleDriver: the autoscaling orchestration around one reconcile. It tells the LagSampler what
// to probe for each pipeline (a ProbeKey per source setting), lists the workers' heartbeat Leases,
// polls the pipeline's PipelineAutoscaler once per new lag sample (autoscale.h does the pure part)
// and says which replica count the Deployment apply writes. A missing or stale sample holds the
// replicas and says so in the Scaling condition.
//
// Threading: scale() and reportScaling() run in the reconcile of one key at a time (the work queue
// serialises a key); the per-key state map has its own lock. The sampler's probe threads are run
// by the owner (lagSampler().runOnce()).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/spec/pipeline.h"
#include "kube/client.h"
#include "operator/controller/autoscale.h"
#include "operator/controller/lag_sampler.h"
#include "operator/controller/probe_credentials.h"
#include "operator/controller/probe_key.h"
#include "operator/controller/source_probe.h"

namespace sluice::controller {

// A lag sample older than this holds the replicas (Scaling=Unknown, LagSampleStale): three poll
// intervals, plus room for one probe that runs into its timeouts.
std::chrono::milliseconds staleSampleAge(int pollIntervalSeconds);

struct AutoscaleOptions {
  ProbePolicy probe;
  // Called once per autoscaler poll, after the apply carrying its decision succeeded (metrics).
  std::function<void(const std::string& key, const ScalingObservation&)> onScalingPoll;
  // Called from a probe thread when a new lag sample of `key` is published: queue the key.
  std::function<void(const std::string& key)> onLagSample;
};

// What the Deployment apply writes, and what the status says about scaling.
struct ScalingStep {
  std::optional<int> replicas;
  const ScalingObservation* observation = nullptr;  // this reconcile's poll (or the last one's)
  std::optional<Condition> held;                    // no usable lag sample: the replicas hold, this is why
};

class AutoscaleDriver {
 public:
  AutoscaleDriver(kube::Client& client, common::Clock& clock, AutoscaleOptions options);

  // The replicas for the pipeline's Deployment (`deployment`: as cached, may be null).
  ScalingStep scale(const std::string& key, const spec::ConsumerPipeline& pipeline,
                    const nlohmann::json* deployment, const SecretsByName& secrets);
  // The poll's metrics and its Scaled event, once per poll: call it after the apply carrying the
  // decision succeeded.
  std::optional<EventSpec> reportScaling(const std::string& key);
  // The pipeline is gone: its autoscaler and lag probe (and so its pooled connection) go too.
  void forget(const std::string& key);
  LagSampler& lagSampler() { return sampler_; }

 private:
  // Per pipeline key, between polls: the autoscaler, which lag sample it used last and that poll.
  struct ScalingState {
    explicit ScalingState(common::Clock& clock) : autoscaler(clock) {}
    scaling::PipelineAutoscaler autoscaler;
    std::optional<ProbeKey> probeKey;  // what the sampler was told to probe
    std::string notProbedBecause;      // else why not (logged once per reason)
    uint64_t sampleSequence = 0;       // the LagSample the last poll used
    std::optional<ScalingObservation> last;
    bool reported = true;    // last's metrics and Scaled event emitted (after a good apply)
    std::string leaseError;  // logged once per distinct error
  };
  ScalingState& state(const std::string& key);
  bool trackLagProbe(const std::string& key, ScalingState& state, const spec::ConsumerPipeline& pipeline,
                     const SecretsByName& secrets);
  ScalingStep notProbed(const spec::ConsumerPipeline& pipeline, const SecretsByName& secrets, int fallback);
  std::vector<nlohmann::json> workerLeases(ScalingState& state, const spec::ConsumerPipeline& pipeline);

  kube::Client& client_;
  common::Clock& clock_;
  AutoscaleOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<ScalingState>> states_;
  // Declared before the sampler: its probes use the pools' connections and go first.
  scaling::KafkaAdminPool kafkaPool_;
  scaling::NatsConnectionPool natsPool_;
  LagSampler sampler_;
};

}  // namespace sluice::controller

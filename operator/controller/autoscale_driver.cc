#include "operator/controller/autoscale_driver.h"

#include <spdlog/spdlog.h>

#include "common/contract/worker_report.h"
#include "operator/controller/reasons.h"

namespace sluice::controller {

using common::Status;
using nlohmann::json;

std::chrono::milliseconds staleSampleAge(int pollIntervalSeconds) {
  return std::chrono::seconds(3 * std::max(pollIntervalSeconds, 1) + 10);
}

AutoscaleDriver::AutoscaleDriver(kube::Client& client, common::Clock& clock, AutoscaleOptions options)
    : client_(client), clock_(clock), options_(std::move(options)), sampler_(clock, options_.onLagSample) {}

AutoscaleDriver::ScalingState& AutoscaleDriver::state(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& state = states_[key];
  if (!state) state = std::make_unique<ScalingState>(clock_);
  return *state;
}

void AutoscaleDriver::forget(const std::string& key) {
  sampler_.untrack(key);
  std::lock_guard<std::mutex> lock(mu_);
  states_.erase(key);
}

// Tells the sampler what to probe for the pipeline's current source settings (a new probe when
// they change). False, with the reason logged once, when the source may not or cannot be probed.
bool AutoscaleDriver::trackLagProbe(const std::string& key, ScalingState& state,
                                    const spec::ConsumerPipeline& pipeline, const SecretsByName& secrets) {
  std::string why;
  std::optional<ProbeKey> probeKey;
  LagSampler::ProbeFactory make;
  if (!mayContactSource(pipeline.spec, options_.probe, why)) {
    // not probed: `why` says so
  } else if (auto kafka = kafkaProbeConfig(pipeline, secrets, why)) {
    probeKey = KafkaProbeKey{kafka->connection.key(), kafka->groupId, kafka->startFrom, kafka->topics};
    make = [this, config = std::move(*kafka)] {
      return std::make_unique<scaling::KafkaLagProbe>(kafkaPool_, config);
    };
  } else if (auto nats = natsProbeConfig(pipeline, secrets, why)) {
    probeKey = NatsProbeKey{nats->connection.key(), nats->stream, nats->consumer, nats->filterSubject};
    make = [this, config = std::move(*nats)] {
      return std::make_unique<scaling::NatsLagProbe>(natsPool_, config);
    };
  }
  if (!probeKey) {
    if (state.probeKey || why != state.notProbedBecause)
      spdlog::info("pipeline {}: not autoscaling: {}", key, why);
    state.probeKey.reset();
    state.notProbedBecause = why;
    sampler_.untrack(key);
    return false;
  }
  state.probeKey = probeKey;
  state.notProbedBecause.clear();
  const auto interval = std::chrono::seconds(std::max(pipeline.spec.scaling.pollIntervalSeconds, 1));
  sampler_.track(key, *probeKey, interval, make);
  return true;
}

// The worker heartbeat Leases of the pipeline. A failed list is logged once per distinct error and
// counts as no reports: the lag alone still scales.
std::vector<json> AutoscaleDriver::workerLeases(ScalingState& state, const spec::ConsumerPipeline& pipeline) {
  kube::ListOptions options;
  options.labelSelector = std::string(contract::kPipelineLabel) + "=" + pipeline.metadata.name;
  auto leases = client_.list(kube::resources::kLeases, pipeline.metadata.namespace_, options);
  // Only reports from Leases owned by a live Pod of the pipeline count (trustedReportLeases).
  common::Result<kube::ObjectList> pods = kube::ObjectList{};
  if (leases && !leases->items.empty())
    pods = client_.list(kube::resources::kPods, pipeline.metadata.namespace_, options);
  if (leases && pods) {
    state.leaseError.clear();
    return trustedReportLeases(std::move(leases->items), pods->items);
  }
  const std::string error = (leases ? pods.status() : leases.status()).toString();
  if (error != state.leaseError)
    spdlog::warn("listing worker Leases of {}: {}", pipeline.metadata.name, error);
  state.leaseError = error;
  return {};
}

// Credentials the probe cannot use are the user's to fix: say so in the status, not only the log.
ScalingStep AutoscaleDriver::notProbed(const spec::ConsumerPipeline& pipeline, const SecretsByName& secrets,
                                       int fallback) {
  std::optional<Condition> held;
  if (const Status credentials = sourceProbeSecurity(pipeline.spec, secrets); !credentials) {
    held = Condition{
        condition::kScaling, "False", reason::kProbeCredentialsUnusable,
        "not autoscaling, holding " + std::to_string(fallback) + " replicas: " + credentials.message()};
  }
  return {fallback, nullptr, held};
}

// One autoscaler poll per new lag sample: reconciles triggered by watch events in between reuse
// the last poll, so its decision keeps being applied and no Event repeats. Without a usable
// sample (none yet, or older than staleSampleAge) the replicas hold and `held` says why.
ScalingStep AutoscaleDriver::scale(const std::string& key, const spec::ConsumerPipeline& pipeline,
                                   const json* deployment, const SecretsByName& secrets) {
  const int fallback = defaultReplicas(pipeline.spec.scaling);
  ScalingState& kept = state(key);
  if (!trackLagProbe(key, kept, pipeline, secrets)) {
    kept.last.reset();
    kept.sampleSequence = 0;
    return notProbed(pipeline, secrets, fallback);
  }
  int current = fallback;
  if (kept.last) current = kept.last->outcome.decision.to;  // applied, maybe not cached yet
  if (deployment) current = deployment->value("/spec/replicas"_json_pointer, current);
  const auto sample = sampler_.latest(key);
  const std::string source = sourceSummary(pipeline.spec);
  if (!sample) {
    return {current, nullptr,
            Condition{
                condition::kScaling, "Unknown", reason::kLagSampleMissing,
                "holding " + std::to_string(current) + " replicas until the first lag sample of " + source}};
  }
  if (sample->sequence != kept.sampleSequence || !kept.last) {
    const auto leases = workerLeases(kept, pipeline);
    kept.last = pollScaling(kept.autoscaler, pipeline.spec, current, leases, sample->lag, clock_.wallNow());
    kept.sampleSequence = sample->sequence;
    kept.reported = false;
    const auto& decision = kept.last->outcome.decision;
    if (decision.changed()) {
      spdlog::info("pipeline {}: scaling {} -> {}: {}", key, decision.from, decision.to, decision.reason);
    }
    return {decision.to, &*kept.last, std::nullopt};
  }
  const auto age = clock_.now() - sample->takenAt;
  if (age > staleSampleAge(pipeline.spec.scaling.pollIntervalSeconds)) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(age).count();
    return {current, nullptr,
            Condition{condition::kScaling, "Unknown", reason::kLagSampleStale,
                      "holding " + std::to_string(current) + " replicas: the last lag sample of " + source +
                          " is " + std::to_string(seconds) + " s old (the probe is slow or behind)"}};
  }
  return {kept.last->outcome.decision.to, &*kept.last, std::nullopt};
}

std::optional<EventSpec> AutoscaleDriver::reportScaling(const std::string& key) {
  ScalingState& kept = state(key);
  if (kept.reported || !kept.last) return std::nullopt;
  kept.reported = true;
  if (options_.onScalingPoll) options_.onScalingPoll(key, *kept.last);
  return kept.last->event;
}

}  // namespace sluice::controller

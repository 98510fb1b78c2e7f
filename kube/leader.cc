#include "kube/leader.h"

#include <spdlog/spdlog.h>

#include "common/time_format.h"

namespace sluice::kube {

using nlohmann::json;

LeaseRecord leaseRecordFrom(const json& lease) {
  LeaseRecord record;
  const json spec = lease.value("spec", json::object());
  record.holderIdentity = spec.value("holderIdentity", "");
  record.leaseDurationSeconds = spec.value("leaseDurationSeconds", 0);
  record.acquireTime = spec.value("acquireTime", "");
  record.renewTime = spec.value("renewTime", "");
  record.leaseTransitions = spec.value("leaseTransitions", 0);
  record.resourceVersion = lease.value("/metadata/resourceVersion"_json_pointer, std::string());
  return record;
}

LeaderAction LeaderDecider::decide(const std::optional<LeaseRecord>& observed) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = clock_.now();
  if (!observed) return LeaderAction::kCreate;
  if (!observed_ || !observed_->sameRecord(*observed)) observedAt_ = now;
  observed_ = observed;
  if (observed->holderIdentity == config_.identity) {
    return LeaderAction::kRenew;
  }
  lastRenew_.reset();  // someone else holds it: whatever we had is gone
  if (observed->holderIdentity.empty()) return LeaderAction::kTakeOver;
  const auto duration = observed->leaseDurationSeconds > 0
                            ? std::chrono::seconds(observed->leaseDurationSeconds)
                            : config_.leaseDuration;
  return now >= observedAt_ + duration ? LeaderAction::kTakeOver : LeaderAction::kFollow;
}

json LeaderDecider::leaseFor(LeaderAction action, const std::optional<LeaseRecord>& observed) const {
  const std::string now = common::formatMicroTime(clock_.wallNow());
  json spec = {{"holderIdentity", config_.identity},
               {"leaseDurationSeconds", config_.leaseDuration.count()},
               {"acquireTime", now},
               {"renewTime", now},
               {"leaseTransitions", 0}};
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", config_.leaseName}, {"namespace", config_.namespace_}}}};
  if (observed) {
    lease["metadata"]["resourceVersion"] = observed->resourceVersion;
    spec["leaseTransitions"] = observed->leaseTransitions;
    if (action == LeaderAction::kRenew && !observed->acquireTime.empty())
      spec["acquireTime"] = observed->acquireTime;
    if (action == LeaderAction::kTakeOver) spec["leaseTransitions"] = observed->leaseTransitions + 1;
  }
  lease["spec"] = spec;
  return lease;
}

void LeaderDecider::writeSucceeded() {
  std::lock_guard<std::mutex> lock(mu_);
  lastRenew_ = clock_.now();
}

bool LeaderDecider::leading() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lastRenew_ && clock_.now() - *lastRenew_ < config_.renewDeadline;
}

LeaderElector::LeaderElector(Client& client, LeaderConfig config, common::Clock& clock)
    : client_(client), decider_(std::move(config), clock) {}

void LeaderElector::tryAcquireOrRenew() {
  const auto& config = decider_.config();
  auto lease = client_.get(resources::kLeases, config.namespace_, config.leaseName);
  if (!lease && lease.status().code() != common::ErrorCode::kNotFound) {
    spdlog::warn("leader election: reading Lease {}/{}: {}", config.namespace_, config.leaseName,
                 lease.status().toString());
    return;
  }
  std::optional<LeaseRecord> observed;
  if (lease) observed = leaseRecordFrom(*lease);
  const LeaderAction action = decider_.decide(observed);
  common::Result<json> written = json::object();
  switch (action) {
    case LeaderAction::kFollow:
      return;
    case LeaderAction::kCreate:
      written = client_.create(resources::kLeases, config.namespace_, decider_.leaseFor(action, observed));
      break;
    case LeaderAction::kTakeOver:
    case LeaderAction::kRenew:
      written = client_.replace(resources::kLeases, decider_.leaseFor(action, observed));
      break;
  }
  if (!written) {
    spdlog::info("leader election: writing Lease failed: {}", written.status().toString());
    return;
  }
  decider_.writeSucceeded();
}

void LeaderElector::release() {
  const auto& config = decider_.config();
  auto lease = client_.get(resources::kLeases, config.namespace_, config.leaseName);
  if (!lease || leaseRecordFrom(*lease).holderIdentity != config.identity) return;
  json released = *lease;
  released["spec"]["holderIdentity"] = "";
  if (auto st = client_.replace(resources::kLeases, released); !st) {
    spdlog::info("leader election: releasing Lease failed: {}", st.status().toString());
  }
}

void LeaderElector::run(Cancellation& cancel, const std::function<void()>& onStarted,
                        const std::function<void()>& onStopped) {
  bool wasLeading = false;
  while (!cancel.cancelled()) {
    tryAcquireOrRenew();
    const bool now = decider_.leading();
    if (now && !wasLeading) {
      spdlog::info("leader election: {} became the leader", decider_.config().identity);
      onStarted();
    }
    if (!now && wasLeading) {
      spdlog::warn("leader election: {} lost the lease", decider_.config().identity);
      onStopped();
    }
    wasLeading = now;
    cancel.sleepFor(decider_.config().retryPeriod);
  }
  if (wasLeading) release();
}

}  // namespace sluice::kube

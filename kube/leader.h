#pragma once
// Leader election over a coordination.k8s.io/v1 Lease, with client-go's timing (15 s lease,
// 10 s renew deadline, 2 s retry). LeaderDecider holds the pure decisions (clock injected);
// LeaderElector does the reads and writes on its own thread.
//
// Expiry is judged from when *we* last saw the record change, not from renewTime, so clock skew
// between replicas does not matter (as client-go does). A leader that has not renewed within the
// renew deadline stops leading at once: leading() turns false by itself, without waiting for the
// elector thread, so a write gate built on it closes even when a request hangs.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "kube/client.h"

namespace sluice::kube {

struct LeaderConfig {
  std::string identity;
  std::string namespace_ = "default";
  std::string leaseName = "sluice-operator-leader";
  std::chrono::seconds leaseDuration{15};
  std::chrono::seconds renewDeadline{10};
  std::chrono::seconds retryPeriod{2};
};

struct LeaseRecord {
  std::string holderIdentity;
  int leaseDurationSeconds = 0;
  std::string acquireTime;
  std::string renewTime;
  int leaseTransitions = 0;
  std::string resourceVersion;

  bool sameRecord(const LeaseRecord& other) const {
    return holderIdentity == other.holderIdentity && renewTime == other.renewTime &&
           leaseTransitions == other.leaseTransitions;
  }
};

LeaseRecord leaseRecordFrom(const nlohmann::json& lease);

enum class LeaderAction {
  kCreate,    // no Lease yet
  kTakeOver,  // free or expired: write ourselves as holder
  kRenew,     // ours: refresh renewTime
  kFollow,    // someone else holds a live lease
};

class LeaderDecider {
 public:
  LeaderDecider(LeaderConfig config, common::Clock& clock) : config_(std::move(config)), clock_(clock) {}

  // What to do given the Lease as just read (nullopt = absent).
  LeaderAction decide(const std::optional<LeaseRecord>& observed);
  // The Lease body to write for `action` (kCreate, kTakeOver, kRenew).
  nlohmann::json leaseFor(LeaderAction action, const std::optional<LeaseRecord>& observed) const;
  void writeSucceeded();
  // True while our last successful write is younger than the renew deadline.
  bool leading() const;
  const LeaderConfig& config() const { return config_; }

 private:
  LeaderConfig config_;
  common::Clock& clock_;
  mutable std::mutex mu_;
  std::optional<LeaseRecord> observed_;
  common::SteadyTime observedAt_{};
  std::optional<common::SteadyTime> lastRenew_;
};

class LeaderElector {
 public:
  LeaderElector(Client& client, LeaderConfig config, common::Clock& clock);

  // Loops every retryPeriod until cancelled; calls onStarted/onStopped on transitions. On cancel
  // it releases the Lease (empty holder) so a standby takes over without waiting for expiry.
  void run(Cancellation& cancel, const std::function<void()>& onStarted,
           const std::function<void()>& onStopped);
  bool leading() const { return decider_.leading(); }

 private:
  void tryAcquireOrRenew();
  void release();

  Client& client_;
  LeaderDecider decider_;
};

}  // namespace sluice::kube

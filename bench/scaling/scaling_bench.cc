// Scaling benchmark: replays generated load (step, burst, sawtooth, steady with noise) through
//   (a) Sluice's PipelineAutoscaler (recommender + stabilizer, the code the operator runs) and
//   (b) a KEDA-equivalent: KEDA's Kafka scaler metric (total lag, capped with KEDA's integer rule)
//       behind an HPA (AverageValue target, tolerance 0.1, 15 s sync, default behaviour).
// Both drive the same consumer model: each ready replica processes R msgs/s, but with P partitions
// the busiest consumer owns ceil(P/N) of them, so N replicas drain P/ceil(P/N) x R msgs/s.
// New pods become ready after a start-up delay. Time steps are one simulated second.
//
// Usage: scaling_bench [output-dir]   (writes <scenario>.csv for bench/scaling/plot.py)
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "operator/scaling/autoscaler.h"

namespace {

using namespace sluice;

struct Params {
  int partitions = 32;
  double perReplica = 100;  // msgs/s one replica processes
  int minReplicas = 1;
  int maxReplicas = 20;
  int64_t lagPerReplica = 1000;  // KEDA lagThreshold and Sluice lagPerReplica
  int drainSeconds = 60;
  int startupSeconds = 10;
  int sluicePoll = 5;
  int sluiceStabilization = 120;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  // Called once per simulated second; returns the Deployment's replicas.
  virtual int step(int t, int64_t lag, int64_t produced, int64_t consumed, int specReplicas, int ready) = 0;
};

class SluicePolicy final : public Policy {
 public:
  SluicePolicy(const Params& p, bool withDrain) : p_(p), withDrain_(withDrain), scaler_(clock_) {
    spec_.minReplicas = p.minReplicas;
    spec_.maxReplicas = p.maxReplicas;
    spec_.lagPerReplica = p.lagPerReplica;
    if (withDrain) spec_.drainSeconds = p.drainSeconds;
    spec_.pollIntervalSeconds = p.sluicePoll;
    spec_.scaleDownStabilizationSeconds = p.sluiceStabilization;
  }
  std::string name() const override { return withDrain_ ? "sluice_drain" : "sluice_lag"; }
  int step(int t, int64_t lag, int64_t produced, int64_t consumed, int specReplicas, int ready) override {
    if (t > 0) clock_.advance(std::chrono::seconds(1));
    if (t % p_.sluicePoll != 0) return specReplicas;
    scaling::LagSnapshot snap;
    snap.totalLag = lag;
    snap.partitionCount = p_.partitions;
    snap.producedSum = produced;
    snap.consumedSum = consumed;
    scaling::WorkersStatus workers;
    workers.ready = workers.total = ready;
    if (ready > 0) workers.perReplicaThroughput = p_.perReplica;  // workers report their capacity
    auto out = scaler_.poll(spec_, spec::SourceKind::kKafka, specReplicas, snap, workers);
    return out.decision.to;
  }

 private:
  Params p_;
  bool withDrain_;
  common::FakeClock clock_;
  spec::ScalingSpec spec_;
  scaling::PipelineAutoscaler scaler_;
};

// KEDA 2.x Kafka scaler + HPA v2 with default behaviour.
class KedaPolicy final : public Policy {
 public:
  KedaPolicy(const Params& p, int metricRefreshSeconds) : p_(p), refresh_(metricRefreshSeconds) {}
  std::string name() const override { return refresh_ == 15 ? "keda_live" : "keda"; }
  int step(int t, int64_t lag, int64_t, int64_t, int specReplicas, int) override {
    if (t % refresh_ == 0) metric_ = kedaMetric(lag);
    if (t % 15 != 0) return specReplicas;
    return hpaSync(t, specReplicas);
  }

 private:
  // kafka_scaler.go: if totalLag/lagThreshold > partitions (integer division), cap at P x threshold.
  int64_t kedaMetric(int64_t lag) const {
    if (lag / p_.lagPerReplica > p_.partitions) return p_.partitions * p_.lagPerReplica;
    return lag;
  }
  int hpaSync(int t, int current) {
    const double ratio = static_cast<double>(metric_) / (static_cast<double>(p_.lagPerReplica) * current);
    int rec = std::fabs(ratio - 1.0) <= 0.1 ? current : static_cast<int>(std::ceil(ratio * current));
    rec = std::clamp(rec, p_.minReplicas, p_.maxReplicas);
    history_.push_back({t, rec});
    while (!history_.empty() && t - history_.front().first > 300) history_.pop_front();
    if (rec > current) return std::min(rec, std::max(2 * current, current + 4));  // 100% or 4 pods / 15 s
    int stabilized = rec;
    for (const auto& h : history_) stabilized = std::max(stabilized, h.second);  // 300 s down window
    return std::min(stabilized, current);
  }
  Params p_;
  int refresh_;
  int64_t metric_ = 0;
  std::deque<std::pair<int, int>> history_;
};

struct Scenario {
  std::string name;
  int duration;
  int eventAt;                        // when the load changes (reaction / drain are measured from here)
  std::function<double(int)> inRate;  // msgs/s at second t
  std::function<double(int)> burst;   // extra messages dumped at second t
};

struct Trace {
  std::vector<double> lag;
  std::vector<int> replicas;
};

struct Figures {
  int reaction = -1;  // seconds from the event to the first replica change
  int drain = -1;     // seconds from the event until lag is back to <= 100
  int flips = 0;      // direction changes of the replica count
  int maxReplicas = 0;
  double maxLag = 0;
  double replicaSeconds = 0;
};

double capacity(const Params& p, int ready) {
  if (ready <= 0) return 0;
  const int n = std::min(ready, p.partitions);
  const int busiest = (p.partitions + n - 1) / n;
  return p.perReplica * p.partitions / busiest;
}

Trace run(const Params& p, const Scenario& s, Policy& policy) {
  Trace tr;
  double lag = 0, produced = 0, consumed = 0;
  int spec = 3;
  std::deque<int> readyAt(spec, 0);  // one entry per pod: the second it becomes ready
  for (int t = 0; t < s.duration; ++t) {
    int ready = 0;
    for (int at : readyAt) ready += at <= t ? 1 : 0;
    const int next =
        policy.step(t, std::llround(lag), std::llround(produced), std::llround(consumed), spec, ready);
    while (static_cast<int>(readyAt.size()) < next) readyAt.push_back(t + p.startupSeconds);
    while (static_cast<int>(readyAt.size()) > next) readyAt.pop_back();  // newest (maybe unready) first
    spec = next;
    const double in = s.inRate(t) + s.burst(t);
    const double done = std::min(lag + in, capacity(p, ready));
    lag += in - done;
    produced += in;
    consumed += done;
    tr.lag.push_back(lag);
    tr.replicas.push_back(spec);
  }
  return tr;
}

Figures measure(const Scenario& s, const Trace& tr) {
  Figures f;
  int lastDir = 0;
  for (size_t t = 0; t < tr.replicas.size(); ++t) {
    f.maxReplicas = std::max(f.maxReplicas, tr.replicas[t]);
    f.maxLag = std::max(f.maxLag, tr.lag[t]);
    f.replicaSeconds += tr.replicas[t];
    if (t == 0) continue;
    const int d = tr.replicas[t] - tr.replicas[t - 1];
    if (d == 0) continue;
    const int dir = d > 0 ? 1 : -1;
    if (lastDir != 0 && dir != lastDir) ++f.flips;
    lastDir = dir;
    if (f.reaction < 0 && static_cast<int>(t) >= s.eventAt && s.eventAt >= 0)
      f.reaction = static_cast<int>(t) - s.eventAt;
  }
  if (s.eventAt < 0) return f;
  bool rose = false;
  for (size_t t = static_cast<size_t>(s.eventAt); t < tr.lag.size(); ++t) {
    if (tr.lag[t] > 100) rose = true;
    if (rose && tr.lag[t] <= 100) {
      f.drain = static_cast<int>(t) - s.eventAt;
      break;
    }
  }
  return f;
}

std::vector<Scenario> scenarios() {
  auto none = [](int) { return 0.0; };
  auto noise = std::make_shared<std::vector<double>>();
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> jitter(-0.1, 0.1);
  for (int t = 0; t < 2400; ++t) noise->push_back(jitter(rng));
  return {
      {"step", 2400, 300, [](int t) { return t >= 300 && t < 1500 ? 800.0 : 200.0; }, none},
      {"burst", 1200, 300, [](int) { return 200.0; }, [](int t) { return t == 300 ? 30000.0 : 0.0; }},
      {"sawtooth", 2400, -1, [](int t) { return 100.0 + 900.0 * (t % 300) / 300.0; }, none},
      {"steady", 2400, -1, [noise](int t) { return 450.0 * (1.0 + (*noise)[static_cast<size_t>(t)]); }, none},
  };
}

std::string cell(int v) { return v < 0 ? "-" : std::to_string(v); }

}  // namespace

int main(int argc, char** argv) {
  const std::string outDir = argc > 1 ? argv[1] : "bench/scaling/out";
  const Params p;
  std::printf(
      "P=%d partitions, %.0f msgs/s per replica, replicas %d..%d, lagPerReplica/lagThreshold %lld, "
      "drainSeconds %d (sluice_drain only), pod start-up %d s, Sluice poll %d s\n\n",
      p.partitions, p.perReplica, p.minReplicas, p.maxReplicas, static_cast<long long>(p.lagPerReplica),
      p.drainSeconds, p.startupSeconds, p.sluicePoll);
  std::printf("%-9s %-13s %9s %9s %6s %8s %9s %13s\n", "scenario", "policy", "react(s)", "drain(s)", "flips",
              "max-rep", "max-lag", "replica-min");
  for (const Scenario& s : scenarios()) {
    std::vector<std::unique_ptr<Policy>> policies;
    policies.push_back(std::make_unique<KedaPolicy>(p, 30));
    policies.push_back(std::make_unique<KedaPolicy>(p, 15));
    policies.push_back(std::make_unique<SluicePolicy>(p, false));
    policies.push_back(std::make_unique<SluicePolicy>(p, true));
    std::vector<Trace> traces;
    for (auto& policy : policies) {
      traces.push_back(run(p, s, *policy));
      const Figures f = measure(s, traces.back());
      std::printf("%-9s %-13s %9s %9s %6d %8d %9.0f %13.0f\n", s.name.c_str(), policy->name().c_str(),
                  cell(f.reaction).c_str(), cell(f.drain).c_str(), f.flips, f.maxReplicas, f.maxLag,
                  f.replicaSeconds / 60.0);
    }
    std::ofstream csv(outDir + "/" + s.name + ".csv");
    csv << "t,in";
    for (auto& policy : policies) csv << "," << policy->name() << "_replicas," << policy->name() << "_lag";
    csv << "\n";
    for (int t = 0; t < s.duration; ++t) {
      csv << t << "," << s.inRate(t) + s.burst(t);
      for (const Trace& tr : traces)
        csv << "," << tr.replicas[static_cast<size_t>(t)] << ","
            << std::llround(tr.lag[static_cast<size_t>(t)]);
      csv << "\n";
    }
  }
  return 0;
}

#include "worker/heartbeat.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cmath>

#include "tests/kube/fake_transport.h"
#include "worker/metrics.h"

namespace sluice::worker {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

MetricsSample sampleAt(common::SteadyTime at, double delivered, double batchSeconds,
                       std::vector<uint64_t> cumulative) {
  MetricsSample s;
  s.at = at;
  s.delivered = delivered;
  s.batchSeconds = batchSeconds;
  s.bucketBounds = {0.01, 0.1, 1, INFINITY};
  s.bucketCumulative = std::move(cumulative);
  return s;
}

TEST(P95Millis, InterpolatesInsideTheBucketOfTheDelta) {
  const common::SteadyTime t0{};
  // Before: 50 observations <= 10ms. Interval: 0 more <= 10ms, 100 in (10ms, 100ms].
  const auto before = sampleAt(t0, 0, 0, {50, 50, 50, 50});
  const auto after = sampleAt(t0 + 5s, 0, 0, {50, 150, 150, 150});
  // rank 95 of 100 inside (10, 100]: 10 + 90 * 0.95 = 95.5 ms
  EXPECT_NEAR(p95Millis(before, after), 95.5, 1e-9);
}

TEST(P95Millis, ZeroWithoutObservationsAndHighestFiniteBoundForInf) {
  const common::SteadyTime t0{};
  const auto before = sampleAt(t0, 0, 0, {1, 1, 1, 1});
  EXPECT_EQ(p95Millis(before, before), 0);
  const auto slow = sampleAt(t0, 0, 0, {1, 1, 1, 11});
  EXPECT_NEAR(p95Millis(before, slow), 1000, 1e-9);
}

TEST(ReportBetween, RatesCapacityAndGauges) {
  const common::SteadyTime t0{};
  auto before = sampleAt(t0, 1000, 2, {0, 0, 0, 0});
  auto after = sampleAt(t0 + 5s, 6000, 7, {0, 0, 10, 10});  // 5000 delivered, 5 lane-seconds busy
  after.inFlight = 120;
  after.pausedPartitions = 2;
  const ReportContext context{"orders-abc", 4, 5, false, false, common::WallTime{} + 100s};
  const auto report = reportBetween(before, after, context);
  EXPECT_EQ(report.pod, "orders-abc");
  EXPECT_EQ(report.state, contract::WorkerState::kRunning);
  EXPECT_DOUBLE_EQ(report.processedPerSecond, 1000);
  // 4 lanes x 5 s = 20 lane-seconds, 5 busy: a quarter busy, so 4x the rate when fully busy.
  ASSERT_TRUE(report.capacityPerSecond.has_value());
  EXPECT_DOUBLE_EQ(*report.capacityPerSecond, 4000);
  EXPECT_EQ(report.inFlight, 120);
  EXPECT_TRUE(report.paused);
  EXPECT_EQ(report.heartbeatSeconds, 5);
  EXPECT_GT(report.p95BatchMs, 100);
}

TEST(ReportBetween, FirstBeatHasNoRatesAndStatesFollowPrecedence) {
  auto current = sampleAt(common::SteadyTime{}, 10, 1, {1, 1, 1, 1});
  ReportContext context{"p", 1, 5, false, false, {}};
  auto report = reportBetween(std::nullopt, current, context);
  EXPECT_EQ(report.processedPerSecond, 0);
  EXPECT_FALSE(report.capacityPerSecond.has_value());
  EXPECT_FALSE(report.paused);

  EXPECT_EQ(report.sourceDrift, "");
  current.sourceDrift = "nats consumer S/d exists with other settings, kept as it is: ackWait 30 s";
  EXPECT_EQ(reportBetween(std::nullopt, current, context).sourceDrift, current.sourceDrift);

  current.degraded = true;
  EXPECT_EQ(reportBetween(std::nullopt, current, context).state, contract::WorkerState::kDegraded);
  context.draining = true;
  EXPECT_EQ(reportBetween(std::nullopt, current, context).state, contract::WorkerState::kDraining);
  context.stopped = true;
  EXPECT_EQ(reportBetween(std::nullopt, current, context).state, contract::WorkerState::kStopped);
}

TEST(ReportBetween, IdleWorkerReportsNoCapacity) {
  const common::SteadyTime t0{};
  const auto before = sampleAt(t0, 100, 1, {1, 1, 1, 1});
  const auto after = sampleAt(t0 + 5s, 100, 1, {1, 1, 1, 1});
  const auto report = reportBetween(before, after, {"p", 4, 5, false, false, {}});
  EXPECT_EQ(report.processedPerSecond, 0);
  EXPECT_FALSE(report.capacityPerSecond.has_value());
}

TEST(LeaseApplyBody, LabelsAnnotationOwnerAndSpec) {
  contract::WorkerReport report;
  report.pod = "orders-abc";
  report.state = contract::WorkerState::kRunning;
  report.lastHeartbeat = common::WallTime{} + 1'700'000'000s + 250ms;
  report.processedPerSecond = 12.5;
  const auto body = leaseApplyBody({"orders-abc", "shop", "orders", "uid-1"}, report, 15);
  EXPECT_EQ(body["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(body["kind"], "Lease");
  EXPECT_EQ(body["metadata"]["name"], "orders-abc");
  EXPECT_EQ(body["metadata"]["namespace"], "shop");
  EXPECT_EQ(body["metadata"]["labels"]["sluice.dev/pipeline"], "orders");
  const auto& owner = body["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Pod");
  EXPECT_EQ(owner["uid"], "uid-1");
  EXPECT_EQ(owner["name"], "orders-abc");
  EXPECT_EQ(body["spec"]["holderIdentity"], "orders-abc");
  EXPECT_EQ(body["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(body["spec"]["renewTime"], "2023-11-14T22:13:20.250000Z");
  auto decoded =
      contract::decodeReport(body["metadata"]["annotations"]["sluice.dev/report"].get<std::string>());
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  EXPECT_EQ(decoded->pod, "orders-abc");
  EXPECT_DOUBLE_EQ(decoded->processedPerSecond, 12.5);
}

TEST(LeaseApplyBody, NoOwnerReferenceWithoutPodUid) {
  const auto body = leaseApplyBody({"w", "default", "p", ""}, {}, 15);
  EXPECT_FALSE(body["metadata"].contains("ownerReferences"));
}

TEST(HeartbeatAccessTest, Table) {
  struct Case {
    HeartbeatEnvironment environment;
    HeartbeatAccess want;
  };
  const Case cases[] = {
      {{false, false, "", ""}, HeartbeatAccess::kDisabled},           // standalone --config
      {{false, false, "/k/config", ""}, HeartbeatAccess::kDisabled},  // no pod name: whose Lease?
      {{false, false, "/k/config", "w-1"}, HeartbeatAccess::kKubeconfig},
      {{true, true, "", "w-1"}, HeartbeatAccess::kInCluster},
      {{true, false, "", "w-1"}, HeartbeatAccess::kDisabled},  // token without the service host
      {{true, true, "/k/config", "w-1"}, HeartbeatAccess::kKubeconfig},
      {{true, true, "", ""}, HeartbeatAccess::kDisabled},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(heartbeatAccess(c.environment), c.want)
        << "token=" << c.environment.serviceAccountTokenPresent
        << " host=" << c.environment.kubernetesServiceHostSet << " kubeconfig='" << c.environment.kubeconfig
        << "' pod='" << c.environment.podName << "'";
  }
}

class HeartbeatTickTest : public ::testing::Test {
 protected:
  prometheus::Registry registry;
  WorkerMetrics metrics{registry};
  common::FakeClock clock;
  kube::testing::FakeTransport transport;
  kube::Client client{transport, kube::ClientOptions{kHeartbeatFieldManager}};
};

TEST_F(HeartbeatTickTest, BeatsOncePerPeriodOnTheInjectedClock) {
  // GET pod -> uid, then one apply per beat.
  transport.addResponse(200, R"({"metadata":{"name":"w-1","uid":"u-9"}})");
  for (int i = 0; i < 3; ++i) transport.addResponse(200, "{}");
  Heartbeat heartbeat({{"w-1", "ns", "orders", ""}, 2, 5s}, client, metrics, clock, [] { return false; });

  EXPECT_TRUE(heartbeat.tick());   // first beat at once
  EXPECT_FALSE(heartbeat.tick());  // same instant
  clock.advance(4900ms);
  EXPECT_FALSE(heartbeat.tick());
  clock.advance(100ms);
  EXPECT_TRUE(heartbeat.tick());
  EXPECT_EQ(heartbeat.succeeded(), 2);

  ASSERT_EQ(transport.requests.size(), 3u);
  EXPECT_EQ(transport.requests[0].method, "GET");
  EXPECT_EQ(transport.requests[0].path, "/api/v1/namespaces/ns/pods/w-1");
  EXPECT_EQ(transport.requests[1].method, "PATCH");
  EXPECT_EQ(transport.requests[1].path, "/apis/coordination.k8s.io/v1/namespaces/ns/leases/w-1");
  const auto applied = json::parse(transport.requests[2].body);
  EXPECT_EQ(applied["metadata"]["ownerReferences"][0]["uid"], "u-9");
}

TEST_F(HeartbeatTickTest, FailuresAreCountedNotFatalAndStandalonePodHasNoOwner) {
  transport.addResponse(404, R"({"kind":"Status","reason":"NotFound","message":"pods \"w-1\" not found"})");
  transport.addResponse(503, R"({"kind":"Status","message":"unavailable"})");
  transport.addResponse(200, "{}");
  Heartbeat heartbeat({{"w-1", "ns", "orders", ""}, 1, 5s}, client, metrics, clock, [] { return false; });
  EXPECT_TRUE(heartbeat.tick());
  EXPECT_EQ(heartbeat.failed(), 1);
  clock.advance(5s);
  EXPECT_TRUE(heartbeat.tick());
  EXPECT_EQ(heartbeat.succeeded(), 1);
  // NotFound is not retried: GET, apply, apply.
  ASSERT_EQ(transport.requests.size(), 3u);
  EXPECT_FALSE(json::parse(transport.requests[2].body)["metadata"].contains("ownerReferences"));
}

}  // namespace
}  // namespace sluice::worker

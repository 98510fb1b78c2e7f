#include "operator/scaling/worker_report.h"

#include <gtest/gtest.h>

namespace sluice::scaling {
namespace {

using std::chrono::seconds;

WorkerReport report(const std::string& pod, WorkerState state, common::WallTime at, double pps = 100) {
  WorkerReport r;
  r.pod = pod;
  r.state = state;
  r.lastHeartbeat = at;
  r.processedPerSecond = pps;
  return r;
}

TEST(WorkerReport, EncodeDecodeRoundTrip) {
  common::FakeClock clock;
  WorkerReport r = report("orders-abc", WorkerState::kRunning, clock.wallNow(), 812.5);
  r.capacityPerSecond = 1500;
  r.p95BatchMs = 42;
  r.inFlight = 120;
  r.paused = true;
  r.heartbeatSeconds = 7;
  r.sourceDrift = "maxAckPending 1000, spec 500";
  const std::string encoded = encodeReport(r);
  EXPECT_NE(encoded.find("\"lastHeartbeat\":\"2026-01-01T00:00:00Z\""), std::string::npos) << encoded;
  auto back = decodeReport(encoded);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->pod, "orders-abc");
  EXPECT_EQ(back->state, WorkerState::kRunning);
  EXPECT_EQ(back->lastHeartbeat, r.lastHeartbeat);
  EXPECT_EQ(back->heartbeatSeconds, 7);
  EXPECT_DOUBLE_EQ(back->processedPerSecond, 812.5);
  EXPECT_EQ(back->capacityPerSecond, 1500);
  EXPECT_DOUBLE_EQ(back->p95BatchMs, 42);
  EXPECT_EQ(back->inFlight, 120);
  EXPECT_TRUE(back->paused);
  EXPECT_EQ(back->sourceDrift, "maxAckPending 1000, spec 500");
  // Without a difference the key is left out, and decoding gives an empty text.
  r.sourceDrift.clear();
  EXPECT_EQ(encodeReport(r).find("sourceDrift"), std::string::npos);
  EXPECT_EQ(decodeReport(encodeReport(r))->sourceDrift, "");
  EXPECT_FALSE(decodeReport(R"({"v":1,"lastHeartbeat":"2026-01-01T00:00:00Z","sourceDrift":3})", "p").isOk());
}

TEST(FoldReports, NamesTheFirstFreshWorkerWhoseSourceDiffers) {
  common::FakeClock clock;
  WorkerReport a = report("b-pod", WorkerState::kRunning, clock.wallNow());
  a.sourceDrift = "ackWait 30 s, spec 60 s";
  WorkerReport b = report("a-pod", WorkerState::kRunning, clock.wallNow());
  WorkerReport stale = report("0-pod", WorkerState::kRunning, clock.wallNow() - seconds(120));
  stale.sourceDrift = "old news";
  const WorkersStatus folded = foldReports({a, b, stale}, clock.wallNow());
  EXPECT_EQ(folded.sourceDrift, "b-pod: ackWait 30 s, spec 60 s");
  EXPECT_EQ(foldReports({b}, clock.wallNow()).sourceDrift, "");
}

TEST(WorkerReport, DecodeDefaultsAndPodFromLeaseName) {
  auto r = decodeReport(R"({"v":1,"state":"Draining","lastHeartbeat":"2026-01-01T00:00:05.250Z","extra":1})",
                        "lease-pod");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->pod, "lease-pod");
  EXPECT_EQ(r->state, WorkerState::kDraining);
  EXPECT_EQ(r->heartbeatSeconds, kDefaultHeartbeatSeconds);
  EXPECT_FALSE(r->capacityPerSecond.has_value());
  EXPECT_EQ(common::formatRfc3339(r->lastHeartbeat), "2026-01-01T00:00:05Z");
}

TEST(WorkerReport, DecodeRejectsBadInputNamingThePod) {
  struct Row {
    const char* encoded;
    const char* mentions;
  };
  const Row rows[] = {
      {"not json", "not a JSON object"},
      {R"([1,2])", "not a JSON object"},
      {R"({"state":"Running","lastHeartbeat":"2026-01-01T00:00:00Z"})", "\"v\":1"},
      {R"({"v":2,"state":"Running","lastHeartbeat":"2026-01-01T00:00:00Z"})", "\"v\":1"},
      {R"({"v":1,"lastHeartbeat":"2026-01-01T00:00:00Z"})", "missing \"state\""},
      {R"({"v":1,"state":"Sleeping","lastHeartbeat":"2026-01-01T00:00:00Z"})", "unknown worker state \"Sleeping\""},
      {R"({"v":1,"state":"Running"})", "missing \"lastHeartbeat\""},
      {R"({"v":1,"state":"Running","lastHeartbeat":"yesterday"})", "RFC 3339"},
      {R"({"v":1,"state":"Running","lastHeartbeat":"2026-01-01T00:00:00"})", "time zone"},
      {R"({"v":1,"state":"Running","lastHeartbeat":"2026-01-01T00:00:00Z","inFlight":"many"})", "wrong type"},
  };
  for (const Row& row : rows) {
    auto r = decodeReport(row.encoded, "pod-1");
    ASSERT_FALSE(r.isOk()) << row.encoded;
    EXPECT_EQ(r.status().code(), common::ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("pod-1"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(row.mentions), std::string::npos) << r.status().message();
  }
}

TEST(WorkerReport, ParseRfc3339Offsets) {
  auto z = parseRfc3339("2026-01-01T01:00:00Z");
  auto plus = parseRfc3339("2026-01-01T02:00:00+01:00");
  ASSERT_TRUE(z.isOk() && plus.isOk());
  EXPECT_EQ(*z, *plus);
}

TEST(FoldReports, DropsReportsOlderThanThreeHeartbeats) {
  common::FakeClock clock;
  const common::WallTime now = clock.wallNow();
  std::vector<WorkerReport> reports = {
      report("b-fresh", WorkerState::kRunning, now - seconds(5)),
      report("a-edge", WorkerState::kRunning, now - seconds(30)),   // exactly 3 x 10 s: kept
      report("c-stale", WorkerState::kRunning, now - seconds(31)),  // dropped
      report("d-starting", WorkerState::kStarting, now),
  };
  WorkersStatus w = foldReports(reports, now);
  EXPECT_EQ(w.total, 3);
  EXPECT_EQ(w.ready, 2);
  EXPECT_EQ(w.stale, 1);
  ASSERT_EQ(w.items.size(), 3u);
  EXPECT_EQ(w.items[0].pod, "a-edge");  // sorted by pod
  EXPECT_EQ(w.items[2].pod, "d-starting");
}

TEST(FoldReports, StalenessUsesEachReportsHeartbeat) {
  common::FakeClock clock;
  WorkerReport slow = report("slow", WorkerState::kRunning, clock.wallNow() - seconds(50));
  slow.heartbeatSeconds = 20;
  EXPECT_EQ(foldReports({slow}, clock.wallNow()).total, 1);
  slow.heartbeatSeconds = 15;
  EXPECT_EQ(foldReports({slow}, clock.wallNow()).total, 0);
}

TEST(FoldReports, ThroughputFromReadyUnpausedWorkersPrefersCapacity) {
  common::FakeClock clock;
  const auto now = clock.wallNow();
  WorkerReport a = report("a", WorkerState::kRunning, now, 100);
  a.capacityPerSecond = 300;
  WorkerReport b = report("b", WorkerState::kRunning, now, 100);  // no capacity: processed
  WorkerReport c = report("c", WorkerState::kRunning, now, 999);
  c.paused = true;
  WorkerReport d = report("d", WorkerState::kDegraded, now, 999);
  WorkersStatus w = foldReports({a, b, c, d}, now);
  ASSERT_TRUE(w.perReplicaThroughput.has_value());
  EXPECT_DOUBLE_EQ(*w.perReplicaThroughput, 200);
  EXPECT_TRUE(w.anyDegraded);
  EXPECT_EQ(w.ready, 3);
  EXPECT_FALSE(foldReports({}, now).perReplicaThroughput.has_value());
}

TEST(FoldReports, StatusJsonShape) {
  common::FakeClock clock;
  WorkerReport a = report("a", WorkerState::kRunning, clock.wallNow(), 12.5);
  a.inFlight = 3;
  auto j = toStatusJson(foldReports({a}, clock.wallNow()));
  EXPECT_EQ(j.dump(),
            R"({"items":[{"inFlight":3,"lastHeartbeat":"2026-01-01T00:00:00Z","p95BatchMs":0.0,"paused":false,)"
            R"("pod":"a","processedPerSecond":12.5,"state":"Running"}],"ready":1,"total":1})");
}

}  // namespace
}  // namespace sluice::scaling

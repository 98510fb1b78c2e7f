#include "operator/scaling/workers_status.h"

#include <gtest/gtest.h>

namespace sluice::scaling {
namespace {

using contract::WorkerReport;
using contract::WorkerState;
using std::chrono::seconds;

WorkerReport report(const std::string& pod, WorkerState state, common::WallTime at, double pps = 100) {
  WorkerReport r;
  r.pod = pod;
  r.state = state;
  r.lastHeartbeat = at;
  r.processedPerSecond = pps;
  return r;
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

TEST(FoldReports, DropsReportsOlderThanThreeHeartbeats) {
  common::FakeClock clock;
  const common::WallTime now = clock.wallNow();
  const int period = contract::kDefaultHeartbeatSeconds;  // what a report carries unless set
  std::vector<WorkerReport> reports = {
      report("b-fresh", WorkerState::kRunning, now - seconds(period)),
      report("a-edge", WorkerState::kRunning, now - seconds(3 * period)),       // exactly 3 periods: kept
      report("c-stale", WorkerState::kRunning, now - seconds(3 * period + 1)),  // dropped
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

}  // namespace
}  // namespace sluice::scaling

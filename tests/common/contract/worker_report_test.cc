#include "common/contract/worker_report.h"

#include <gtest/gtest.h>

namespace sluice::contract {
namespace {

TEST(WorkerReport, EncodeDecodeRoundTrip) {
  common::FakeClock clock;
  WorkerReport r;
  r.pod = "orders-abc";
  r.state = WorkerState::kRunning;
  r.lastHeartbeat = clock.wallNow();
  r.processedPerSecond = 812.5;
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
      {R"({"v":1,"state":"Sleeping","lastHeartbeat":"2026-01-01T00:00:00Z"})",
       "unknown worker state \"Sleeping\""},
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

// Found by tests/fuzz/fuzz_worker_report: a lastHeartbeat in a year WallTime cannot hold overflowed
// (signed overflow, UBSan); the report is refused instead.
TEST(WorkerReport, RefusesAHeartbeatOutsideTheYearsATimeCanHold) {
  auto r = decodeReport(R"({"v":1,"state":"Running","lastHeartbeat":"4052-01-01T00:00:00Z"})", "p");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("outside the years"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace sluice::contract

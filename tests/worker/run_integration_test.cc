// runPipeline in-process against the real local Kafka broker (scripts/dev-env up kafka), with a
// sink of the test's own: what the worker's wiring does around the engine at start and at exit.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/shutdown.h"
#include "common/spec/parse.h"
#include "tests/support/env_file.h"
#include "tests/support/http_get.h"
#include "tests/worker/kafka_test_client.h"
#include "tests/worker/worker_process.h"
#include "worker/run.h"

namespace sluice::worker::testing {
namespace {

using namespace std::chrono_literals;

// Accepts every batch; when destroyed (after the engine, as a producer's flush at exit is), probes
// /healthz the way a kubelet might at that moment and records the HTTP status (0 = refused).
class ProbingSink final : public Sink {
 public:
  ProbingSink(int healthPort, std::atomic<int>& probeStatus)
      : healthPort_(healthPort), probeStatus_(probeStatus) {}
  ~ProbingSink() override { probeStatus_ = sluice::testing::httpGet(healthPort_, "/healthz").status; }
  DeliveryResult deliver(std::span<const Message>) override { return DeliveryResult::delivered(); }
  std::string describe() const override { return "probing test sink"; }

 private:
  int healthPort_;
  std::atomic<int>& probeStatus_;
};

// #18: the health server outlived the pipeline, so a probe during the sinks' teardown called into
// the destroyed engine. It must stop serving before the engine goes.
TEST(RunIntegration, HealthStopsServingBeforeThePipelineIsTornDown) {
  const std::string bootstrap = sluice::testing::requireServiceEnv("KAFKA_BOOTSTRAP");
  ASSERT_FALSE(bootstrap.empty());
  const std::string topic = sluice::testing::uniqueName("run");
  createTopic(bootstrap, topic, 1);
  const std::string yaml =
      "apiVersion: sluice.dev/v1alpha1\nkind: ConsumerPipeline\n"
      "metadata: {name: run, namespace: test}\nspec:\n"
      "  source:\n    kafka: {bootstrapServers: \"" +
      bootstrap + "\", topics: [" + topic + "], groupId: " + topic +
      "-g, startFrom: earliest}\n"
      "  sink: {log: {}}\n  worker: {drainSeconds: 2}\n";
  auto parsed = spec::parsePipelineYaml(yaml);
  ASSERT_TRUE(parsed.ok()) << parsed.errorText();

  const int healthPort = freeLoopbackPort();
  std::atomic<int> probeStatus{-1};
  RunOptions options;
  options.metricsAddress = "127.0.0.1:0";
  options.healthAddress = "127.0.0.1:" + std::to_string(healthPort);
  options.makeSink = [&](const spec::ConsumerPipeline&) -> common::Result<std::unique_ptr<Sink>> {
    return std::unique_ptr<Sink>(std::make_unique<ProbingSink>(healthPort, probeStatus));
  };
  common::Status result = common::Status::ok();
  std::thread run([&] { result = runPipeline(parsed.pipeline, options); });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (sluice::testing::httpGet(healthPort, "/readyz").status != 200 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(sluice::testing::httpGet(healthPort, "/healthz").status, 200) << "the pipeline never got ready";
  common::Shutdown::instance().request("test");
  run.join();
  EXPECT_TRUE(result.isOk()) << result.toString();
  EXPECT_EQ(probeStatus.load(), 0) << "/healthz answered while the pipeline was being torn down";
}

}  // namespace
}  // namespace sluice::worker::testing

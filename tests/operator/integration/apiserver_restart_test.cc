// The API server dies under a running operator and comes back (same port, same etcd): the operator's
// watches resume without an operator restart. The test runs its own kube-apiserver and etcd
// (tests/support/private_apiserver.h) so the shared one from scripts/dev-env, which other tests use
// at the same time, is never disturbed. No controller manager runs there, and none is needed: the
// operator itself creates and updates the Deployments this test looks at.
#include <gtest/gtest.h>
#include <signal.h>

#include "kube/resources.h"
#include "tests/operator/integration/harness.h"
#include "tests/support/private_apiserver.h"

namespace sluice::op::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace res = kube::resources;

constexpr const char* kNamespace = "restart";

std::string specHash(kube::Client& client, const std::string& deployment) {
  auto got = client.get(res::kDeployments, kNamespace, deployment);
  if (!got) return "";
  return got->value("/spec/template/metadata/annotations/sluice.dev~1spec-hash"_json_pointer, std::string());
}

::testing::AssertionResult succeeded(const common::Result<json>& result) {
  if (result.isOk()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.status().toString();
}

TEST(ApiServerRestart, WatchesResumeWithoutAnOperatorRestart) {
  sluice::testing::PrivateApiServer apiserver;
  const auto started = apiserver.start();
  ASSERT_TRUE(started) << started.toString();
  const std::string kubeconfig = apiserver.kubeconfig();
  std::string out;
  const std::string crd = std::string(SLUICE_SOURCE_DIR) + "/crds/consumerpipelines.sluice.dev.yaml";
  ASSERT_EQ(kubectl("apply --server-side -f '" + crd + "'", &out, kubeconfig), 0) << out;
  ASSERT_EQ(kubectl("wait --for=condition=Established --timeout=60s crd/consumerpipelines.sluice.dev", &out,
                    kubeconfig),
            0)
      << out;
  auto cluster = connect(kubeconfig);
  ASSERT_NE(cluster, nullptr);
  kube::Client& client = *cluster->client;
  const json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNamespace}}}};
  ASSERT_TRUE(succeeded(client.create(res::kNamespaces, "", ns)));

  OperatorProcess op({"--namespaces", kNamespace}, kubeconfig);
  ASSERT_TRUE(op.start());
  ASSERT_TRUE(
      succeeded(client.create(res::kConsumerPipelines, kNamespace, pipelineManifest(kNamespace, "orders"))));
  ASSERT_TRUE(eventually(30s, [&] { return !specHash(client, "orders-worker").empty(); })) << op.log();
  const std::string hashBefore = specHash(client, "orders-worker");
  const pid_t pid = op.pid();
  const double restartsBefore = metricSum(op.scrapeMetrics(), "sluice_operator_watch_restarts_total");

  apiserver.stopApiServer(SIGKILL);
  const auto down = std::chrono::steady_clock::now();
  const auto restarted = apiserver.restartApiServer();
  ASSERT_TRUE(restarted) << restarted.toString();
  const auto up = std::chrono::steady_clock::now();

  // Both changes are made only after the restart, so they can reach the operator only through
  // watches (or relists) it resumed against the new API server process.
  // The test's own client may first reuse a connection to the killed process ("Failed to write
  // request body"): retry; both writes are idempotent here (AlreadyExists counts as created).
  const json patch = {{"spec", {{"batch", {{"maxMessages", 42}}}}}};
  common::Status lastError;
  ASSERT_TRUE(eventually(10s, [&] {
    auto patched = client.patch(res::kConsumerPipelines, kNamespace, "orders", patch);
    lastError = patched.status();
    return patched.isOk();
  })) << lastError.toString();
  ASSERT_TRUE(eventually(10s, [&] {
    auto created =
        client.create(res::kConsumerPipelines, kNamespace, pipelineManifest(kNamespace, "payments"));
    lastError = created.status();
    return created.isOk() || lastError.code() == common::ErrorCode::kAlreadyExists;
  })) << lastError.toString();
  // The operator's watch backoff is 0.5 s doubling to 30 s, jittered: 40 s covers the longest wait
  // it can be in when the API server returns after the restart above.
  const bool noticed = eventually(40s, [&] {
    const std::string hash = specHash(client, "orders-worker");
    return !hash.empty() && hash != hashBefore &&
           client.get(res::kDeployments, kNamespace, "payments-worker").isOk();
  });
  const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  ASSERT_TRUE(noticed) << "API server down for " << seconds(up - down) << " s; operator log:\n" << op.log();
  RecordProperty("apiserver_down_seconds", std::to_string(seconds(up - down)));
  RecordProperty("noticed_after_up_seconds", std::to_string(seconds(std::chrono::steady_clock::now() - up)));

  EXPECT_TRUE(op.running());
  EXPECT_EQ(op.pid(), pid);  // the same operator process throughout
  EXPECT_GT(metricSum(op.scrapeMetrics(), "sluice_operator_watch_restarts_total"), restartsBefore)
      << op.log();
}

}  // namespace
}  // namespace sluice::op::testing

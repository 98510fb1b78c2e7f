// Reconciler's write path against a scripted transport (the order of the applies, what a restart
// skips, the first status) — what the real API server cannot show without timing: which requests
// were sent. The behaviour against the real server is in tests/operator/integration.
#include "operator/controller/reconciler.h"

#include <gtest/gtest.h>

#include <fstream>

#include "operator/controller/reasons.h"
#include "tests/operator/fake_transport.h"

namespace sluice::controller {
namespace {

using nlohmann::json;

json readPipeline(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/operator/testdata/pipelines/" + name + ".json");
  EXPECT_TRUE(in);
  return json::parse(in, nullptr, false);
}

std::vector<std::string> applied(const std::vector<kube::HttpRequest>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    if (r.contentType.find("apply-patch") == std::string::npos) continue;
    out.push_back(r.path.substr(r.path.rfind('/', r.path.rfind('/') - 1) + 1));  // "<resource>/<name>"
  }
  return out;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() { pipelines_.upsert(readPipeline("kafka-basic")); }  // kafka:9092: not probed

  std::unique_ptr<Reconciler> makeReconciler() {
    ReconcilerOptions options;
    options.workerImage = "ghcr.io/sluice-dev/sluice:test";
    return std::make_unique<Reconciler>(client_, pipelines_, deployments_, prober_, clock_, options);
  }
  // Five applies (the Deployment's answer is `deployment`), then the status patch and the Event.
  void scriptCreate(const json& deployment) {
    for (int i = 0; i < 5; ++i) transport_.addResponse(200, i == 2 ? deployment.dump() : "{}");
    transport_.addResponse(200, "{}");
    transport_.addResponse(201, "{}");
  }
  static json deploymentAnswer() {
    return {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "orders-worker"}, {"namespace", "shop"}}},
            {"spec", {{"replicas", 2}}}};
  }

  kube::testing::FakeTransport transport_;
  kube::Client client_{transport_};
  kube::ObjectCache pipelines_;
  kube::ObjectCache deployments_;
  SystemTcpProber prober_;
  common::FakeClock clock_;
};

TEST_F(ReconcilerTest, TheDeploymentFollowsTheAccountAndConfigMapAndPrecedesTheRbac) {
  scriptCreate(deploymentAnswer());
  const auto result = makeReconciler()->reconcile("shop/orders");
  ASSERT_TRUE(result.status.isOk()) << result.status.toString();
  EXPECT_EQ(applied(transport_.requests),
            (std::vector<std::string>{"serviceaccounts/orders-worker", "configmaps/orders-pipeline",
                                      "deployments/orders-worker", "roles/orders-worker",
                                      "rolebindings/orders-worker"}));
}

TEST_F(ReconcilerTest, TheFirstStatusDescribesTheDeploymentTheApplyReturned) {
  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(makeReconciler()->reconcile("shop/orders").status.isOk());
  const auto patch = std::find_if(transport_.requests.begin(), transport_.requests.end(),
                                  [](const kube::HttpRequest& r) { return r.path.ends_with("/status"); });
  ASSERT_NE(patch, transport_.requests.end());
  const json status = json::parse(patch->body)["status"];
  const json* ready = findCondition(status, condition::kReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["reason"], reason::kWorkersNotReady);  // not DeploymentPending: the watch is behind
  EXPECT_EQ(status["desiredReplicas"], 2);
}

TEST_F(ReconcilerTest, ARestartedOperatorMakesNoAppliesWhenTheCachedDeploymentCarriesTheHash) {
  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(makeReconciler()->reconcile("shop/orders").status.isOk());
  json deployment;
  for (const auto& r : transport_.requests) {
    if (r.path.find("/deployments/") != std::string::npos) deployment = json::parse(r.body);
  }
  ASSERT_TRUE(deployment.contains("/metadata/annotations"_json_pointer / kAppliedHashAnnotation));
  deployments_.upsert(deployment);  // what the informer holds after the restart

  transport_.requests.clear();
  transport_.addResponse(200, "{}");  // the status patch, if the status still changed
  const auto restarted = makeReconciler();
  ASSERT_TRUE(restarted->reconcile("shop/orders").status.isOk());
  EXPECT_TRUE(applied(transport_.requests).empty());

  // A spec change: the hash differs, everything is applied again.
  json changed = readPipeline("kafka-basic");
  changed["spec"]["batch"]["maxMessages"] = 100;
  pipelines_.upsert(changed);
  transport_.requests.clear();
  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(restarted->reconcile("shop/orders").status.isOk());
  EXPECT_EQ(applied(transport_.requests).size(), 5u);
}

TEST_F(ReconcilerTest, APipelineWhoseSourceIsNotPolledIsRevisitedOnlyAtTheResync) {
  scriptCreate(deploymentAnswer());
  const auto result = makeReconciler()->reconcile("shop/orders");
  ASSERT_TRUE(result.status.isOk());
  ASSERT_TRUE(result.requeueAfter.has_value());
  EXPECT_EQ(*result.requeueAfter, std::chrono::milliseconds(std::chrono::seconds(300)));
}

}  // namespace
}  // namespace sluice::controller

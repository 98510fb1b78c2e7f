// Reconciler's write path against a scripted transport (the order of the applies, what a restart
// skips, the first status) — what the real API server cannot show without timing: which requests
// were sent. The behaviour against the real server is in tests/operator/integration.
#include "operator/controller/reconciler.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "operator/controller/reasons.h"
#include "tests/kube/fake_transport.h"

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

// What the requests were, in order: "apply <resource>/<name>", "status", "event".
std::vector<std::string> writes(const std::vector<kube::HttpRequest>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    if (r.contentType.find("apply-patch") != std::string::npos) {
      out.push_back("apply " + r.path.substr(r.path.rfind('/', r.path.rfind('/') - 1) + 1));
    } else if (r.path.ends_with("/status")) {
      out.push_back("status");
    } else if (r.path.ends_with("/events")) {
      out.push_back("event " + json::parse(r.body).value("reason", ""));
    }
  }
  return out;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() {
    pipelines_.upsert(readPipeline("kafka-basic"));  // kafka:9092: not probed
    // The read before each apply of an owned object (is something else's in the way?): absent,
    // unless a test put an object there.
    transport_.answer = [this](const kube::HttpRequest& r) -> std::optional<kube::HttpResponse> {
      if (r.method != "GET" || r.path.find("/secrets/") != std::string::npos) return std::nullopt;
      if (const auto it = existing_.find(r.path); it != existing_.end())
        return kube::HttpResponse{200, it->second.dump()};
      return kube::HttpResponse{404, R"({"kind":"Status","reason":"NotFound"})"};
    };
  }

  std::unique_ptr<Reconciler> makeReconciler(bool deploymentFirst = true,
                                             std::vector<std::string> allowedImageRepositories = {}) {
    ReconcilerOptions options;
    options.workerImage = "ghcr.io/sluice-dev/sluice:test";
    options.deploymentFirst = deploymentFirst;
    options.allowedImageRepositories = std::move(allowedImageRepositories);
    return std::make_unique<Reconciler>(client_, pipelines_, deployments_, prober_, clock_, random_, options);
  }
  // Five applies (the Deployment's answer is `deployment`), then the Event and the status patch.
  void scriptCreate(const json& deployment) {
    for (int i = 0; i < 5; ++i) transport_.addResponse(200, i == 2 ? deployment.dump() : "{}");
    transport_.addResponse(201, "{}");
    transport_.addResponse(200, "{}");
  }
  // A new pipeline in two passes: the urgent one (three applies), then the rest.
  void createInTwoPasses(Reconciler& reconciler) {
    scriptCreate(deploymentAnswer());
    const auto urgent = reconciler.reconcile("shop/orders");
    ASSERT_TRUE(urgent.status.isOk()) << urgent.status.toString();
    ASSERT_TRUE(urgent.deferred);
    const auto rest = reconciler.reconcile("shop/orders");
    ASSERT_TRUE(rest.status.isOk()) << rest.status.toString();
    ASSERT_FALSE(rest.deferred);
  }
  // The Deployment as last applied, as the informer would hold it.
  json appliedDeployment() const {
    json deployment;
    for (const auto& r : transport_.requests) {
      if (r.method != "GET" && r.path.find("/deployments/") != std::string::npos)
        deployment = json::parse(r.body);
    }
    return deployment;
  }
  // The pipeline with the status last patched, as the informer would hold it.
  json pipelineWithPatchedStatus() const {
    json pipeline = readPipeline("kafka-basic");
    for (const auto& r : transport_.requests) {
      if (r.path.ends_with("/status")) pipeline["status"] = json::parse(r.body)["status"];
    }
    return pipeline;
  }
  static json deploymentAnswer() {
    return {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "orders-worker"}, {"namespace", "shop"}}},
            {"spec", {{"replicas", 2}}}};
  }

  std::map<std::string, json> existing_;  // path -> the object a GET finds there
  kube::testing::FakeTransport transport_;
  kube::Client client_{transport_};
  kube::ObjectCache pipelines_;
  kube::ObjectCache deployments_;
  SystemTcpProber prober_;
  common::FakeClock clock_;
  common::FixedRandom random_{0.5};  // no jitter
};

// A pipeline stored before the CRD bounded its strings (or written past validation) with a megabyte
// in one field: the reconcile is terminal, applies nothing, writes a SpecInvalid status that names the
// field and stays within the CRD's bounds, and the next pipeline reconciles as usual.
TEST_F(ReconcilerTest, AMegabyteFieldIsASpecInvalidConditionAndOtherPipelinesGoOn) {
  json huge = readPipeline("kafka-basic");
  huge["metadata"]["name"] = "huge";
  huge["spec"]["source"]["kafka"]["bootstrapServers"] = std::string(1 << 20, 'k') + ":9092";
  pipelines_.upsert(huge);
  auto reconciler = makeReconciler();
  transport_.addResponse(201, "{}");
  transport_.addResponse(200, "{}");
  const auto result = reconciler->reconcile("shop/huge");
  ASSERT_TRUE(result.status.isOk()) << result.status.toString();
  EXPECT_EQ(writes(transport_.requests), (std::vector<std::string>{"event SpecInvalid", "status"}));
  std::string message;
  for (const auto& r : transport_.requests) {
    if (!r.path.ends_with("/status")) continue;
    EXPECT_LT(r.body.size(), 64u * 1024);
    const json body = json::parse(r.body);
    for (const auto& c : body["status"]["conditions"]) {
      if (c["type"] == "Ready") message = c["message"];
    }
  }
  EXPECT_NE(message.find("spec.source.kafka.bootstrapServers must be at most 4096 characters"),
            std::string::npos)
      << message;

  createInTwoPasses(*reconciler);
}

TEST_F(ReconcilerTest, TheDeploymentFollowsTheAccountAndConfigMapAndPrecedesTheRbac) {
  scriptCreate(deploymentAnswer());
  const auto result = makeReconciler(false)->reconcile("shop/orders");
  ASSERT_TRUE(result.status.isOk()) << result.status.toString();
  EXPECT_FALSE(result.deferred);
  EXPECT_EQ(
      writes(transport_.requests),
      (std::vector<std::string>{"apply serviceaccounts/orders-worker", "apply configmaps/orders-pipeline",
                                "apply deployments/orders-worker", "apply roles/orders-worker",
                                "apply rolebindings/orders-worker", "event WorkersCreated", "status"}));
}

// An object at an owned name that the pipeline does not control is never written: no apply from
// it on, Ready=False and Degraded=True naming it and the fix, one Warning Event, and a look again
// after the probe interval (nothing watched announces that it is gone).
TEST_F(ReconcilerTest, AnAccountItDidNotCreateIsNotAdoptedAndBecomesAConditionNamingIt) {
  existing_["/api/v1/namespaces/shop/serviceaccounts/orders-worker"] = {
      {"apiVersion", "v1"},
      {"kind", "ServiceAccount"},
      {"metadata", {{"name", "orders-worker"}, {"namespace", "shop"}, {"uid", "someone-elses"}}}};
  transport_.addResponse(201, "{}");
  transport_.addResponse(200, "{}");
  const auto result = makeReconciler(false)->reconcile("shop/orders");
  ASSERT_TRUE(result.status.isOk()) << result.status.toString();
  EXPECT_EQ(writes(transport_.requests), (std::vector<std::string>{"event OwnedObjectConflict", "status"}));
  ASSERT_TRUE(result.requeueAfter.has_value());
  EXPECT_EQ(*result.requeueAfter, std::chrono::seconds(30));
  const json status = pipelineWithPatchedStatus()["status"];
  for (const char* type : {"Ready", "Degraded"}) {
    const json* c = findCondition(status, type);
    ASSERT_NE(c, nullptr) << type;
    EXPECT_EQ(c->value("reason", ""), "OwnedObjectConflict") << type;
    EXPECT_NE(c->value("message", "")
                  .find("ServiceAccount \"orders-worker\" already exists and is not "
                        "controlled by this ConsumerPipeline"),
              std::string::npos)
        << c->dump();
  }
}

// spec.worker.image outside the operator's allow-list: nothing applied, Ready=False and
// Degraded=True naming the field and the fix, one Warning Event; an allowed one is applied as usual.
TEST_F(ReconcilerTest, AnImageOutsideTheAllowListIsNotAppliedAndBecomesAConditionNamingIt) {
  json pipeline = readPipeline("kafka-basic");
  pipeline["spec"]["worker"]["image"] = "evil.example.com/miner:1";
  pipelines_.upsert(pipeline);
  transport_.addResponse(201, "{}");
  transport_.addResponse(200, "{}");
  const auto refused = makeReconciler(false, {"ghcr.io/sluice-dev/sluice"})->reconcile("shop/orders");
  ASSERT_TRUE(refused.status.isOk()) << refused.status.toString();
  EXPECT_FALSE(refused.requeueAfter.has_value());  // a spec change brings it back
  EXPECT_EQ(writes(transport_.requests), (std::vector<std::string>{"event ImageNotAllowed", "status"}));
  const json status = pipelineWithPatchedStatus()["status"];
  for (const char* type : {"Ready", "Degraded"}) {
    const json* c = findCondition(status, type);
    ASSERT_NE(c, nullptr) << type;
    EXPECT_EQ(c->value("reason", ""), "ImageNotAllowed") << type;
    EXPECT_NE(c->value("message", "").find("spec.worker.image \"evil.example.com/miner:1\" is not allowed"),
              std::string::npos)
        << c->dump();
  }

  transport_.requests.clear();
  pipeline["spec"]["worker"]["image"] = "ghcr.io/sluice-dev/sluice:0.2.0";
  pipelines_.upsert(pipeline);
  scriptCreate(deploymentAnswer());
  const auto allowed = makeReconciler(false, {"ghcr.io/sluice-dev/sluice"})->reconcile("shop/orders");
  ASSERT_TRUE(allowed.status.isOk()) << allowed.status.toString();
  EXPECT_EQ(applied(transport_.requests).size(), 5u);
}

TEST_F(ReconcilerTest, ANewPipelineGetsItsDeploymentInAFirstPassAndTheRestInASecond) {
  const auto reconciler = makeReconciler();
  scriptCreate(deploymentAnswer());
  const auto urgent = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(urgent.status.isOk()) << urgent.status.toString();
  EXPECT_TRUE(urgent.deferred);
  EXPECT_FALSE(urgent.requeueAfter.has_value());
  const json deployment = appliedDeployment();
  EXPECT_EQ(writes(transport_.requests), (std::vector<std::string>{"apply serviceaccounts/orders-worker",
                                                                   "apply configmaps/orders-pipeline",
                                                                   "apply deployments/orders-worker"}));

  transport_.requests.clear();
  const auto rest = reconciler->reconcile("shop/orders");  // the watch has not delivered the Deployment
  ASSERT_TRUE(rest.status.isOk()) << rest.status.toString();
  EXPECT_FALSE(rest.deferred);
  EXPECT_EQ(writes(transport_.requests),
            (std::vector<std::string>{"apply roles/orders-worker", "apply rolebindings/orders-worker",
                                      "event WorkersCreated", "status"}));

  transport_.requests.clear();
  transport_.addResponse(200, "{}");  // a status patch, if the status still changed
  deployments_.upsert(deployment);
  const auto again = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(again.status.isOk());
  for (const auto& write : writes(transport_.requests))
    EXPECT_EQ(write.rfind("apply", 0), std::string::npos) << write;
}

TEST_F(ReconcilerTest, WithZeroReplicasTheFirstPassIsTheDeploymentAlone) {
  json pipeline = readPipeline("kafka-basic");
  pipeline["spec"]["scaling"]["minReplicas"] =
      0;  // no pod starts yet: nothing needs the account or ConfigMap
  pipelines_.upsert(pipeline);
  const auto reconciler = makeReconciler();
  transport_.addResponse(200, deploymentAnswer().dump());
  const auto urgent = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(urgent.status.isOk()) << urgent.status.toString();
  EXPECT_TRUE(urgent.deferred);
  EXPECT_EQ(writes(transport_.requests), (std::vector<std::string>{"apply deployments/orders-worker"}));
  EXPECT_EQ(json::parse(transport_.requests.at(1).body).value("/spec/replicas"_json_pointer, -1),
            0);  // after the read of what is at the Deployment's name

  transport_.requests.clear();
  for (int i = 0; i < 4; ++i) transport_.addResponse(200, "{}");
  transport_.addResponse(201, "{}");
  transport_.addResponse(200, "{}");
  const auto rest = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(rest.status.isOk()) << rest.status.toString();
  EXPECT_FALSE(rest.deferred);
  EXPECT_EQ(writes(transport_.requests),
            (std::vector<std::string>{"apply serviceaccounts/orders-worker",
                                      "apply configmaps/orders-pipeline", "apply roles/orders-worker",
                                      "apply rolebindings/orders-worker", "event WorkersCreated", "status"}));
}

TEST_F(ReconcilerTest, UrgentUntilTheDeploymentIsAppliedOrCachedAndNeverWithoutDeploymentFirst) {
  const auto reconciler = makeReconciler();
  EXPECT_TRUE(reconciler->urgent("shop/orders"));
  EXPECT_FALSE(reconciler->urgent("shop/absent"));
  EXPECT_FALSE(makeReconciler(false)->urgent("shop/orders"));

  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(reconciler->reconcile("shop/orders").deferred);
  EXPECT_FALSE(reconciler->urgent("shop/orders"));  // applied; the rest is normal work

  const auto other = makeReconciler();  // another process: nothing applied by it
  EXPECT_TRUE(other->urgent("shop/orders"));
  deployments_.upsert(appliedDeployment());
  EXPECT_FALSE(other->urgent("shop/orders"));  // the watch delivered it
}

TEST_F(ReconcilerTest, APipelineWhoseGenerationWasReconciledIsNotUrgentWithoutItsDeployment) {
  // E.g. an invalid spec (no Deployment, ever) or a Deployment deleted by hand: normal work.
  json pipeline = readPipeline("kafka-basic");
  pipeline["status"]["observedGeneration"] = pipeline["metadata"]["generation"];
  pipelines_.upsert(pipeline);
  EXPECT_FALSE(makeReconciler()->urgent("shop/orders"));
  pipeline["metadata"]["generation"] = 4;  // a spec change not reconciled yet, and no Deployment
  pipelines_.upsert(pipeline);
  EXPECT_TRUE(makeReconciler()->urgent("shop/orders"));
}

TEST_F(ReconcilerTest, AFailedUrgentPassIsRetriedWhole) {
  const auto reconciler = makeReconciler();
  transport_.addResponse(200, "{}");
  transport_.addResponse(500, R"({"kind":"Status","message":"etcd timeout"})");
  EXPECT_FALSE(reconciler->reconcile("shop/orders").status.isOk());
  EXPECT_TRUE(reconciler->urgent("shop/orders"));
  transport_.requests.clear();
  scriptCreate(deploymentAnswer());
  const auto retried = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(retried.status.isOk());
  EXPECT_TRUE(retried.deferred);
  EXPECT_EQ(writes(transport_.requests).size(), 3u);
}

TEST_F(ReconcilerTest, TheFirstStatusDescribesTheDeploymentTheApplyReturned) {
  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(makeReconciler(false)->reconcile("shop/orders").status.isOk());
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
  createInTwoPasses(*makeReconciler());
  json deployment = appliedDeployment();
  ASSERT_TRUE(deployment.contains("/metadata/annotations"_json_pointer / kAppliedHashAnnotation));
  trimCachedDeployment(deployment);  // what the informers hold after the restart
  ASSERT_FALSE(deployment.contains("/spec/template"_json_pointer));
  ASSERT_TRUE(deployment.contains("/spec/replicas"_json_pointer));
  deployments_.upsert(deployment);
  pipelines_.upsert(pipelineWithPatchedStatus());

  transport_.requests.clear();
  transport_.addResponse(200, "{}");  // the status patch, if the status still changed
  const auto restarted = makeReconciler();
  EXPECT_FALSE(restarted->urgent("shop/orders"));
  ASSERT_TRUE(restarted->reconcile("shop/orders").status.isOk());
  EXPECT_TRUE(applied(transport_.requests).empty());

  // A spec change: the hash differs, everything is applied again, in one pass (the Deployment exists).
  json changed = pipelineWithPatchedStatus();
  changed["spec"]["batch"]["maxMessages"] = 100;
  changed["metadata"]["generation"] = 4;
  pipelines_.upsert(changed);
  transport_.requests.clear();
  scriptCreate(deploymentAnswer());
  const auto result = restarted->reconcile("shop/orders");
  ASSERT_TRUE(result.status.isOk());
  EXPECT_FALSE(result.deferred);
  EXPECT_EQ(applied(transport_.requests).size(), 5u);
}

TEST_F(ReconcilerTest, ARestartBetweenTheTwoPassesAppliesTheRbacAfterAll) {
  // The first pass left a Deployment carrying the hash, but no Role, RoleBinding or status yet.
  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(makeReconciler()->reconcile("shop/orders").deferred);
  deployments_.upsert(appliedDeployment());

  transport_.requests.clear();
  scriptCreate(deploymentAnswer());
  const auto restarted = makeReconciler();
  const auto result = restarted->reconcile("shop/orders");
  ASSERT_TRUE(result.status.isOk()) << result.status.toString();
  EXPECT_EQ(applied(transport_.requests).size(), 5u);  // the status does not show the generation reconciled
}

TEST_F(ReconcilerTest, TheResyncIsJitteredPerPipelineAndReappliesWhenItComes) {
  random_.set(0.0);  // the earliest: 300 s - 10 %
  const auto reconciler = makeReconciler();
  createInTwoPasses(*reconciler);
  deployments_.upsert(appliedDeployment());
  pipelines_.upsert(pipelineWithPatchedStatus());
  random_.set(0.999);                 // drawn for the next resync only
  transport_.addResponse(200, "{}");  // the status now describes the cached Deployment
  const auto visit = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(visit.status.isOk()) << visit.status.toString();
  EXPECT_EQ(visit.requeueAfter, std::chrono::milliseconds(270000));  // still the first draw
  pipelines_.upsert(pipelineWithPatchedStatus());
  transport_.requests.clear();

  clock_.advance(std::chrono::milliseconds(269999));
  const auto early = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(early.status.isOk()) << early.status.toString();
  EXPECT_EQ(early.requeueAfter, std::chrono::milliseconds(1));
  EXPECT_TRUE(writes(transport_.requests).empty());
  clock_.advance(std::chrono::milliseconds(1));
  scriptCreate(deploymentAnswer());
  const auto resynced = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(resynced.status.isOk());
  EXPECT_EQ(applied(transport_.requests).size(), 5u);
  EXPECT_EQ(resynced.requeueAfter, std::chrono::milliseconds(329940));  // 300 s x (1 + 0.1 x 0.998)
}

// A Secret the pipeline references is read on every reconcile; a new resourceVersion changes the
// pod template (the workers roll with the new credential) and the reconciler names the pipeline
// as a user of that Secret, so the operator's Secret watch queues it at once.
TEST_F(ReconcilerTest, ASecretWithANewResourceVersionRollsTheWorkers) {
  json pipeline = readPipeline("kafka-basic");
  pipeline["spec"]["source"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"},
                                                 {"secretRef", {{"name", "kafka-user"}}}};
  pipelines_.upsert(pipeline);
  const auto secret = [](const std::string& resourceVersion) {
    return json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata",
                 {{"name", "kafka-user"},
                  {"namespace", "shop"},
                  {"uid", "u-1"},
                  {"resourceVersion", resourceVersion}}},
                {"data", {{"username", "YWxpY2U="}, {"password", "czNjcjN0"}}}}
        .dump();
  };
  const auto reconciler = makeReconciler(false);
  EXPECT_TRUE(reconciler->pipelinesUsingSecret("shop", "kafka-user").empty());
  transport_.addResponse(200, secret("7"));
  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(reconciler->reconcile("shop/orders").status.isOk());
  ASSERT_EQ(transport_.requests.front().path, "/api/v1/namespaces/shop/secrets/kafka-user");
  json deployment = appliedDeployment();
  const json::json_pointer hashPath =
      "/spec/template/metadata/annotations"_json_pointer / kSecretsHashAnnotation;
  ASSERT_TRUE(deployment.contains(hashPath)) << deployment.dump();
  const std::string first = deployment.at(hashPath);
  EXPECT_EQ(first, secretsHash({{"kafka-user", {"u-1", "7", {}}}}));
  EXPECT_EQ(reconciler->pipelinesUsingSecret("shop", "kafka-user"), std::vector<std::string>{"shop/orders"});
  EXPECT_TRUE(reconciler->pipelinesUsingSecret("other", "kafka-user").empty());
  EXPECT_TRUE(reconciler->pipelinesUsingSecret("shop", "kafka-ca").empty());
  trimCachedDeployment(deployment);
  deployments_.upsert(deployment);

  // The same Secret again: nothing to apply (the status now describes the cached Deployment).
  transport_.requests.clear();
  transport_.addResponse(200, secret("7"));
  transport_.addResponse(200, "{}");
  ASSERT_TRUE(reconciler->reconcile("shop/orders").status.isOk());
  EXPECT_EQ(writes(transport_.requests), std::vector<std::string>{"status"});

  // The Secret changed: everything is applied again, with another pod template.
  transport_.requests.clear();
  transport_.addResponse(200, secret("8"));
  for (int i = 0; i < 6; ++i) transport_.addResponse(200, i == 2 ? deploymentAnswer().dump() : "{}");
  const auto rolled = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(rolled.status.isOk()) << rolled.status.toString();
  EXPECT_EQ(applied(transport_.requests).size(), 5u);
  EXPECT_EQ(writes(transport_.requests).back(), "status");
  const std::string second = appliedDeployment().at(hashPath);
  EXPECT_NE(second, first);
  EXPECT_EQ(second, secretsHash({{"kafka-user", {"u-1", "8", {}}}}));

  // The pipeline no longer references it: no longer queued by its changes.
  pipeline["spec"]["source"]["kafka"].erase("sasl");
  pipelines_.upsert(pipeline);
  for (int i = 0; i < 6; ++i) transport_.addResponse(200, i == 2 ? deploymentAnswer().dump() : "{}");
  ASSERT_TRUE(reconciler->reconcile("shop/orders").status.isOk());
  EXPECT_TRUE(reconciler->pipelinesUsingSecret("shop", "kafka-user").empty());
}

TEST_F(ReconcilerTest, APipelineWhoseSourceIsNotPolledIsRevisitedOnlyAtTheResync) {
  const auto reconciler = makeReconciler();
  scriptCreate(deploymentAnswer());
  ASSERT_TRUE(reconciler->reconcile("shop/orders").deferred);
  const auto result = reconciler->reconcile("shop/orders");
  ASSERT_TRUE(result.status.isOk());
  ASSERT_TRUE(result.requeueAfter.has_value());
  EXPECT_EQ(*result.requeueAfter, std::chrono::milliseconds(std::chrono::seconds(300)));
}

}  // namespace
}  // namespace sluice::controller

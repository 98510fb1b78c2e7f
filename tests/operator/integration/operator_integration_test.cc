// The operator against the real local control plane (scripts/dev-env up kube): etcd,
// kube-apiserver and kube-controller-manager (whose garbage collector deletes owned objects and
// whose Deployment controller creates ReplicaSets). Pods stay Pending: there is no kubelet.
// Each test runs its own operator subprocess watching only its own namespace.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>
#include <utility>

#include "kube/resources.h"
#include "tests/operator/integration/harness.h"
#include "tests/support/env_file.h"

namespace sluice::op::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace res = kube::resources;

class OperatorIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string out;
    const std::string crd = std::string(SLUICE_SOURCE_DIR) + "/crds/consumerpipelines.sluice.dev.yaml";
    crdApplied_ =
        kubectl("apply --server-side --force-conflicts -f '" + crd + "'", &out) == 0 &&
        kubectl("wait --for=condition=Established --timeout=60s crd/consumerpipelines.sluice.dev", &out) == 0;
    crdOutput_ = out;
  }

  void SetUp() override {
    ASSERT_TRUE(crdApplied_) << "applying the CRD failed: " << crdOutput_;
    cluster_ = connect();
    ASSERT_NE(cluster_, nullptr);
    ns_ = sluice::testing::uniqueName("op-it");
    auto created = client().create(
        res::kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.isOk()) << created.status().toString();
  }

  void TearDown() override {
    if (cluster_) (void)client().remove(res::kNamespaces, "", ns_);
  }

  kube::Client& client() { return *cluster_->client; }

  std::unique_ptr<OperatorProcess> startOperator(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--namespaces", ns_});
    auto op = std::make_unique<OperatorProcess>(extra);
    EXPECT_TRUE(op->start());
    return op;
  }

  json createPipeline(const std::string& name, int maxMessages = 500) {
    auto created = client().create(res::kConsumerPipelines, ns_, pipelineManifest(ns_, name, maxMessages));
    EXPECT_TRUE(created.isOk()) << created.status().toString();
    return created.isOk() ? *created : json();
  }

  bool exists(const kube::ResourceType& type, const std::string& name) {
    return client().get(type, ns_, name).isOk();
  }

  bool gone(const kube::ResourceType& type, const std::string& name) {
    auto got = client().get(type, ns_, name);
    return !got && got.status().code() == common::ErrorCode::kNotFound;
  }

  json get(const kube::ResourceType& type, const std::string& name) {
    auto got = client().get(type, ns_, name);
    return got.isOk() ? *got : json::object();
  }

  std::string deploymentHash(const std::string& pipeline) {
    return get(res::kDeployments, pipeline + "-worker")
        .value("/spec/template/metadata/annotations/sluice.dev~1spec-hash"_json_pointer, std::string());
  }

  bool setMaxMessages(const std::string& pipeline, int value) {
    auto patched = client().patch(res::kConsumerPipelines, ns_, pipeline,
                                  {{"spec", {{"batch", {{"maxMessages", value}}}}}});
    EXPECT_TRUE(patched.isOk()) << patched.status().toString();
    return patched.isOk();
  }

  // The message of the pipeline's condition `type` when its reason is `reason`; empty otherwise.
  std::string conditionMessage(const std::string& pipeline, const std::string& type,
                               const std::string& reason) {
    const json status = get(res::kConsumerPipelines, pipeline).value("status", json::object());
    for (const auto& c : status.value("conditions", json::array())) {
      if (c["type"] == type && c["reason"] == reason) return c.value("message", std::string());
    }
    return "";
  }

  int64_t observedGeneration(const std::string& pipeline) {
    return get(res::kConsumerPipelines, pipeline)
        .value("/status/observedGeneration"_json_pointer, int64_t{-1});
  }

  bool waitForOwnedObjects(const std::string& name) {
    return eventually(30s, [&] {
      return exists(res::kServiceAccounts, name + "-worker") && exists(res::kRoles, name + "-worker") &&
             exists(res::kRoleBindings, name + "-worker") && exists(res::kConfigMaps, name + "-pipeline") &&
             exists(res::kDeployments, name + "-worker");
    });
  }

  static bool crdApplied_;
  static std::string crdOutput_;
  std::unique_ptr<Cluster> cluster_;
  std::string ns_;
};

bool OperatorIntegration::crdApplied_ = false;
std::string OperatorIntegration::crdOutput_;

TEST_F(OperatorIntegration, ApplyCreatesOwnedObjectsWithOwnerReferencesAndStatus) {
  auto op = startOperator();
  const json pipeline = createPipeline("orders");
  const std::string uid = pipeline.value("/metadata/uid"_json_pointer, std::string());
  ASSERT_TRUE(waitForOwnedObjects("orders")) << op->log();
  for (const auto& [type, name] : std::vector<std::pair<const kube::ResourceType*, std::string>>{
           {&res::kServiceAccounts, "orders-worker"},
           {&res::kRoles, "orders-worker"},
           {&res::kRoleBindings, "orders-worker"},
           {&res::kConfigMaps, "orders-pipeline"},
           {&res::kDeployments, "orders-worker"}}) {
    const json refs = get(*type, name).value("/metadata/ownerReferences"_json_pointer, json::array());
    ASSERT_EQ(refs.size(), 1u) << type->kind;
    EXPECT_EQ(refs[0]["uid"], uid) << type->kind;
    EXPECT_EQ(refs[0]["controller"], true) << type->kind;
    EXPECT_EQ(refs[0]["blockOwnerDeletion"], true) << type->kind;
  }
  const json deployment = get(res::kDeployments, "orders-worker");
  EXPECT_EQ(deployment["spec"]["replicas"], 1);
  EXPECT_EQ(deployment["spec"]["template"]["spec"]["serviceAccountName"], "orders-worker");
  // The ConfigMap's manifest is what the worker reads: it carries the spec.
  EXPECT_NE(get(res::kConfigMaps, "orders-pipeline")["data"]["pipeline.yaml"].get<std::string>().find(
                "127.0.0.1:1"),
            std::string::npos);
  // Status: the Deployment controller made one replica (Pending, no kubelet); the source refuses.
  ASSERT_TRUE(eventually(30s, [&] {
    const json status = get(res::kConsumerPipelines, "orders").value("status", json::object());
    return status.value("observedGeneration", 0) == 1 && status.value("replicas", 0) == 1 &&
           status.contains("conditions") && status["conditions"].size() == 4;
  })) << get(res::kConsumerPipelines, "orders").dump(2);
  const json status = get(res::kConsumerPipelines, "orders")["status"];
  for (const auto& c : status["conditions"]) {
    if (c["type"] == "SourceReachable") {
      EXPECT_EQ(c["reason"], "Unreachable") << c.dump();
    }
    if (c["type"] == "Ready") {
      EXPECT_EQ(c["reason"], "WorkersNotReady") << c.dump();
    }
  }
}

TEST_F(OperatorIntegration, SpecChangeRollsTheDeploymentAndDeleteCollectsEverything) {
  auto op = startOperator();
  createPipeline("orders");
  ASSERT_TRUE(waitForOwnedObjects("orders")) << op->log();
  ASSERT_TRUE(eventually(30s, [&] { return observedGeneration("orders") == 1; }));
  const std::string before = deploymentHash("orders");
  ASSERT_FALSE(before.empty());

  ASSERT_TRUE(setMaxMessages("orders", 100));
  ASSERT_TRUE(eventually(30s, [&] { return deploymentHash("orders") != before; })) << op->log();
  // Rolled: the real Deployment controller started a second ReplicaSet for the new template.
  ASSERT_TRUE(eventually(30s, [&] {
    auto sets = client().list(res::kReplicaSets, ns_, {"sluice.dev/pipeline=orders", ""});
    return sets.isOk() && sets->items.size() == 2;
  }));
  ASSERT_TRUE(eventually(30s, [&] { return observedGeneration("orders") == 2; }));

  ASSERT_TRUE(client().remove(res::kConsumerPipelines, ns_, "orders").isOk());
  // The garbage collector of kube-controller-manager removes what the pipeline owned.
  EXPECT_TRUE(eventually(60s, [&] {
    return gone(res::kDeployments, "orders-worker") && gone(res::kConfigMaps, "orders-pipeline") &&
           gone(res::kServiceAccounts, "orders-worker") && gone(res::kRoles, "orders-worker") &&
           gone(res::kRoleBindings, "orders-worker");
  }));
}

TEST_F(OperatorIntegration, KillNineAndRestartMakesNoDuplicatesAndStatusContinues) {
  auto op = startOperator();
  createPipeline("orders");
  ASSERT_TRUE(waitForOwnedObjects("orders")) << op->log();
  ASSERT_TRUE(eventually(30s, [&] { return observedGeneration("orders") == 1; }));
  const std::string deploymentUid = get(res::kDeployments, "orders-worker")["metadata"]["uid"];
  op->kill(SIGKILL);
  EXPECT_EQ(op->wait(), 128 + SIGKILL);

  ASSERT_TRUE(setMaxMessages("orders", 42));
  auto restarted = startOperator();
  ASSERT_TRUE(eventually(30s, [&] { return observedGeneration("orders") == 2; })) << restarted->log();
  auto deployments = client().list(res::kDeployments, ns_, {"sluice.dev/pipeline=orders", ""});
  ASSERT_TRUE(deployments.isOk());
  ASSERT_EQ(deployments->items.size(), 1u);
  EXPECT_EQ(deployments->items[0]["metadata"]["uid"], deploymentUid);  // updated, not recreated
  auto events = client().list(res::kEvents, ns_, {"", "reason=WorkersCreated"});
  ASSERT_TRUE(events.isOk());
  EXPECT_EQ(events->items.size(), 1u);
}

TEST_F(OperatorIntegration, OnlyTheLeaderWritesAndAStandbyTakesOver) {
  auto a = startOperator({"--leader-elect", "--identity", "op-a", "--leader-election-namespace", ns_});
  ASSERT_TRUE(eventually(30s, [&] {
    return get(res::kLeases, "sluice-operator-leader")
               .value("/spec/holderIdentity"_json_pointer, std::string()) == "op-a";
  })) << a->log();
  auto b = startOperator({"--leader-elect", "--identity", "op-b", "--leader-election-namespace", ns_});
  createPipeline("orders");
  ASSERT_TRUE(waitForOwnedObjects("orders")) << a->log();
  ASSERT_TRUE(eventually(30s, [&] { return observedGeneration("orders") == 1; }));
  ASSERT_TRUE(eventually(10s, [&] { return b->metricsPort() != 0; }));
  EXPECT_GT(metricSum(a->scrapeMetrics(), "sluice_operator_reconciles_total"), 0);
  EXPECT_EQ(metricSum(b->scrapeMetrics(), "sluice_operator_reconciles_total"), 0) << b->log();
  EXPECT_EQ(metricSum(b->scrapeMetrics(), "sluice_operator_leader"), 0);

  a->kill(SIGKILL);  // no release: b waits out the 15 s lease
  a->wait();
  ASSERT_TRUE(setMaxMessages("orders", 7));
  ASSERT_TRUE(eventually(40s, [&] { return observedGeneration("orders") == 2; })) << b->log();
  EXPECT_EQ(get(res::kLeases, "sluice-operator-leader")["spec"]["holderIdentity"], "op-b");
  // Counted when the reconcile returns, just after the status write seen above.
  EXPECT_TRUE(
      eventually(5s, [&] { return metricSum(b->scrapeMetrics(), "sluice_operator_reconciles_total") > 0; }));
}

// A ServiceAccount at the worker's name that someone else created is never adopted: applying
// over it would give it the pipeline's controller owner reference (and so have the garbage
// collector delete it with the pipeline) and run the workers with its bindings. The pipeline says
// so in a condition naming the object and the fix; once the account is gone the operator creates
// its own.
TEST_F(OperatorIntegration, RefusesToAdoptAServiceAccountItDidNotCreate) {
  const json victim = {{"apiVersion", "v1"},
                       {"kind", "ServiceAccount"},
                       {"metadata",
                        {{"name", "victim-worker"},
                         {"namespace", ns_},
                         {"annotations", {{"example.com/owner", "payments team"}}}}}};
  ASSERT_TRUE(client().create(res::kServiceAccounts, ns_, victim).isOk());
  auto op = startOperator();
  const json pipeline = createPipeline("victim");
  const std::string uid = pipeline.value("/metadata/uid"_json_pointer, std::string());
  const bool refused = eventually(30s, [&] {
    return conditionMessage("victim", "Ready", "OwnedObjectConflict")
               .find(
                   "ServiceAccount \"victim-worker\" already exists and is not controlled by this "
                   "ConsumerPipeline") != std::string::npos;
  });
  const json account = get(res::kServiceAccounts, "victim-worker");
  EXPECT_EQ(account.value("/metadata/ownerReferences"_json_pointer, json::array()), json::array())
      << account.dump(2);
  ASSERT_TRUE(refused) << get(res::kConsumerPipelines, "victim").dump(2) << op->log();
  EXPECT_NE(conditionMessage("victim", "Degraded", "OwnedObjectConflict").find("delete or rename"),
            std::string::npos);
  EXPECT_TRUE(gone(res::kDeployments, "victim-worker"));  // nothing runs as that account
  EXPECT_TRUE(op->running());

  ASSERT_TRUE(client().remove(res::kServiceAccounts, ns_, "victim-worker").isOk());
  // Looked at again within the probe interval (30 s): nothing watched announces the deletion.
  ASSERT_TRUE(eventually(60s, [&] {
    return !get(res::kServiceAccounts, "victim-worker")
                .value("/metadata/ownerReferences"_json_pointer, json::array())
                .empty() &&
           exists(res::kDeployments, "victim-worker");
  })) << op->log();
  const json own = get(res::kServiceAccounts, "victim-worker");
  EXPECT_EQ(own.value("/metadata/ownerReferences/0/uid"_json_pointer, std::string()), uid) << own.dump(2);
  EXPECT_TRUE(
      eventually(30s, [&] { return conditionMessage("victim", "Ready", "OwnedObjectConflict").empty(); }));
}

// The worker Role the operator writes, as the API server's authorizer sees it for the worker's
// ServiceAccount: its own pipeline readable, heartbeat Leases written by server-side apply
// (create, patch), and nothing else: no reading Leases (so no finding other Leases' names), no
// other pipeline, no Pods, no Secrets, no deletes.
TEST_F(OperatorIntegration, TheWorkerAccountMayDoWhatItsHeartbeatNeedsAndNothingElse) {
  auto op = startOperator();
  createPipeline("orders");
  createPipeline("refunds");
  ASSERT_TRUE(waitForOwnedObjects("orders")) << op->log();
  const std::string as = " -n " + ns_ + " --as system:serviceaccount:" + ns_ + ":orders-worker";
  const auto can = [&](const std::string& what) {
    std::string out;
    return kubectl("auth can-i " + what + as, &out) == 0;
  };
  EXPECT_TRUE(eventually(10s, [&] { return can("get consumerpipelines.sluice.dev/orders"); }));
  for (const char* allowed :
       {"create leases.coordination.k8s.io", "patch leases.coordination.k8s.io/orders-worker-x"}) {
    EXPECT_TRUE(can(allowed)) << allowed;
  }
  for (const char* denied :
       {"get consumerpipelines.sluice.dev/refunds", "list consumerpipelines.sluice.dev",
        "update consumerpipelines.sluice.dev/orders", "get leases.coordination.k8s.io/refunds-worker-x",
        "list leases.coordination.k8s.io", "watch leases.coordination.k8s.io",
        "update leases.coordination.k8s.io/sluice-operator-leader",
        "delete leases.coordination.k8s.io/refunds-worker-x", "get pods", "list pods", "get secrets",
        "list secrets", "create pods", "get configmaps"}) {
    EXPECT_FALSE(can(denied)) << denied;
  }
}

// With an allow-list of worker image repositories, a pipeline naming another image gets no
// Deployment and a condition naming the field and the fix.
TEST_F(OperatorIntegration, AWorkerImageOutsideTheAllowListIsRefused) {
  auto op =
      startOperator({"--allowed-image-repositories", "ghcr.io/sluice-dev/sluice,registry.example.com/team/"});
  json manifest = pipelineManifest(ns_, "miner");
  manifest["spec"]["worker"]["image"] = "evil.example.com/miner:1";
  ASSERT_TRUE(client().create(res::kConsumerPipelines, ns_, manifest).isOk());
  json allowed = pipelineManifest(ns_, "mirrored");
  allowed["spec"]["worker"]["image"] = "registry.example.com/team/sluice:1";
  ASSERT_TRUE(client().create(res::kConsumerPipelines, ns_, allowed).isOk());
  ASSERT_TRUE(eventually(30s,
                         [&] {
                           return conditionMessage("miner", "Ready", "ImageNotAllowed")
                                      .find(
                                          "spec.worker.image \"evil.example.com/miner:1\" is not allowed") !=
                                  std::string::npos;
                         }))
      << get(res::kConsumerPipelines, "miner").dump(2) << op->log();
  ASSERT_TRUE(waitForOwnedObjects("mirrored")) << op->log();
  EXPECT_TRUE(gone(res::kDeployments, "miner-worker"));
  EXPECT_TRUE(gone(res::kServiceAccounts, "miner-worker"));
}

TEST_F(OperatorIntegration, MissingSecretBecomesAConditionNamingIt) {
  auto op = startOperator();
  json manifest = pipelineManifest(ns_, "secure");
  manifest["spec"]["source"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"},
                                                 {"secretRef", {{"name", "kafka-user"}}}};
  ASSERT_TRUE(client().create(res::kConsumerPipelines, ns_, manifest).isOk());
  ASSERT_TRUE(
      eventually(30s,
                 [&] {
                   return conditionMessage("secure", "Ready", "SecretNotFound").find("\"kafka-user\"") !=
                          std::string::npos;
                 }))
      << get(res::kConsumerPipelines, "secure").dump(2) << op->log();
  EXPECT_TRUE(op->running());  // a condition, not a crash
}

// The lag probe takes its SASL credentials from the Secret the spec names, read through the API,
// only when the Secret is labelled for it (docs/security.md): unlabelled, autoscaling stops with
// a Scaling condition saying so; labelled but without the password key, the condition names the key.
TEST_F(OperatorIntegration, LagProbeReadsTheSaslSecretAndAMissingKeyBecomesAScalingCondition) {
  const json secret = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", {{"name", "kafka-user"}, {"namespace", ns_}}},
                       {"stringData", {{"username", "alice"}}}};
  ASSERT_TRUE(client().create(res::kSecrets, ns_, secret).isOk());
  auto op = startOperator();
  json manifest = pipelineManifest(ns_, "secure");
  manifest["spec"]["source"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"},
                                                 {"secretRef", {{"name", "kafka-user"}}}};
  ASSERT_TRUE(client().create(res::kConsumerPipelines, ns_, manifest).isOk());
  ASSERT_TRUE(
      eventually(30s,
                 [&] {
                   return conditionMessage("secure", "Scaling", "ProbeCredentialsUnusable")
                              .find(
                                  "Secret \"kafka-user\" named by spec.source.kafka.sasl.secretRef is "
                                  "not labelled sluice.dev/lag-probe=true") != std::string::npos;
                 }))
      << get(res::kConsumerPipelines, "secure").dump(2) << op->log();
  auto labelled = client().patch(res::kSecrets, ns_, "kafka-user",
                                 {{"metadata", {{"labels", {{"sluice.dev/lag-probe", "true"}}}}}});
  ASSERT_TRUE(labelled.isOk()) << labelled.status().toString();
  // Secrets are not watched: the next look is the probe interval's (30 s).
  ASSERT_TRUE(eventually(45s,
                         [&] {
                           return conditionMessage("secure", "Scaling", "ProbeCredentialsUnusable")
                                      .find(
                                          "Secret \"kafka-user\" named by spec.source.kafka.sasl.secretRef "
                                          "has no key \"password\"") != std::string::npos;
                         }))
      << get(res::kConsumerPipelines, "secure").dump(2) << op->log();
  EXPECT_EQ(op->log().find("alice"), std::string::npos);  // Secret data never reaches the log
}

// A changed Secret rolls the workers at once: the operator watches the Secrets its pipelines
// reference, and the pod template carries a hash of their resourceVersions. The pipeline's source
// is a host name the operator does not contact (no --probe-non-loopback-sources): neither a TCP
// probe nor a lag probe queues it again, so without the watch its next reconcile would be the
// 5-minute resync; the roll must come within seconds.
TEST_F(OperatorIntegration, AChangedSecretRollsTheWorkersAtOnce) {
  const json secret = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", {{"name", "kafka-user"}, {"namespace", ns_}}},
                       {"stringData", {{"username", "alice"}, {"password", "pw-before-7c1"}}}};
  ASSERT_TRUE(client().create(res::kSecrets, ns_, secret).isOk());
  auto op = startOperator();
  json manifest = pipelineManifest(ns_, "rotated");
  manifest["spec"]["source"]["kafka"]["bootstrapServers"] = "kafka.invalid:9093";
  manifest["spec"]["source"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"},
                                                 {"secretRef", {{"name", "kafka-user"}}}};
  ASSERT_TRUE(client().create(res::kConsumerPipelines, ns_, manifest).isOk());
  const auto secretsHash = [&] {
    return get(res::kDeployments, "rotated-worker")
        .value("/spec/template/metadata/annotations/sluice.dev~1secrets-hash"_json_pointer, std::string());
  };
  const auto reconciles = [&] { return metricSum(op->scrapeMetrics(), "sluice_operator_reconciles_total"); };
  ASSERT_TRUE(eventually(30s, [&] { return !secretsHash().empty() && observedGeneration("rotated") == 1; }))
      << get(res::kDeployments, "rotated-worker").dump(2) << op->log();
  // Quiet first: the Deployment's early status updates queue reconciles of their own.
  double seen = reconciles();
  ASSERT_TRUE(eventually(30s, [&] {
    std::this_thread::sleep_for(3s);
    const double now = reconciles();
    return std::exchange(seen, now) == now;
  })) << op->log();
  const std::string before = secretsHash();
  const std::string specHash = deploymentHash("rotated");
  const int64_t generation =
      get(res::kDeployments, "rotated-worker").value("/metadata/generation"_json_pointer, int64_t{0});

  auto patched =
      client().patch(res::kSecrets, ns_, "kafka-user", {{"stringData", {{"password", "pw-after-9d2"}}}});
  ASSERT_TRUE(patched.isOk()) << patched.status().toString();
  ASSERT_TRUE(eventually(10s, [&] { return secretsHash() != before; }))
      << "no roll within 10 s of the Secret change\n"
      << get(res::kDeployments, "rotated-worker").dump(2) << op->log();
  const json deployment = get(res::kDeployments, "rotated-worker");
  EXPECT_GT(deployment.value("/metadata/generation"_json_pointer, int64_t{0}),
            generation);                                         // a new pod template
  EXPECT_EQ(deploymentHash("rotated"), specHash);                // the spec did not change
  EXPECT_EQ(op->log().find("pw-after-9d2"), std::string::npos);  // Secret data never reaches the log
  EXPECT_EQ(deployment.dump().find("pw-after-9d2"), std::string::npos);
}

TEST_F(OperatorIntegration, GracefulStopOnSigterm) {
  auto op = startOperator();
  ASSERT_TRUE(eventually(10s, [&] { return op->metricsPort() != 0; }));
  op->kill(SIGTERM);
  EXPECT_EQ(op->wait(), 0) << op->log();
}

}  // namespace
}  // namespace sluice::op::testing

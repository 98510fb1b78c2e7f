#include "operator/controller/desired.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "common/spec/parse.h"

namespace sluice::controller {
namespace {

using nlohmann::json;

const std::string kTestdata = std::string(SLUICE_SOURCE_DIR) + "/tests/operator/testdata/";

json readJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "missing " << path;
  return json::parse(in, nullptr, false);
}

struct Loaded {
  json object;
  spec::ConsumerPipeline pipeline;
};

Loaded load(const std::string& name) {
  Loaded out{readJson(kTestdata + "pipelines/" + name + ".json"), {}};
  auto parsed = spec::parsePipelineJson(out.object);
  EXPECT_TRUE(parsed.ok()) << parsed.errorText();
  out.pipeline = parsed.pipeline;
  return out;
}

json render(const Loaded& loaded, std::optional<int> replicas) {
  const auto objects =
      desiredObjects(loaded.pipeline, loaded.object, {"ghcr.io/sluice-dev/sluice:test", replicas, {}});
  return {{"serviceAccount", objects.serviceAccount},
          {"role", objects.role},
          {"roleBinding", objects.roleBinding},
          {"configMap", objects.configMap},
          {"deployment", objects.deployment}};
}

// Golden files: SLUICE_UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
void expectGolden(const json& actual, const std::string& name) {
  const std::string path = kTestdata + "desired/" + name + ".golden.json";
  const char* update = std::getenv("SLUICE_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path) << actual.dump(2) << "\n";
    return;
  }
  const json expected = readJson(path);
  EXPECT_EQ(actual, expected) << "rendered objects differ from " << path
                              << " (SLUICE_UPDATE_GOLDEN=1 regenerates it)\n--- actual:\n"
                              << actual.dump(2);
}

class DesiredGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(DesiredGolden, MatchesTheGoldenFile) {
  const auto loaded = load(GetParam());
  expectGolden(render(loaded, defaultReplicas(loaded.pipeline.spec.scaling)), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Pipelines, DesiredGolden,
                         ::testing::Values("kafka-basic", "kafka-secrets", "nats", "nats-secrets"));

TEST(Desired, EveryObjectIsOwnedByThePipelineAsController) {
  const auto loaded = load("kafka-basic");
  const json rendered = render(loaded, 2);
  for (const auto& [kind, object] : rendered.items()) {
    const auto& refs = object["metadata"]["ownerReferences"];
    ASSERT_EQ(refs.size(), 1u) << kind;
    EXPECT_EQ(refs[0]["uid"], "0b5e6a52-1111-4c1e-9a55-000000000001") << kind;
    EXPECT_EQ(refs[0]["kind"], "ConsumerPipeline") << kind;
    EXPECT_EQ(refs[0]["controller"], true) << kind;
    EXPECT_EQ(refs[0]["blockOwnerDeletion"], true) << kind;
    EXPECT_EQ(object["metadata"]["labels"]["sluice.dev/pipeline"], "orders") << kind;
  }
}

TEST(Desired, DeploymentIsLockedDown) {
  const auto loaded = load("kafka-basic");
  const json d = render(loaded, 2)["deployment"];
  const json& pod = d["spec"]["template"]["spec"];
  const json& c = pod["containers"][0];
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 65532);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], json::array({"ALL"}));
  EXPECT_EQ(pod["terminationGracePeriodSeconds"], 70);  // drainSeconds 60 + 10
  EXPECT_EQ(c["args"], json::array({"--config", "/etc/sluice/pipeline.yaml"}));
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"], "9400");
  EXPECT_EQ(c["image"], "ghcr.io/sluice-dev/sluice:test");
  EXPECT_EQ(d["spec"]["replicas"], 2);
}

TEST(Desired, ReplicasAreLeftOutWhenAnotherManagerOwnsThem) {
  const auto loaded = load("kafka-basic");
  EXPECT_FALSE(render(loaded, std::nullopt)["deployment"]["spec"].contains("replicas"));
}

TEST(Desired, NatsKeyOrderingRollsOutWithoutASecondWorker) {
  auto loaded = load("nats");
  EXPECT_FALSE(render(loaded, 1)["deployment"]["spec"].contains("strategy")) << "ordering none: rolling";
  loaded.object["spec"]["processing"]["ordering"] = "key";
  loaded.object["spec"]["source"]["nats"]["keySubjectToken"] = 2;
  loaded.object["spec"]["scaling"]["minReplicas"] = 0;
  loaded.object["spec"]["scaling"]["maxReplicas"] = 1;
  auto parsed = spec::parsePipelineJson(loaded.object);
  ASSERT_TRUE(parsed.ok()) << parsed.errorText();
  loaded.pipeline = parsed.pipeline;
  EXPECT_EQ(render(loaded, 1)["deployment"]["spec"]["strategy"],
            json({{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 1}}}}));
}

TEST(Desired, DefaultReplicasAreMinReplicasWithinBounds) {
  spec::ScalingSpec s;
  s.minReplicas = 3;
  s.maxReplicas = 10;
  EXPECT_EQ(defaultReplicas(s), 3);
  s.minReplicas = 0;
  EXPECT_EQ(defaultReplicas(s), 0);
  s.minReplicas = 12;
  EXPECT_EQ(defaultReplicas(s), 10);
}

TEST(Desired, SpecChangeChangesTheHashButScalingDoesNot) {
  auto loaded = load("kafka-basic");
  const std::string before = specHash(loaded.object);
  json scaled = loaded.object;
  scaled["spec"]["scaling"]["maxReplicas"] = 40;
  EXPECT_EQ(specHash(scaled), before);
  json changed = loaded.object;
  changed["spec"]["batch"]["maxMessages"] = 100;
  EXPECT_NE(specHash(changed), before);
  auto parsed = spec::parsePipelineJson(changed);
  const auto d = desiredDeployment(parsed.pipeline, changed, {"img", 1, {}});
  EXPECT_EQ(d["spec"]["template"]["metadata"]["annotations"][kSpecHashAnnotation], specHash(changed));
}

TEST(Desired, SecretsAreMountedAndTheManifestPointsAtThem) {
  const auto loaded = load("kafka-secrets");
  const auto uses = referencedSecrets(loaded.pipeline.spec);
  ASSERT_EQ(uses.size(), 3u);
  EXPECT_EQ(uses[1].field, "spec.source.kafka.sasl.secretRef");
  const json manifest = workerManifest(loaded.object);
  EXPECT_EQ(manifest["spec"]["source"]["kafka"]["tls"]["caFile"], "/var/run/secrets/sluice/kafka-ca/ca.crt");
  EXPECT_EQ(manifest["spec"]["source"]["kafka"]["sasl"]["passwordFile"],
            "/var/run/secrets/sluice/kafka-user/password");
  // The manifest the worker reads parses back into the same pipeline.
  auto reparsed =
      spec::parsePipelineYaml(desiredConfigMap(loaded.pipeline, loaded.object)["data"]["pipeline.yaml"]);
  EXPECT_TRUE(reparsed.ok()) << reparsed.errorText();
  const json pod =
      desiredDeployment(loaded.pipeline, loaded.object, {"img", 0, {}})["spec"]["template"]["spec"];
  int secretVolumes = 0;
  for (const auto& v : pod["volumes"]) secretVolumes += v.contains("secret") ? 1 : 0;
  EXPECT_EQ(secretVolumes, 2);  // kafka-user is mounted once though named twice
}

// With a secretRef, a NATS auth *File field that names a key of the Secret is pointed at the mount;
// which field is set is the way of authenticating, so none is added (a secretRef with no way set is
// rejected by the CRD and the spec parser: tests/crds/crd_cases.h, NatsAuthSecretRefAlone).
TEST(Desired, NatsAuthFilesNamingSecretKeysPointIntoTheMount) {
  struct Case {
    const char* name;
    json auth;
    json want;
  };
  const std::string mount = "/var/run/secrets/sluice/nats-user/";
  const json ref = {{"name", "nats-user"}};
  const std::vector<Case> cases = {
      {"bare key",
       {{"secretRef", ref}, {"credsFile", "user.creds"}},
       {{"secretRef", ref}, {"credsFile", mount + "user.creds"}}},
      {"mount path kept",
       {{"secretRef", ref}, {"nkeySeedFile", mount + "seed"}},
       {{"secretRef", ref}, {"nkeySeedFile", mount + "seed"}}},
      {"user and password",
       {{"secretRef", ref}, {"usernameFile", "user"}, {"passwordFile", "pass"}},
       {{"secretRef", ref}, {"usernameFile", mount + "user"}, {"passwordFile", mount + "pass"}}},
      {"other path kept",
       {{"secretRef", ref}, {"tokenFile", "/etc/nats/token"}},
       {{"secretRef", ref}, {"tokenFile", "/etc/nats/token"}}},
      {"relative path kept",
       {{"secretRef", ref}, {"tokenFile", "nats/token"}},
       {{"secretRef", ref}, {"tokenFile", "nats/token"}}},
      {"no secretRef: files on the worker", {{"tokenFile", "token"}}, {{"tokenFile", "token"}}},
  };
  for (const auto& c : cases) {
    json object = load("nats").object;
    object["spec"]["source"]["nats"]["auth"] = c.auth;
    EXPECT_EQ(workerManifest(object)["spec"]["source"]["nats"]["auth"], c.want) << c.name;
    ASSERT_TRUE(spec::parsePipelineJson(object).ok()) << c.name;
  }
}

// #18 item 10: destinations on clusters of their own carry their own credentials; the operator
// mounts their Secrets and points their files into the mounts, as for the source.
TEST(Desired, DestinationCredentialsAreMountedAndPointedAt) {
  json object = load("nats").object;
  object["spec"]["sink"] = {{"nats",
                             {{"servers", {"tls://other:4222"}},
                              {"subject", "out"},
                              {"tls", {{"secretRef", {{"name", "sink-tls"}}}}},
                              {"auth", {{"secretRef", {{"name", "sink-user"}}}, {"nkeySeedFile", "seed"}}}}}};
  object["spec"]["processing"]["deadLetter"] = {
      {"kafka",
       {{"topic", "dlq"},
        {"bootstrapServers", "dlq-kafka:9093"},
        {"sasl", {{"mechanism", "SCRAM-SHA-512"}, {"secretRef", {{"name", "dlq-user"}}}}}}}};
  const auto parsed = spec::parsePipelineJson(object);
  ASSERT_TRUE(parsed.ok()) << parsed.errorText();
  std::set<std::string> fields;
  for (const auto& use : referencedSecrets(parsed.pipeline.spec)) fields.insert(use.name + " " + use.field);
  EXPECT_TRUE(fields.count("sink-tls spec.sink.nats.tls.secretRef"));
  EXPECT_TRUE(fields.count("sink-user spec.sink.nats.auth.secretRef"));
  EXPECT_TRUE(fields.count("dlq-user spec.processing.deadLetter.kafka.sasl.secretRef"));
  const json manifest = workerManifest(object);
  EXPECT_EQ(manifest["spec"]["sink"]["nats"]["auth"]["nkeySeedFile"],
            "/var/run/secrets/sluice/sink-user/seed");
  EXPECT_EQ(manifest["spec"]["sink"]["nats"]["tls"]["caFile"], "/var/run/secrets/sluice/sink-tls/ca.crt");
  EXPECT_EQ(manifest["spec"]["processing"]["deadLetter"]["kafka"]["sasl"]["usernameFile"],
            "/var/run/secrets/sluice/dlq-user/username");
}

// A TLS Secret read with only ca.crt (server authentication, e.g. with SASL) gives the worker no
// client certificate: before, certFile/keyFile pointed at tls.crt/tls.key, files the mount does
// not have, and the worker's Kafka client refused to start. Absent SASL keys are left to the
// worker's environment the same way. Secrets not read keep every default.
TEST(Desired, AbsentFilesPointOnlyAtDefaultKeysTheSecretHolds) {
  const auto loaded = load("kafka-secrets");
  const std::map<std::string, ReadSecret> read = {{"kafka-ca", {"uid-ca", "10", {"ca.crt"}}},
                                                  {"kafka-user", {"uid-user", "11", {"password"}}}};
  const json source = workerManifest(loaded.object, read)["spec"]["source"]["kafka"];
  EXPECT_EQ(source["tls"]["caFile"], "/var/run/secrets/sluice/kafka-ca/ca.crt");
  EXPECT_FALSE(source["tls"].contains("certFile")) << source.dump();
  EXPECT_FALSE(source["tls"].contains("keyFile")) << source.dump();
  EXPECT_FALSE(source["sasl"].contains("usernameFile")) << source.dump();
  EXPECT_EQ(source["sasl"]["passwordFile"], "/var/run/secrets/sluice/kafka-user/password");

  const auto objects = desiredObjects(loaded.pipeline, loaded.object, {"img", 1, read});
  const json cm = json::parse(objects.configMap["data"]["pipeline.yaml"].get<std::string>());
  EXPECT_FALSE(cm["spec"]["source"]["kafka"]["tls"].contains("certFile"));
  auto reparsed = spec::parsePipelineJson(cm);
  EXPECT_TRUE(reparsed.ok()) << reparsed.errorText();

  const json full =
      workerManifest(loaded.object, {{"kafka-ca", {"u", "1", {"ca.crt", "tls.crt", "tls.key"}}}});
  EXPECT_EQ(full["spec"]["source"]["kafka"]["tls"]["certFile"], "/var/run/secrets/sluice/kafka-ca/tls.crt");
  EXPECT_EQ(full["spec"]["source"]["kafka"]["sasl"]["usernameFile"],
            "/var/run/secrets/sluice/kafka-user/username");  // kafka-user not read: defaults
}

// A changed, replaced, created or deleted Secret changes the pod template (the workers roll and
// read the new credential); the same Secrets make the same template; the spec hash stays. The
// annotation is built from uids and resourceVersions, never from the data.
TEST(Desired, AChangedSecretChangesThePodTemplateAndNothingElse) {
  const auto loaded = load("kafka-secrets");
  const std::map<std::string, ReadSecret> before = {
      {"kafka-ca", {"uid-ca", "10", {"ca.crt"}}},
      {"kafka-user", {"uid-user", "11", {"username", "password"}}}};
  const auto annotations = [&](const std::map<std::string, ReadSecret>& read) {
    return desiredDeployment(loaded.pipeline, loaded.object,
                             {"img", 1, read})["spec"]["template"]["metadata"]["annotations"];
  };
  const json base = annotations(before);
  ASSERT_TRUE(base.contains(kSecretsHashAnnotation)) << base.dump();
  EXPECT_EQ(base[kSecretsHashAnnotation], secretsHash(before));
  EXPECT_EQ(annotations(before), base);

  auto changed = before;
  changed["kafka-user"].resourceVersion = "12";
  auto replaced = before;
  replaced["kafka-user"].uid = "uid-user-2";
  auto deleted = before;
  deleted.erase("kafka-ca");
  for (const auto& other : {changed, replaced, deleted}) {
    const json a = annotations(other);
    EXPECT_NE(a[kSecretsHashAnnotation], base[kSecretsHashAnnotation]);
    EXPECT_EQ(a[kSpecHashAnnotation], base[kSpecHashAnnotation]);
  }
  auto sameVersionsOtherKeys = before;
  sameVersionsOtherKeys["kafka-user"].keys = {"password"};  // keys come with a new resourceVersion anyway
  EXPECT_EQ(annotations(sameVersionsOtherKeys)[kSecretsHashAnnotation], base[kSecretsHashAnnotation]);
  // No Secret read (none referenced, or none exists yet): no annotation, as before this existed.
  EXPECT_FALSE(annotations({}).contains(kSecretsHashAnnotation));
  EXPECT_EQ(secretsHash({}), "");
}

// The same rule for tls and sasl blocks: a field naming a key is pointed at it, absent ones at the
// default keys.
TEST(Desired, KafkaTlsFieldNamingASecretKeyPointsIntoTheMount) {
  json object = load("kafka-secrets").object;
  object["spec"]["source"]["kafka"]["tls"]["caFile"] = "bundle.pem";
  const json tls = workerManifest(object)["spec"]["source"]["kafka"]["tls"];
  EXPECT_EQ(tls["caFile"], "/var/run/secrets/sluice/kafka-ca/bundle.pem");
  EXPECT_EQ(tls["certFile"], "/var/run/secrets/sluice/kafka-ca/tls.crt");
}

// #18: HTTP auth headers could only be written inline, so the token sat in the spec and the
// worker's ConfigMap. A headersFrom entry names a Secret key: the Secret is mounted, the manifest
// points valueFile at the key, and no value is rendered anywhere.
TEST(Desired, HttpHeadersFromASecretAreMountedAndReadFromTheMount) {
  json object = load("kafka-secrets").object;
  object["spec"]["sink"] = {
      {"http",
       {{"url", "http://ingest.shop/batch"},
        {"headersFrom",
         json::array({{{"name", "Authorization"},
                       {"secretKeyRef", {{"name", "ingest-token"}, {"key", "authorization"}}}}})}}}};
  auto parsed = spec::parsePipelineJson(object);
  ASSERT_TRUE(parsed.ok()) << parsed.errorText();
  const auto uses = referencedSecrets(parsed.pipeline.spec);
  ASSERT_FALSE(uses.empty());
  EXPECT_EQ(uses.back().name, "ingest-token");
  EXPECT_EQ(uses.back().field, "spec.sink.http.headersFrom[0].secretKeyRef");
  const json manifest = workerManifest(object);
  EXPECT_EQ(manifest["spec"]["sink"]["http"]["headersFrom"][0]["valueFile"],
            "/var/run/secrets/sluice/ingest-token/authorization");
  const json pod = desiredDeployment(parsed.pipeline, object, {"img", 0, {}})["spec"]["template"]["spec"];
  bool mounted = false;
  for (const auto& m : pod["containers"][0]["volumeMounts"])
    mounted = mounted || m["mountPath"] == "/var/run/secrets/sluice/ingest-token";
  EXPECT_TRUE(mounted) << pod.dump(2);
  auto reparsed = spec::parsePipelineYaml(desiredConfigMap(parsed.pipeline, object)["data"]["pipeline.yaml"]);
  ASSERT_TRUE(reparsed.ok()) << reparsed.errorText();
  EXPECT_EQ(reparsed.pipeline.spec.sink.http->headersFrom[0].valueFile,
            "/var/run/secrets/sluice/ingest-token/authorization");
}

TEST(Desired, RoleGrantsOnlyItsPipelineAndLeases) {
  const auto loaded = load("kafka-basic");
  const json rules = desiredRole(loaded.pipeline, loaded.object)["rules"];
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0]["resourceNames"], json::array({"orders"}));
  EXPECT_EQ(rules[0]["verbs"], json::array({"get"}));
  EXPECT_EQ(rules[1]["apiGroups"], json::array({"coordination.k8s.io"}));
  for (const auto& rule : rules) {
    for (const auto& verb : rule["verbs"]) EXPECT_NE(verb, "delete");
    for (const auto& resource : rule["resources"]) EXPECT_NE(resource, "*");
  }
}

// The heartbeat Lease's owner reference needs the pod's name and uid: both come from the downward
// API, so the worker never reads its pod and its Role grants nothing on pods.
TEST(Desired, WorkerGetsItsPodIdentityFromTheDownwardApiNotFromPodAccess) {
  const auto loaded = load("kafka-basic");
  const json deployment = desiredDeployment(loaded.pipeline, loaded.object, {"img", std::nullopt, {}});
  std::map<std::string, std::string> fieldPaths;
  for (const auto& var : deployment["spec"]["template"]["spec"]["containers"][0]["env"]) {
    const std::string path = var.value("/valueFrom/fieldRef/fieldPath"_json_pointer, std::string());
    if (!path.empty()) fieldPaths[var["name"]] = path;
  }
  EXPECT_EQ(fieldPaths, (std::map<std::string, std::string>{{"POD_NAME", "metadata.name"},
                                                            {"POD_NAMESPACE", "metadata.namespace"},
                                                            {"POD_UID", "metadata.uid"}}));
  const json role =
      desiredRole(loaded.pipeline, loaded.object);  // not a temporary: the loop ranges over a part of it
  for (const auto& rule : role["rules"]) {
    for (const auto& resource : rule["resources"]) EXPECT_NE(resource, "pods");
  }
}

}  // namespace
}  // namespace sluice::controller

// The CRD against the real kube-apiserver that `scripts/dev-env up` starts: it installs and becomes
// Established, every manifest of the shared invalid table is rejected at `kubectl apply` with a message
// naming the field, valid manifests are accepted with the defaults filled in (and the stored object still
// parses with the C++ model), and the status subresource feeds the printer columns.
//
// kubectl (what users run) drives the API server; each run works in its own namespace, deleted at the end.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/spec/parse.h"
#include "common/spec/pipeline.h"
#include "tests/crds/crd_cases.h"
#include "tests/support/env_file.h"

namespace sluice::crdtest {
namespace {

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr together
};

std::string shellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult runShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class CrdApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kubeconfig_ = new std::string(testing::requireServiceEnv("KUBECONFIG"));
    if (kubeconfig_->empty()) return;
    char tmpl[] = "/tmp/sluice-crd-test-XXXXXX";
    workDir_ = new std::string(::mkdtemp(tmpl));
    namespace_ = new std::string(testing::uniqueName("crd"));

    const auto applied = kubectl("apply --server-side --force-conflicts --field-manager=sluice-crd-test -f " +
                                 shellQuote(std::string(SLUICE_SOURCE_DIR) + "/" + kCrdRelativePath));
    if (applied.exitCode != 0) {
      setupError_ = new std::string("applying the CRD failed:\n" + applied.output);
      return;
    }
    const auto established =
        kubectl("wait --for=condition=Established --timeout=60s crd/consumerpipelines.sluice.dev");
    if (established.exitCode != 0) {
      setupError_ = new std::string("the CRD did not become Established:\n" + established.output);
      return;
    }
    const auto created = kubectl("create namespace " + *namespace_);
    if (created.exitCode != 0) {
      setupError_ = new std::string("creating the namespace failed:\n" + created.output);
      return;
    }
    // Discovery may lag Established by a moment: poll with a deadline until kubectl can list the kind.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    CommandResult listed;
    while (std::chrono::steady_clock::now() < deadline) {
      listed = kubectl("get consumerpipelines -n " + *namespace_);
      if (listed.exitCode == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    setupError_ = new std::string("kubectl cannot list consumerpipelines:\n" + listed.output);
  }

  static void TearDownTestSuite() {
    if (namespace_ != nullptr && kubeconfig_ != nullptr && !kubeconfig_->empty()) {
      kubectl("delete namespace " + *namespace_ + " --wait=false --ignore-not-found");
    }
    if (workDir_ != nullptr) std::filesystem::remove_all(*workDir_);
  }

  void SetUp() override {
    if (kubeconfig_->empty()) GTEST_SKIP() << "no KUBECONFIG";  // requireServiceEnv already failed the test
    ASSERT_EQ(setupError_, nullptr) << *setupError_;
  }

  static CommandResult kubectl(const std::string& args) {
    return runShell("KUBECONFIG=" + shellQuote(*kubeconfig_) + " kubectl --request-timeout=30s " + args);
  }

  // Writes the manifest (moved into this run's namespace) to a file and `kubectl apply`s it.
  static CommandResult apply(const std::string& manifest, const std::string& name) {
    const std::string path = *workDir_ + "/" + name + ".yaml";
    std::ofstream(path) << withField("metadata.namespace", *namespace_, manifest);
    return kubectl("apply -f " + shellQuote(path));
  }

  static nlohmann::json getJson(const std::string& name) {
    const auto got = kubectl("get consumerpipeline " + name + " -n " + *namespace_ + " -o json");
    if (got.exitCode != 0) {
      ADD_FAILURE() << got.output;
      return nlohmann::json::object();
    }
    return nlohmann::json::parse(got.output);
  }

  static std::string* kubeconfig_;
  static std::string* workDir_;
  static std::string* namespace_;
  static std::string* setupError_;
};

std::string* CrdApiServerTest::kubeconfig_ = nullptr;
std::string* CrdApiServerTest::workDir_ = nullptr;
std::string* CrdApiServerTest::namespace_ = nullptr;
std::string* CrdApiServerTest::setupError_ = nullptr;

std::string lowerDashed(const std::string& camel) {
  std::string out;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c)) != 0) {
      if (!out.empty()) out += '-';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

// --- the shared invalid table
// --------------------------------------------------------------------------------

class RejectedByApiServerTest : public CrdApiServerTest, public ::testing::WithParamInterface<RejectCase> {};

TEST_P(RejectedByApiServerTest, KubectlApplyIsRejectedNamingTheField) {
  const auto& c = GetParam();
  std::string manifest = manifestOf(c);
  // Keep the object name valid (except in the name cases) and distinct per case.
  if (c.name.rfind("Name", 0) != 0) manifest = withField("metadata.name", lowerDashed(c.name), manifest);
  const auto result = apply(manifest, "reject-" + lowerDashed(c.name));
  ASSERT_NE(result.exitCode, 0) << "the API server accepted it:\n" << manifest << "\n" << result.output;
  EXPECT_NE(result.output.find(c.apiFragment), std::string::npos)
      << "expected: " << c.apiFragment << "\nkubectl said:\n"
      << result.output;
}

INSTANTIATE_TEST_SUITE_P(Cases, RejectedByApiServerTest, ::testing::ValuesIn(rejectCases()),
                         [](const ::testing::TestParamInfo<RejectCase>& p) { return p.param.name; });

// --- accepted manifests
// -------------------------------------------------------------------------------------

class AcceptedByApiServerTest : public CrdApiServerTest, public ::testing::WithParamInterface<AcceptCase> {};

TEST_P(AcceptedByApiServerTest, StoredObjectParsesWithTheModel) {
  const auto& c = GetParam();
  const std::string name = "accept-" + lowerDashed(c.name);
  const std::string manifest = withField("metadata.name", name, manifestOf(c));
  const auto result = apply(manifest, name);
  ASSERT_EQ(result.exitCode, 0) << result.output << "\n" << manifest;
  const nlohmann::json stored = getJson(name);
  // What the API server stored (defaults filled in, unknown fields pruned) is what the operator reads.
  const auto outcome = spec::parsePipelineJson(stored);
  EXPECT_TRUE(outcome.ok()) << outcome.errorText() << "\n" << stored.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Cases, AcceptedByApiServerTest, ::testing::ValuesIn(acceptCases()),
                         [](const ::testing::TestParamInfo<AcceptCase>& p) { return p.param.name; });

TEST_F(CrdApiServerTest, DefaultsAreFilledInFromTheSchema) {
  std::string manifest = withField("metadata.name", "defaults");
  manifest = withField("spec.source.kafka.tls", "{secretRef: {name: kafka-tls}}", manifest);
  manifest = withField("spec.scaling", "{drainSeconds: 60}", manifest);
  ASSERT_EQ(apply(manifest, "defaults").exitCode, 0);
  const nlohmann::json s = getJson("defaults")["spec"];
  ASSERT_TRUE(s.is_object());

  const spec::BatchSpec batch;
  const spec::RetrySpec retry;
  const spec::BackpressureSpec backpressure;
  const spec::ScalingSpec scaling;
  EXPECT_EQ(s["batch"]["maxMessages"], batch.maxMessages);
  EXPECT_EQ(s["batch"]["maxBytes"], batch.maxBytes);
  EXPECT_EQ(s["batch"]["maxWaitMs"], batch.maxWaitMs);
  EXPECT_EQ(s["processing"]["concurrency"], spec::ProcessingSpec{}.concurrency);
  EXPECT_EQ(s["processing"]["retry"]["maxAttempts"], retry.maxAttempts);
  EXPECT_DOUBLE_EQ(s["processing"]["retry"]["jitter"].get<double>(), retry.jitter);
  EXPECT_DOUBLE_EQ(s["processing"]["retry"]["multiplier"].get<double>(), retry.multiplier);
  EXPECT_EQ(s["backpressure"]["maxInFlightBytes"], backpressure.maxInFlightBytes);
  EXPECT_DOUBLE_EQ(s["backpressure"]["resumeRatio"].get<double>(), backpressure.resumeRatio);
  EXPECT_EQ(s["source"]["kafka"]["startFrom"], spec::toString(spec::KafkaSourceSpec{}.startFrom));
  EXPECT_EQ(s["source"]["kafka"]["tls"]["enabled"], spec::TlsSpec{}.enabled);
  EXPECT_EQ(s["sink"]["http"]["format"], spec::toString(spec::HttpSinkSpec{}.format));
  EXPECT_EQ(s["sink"]["http"]["timeoutMs"], spec::HttpSinkSpec{}.timeoutMs);
  EXPECT_EQ(s["scaling"]["maxReplicas"], scaling.maxReplicas);
  EXPECT_EQ(s["scaling"]["scaleDownStabilizationSeconds"], scaling.scaleDownStabilizationSeconds);
  EXPECT_EQ(s["worker"]["imagePullPolicy"], spec::WorkerSpec{}.imagePullPolicy);
  EXPECT_EQ(s["worker"]["drainSeconds"], spec::WorkerSpec{}.drainSeconds);
  // Defaults the operator resolves from other fields stay unset in the stored object.
  EXPECT_FALSE(s["processing"].contains("ordering"));
  EXPECT_FALSE(s["source"]["kafka"].contains("groupId"));
  EXPECT_FALSE(s["scaling"].contains("lagPerReplica"));
}

TEST_F(CrdApiServerTest, OmittedScalingStaysOmitted) {
  ASSERT_EQ(apply(withField("metadata.name", "no-scaling"), "no-scaling").exitCode, 0);
  const nlohmann::json stored = getJson("no-scaling");
  EXPECT_FALSE(stored["spec"].contains("scaling")) << stored["spec"].dump();
  const auto outcome = spec::parsePipelineJson(stored);
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  EXPECT_EQ(outcome.pipeline.spec.scaling.lagPerReplica.value_or(0), 1000);
}

TEST_F(CrdApiServerTest, StatusSubresourceFeedsThePrinterColumns) {
  ASSERT_EQ(apply(withField("metadata.name", "columns"), "columns").exitCode, 0);
  const std::string status = R"({"status": {"observedGeneration": 1, "source": "kafka:orders", "replicas": 3,
      "desiredReplicas": 4, "readyReplicas": 2, "lag": {"total": 1234, "partitionsWithLag": 2, "maxPartitionLag": 1000},
      "rates": {"inPerSecond": 10.5, "outPerSecond": 9.25},
      "workers": {"ready": 2, "total": 3, "items": [{"pod": "columns-worker-a", "state": "Running",
        "lastHeartbeat": "2025-01-01T00:00:00Z", "processedPerSecond": 4.5, "p95BatchMs": 12.5, "inFlight": 40,
        "paused": false}]},
      "lastScale": {"time": "2025-01-01T00:00:00Z", "from": 3, "to": 4, "reason": "lag 1234 > 3 x 300"},
      "conditions": [{"type": "Ready", "status": "True", "reason": "WorkersReady", "message": "2/3 ready",
                      "lastTransitionTime": "2025-01-01T00:00:00Z", "observedGeneration": 1}]}})";
  const auto patched = kubectl("patch consumerpipeline columns -n " + *namespace_ +
                               " --subresource=status --type=merge -p " + shellQuote(status));
  ASSERT_EQ(patched.exitCode, 0) << patched.output;
  const nlohmann::json stored = getJson("columns");
  EXPECT_EQ(stored["status"]["workers"]["items"][0]["p95BatchMs"], 12.5)
      << "status field pruned: " << stored.dump();
  EXPECT_EQ(stored["status"]["lastScale"]["reason"], "lag 1234 > 3 x 300");

  const auto table = kubectl("get cp columns -n " + *namespace_);
  ASSERT_EQ(table.exitCode, 0) << table.output;
  for (const char* header : {"NAME", "SOURCE", "REPLICAS", "DESIRED", "LAG", "READY", "AGE"}) {
    EXPECT_NE(table.output.find(header), std::string::npos) << header << " missing:\n" << table.output;
  }
  const auto rows = kubectl("get cp columns -n " + *namespace_ + " --no-headers");
  std::istringstream cells(rows.output);
  std::vector<std::string> row{std::istream_iterator<std::string>(cells),
                               std::istream_iterator<std::string>()};
  ASSERT_GE(row.size(), 7u) << rows.output;
  EXPECT_EQ(std::vector<std::string>(row.begin(), row.begin() + 6),
            (std::vector<std::string>{"columns", "kafka:orders", "3", "4", "1234", "True"}))
      << rows.output;

  const auto wide = kubectl("get cp columns -n " + *namespace_ + " -o wide");
  EXPECT_NE(wide.output.find("TOPIC"), std::string::npos) << wide.output;
  EXPECT_NE(wide.output.find("orders"), std::string::npos) << wide.output;
}

TEST_F(CrdApiServerTest, InvalidStatusIsRejected) {
  ASSERT_EQ(apply(withField("metadata.name", "bad-status"), "bad-status").exitCode, 0);
  const auto patched = kubectl(
      "patch consumerpipeline bad-status -n " + *namespace_ + " --subresource=status --type=merge -p " +
      shellQuote(R"({"status": {"conditions": [{"type": "Ready", "status": "Maybe"}]}})"));
  EXPECT_NE(patched.exitCode, 0) << patched.output;
  EXPECT_NE(patched.output.find("status.conditions[0].status: Unsupported value: \"Maybe\""),
            std::string::npos)
      << patched.output;
}

TEST_F(CrdApiServerTest, ShortNameAndCategoryResolve) {
  ASSERT_EQ(apply(withField("metadata.name", "short"), "short").exitCode, 0);
  for (const char* resource : {"cp", "consumerpipeline", "consumerpipelines.sluice.dev", "sluice"}) {
    const auto got = kubectl(std::string("get ") + resource + " -n " + *namespace_ + " -o name");
    EXPECT_EQ(got.exitCode, 0) << resource << ": " << got.output;
    EXPECT_NE(got.output.find("consumerpipeline.sluice.dev/short"), std::string::npos)
        << resource << ": " << got.output;
  }
}

}  // namespace
}  // namespace sluice::crdtest

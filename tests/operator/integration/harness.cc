#include "tests/operator/integration/harness.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "kube/config.h"
#include "kube/cpprest_transport.h"
#include "tests/support/env_file.h"
#include "tests/support/http_get.h"

namespace sluice::op::testing {

std::string operatorBinary() { return std::string(SLUICE_BINARY_DIR) + "/operator/sluice-operator"; }
std::string kubeconfigPath() { return sluice::testing::requireServiceEnv("KUBECONFIG"); }

namespace {

std::vector<std::string> operatorArgv(std::vector<std::string> extra, const std::string& kubeconfig) {
  std::vector<std::string> argv = {
      operatorBinary(),    "--kubeconfig", kubeconfig.empty() ? kubeconfigPath() : kubeconfig,
      "--metrics-address", "127.0.0.1:0",  "--health-address",
      "127.0.0.1:0",       "--log-level",  "debug"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

}  // namespace

OperatorProcess::OperatorProcess(std::vector<std::string> args, std::string kubeconfig)
    : process_(operatorArgv(std::move(args), kubeconfig),
               "/tmp/sluice-operator-it-" + sluice::testing::uniqueName("log") + ".log") {}

int OperatorProcess::metricsPort() {
  std::smatch match;
  const std::string text = log();
  static const std::regex pattern("metrics on port ([0-9]+)");
  if (std::regex_search(text, match, pattern)) return std::stoi(match[1]);
  return 0;
}

std::string OperatorProcess::scrapeMetrics() {
  const int port = metricsPort();
  if (port == 0) return "";
  return sluice::testing::httpGet(port, "/metrics").body;
}

double metricSum(const std::string& text, const std::string& metric) {
  double sum = 0;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(metric, 0) != 0) continue;
    const char next = line.size() > metric.size() ? line[metric.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

nlohmann::json pipelineManifest(const std::string& ns, const std::string& name, int maxMessages) {
  using nlohmann::json;
  return {
      {"apiVersion", "sluice.dev/v1alpha1"},
      {"kind", "ConsumerPipeline"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"spec",
       {{"source", {{"kafka", {{"bootstrapServers", "127.0.0.1:1"}, {"topics", json::array({"orders"})}}}}},
        {"batch", {{"maxMessages", maxMessages}}},
        {"sink", {{"log", json::object()}}},
        {"scaling", {{"minReplicas", 1}, {"maxReplicas", 3}, {"lagPerReplica", 100}}}}}};
}

std::unique_ptr<Cluster> connect(const std::string& kubeconfig) {
  const std::string path = kubeconfig.empty() ? kubeconfigPath() : kubeconfig;
  if (path.empty()) return nullptr;
  auto config = kube::loadKubeconfig(path);
  EXPECT_TRUE(config.isOk()) << config.status().toString();
  if (!config) return nullptr;
  auto transport = kube::makeCpprestTransport(*config);
  EXPECT_TRUE(transport.isOk()) << transport.status().toString();
  if (!transport) return nullptr;
  auto cluster = std::make_unique<Cluster>();
  cluster->transport = std::move(*transport);
  cluster->client = std::make_unique<kube::Client>(*cluster->transport);
  return cluster;
}

int kubectl(const std::string& args, std::string* out, const std::string& kubeconfig) {
  using sluice::testing::shellQuote;
  return sluice::testing::runShell(
      "kubectl --kubeconfig " + shellQuote(kubeconfig.empty() ? kubeconfigPath() : kubeconfig) + " " + args,
      out);
}

}  // namespace sluice::op::testing

#pragma once
// Integration harness: the real kube-apiserver + kube-controller-manager from scripts/dev-env (or,
// given its kubeconfig, a private API server from tests/support/private_apiserver.h), a
// kube::Client for the test's own reads and writes, and the operator binary as a subprocess.
#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/transport.h"
#include "tests/support/subprocess.h"

namespace sluice::op::testing {

using sluice::testing::eventually;

// The sluice-operator binary as a subprocess, logging at debug level to its own file, metrics and
// health on free ports. Killed (SIGKILL) by the destructor if still running.
class OperatorProcess {
 public:
  // `kubeconfig` empty: the dev-env's (the env file's KUBECONFIG).
  explicit OperatorProcess(std::vector<std::string> args, std::string kubeconfig = "");
  bool start() { return process_.start(); }
  void kill(int signal) { process_.signal(signal); }
  int wait() { return process_.wait(); }  // exit code (128+signal when killed)
  bool running() { return process_.running(); }
  pid_t pid() const { return process_.pid(); }
  const std::string& logPath() const { return process_.logPath(); }
  std::string log() const { return process_.log(); }
  int metricsPort();  // from the "metrics on port N" log line; 0 until logged
  // GET /metrics from 127.0.0.1:<metricsPort>.
  std::string scrapeMetrics();

 private:
  sluice::testing::Subprocess process_;
};

// Sum of the samples of `metric` (all label sets) in Prometheus text; 0 when absent.
double metricSum(const std::string& text, const std::string& metric);

std::string operatorBinary();
std::string kubeconfigPath();

struct Cluster {
  std::unique_ptr<kube::Transport> transport;
  std::unique_ptr<kube::Client> client;
};
// A Kafka pipeline on a refusing loopback port (127.0.0.1:1) with a log sink, 1..3 replicas.
nlohmann::json pipelineManifest(const std::string& ns, const std::string& name, int maxMessages = 500);

// Connects with `kubeconfig` (empty: the env file's); nullptr (and a test failure) when it cannot.
std::unique_ptr<Cluster> connect(const std::string& kubeconfig = "");

// kubectl with `kubeconfig` (empty: the env file's); returns its exit code, output in `out`.
int kubectl(const std::string& args, std::string* out = nullptr, const std::string& kubeconfig = "");

}  // namespace sluice::op::testing

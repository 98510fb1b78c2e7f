#pragma once
// Integration harness: the real kube-apiserver + kube-controller-manager from scripts/dev-env, a
// kube::Client for the test's own reads and writes, and the operator binary as a subprocess.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/client.h"
#include "operator/kube/transport.h"

namespace sluice::op::testing {

// Polls `condition` until it holds or the deadline passes (real services: no fixed sleeps).
bool eventually(std::chrono::milliseconds deadline, const std::function<bool()>& condition);

class OperatorProcess {
 public:
  explicit OperatorProcess(std::vector<std::string> args);
  ~OperatorProcess();
  bool start();
  void kill(int signal);
  int wait();  // exit code (128+signal when killed)
  bool running();
  const std::string& logPath() const { return log_; }
  std::string log() const;
  int metricsPort();  // from the "metrics on port N" log line; 0 until logged
  // GET /metrics from 127.0.0.1:<metricsPort>.
  std::string scrapeMetrics();

 private:
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
};

// Sum of the samples of `metric` (all label sets) in Prometheus text; 0 when absent.
double metricSum(const std::string& text, const std::string& metric);

std::string operatorBinary();
std::string kubeconfigPath();

struct Cluster {
  std::unique_ptr<kube::Transport> transport;
  std::unique_ptr<kube::Client> client;
};
// Connects with the env file's kubeconfig; nullptr (and a test failure) when it cannot.
std::unique_ptr<Cluster> connect();

// kubectl with the env file's kubeconfig; returns its exit code, output in `out`.
int kubectl(const std::string& args, std::string* out = nullptr);

}  // namespace sluice::op::testing

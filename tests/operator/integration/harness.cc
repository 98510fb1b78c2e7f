#include "tests/operator/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "operator/kube/config.h"
#include "operator/kube/cpprest_transport.h"
#include "tests/support/env_file.h"

extern char** environ;

namespace sluice::op::testing {

bool eventually(std::chrono::milliseconds deadline, const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return condition();
}

std::string operatorBinary() { return std::string(SLUICE_BINARY_DIR) + "/operator/sluice-operator"; }
std::string kubeconfigPath() { return sluice::testing::requireServiceEnv("KUBECONFIG"); }

OperatorProcess::OperatorProcess(std::vector<std::string> args) : args_(std::move(args)) {
  log_ = "/tmp/sluice-operator-it-" + sluice::testing::uniqueName("log") + ".log";
}

OperatorProcess::~OperatorProcess() {
  if (running()) {
    kill(SIGKILL);
    wait();
  }
}

bool OperatorProcess::start() {
  std::vector<std::string> argv = {operatorBinary(), "--kubeconfig", kubeconfigPath(), "--metrics-address",
                                   "127.0.0.1:0", "--health-address", "127.0.0.1:0", "--log-level", "debug"};
  argv.insert(argv.end(), args_.begin(), args_.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0;
}

void OperatorProcess::kill(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

int OperatorProcess::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

bool OperatorProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string OperatorProcess::log() const {
  std::ifstream in(log_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

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
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string body;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    std::array<char, 8192> buf{};
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) body.append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return body;
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

std::unique_ptr<Cluster> connect() {
  const std::string path = kubeconfigPath();
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

int kubectl(const std::string& args, std::string* out) {
  const std::string command = "kubectl --kubeconfig '" + kubeconfigPath() + "' " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace sluice::op::testing

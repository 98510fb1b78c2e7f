#include "tests/worker/worker_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace sluice::worker::testing {

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

WorkerProcess::WorkerProcess(const std::string& name, const std::string& manifestYaml) {
  const std::string dir = ::testing::TempDir();
  const std::string config = dir + "/" + name + ".yaml";
  std::ofstream(config) << manifestYaml;
  logPath_ = dir + "/" + name + ".log";
  metricsPort_ = freeLoopbackPort();
  const std::string binary = std::string(SLUICE_BINARY_DIR) + "/worker/sluice-worker";
  const std::string metrics = "127.0.0.1:" + std::to_string(metricsPort_);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // The test runner may block signals; the worker installs its own handling.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "--metrics-address", metrics.c_str(),
            "--health-address", "127.0.0.1:0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  EXPECT_GT(pid_, 0) << "fork failed";
}

WorkerProcess::~WorkerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void WorkerProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> WorkerProcess::waitExit(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

long WorkerProcess::vmRssKiB() const {
  if (pid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string WorkerProcess::log() const {
  std::ifstream in(logPath_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace sluice::worker::testing

#include "tests/support/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace sluice::testing {

bool eventually(std::chrono::milliseconds deadline, const std::function<bool()>& condition,
                std::chrono::milliseconds interval) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

Subprocess::Subprocess(std::vector<std::string> argv, std::string logPath, Log mode)
    : argv_(std::move(argv)), logPath_(std::move(logPath)), mode_(mode) {}

Subprocess::~Subprocess() {
  if (running()) {
    signal(SIGKILL);
    wait();
  }
}

bool Subprocess::start() {
  if (argv_.empty()) return false;
  std::vector<char*> cargv;
  for (auto& arg : argv_) cargv.push_back(arg.data());
  cargv.push_back(nullptr);
  const int flags = O_WRONLY | O_CREAT | (mode_ == Log::kTruncate ? O_TRUNC : O_APPEND);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logPath_.c_str(), flags, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) pid_ = -1;
  return rc == 0;
}

void Subprocess::signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

int Subprocess::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

bool Subprocess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string Subprocess::log() const {
  std::ifstream in(logPath_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int runShell(const std::string& command, std::string* out) {
  const std::string folded = command + " 2>&1";
  FILE* pipe = ::popen(folded.c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string shellQuote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace sluice::testing

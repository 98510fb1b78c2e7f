#pragma once
// Child processes for integration tests and benchmarks (the operator binary, a private
// kube-apiserver, etcd), and polling with a deadline. No GoogleTest here, so benchmark programs
// can link it too (library sluice_test_process).
//
// Threading: a Subprocess belongs to the thread that made it; its methods are not synchronised.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sluice::testing {

// Polls `condition` every `interval` until it holds or the deadline passes; checks once more at
// the end. Real services only: logic with time in it takes a FakeClock instead.
bool eventually(std::chrono::milliseconds deadline, const std::function<bool()>& condition,
                std::chrono::milliseconds interval = std::chrono::milliseconds(200));

// A child process whose stdout and stderr go to one log file. The destructor SIGKILLs and reaps a
// child still running, so a failed test leaves nothing behind.
class Subprocess {
 public:
  enum class Log { kAppend, kTruncate };
  Subprocess(std::vector<std::string> argv, std::string logPath, Log mode = Log::kAppend);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool start();  // false when posix_spawn fails (argv[0] must be a path)
  void signal(int signal);
  int wait();  // exit code, 128+signal when killed; -1 when not started
  bool running();
  pid_t pid() const { return pid_; }
  const std::string& logPath() const { return logPath_; }
  std::string log() const;

 private:
  std::vector<std::string> argv_;
  std::string logPath_;
  Log mode_;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that nothing listens on right now (bind to 0, read it back, close).
int freeLoopbackPort();

// Runs `command` through /bin/sh with stderr folded into stdout; the exit code (-1 when it could not
// run or was killed), the output in `out` when given.
int runShell(const std::string& command, std::string* out = nullptr);

// Wraps `text` in single quotes for /bin/sh.
std::string shellQuote(const std::string& text);

}  // namespace sluice::testing

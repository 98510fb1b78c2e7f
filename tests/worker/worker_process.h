#pragma once
// Runs sluice-worker as a child process (so tests can SIGTERM or kill -9 it), with its output in a
// log file under the test's temp dir.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace sluice::worker::testing {

class WorkerProcess {
 public:
  // Writes the manifest to a file and starts the worker on free loopback ports.
  WorkerProcess(const std::string& name, const std::string& manifestYaml);
  ~WorkerProcess();  // kill -9 if still running

  void signal(int sig);
  // Exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> waitExit(std::chrono::seconds timeout);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Resident set size in KiB from /proc/<pid>/status (0 when gone).
  long vmRssKiB() const;
  std::string log() const;
  int metricsPort() const { return metricsPort_; }

 private:
  pid_t pid_ = -1;
  std::string logPath_;
  int metricsPort_ = 0;
};

int freeLoopbackPort();

}  // namespace sluice::worker::testing

#pragma once
// A kube-apiserver of the test's own, for tests that must disturb the API server (kill it, restart
// it) without touching the shared one of scripts/dev-env that other tests use at the same time.
//
// It is the same control plane as scripts/dev-env's, minus the controller manager: its own etcd
// (Debian's etcd-server) and the cached kube-apiserver binary, both on free 127.0.0.1 ports, with a
// PKI and admin kubeconfig made by scripts/lib/kube.sh's own kube_pki/kube_kubeconfig, all under a
// fresh directory that the destructor removes. No garbage collector or Deployment controller runs:
// owned objects are not collected and Deployments get no ReplicaSets.
//
// Lifecycle: start() once; then killApiServer()/restartApiServer() as often as the test needs. The
// restarted API server listens on the same port and reads the same etcd, so clients that knew the
// old one (kubeconfig, resourceVersions) keep working. Not thread-safe.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "tests/support/subprocess.h"

namespace sluice::testing {

struct PrivateApiServerOptions {
  // Holds kube-apiserver. Empty: $SLUICE_CACHE/kube-$KUBE_VERSION/bin from the dev-env env file
  // (process environment first), else ~/.cache/sluice/kube-v1.32.5/bin.
  std::string binDir;
  std::string etcd = "/usr/bin/etcd";
  std::chrono::seconds readyTimeout{90};
};

class PrivateApiServer {
 public:
  explicit PrivateApiServer(PrivateApiServerOptions options = {});
  ~PrivateApiServer();  // stops both processes, removes the directory
  PrivateApiServer(const PrivateApiServer&) = delete;
  PrivateApiServer& operator=(const PrivateApiServer&) = delete;

  // PKI, etcd, kube-apiserver; returns once /readyz answers ok. The error names what failed and
  // where its log is.
  common::Status start();
  // Ends kube-apiserver with `signal` (SIGKILL: no graceful shutdown) and reaps it; etcd stays up.
  void stopApiServer(int signal);
  // Starts kube-apiserver again with the same port, flags and etcd; returns once it is ready.
  common::Status restartApiServer();
  bool apiServerRunning() { return apiserver_ && apiserver_->running(); }

  const std::string& kubeconfig() const { return kubeconfig_; }
  std::string server() const { return "https://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string apiServerLog() const { return apiserver_ ? apiserver_->log() : ""; }

 private:
  common::Status startApiServer();
  common::Status waitReady(Subprocess& process, const std::string& what, const std::function<bool()>& ready);
  bool apiServerReady();

  PrivateApiServerOptions options_;
  std::string dir_;
  std::string kubeconfig_;
  int port_ = 0;
  int etcdPort_ = 0;
  std::unique_ptr<Subprocess> etcd_;
  std::unique_ptr<Subprocess> apiserver_;
};

// Where the cached kube-apiserver lives (see PrivateApiServerOptions::binDir).
std::string defaultKubeBinDir();

}  // namespace sluice::testing

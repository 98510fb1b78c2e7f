#include "tests/support/private_apiserver.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <vector>

#include "tests/support/env_file.h"

namespace sluice::testing {
namespace {

std::string tail(const std::string& text, size_t bytes = 3000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string envOr(const std::map<std::string, std::string>* file, const std::string& name,
                  const std::string& fallback) {
  if (const char* value = std::getenv(name.c_str()); value && *value) return value;
  if (file && file->count(name)) return file->at(name);
  return fallback;
}

}  // namespace

std::string defaultKubeBinDir() {
  const auto file = loadServiceEnv();
  const auto* values = file ? &*file : nullptr;
  const char* home = std::getenv("HOME");
  const std::string cache =
      envOr(values, "SLUICE_CACHE", std::string(home ? home : "/root") + "/.cache/sluice");
  return cache + "/kube-" + envOr(values, "KUBE_VERSION", "v1.32.5") + "/bin";
}

PrivateApiServer::PrivateApiServer(PrivateApiServerOptions options) : options_(std::move(options)) {
  if (options_.binDir.empty()) options_.binDir = defaultKubeBinDir();
}

PrivateApiServer::~PrivateApiServer() {
  apiserver_.reset();  // SIGKILL and reap (Subprocess's destructor)
  etcd_.reset();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

common::Status PrivateApiServer::start() {
  const std::string apiserverBinary = options_.binDir + "/kube-apiserver";
  if (::access(apiserverBinary.c_str(), X_OK) != 0) {
    return common::notFound(apiserverBinary + " is missing: run `scripts/dev-env install kube`");
  }
  if (::access(options_.etcd.c_str(), X_OK) != 0) {
    return common::notFound(options_.etcd +
                            " is missing: run `scripts/dev-env install kube` (Debian's etcd-server)");
  }
  std::string pattern = "/tmp/sluice-private-apiserver-XXXXXX";
  if (!::mkdtemp(pattern.data())) return common::internalError("mkdtemp " + pattern + " failed");
  dir_ = pattern;
  kubeconfig_ = dir_ + "/kubeconfig";
  // Three distinct ports (the kernel may hand out a just-closed port again).
  std::vector<int> ports;
  for (int attempt = 0; attempt < 20 && ports.size() < 3; ++attempt) {
    const int port = freeLoopbackPort();
    if (port != 0 && std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  if (ports.size() < 3) return common::unavailable("no three free loopback ports");
  port_ = ports[0];
  etcdPort_ = ports[1];
  const int etcdPeerPort = ports[2];

  // The PKI and kubeconfig exactly as scripts/dev-env makes them (one definition of both).
  const std::string scripts = std::string(SLUICE_SOURCE_DIR) + "/scripts/lib";
  const std::string command =
      "bash -c " +
      shellQuote(
          "set -e; source \"$0/common.sh\"; source \"$0/kube.sh\"; "
          "kube_pki \"$1/pki\"; kube_kubeconfig \"$1/pki\" \"$2\" \"$1/kubeconfig\"") +
      " " + shellQuote(scripts) + " " + shellQuote(dir_) + " " + shellQuote(server());
  std::string out;
  if (runShell(command, &out) != 0)
    return common::internalError("making the PKI in " + dir_ + " failed: " + out);

  const std::string etcdUrl = "http://127.0.0.1:" + std::to_string(etcdPort_);
  const std::string peerUrl = "http://127.0.0.1:" + std::to_string(etcdPeerPort);
  etcd_ = std::make_unique<Subprocess>(std::vector<std::string>{options_.etcd,
                                                                "--name",
                                                                "private",
                                                                "--data-dir",
                                                                dir_ + "/etcd-data",
                                                                "--listen-client-urls",
                                                                etcdUrl,
                                                                "--advertise-client-urls",
                                                                etcdUrl,
                                                                "--listen-peer-urls",
                                                                peerUrl,
                                                                "--initial-advertise-peer-urls",
                                                                peerUrl,
                                                                "--initial-cluster",
                                                                "private=" + peerUrl,
                                                                "--initial-cluster-state",
                                                                "new",
                                                                "--log-level",
                                                                "warn",
                                                                "--logger",
                                                                "zap"},
                                       dir_ + "/etcd.log");
  if (!etcd_->start()) return common::internalError("cannot start " + options_.etcd);
  auto etcdReady = [&] { return runShell("curl -fsS --max-time 2 " + shellQuote(etcdUrl + "/health")) == 0; };
  if (auto st = waitReady(*etcd_, "etcd", etcdReady); !st) return st;
  return startApiServer();
}

common::Status PrivateApiServer::startApiServer() {
  const std::string pki = dir_ + "/pki";
  apiserver_ = std::make_unique<Subprocess>(
      std::vector<std::string>{
          options_.binDir + "/kube-apiserver", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
          "--secure-port=" + std::to_string(port_),
          "--etcd-servers=http://127.0.0.1:" + std::to_string(etcdPort_),
          "--cert-dir=" + dir_ + "/apiserver-certs", "--tls-cert-file=" + pki + "/apiserver.crt",
          "--tls-private-key-file=" + pki + "/apiserver.key", "--client-ca-file=" + pki + "/ca.crt",
          "--service-cluster-ip-range=10.0.0.0/24", "--authorization-mode=Node,RBAC",
          "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
          "--service-account-key-file=" + pki + "/sa.pub",
          "--service-account-signing-key-file=" + pki + "/sa.key", "--endpoint-reconciler-type=none",
          "--v=1"},
      dir_ + "/kube-apiserver.log");
  if (!apiserver_->start())
    return common::internalError("cannot start " + options_.binDir + "/kube-apiserver");
  return waitReady(*apiserver_, "kube-apiserver", [this] { return apiServerReady(); });
}

bool PrivateApiServer::apiServerReady() {
  const std::string pki = dir_ + "/pki";
  std::string out;
  const int rc = runShell("curl -fsS --max-time 2 --cacert " + shellQuote(pki + "/ca.crt") + " --cert " +
                              shellQuote(pki + "/admin.crt") + " --key " + shellQuote(pki + "/admin.key") +
                              " " + shellQuote(server() + "/readyz"),
                          &out);
  return rc == 0 && out == "ok";
}

common::Status PrivateApiServer::waitReady(Subprocess& process, const std::string& what,
                                           const std::function<bool()>& ready) {
  bool exited = false;
  const bool ok = eventually(
      options_.readyTimeout,
      [&] {
        if (!process.running()) return exited = true;
        return ready();
      },
      std::chrono::milliseconds(250));
  if (ok && !exited) return common::Status::ok();
  const std::string why =
      exited ? " exited" : " was not ready within " + std::to_string(options_.readyTimeout.count()) + " s";
  return common::unavailable(what + why + " (log " + process.logPath() + "):\n" + tail(process.log()));
}

void PrivateApiServer::stopApiServer(int signal) {
  if (!apiserver_) return;
  apiserver_->signal(signal);
  apiserver_->wait();
}

common::Status PrivateApiServer::restartApiServer() {
  if (apiserver_ && apiserver_->running()) return common::internalError("kube-apiserver is still running");
  return startApiServer();
}

}  // namespace sluice::testing

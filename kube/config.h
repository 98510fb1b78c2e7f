#pragma once
// Where the API server is and how to authenticate: from a kubeconfig file (client certificate,
// bearer token, CA) or from the pod's service account (in-cluster).
#include <string>

#include "common/result.h"

namespace sluice::kube {

struct KubeConfig {
  std::string server;         // "https://127.0.0.1:6443"
  std::string caPem;          // empty: system trust store
  std::string clientCertPem;  // client certificate chain (with clientKeyPem)
  std::string clientKeyPem;
  std::string token;      // bearer token
  std::string tokenFile;  // re-read periodically (bound service-account tokens rotate)
  bool insecureSkipTlsVerify = false;
  std::string namespace_;  // the context's (or the pod's) namespace; may be empty
};

// Reads the current context of a kubeconfig. Files named in it are read relative to its folder;
// *-data fields are base64-decoded.
common::Result<KubeConfig> loadKubeconfig(const std::string& path);
// Parses kubeconfig text (baseDir resolves relative file names).
common::Result<KubeConfig> parseKubeconfig(const std::string& text, const std::string& baseDir);

struct InClusterPaths {
  std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};
// KUBERNETES_SERVICE_HOST/PORT plus the mounted token, ca.crt and namespace.
common::Result<KubeConfig> loadInCluster(const InClusterPaths& paths = {});

std::string base64Decode(const std::string& text);
common::Result<std::string> readFile(const std::string& path);

}  // namespace sluice::kube

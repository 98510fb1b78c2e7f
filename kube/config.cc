#include "kube/config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sluice::kube {
namespace {

using common::Result;
using common::Status;

// A named entry from one of the kubeconfig lists (clusters, users, contexts).
YAML::Node findNamed(const YAML::Node& list, const std::string& name, const std::string& field) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name) return entry[field];
  }
  return YAML::Node();
}

std::string scalar(const YAML::Node& node, const char* key) {
  if (!node || !node[key] || !node[key].IsScalar()) return "";
  return node[key].as<std::string>();
}

std::string resolvePath(const std::string& path, const std::string& baseDir) {
  if (path.empty() || path[0] == '/' || baseDir.empty()) return path;
  return baseDir + "/" + path;
}

// Either inline base64 data (`<key>-data`) or a file (`<key>`), as kubectl reads them.
Result<std::string> dataOrFile(const YAML::Node& node, const std::string& key, const std::string& baseDir) {
  const std::string data = scalar(node, (key + "-data").c_str());
  if (!data.empty()) return base64Decode(data);
  const std::string file = scalar(node, key.c_str());
  if (file.empty()) return std::string();
  auto content = readFile(resolvePath(file, baseDir));
  if (!content) return content.status().withContext("kubeconfig " + key);
  return content;
}

Status fillUser(const YAML::Node& user, const std::string& baseDir, KubeConfig& config) {
  auto cert = dataOrFile(user, "client-certificate", baseDir);
  if (!cert) return cert.status();
  auto key = dataOrFile(user, "client-key", baseDir);
  if (!key) return key.status();
  config.clientCertPem = *cert;
  config.clientKeyPem = *key;
  config.token = scalar(user, "token");
  const std::string tokenFile = scalar(user, "tokenFile");
  if (config.token.empty() && !tokenFile.empty()) {
    auto token = readFile(resolvePath(tokenFile, baseDir));
    if (!token) return token.status().withContext("kubeconfig tokenFile");
    config.token = *token;
    config.tokenFile = resolvePath(tokenFile, baseDir);
  }
  while (!config.token.empty() && (config.token.back() == '\n' || config.token.back() == '\r'))
    config.token.pop_back();
  return Status::ok();
}

Result<KubeConfig> parseDocument(const YAML::Node& root, const std::string& baseDir) {
  const std::string current = scalar(root, "current-context");
  if (current.empty())
    return common::invalidArgument(
        "kubeconfig has no current-context: set one with kubectl config use-context");
  const YAML::Node context = findNamed(root["contexts"], current, "context");
  if (!context)
    return common::invalidArgument("kubeconfig context '" + current + "' is not defined under contexts");
  const std::string clusterName = scalar(context, "cluster");
  const YAML::Node cluster = findNamed(root["clusters"], clusterName, "cluster");
  if (!cluster)
    return common::invalidArgument("kubeconfig cluster '" + clusterName + "' is not defined under clusters");
  KubeConfig config;
  config.server = scalar(cluster, "server");
  if (config.server.empty())
    return common::invalidArgument("kubeconfig cluster '" + clusterName + "' has no server");
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  config.insecureSkipTlsVerify = scalar(cluster, "insecure-skip-tls-verify") == "true";
  auto ca = dataOrFile(cluster, "certificate-authority", baseDir);
  if (!ca) return ca.status();
  config.caPem = *ca;
  config.namespace_ = scalar(context, "namespace");
  const std::string userName = scalar(context, "user");
  if (!userName.empty()) {
    const YAML::Node user = findNamed(root["users"], userName, "user");
    if (!user)
      return common::invalidArgument("kubeconfig user '" + userName + "' is not defined under users");
    if (auto st = fillUser(user, baseDir, config); !st) return st;
  }
  return config;
}

}  // namespace

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return common::notFound("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string base64Decode(const std::string& text) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    return t;
  }();
  std::string out;
  int buffer = 0;
  int bits = 0;
  for (unsigned char c : text) {
    const int value = table[c];
    if (value < 0) continue;  // padding, whitespace
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

Result<KubeConfig> parseKubeconfig(const std::string& text, const std::string& baseDir) {
  try {
    return parseDocument(YAML::Load(text), baseDir);
  } catch (const YAML::Exception& e) {
    return common::invalidArgument(std::string("kubeconfig is not valid YAML: ") + e.what());
  }
}

Result<KubeConfig> loadKubeconfig(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.status().withContext("kubeconfig");
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto config = parseKubeconfig(*text, dir);
  if (!config) return config.status().withContext(path);
  return config;
}

Result<KubeConfig> loadInCluster(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return common::invalidArgument(
        "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): pass --kubeconfig");
  }
  KubeConfig config;
  const std::string h = host;
  config.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  auto token = readFile(paths.dir + "/token");
  if (!token) return token.status().withContext("service account token");
  config.token = *token;
  config.tokenFile = paths.dir + "/token";
  while (!config.token.empty() && (config.token.back() == '\n' || config.token.back() == '\r'))
    config.token.pop_back();
  auto ca = readFile(paths.dir + "/ca.crt");
  if (!ca) return ca.status().withContext("service account CA");
  config.caPem = *ca;
  if (auto ns = readFile(paths.dir + "/namespace")) config.namespace_ = *ns;
  return config;
}

}  // namespace sluice::kube

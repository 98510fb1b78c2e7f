#include "kube/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sluice::kube {
namespace {

// base64 of "CA PEM", "CERT PEM", "KEY PEM"
constexpr const char* kKubeconfig = R"(
apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: dev
  context: {cluster: local, user: admin, namespace: shop}
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: Q0EgUEVN
users:
- name: admin
  user:
    client-certificate-data: Q0VSVCBQRU0=
    client-key: keys/admin.key
)";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "keys");
    std::ofstream(dir_ / "keys" / "admin.key") << "KEY PEM";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ConfigTest, ReadsTheCurrentContextWithInlineDataAndRelativeFiles) {
  auto config = parseKubeconfig(kKubeconfig, dir_.string());
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->caPem, "CA PEM");
  EXPECT_EQ(config->clientCertPem, "CERT PEM");
  EXPECT_EQ(config->clientKeyPem, "KEY PEM");
  EXPECT_EQ(config->namespace_, "shop");
  EXPECT_TRUE(config->token.empty());
}

TEST_F(ConfigTest, ReadsABearerToken) {
  const std::string text = R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc123}}]
)";
  auto config = parseKubeconfig(text, "");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->token, "abc123");
  EXPECT_TRUE(config->insecureSkipTlsVerify);
}

TEST_F(ConfigTest, ErrorsNameWhatIsMissing) {
  auto noContext = parseKubeconfig("clusters: []", "");
  EXPECT_NE(noContext.status().message().find("current-context"), std::string::npos);
  auto missingFile = parseKubeconfig(
      "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
      "clusters: [{name: k, cluster: {server: 'https://x', certificate-authority: /nonexistent/ca.crt}}]\n"
      "users: [{name: u, user: {}}]\n",
      "");
  ASSERT_FALSE(missingFile.isOk());
  EXPECT_NE(missingFile.status().message().find("/nonexistent/ca.crt"), std::string::npos);
}

TEST_F(ConfigTest, InClusterReadsTheServiceAccountMount) {
  std::ofstream(dir_ / "token") << "sa-token\n";
  std::ofstream(dir_ / "ca.crt") << "CLUSTER CA";
  std::ofstream(dir_ / "namespace") << "sluice-system";
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = loadInCluster({dir_.string()});
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->token, "sa-token");
  EXPECT_EQ(config->caPem, "CLUSTER CA");
  EXPECT_EQ(config->namespace_, "sluice-system");
  EXPECT_EQ(config->tokenFile, (dir_ / "token").string());
}

TEST_F(ConfigTest, InClusterOutsideAClusterSaysToPassAKubeconfig) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  auto config = loadInCluster({dir_.string()});
  ASSERT_FALSE(config.isOk());
  EXPECT_NE(config.status().message().find("--kubeconfig"), std::string::npos);
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64Decode("aGVsbG8h"), "hello!");
  EXPECT_EQ(base64Decode("aGVs\nbG8="), "hello");
}

}  // namespace
}  // namespace sluice::kube

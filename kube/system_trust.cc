#include "kube/system_trust.h"

#include <openssl/x509.h>
#include <unistd.h>

#include <cstdlib>

namespace sluice::kube {
namespace {

constexpr const char* kEmpty = "/dev/null";
constexpr const char* kInheritedBundle = "SLUICE_SYSTEM_CA_BUNDLE";

std::string& bundle() {
  static std::string path;
  return path;
}

}  // namespace

void divertSystemCaBundle() {
  const char* variable = X509_get_default_cert_file_env();  // "SSL_CERT_FILE"
  const char* set = std::getenv(variable);
  const char* inherited = std::getenv(kInheritedBundle);  // from a parent that diverted it (the benchmark)
  std::string path = X509_get_default_cert_file();
  if (set != nullptr && *set != '\0' && std::string(set) != kEmpty) {
    path = set;
  } else if (inherited != nullptr && *inherited != '\0') {
    path = inherited;
  }
  if (::access(path.c_str(), R_OK) != 0) return;
  bundle() = path;
  ::setenv(kInheritedBundle, path.c_str(), 1);
  ::setenv(variable, kEmpty, 1);
}

const std::string& systemCaBundle() { return bundle(); }

}  // namespace sluice::kube

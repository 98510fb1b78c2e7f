#include "operator/kube/system_trust.h"

#include <openssl/x509.h>
#include <unistd.h>

#include <cstdlib>

namespace sluice::kube {
namespace {

std::string& bundle() {
  static std::string path;
  return path;
}

}  // namespace

void divertSystemCaBundle() {
  const char* variable = X509_get_default_cert_file_env();  // "SSL_CERT_FILE"
  const char* set = std::getenv(variable);
  const std::string path = set != nullptr && *set != '\0' ? set : X509_get_default_cert_file();
  if (path == "/dev/null" || ::access(path.c_str(), R_OK) != 0) return;
  bundle() = path;
  ::setenv(variable, "/dev/null", 1);
}

const std::string& systemCaBundle() { return bundle(); }

}  // namespace sluice::kube

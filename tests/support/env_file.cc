#include "tests/support/env_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

#include "tests/support/env_values.h"

namespace sluice::testing {

std::optional<std::map<std::string, std::string>> loadServiceEnv() {
  std::string path;
  if (const char* file = std::getenv("SLUICE_ENV_FILE"); file && *file) {
    path = file;
  } else if (const char* state = std::getenv("SLUICE_STATE"); state && *state) {
    path = std::string(state) + "/env";
  } else {
    path = "/tmp/sluice-dev/env";
  }
  return readEnvFile(path);
}

std::string requireServiceEnv(const std::string& name) {
  if (const char* env = std::getenv(name.c_str()); env && *env) return env;
  auto values = loadServiceEnv();
  if (values && values->count(name)) return values->at(name);
  ADD_FAILURE() << name << " is not set: start the services with `scripts/dev-env up` (or run scripts/test)";
  return "";
}

std::string uniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() % 100000000;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(ms) + "-" +
         std::to_string(counter++);
}

}  // namespace sluice::testing

#include "tests/support/env_values.h"

#include <fstream>

namespace sluice::testing {

std::optional<std::map<std::string, std::string>> readEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::map<std::string, std::string> values;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    // scripts/dev-env quotes values: export KUBECONFIG='/tmp/sluice-dev/kube/kubeconfig'
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    values[line.substr(0, eq)] = value;
  }
  return values;
}

}  // namespace sluice::testing

#pragma once
// Integration tests find the real services through the env file that `scripts/dev-env up` writes
// (KUBECONFIG, KAFKA_BOOTSTRAP, NATS_URL, ...). Its path comes from SLUICE_ENV_FILE, else
// $SLUICE_STATE/env, else /tmp/sluice-dev/env.
#include <map>
#include <optional>
#include <string>

namespace sluice::testing {

// Values from the env file (process environment wins), or nullopt when the file is missing.
std::optional<std::map<std::string, std::string>> loadServiceEnv();
// One value; fails the current test with a message naming `scripts/dev-env up` when absent.
std::string requireServiceEnv(const std::string& name);
// A name unique to this test run (for topics, namespaces, streams).
std::string uniqueName(const std::string& prefix);

}  // namespace sluice::testing

#pragma once
// Parsing of the env file `scripts/dev-env up` writes (`export NAME='value'` lines), without
// GoogleTest (library sluice_test_process), so benchmark programs read it the same way as tests.
// Tests use env_file.h, which finds the file and fails the test when a value is missing.
#include <map>
#include <optional>
#include <string>

namespace sluice::testing {

// NAME -> value of an env file; `export ` prefixes, comments and one level of quotes are dropped.
// nullopt when the file cannot be read.
std::optional<std::map<std::string, std::string>> readEnvFile(const std::string& path);

}  // namespace sluice::testing

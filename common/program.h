#pragma once
// The start every Sluice binary shares: parse flags, answer --help and --version, set up logging
// from --log-level/--log-format (or their env vars), with errors that name the flag.
#include <optional>
#include <string>

#include "common/cli.h"

namespace sluice::common {

// Declares --log-level and --log-format (env SLUICE_LOG_LEVEL, SLUICE_LOG_FORMAT).
void addLoggingOptions(CommandLine& cli);

// Returns an exit code when the program should stop now (help, version, bad flags: 0 or 2),
// nullopt when it should go on. `program` is e.g. "sluice-worker", `component` the log name.
std::optional<int> startProgram(CommandLine& cli, int argc, const char* const argv[],
                                const std::string& program, const std::string& component);

}  // namespace sluice::common

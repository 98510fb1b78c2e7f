#include "common/program.h"

#include <iostream>

#include "common/logging.h"
#include "common/version.h"

namespace sluice::common {

void addLoggingOptions(CommandLine& cli) {
  cli.addOption("log-level", "info", "trace, debug, info, warn, error or off", "SLUICE_LOG_LEVEL");
  cli.addOption("log-format", "text", "text or json", "SLUICE_LOG_FORMAT");
}

std::optional<int> startProgram(CommandLine& cli, int argc, const char* const argv[],
                                const std::string& program, const std::string& component) {
  if (auto st = cli.parse(argc, argv); !st) {
    std::cerr << program << ": " << st.message() << "\n";
    return 2;
  }
  if (cli.flag("help")) {
    std::cout << cli.usage();
    return 0;
  }
  if (cli.flag("version")) {
    std::cout << program << " " << kVersion << "\n";
    return 0;
  }
  auto format = parseLogFormat(cli.get("log-format"));
  if (!format) {
    std::cerr << program << ": --log-format: " << format.status().message() << "\n";
    return 2;
  }
  if (auto st = setupLogging({cli.get("log-level"), *format}, component); !st) {
    std::cerr << program << ": --log-level: " << st.message() << "\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace sluice::common

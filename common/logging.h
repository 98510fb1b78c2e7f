#pragma once
// Process-wide logging set-up over spdlog. Code logs through spdlog's free functions
// (spdlog::info(...)); this file only decides the level and the text or JSON format.
#include <string>

#include "common/result.h"

namespace sluice::common {

enum class LogFormat { kText, kJson };

struct LogOptions {
  std::string level = "info";  // trace|debug|info|warn|error|off
  LogFormat format = LogFormat::kText;
};

// Reads SLUICE_LOG_LEVEL and SLUICE_LOG_FORMAT; flags given later override them.
LogOptions logOptionsFromEnv();
Result<LogFormat> parseLogFormat(const std::string& text);
Status setupLogging(const LogOptions& options, const std::string& component);

// Escapes a string for inclusion in a JSON string literal.
std::string jsonEscape(const std::string& text);

}  // namespace sluice::common

#include "common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

namespace sluice::common {
namespace {

// %* : the log message escaped for JSON.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string escaped = jsonEscape(std::string(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

std::string jsonEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

Result<LogFormat> parseLogFormat(const std::string& text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return invalidArgument("log format must be 'text' or 'json' (got '" + text + "')");
}

LogOptions logOptionsFromEnv() {
  LogOptions options;
  if (const char* level = std::getenv("SLUICE_LOG_LEVEL"); level && *level) options.level = level;
  if (const char* format = std::getenv("SLUICE_LOG_FORMAT"); format && *format) {
    auto parsed = parseLogFormat(format);
    if (parsed) options.format = *parsed;
  }
  return options;
}

Status setupLogging(const LogOptions& options, const std::string& component) {
  const auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return invalidArgument("log level must be one of trace, debug, info, warn, error, off (got '" +
                           options.level + "')");
  }
  // Logs go to stderr so stdout stays free for command output (e.g. --check).
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(component, std::move(sink));
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  switch (options.format) {
    case LogFormat::kText:
      formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ " + component + " %v");
      break;
    case LogFormat::kJson:
      formatter->add_flag<JsonMessageFlag>('*').set_pattern(
          "{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",\"component\":\"" + component +
          "\",\"msg\":\"%*\"}");
      break;
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return Status::ok();
}

}  // namespace sluice::common

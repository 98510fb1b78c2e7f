#include "worker/http_delivery.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "worker/retry_policy.h"

namespace sluice::worker {

bool isValidUtf8(const std::string& bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    size_t extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else
      return false;
    if (i + extra >= n) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong encodings, surrogates and out-of-range code points are invalid.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::string base64Encode(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (s[i] << 16) | (s[i + 1] << 8) | s[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  const uint32_t v = (s[i] << 16) | (rest == 2 ? s[i + 1] << 8 : 0);
  out += kAlphabet[(v >> 18) & 63];
  out += kAlphabet[(v >> 12) & 63];
  out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
  out += '=';
  return out;
}

namespace {

nlohmann::json messageObject(const Message& m) {
  nlohmann::json j = {{"partition", m.partition}, {"offset", m.offset}};
  // A NATS subject is bytes too: the server does not insist on UTF-8.
  if (isValidUtf8(m.topic)) {
    j["topic"] = m.topic;
  } else {
    j["topic"] = base64Encode(m.topic);
    j["topicEncoding"] = "base64";
  }
  if (!m.key) {
    j["key"] = nullptr;
  } else if (isValidUtf8(*m.key)) {
    j["key"] = *m.key;
  } else {
    j["key"] = base64Encode(*m.key);
    j["keyEncoding"] = "base64";
  }
  if (isValidUtf8(m.value)) {
    j["value"] = m.value;
  } else {
    j["value"] = base64Encode(m.value);
    j["valueEncoding"] = "base64";
  }
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : m.headers) {
    headers[isValidUtf8(name) ? name : base64Encode(name)] =
        isValidUtf8(value) ? value : "base64:" + base64Encode(value);
  }
  j["headers"] = std::move(headers);
  j["timestamp"] = m.timestampMs >= 0 ? nlohmann::json(m.timestampMs) : nlohmann::json(nullptr);
  return j;
}

}  // namespace

std::string encodeMessageJson(const Message& message) { return messageObject(message).dump(); }

namespace {

// The extra bytes of one string in the JSON body: escapes when it is UTF-8 (nlohmann escapes '"',
// '\\' and control characters; \b \f \n \r \t take 2 bytes, the others \u00XX 6), else base64 plus
// `marker` (the "...Encoding":"base64" member or the "base64:" prefix). Quotes, names and
// separators are in `kJsonStringFraming`.
int64_t stringExtra(const std::string& bytes, int64_t marker) {
  if (!isValidUtf8(bytes)) {
    const auto n = static_cast<int64_t>(bytes.size());
    return (n + 2) / 3 * 4 - n + marker;
  }
  int64_t extra = 0;
  for (const unsigned char c : bytes) {
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      extra += 1;
    } else if (c < 0x20) {
      extra += 5;
    }
  }
  return extra;
}

// ,"topicEncoding":"base64" is the longest marker member.
constexpr int64_t kEncodingMarker = 25;
// Per header: the quotes, colon and comma around name and value.
constexpr int64_t kHeaderFraming = 6;
// The object's fixed text at its longest, plus the separator after it: 135 bytes for
// {"partition":-2147483648,"offset":-9223372036854775808,"topic":"","key":null,"value":"",
// "headers":{},"timestamp":-9223372036854775808}, (kMessageOverheadBytes covers it).
constexpr int64_t kObjectFraming = 135;

}  // namespace

int64_t jsonEncodingExtraBytes(const Message& m) {
  int64_t extra = kObjectFraming - kMessageOverheadBytes + stringExtra(m.topic, kEncodingMarker) +
                  stringExtra(m.value, kEncodingMarker);
  if (m.key) extra += stringExtra(*m.key, kEncodingMarker);
  for (const auto& [name, value] : m.headers) {
    extra += stringExtra(name, 0) + stringExtra(value, 7) + kHeaderFraming;
  }
  return std::max<int64_t>(extra, 0);
}

std::string encodeBatch(std::span<const Message> batch, spec::HttpFormat format) {
  std::string body;
  switch (format) {
    case spec::HttpFormat::kJson:
      body = "[";
      for (size_t i = 0; i < batch.size(); ++i) {
        if (i) body += ',';
        body += encodeMessageJson(batch[i]);
      }
      body += "]";
      return body;
    case spec::HttpFormat::kNdjson:
      for (const auto& m : batch) {
        body += encodeMessageJson(m);
        body += '\n';
      }
      return body;
  }
  return body;
}

const char* contentType(spec::HttpFormat format) {
  switch (format) {
    case spec::HttpFormat::kJson:
      return "application/json";
    case spec::HttpFormat::kNdjson:
      return "application/x-ndjson";
  }
  return "application/octet-stream";
}

common::Result<std::vector<std::pair<std::string, std::string>>> requestHeaders(
    const spec::HttpSinkSpec& http) {
  std::vector<std::pair<std::string, std::string>> out(http.headers.begin(), http.headers.end());
  for (size_t i = 0; i < http.headersFrom.size(); ++i) {
    const auto& header = http.headersFrom[i];
    const std::string field = "spec.sink.http.headersFrom[" + std::to_string(i) + "]";
    if (header.valueFile.empty()) {
      return common::invalidArgument(field + " names Secret key " + header.secretKeyRef->name + "/" +
                                     header.secretKeyRef->key +
                                     ", which the operator mounts: to run the worker by itself, set " +
                                     field + ".valueFile to a file holding the value");
    }
    std::error_code error;
    if (std::filesystem::is_directory(header.valueFile, error)) {
      return common::invalidArgument(field + ".valueFile " + header.valueFile +
                                     " is a directory: name the file");
    }
    std::string value;
    try {
      std::ifstream in(header.valueFile, std::ios::binary);
      if (!in.is_open()) {
        return common::invalidArgument(field + ".valueFile " + header.valueFile +
                                       " cannot be read: " + std::strerror(errno));
      }
      value.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::exception& e) {
      return common::invalidArgument(field + ".valueFile " + header.valueFile +
                                     " cannot be read: " + e.what());
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      return common::invalidArgument(
          field + ".valueFile " + header.valueFile +
          " holds a line break or NUL inside the value: a header value is one line");
    }
    out.emplace_back(header.name, std::move(value));
  }
  return out;
}

DeliveryOutcome classifyHttpStatus(int status) {
  if (status >= 200 && status < 300) return DeliveryOutcome::kDelivered;
  if (status == 429 || status == 408 || (status >= 500 && status < 600)) return DeliveryOutcome::kRetryable;
  return DeliveryOutcome::kTerminal;
}

std::optional<common::Millis> parseRetryAfter(const std::string& value, common::WallTime now) {
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string::npos) {
    if (value.size() > 9) return kMaxRetryAfter;
    return common::Millis(std::stoll(value) * 1000);
  }
  std::tm tm{};
  if (!strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  // In seconds first: a date centuries away does not fit WallTime's nanoseconds.
  const std::time_t at = timegm(&tm);
  const auto nowSeconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (at - nowSeconds > kMaxRetryAfter.count() / 1000) return kMaxRetryAfter;
  if (at - nowSeconds < -1) return common::Millis(0);
  const auto delay =
      std::chrono::duration_cast<common::Millis>(std::chrono::system_clock::from_time_t(at) - now);
  return delay.count() > 0 ? delay : common::Millis(0);
}

DeliveryResult httpResult(int status, const std::string& retryAfter, const std::string& bodyExcerpt,
                          common::WallTime now) {
  std::string error = "HTTP " + std::to_string(status);
  if (!bodyExcerpt.empty()) error += ": " + bodyExcerpt.substr(0, 200);
  switch (classifyHttpStatus(status)) {
    case DeliveryOutcome::kDelivered:
      return DeliveryResult::delivered();
    case DeliveryOutcome::kRetryable:
      return DeliveryResult::retryable(error, parseRetryAfter(retryAfter, now));
    case DeliveryOutcome::kTerminal:
      return DeliveryResult::terminal(error);
  }
  return DeliveryResult::terminal(error);
}

}  // namespace sluice::worker

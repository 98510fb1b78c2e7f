#pragma once
// The HTTP sink's wire format and its reading of responses, kept free of any HTTP library so they
// are tested as plain functions (http_sink.cc does the I/O).
//
// Body: `json` = one JSON array per batch; `ndjson` = one JSON object per line. Each message is
//   {"topic":"orders","partition":3,"offset":1042,"key":"customer-7","value":"{\"id\":1}",
//    "headers":{"trace":"abc"},"timestamp":1732312345123}
// `key` is null when the record has none; `timestamp` is milliseconds since the epoch (null when
// the broker gave none). `value` (and topic, key, header names and values) are UTF-8 strings when
// the bytes are valid UTF-8; otherwise they are base64 and the object says so with
// "valueEncoding":"base64" (resp. "topicEncoding" for a NATS subject, "keyEncoding"; header values
// are prefixed "base64:", header names are base64 without a marker).
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/spec/pipeline.h"
#include "worker/message.h"
#include "worker/sink.h"

namespace sluice::worker {

bool isValidUtf8(const std::string& bytes);
std::string base64Encode(const std::string& bytes);
std::string encodeMessageJson(const Message& message);
// How many bytes encodeMessageJson(message) takes beyond the raw field sizes and the fixed
// per-message allowance of budgetBytes(): at least the real figure, so budgets hold.
int64_t jsonEncodingExtraBytes(const Message& message);
std::string encodeBatch(std::span<const Message> batch, spec::HttpFormat format);
const char* contentType(spec::HttpFormat format);

// The request headers: spec.sink.http.headers, then each of headersFrom with its value read from
// valueFile (trailing newlines dropped; CR, LF or NUL inside is refused). Read once, at start.
common::Result<std::vector<std::pair<std::string, std::string>>> requestHeaders(
    const spec::HttpSinkSpec& http);

// 2xx delivered; 429, 5xx (and 408) retryable; any other status terminal.
DeliveryOutcome classifyHttpStatus(int status);
// Retry-After as delay-seconds or an HTTP-date; nullopt when absent or unreadable.
std::optional<common::Millis> parseRetryAfter(const std::string& value, common::WallTime now);
DeliveryResult httpResult(int status, const std::string& retryAfter, const std::string& bodyExcerpt,
                          common::WallTime now);

}  // namespace sluice::worker

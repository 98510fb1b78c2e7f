#pragma once
// The HTTP sink's wire format and its reading of responses, kept free of any HTTP library so they
// are tested as plain functions (http_sink.cc does the I/O).
//
// Body: `json` = one JSON array per batch; `ndjson` = one JSON object per line. Each message is
//   {"topic":"orders","partition":3,"offset":1042,"key":"customer-7","value":"{\"id\":1}",
//    "headers":{"trace":"abc"},"timestamp":1732312345123}
// `key` is null when the record has none; `timestamp` is milliseconds since the epoch (null when
// the broker gave none). `value` (and key, header values) are UTF-8 strings when the bytes are
// valid UTF-8; otherwise they are base64 and the object says so with "valueEncoding":"base64"
// (resp. "keyEncoding", and header values are prefixed "base64:").
#include <optional>
#include <span>
#include <string>

#include "common/clock.h"
#include "common/spec/pipeline.h"
#include "worker/message.h"
#include "worker/sink.h"

namespace sluice::worker {

bool isValidUtf8(const std::string& bytes);
std::string base64Encode(const std::string& bytes);
std::string encodeMessageJson(const Message& message);
std::string encodeBatch(std::span<const Message> batch, spec::HttpFormat format);
const char* contentType(spec::HttpFormat format);

// 2xx delivered; 429, 5xx (and 408) retryable; any other status terminal.
DeliveryOutcome classifyHttpStatus(int status);
// Retry-After as delay-seconds or an HTTP-date; nullopt when absent or unreadable.
std::optional<common::Millis> parseRetryAfter(const std::string& value, common::WallTime now);
DeliveryResult httpResult(int status, const std::string& retryAfter, const std::string& bodyExcerpt,
                          common::WallTime now);

}  // namespace sluice::worker

#pragma once
// Bounds on what a ConsumerPipeline may hold: the longest string of each field and the most items of
// each list or map. The CRD states the same numbers (maxLength, maxItems, maxProperties) and
// tests/crds/crd_agreement_test.cc checks that the two agree, so the API server and the parser refuse
// the same manifests. Every string is bounded before anything else looks at it, so no later check
// (validation, error messages, client libraries) ever sees unbounded input.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::spec {

// A field path in schema form: dotted, with "[]" for the items of a list and "{}" for the values of a
// map ("spec.worker.env[].value", "spec.sink.http.headers{}").
std::string schemaPath(std::string_view path);

// The longest string the field at `path` (any form: indices are stripped) may hold. Fields without an
// entry get kDefaultMaxLength, so nothing is unbounded.
inline constexpr size_t kDefaultMaxLength = 1024;
size_t maxLengthOf(std::string_view path);

// The most items (lists) or entries (maps) the field at `path` may hold; kDefaultMaxItems without an
// entry.
inline constexpr size_t kDefaultMaxItems = 64;
size_t maxItemsOf(std::string_view path);

// The longest key of a string map: a Kubernetes qualified name (253-character prefix, '/', 63-character
// name) for labels, annotations and resource names; HTTP header names share it.
inline constexpr size_t kMaxMapKeyLength = 317;

// Every bounded field, for the CRD agreement test: (schema path, bound).
const std::vector<std::pair<std::string, size_t>>& maxLengths();
const std::vector<std::pair<std::string, size_t>>& maxItems();

// At most maxBytes of `text`, cut at a UTF-8 character boundary and ending in "..." when cut: for
// strings the operator writes into bounded status fields.
std::string truncateUtf8(std::string_view text, size_t maxBytes);

// `text` as it may appear inside an error message: at most 64 characters, then "... (N bytes)".
std::string excerpt(std::string_view text);

}  // namespace sluice::spec

#include "common/spec/limits.h"

#include <algorithm>

namespace sluice::spec {
namespace {

// Kubernetes object names (Secrets) are DNS subdomains: 253. Kafka topics: 249. File paths: 1024.
// bootstrapServers holds a comma-separated list, hence longer than one URL.
constexpr size_t kSecretName = 253;
constexpr size_t kFilePath = 1024;
constexpr size_t kBootstrap = 4096;
constexpr size_t kTopic = 249;
constexpr size_t kServerUrl = 1024;
constexpr size_t kSubject = 1024;
constexpr size_t kNatsName = 255;
constexpr size_t kTimestamp = 64;

std::vector<std::pair<std::string, size_t>> buildMaxLengths() {
  std::vector<std::pair<std::string, size_t>> table = {
      {"metadata.name", 253},
      {"metadata.namespace", 63},
      {"metadata.uid", 128},
      {"metadata.resourceVersion", 128},
      {"metadata.creationTimestamp", kTimestamp},
      // Kubernetes bounds these itself (label values 63; all annotations 256 KiB together, and
      // kubectl's last-applied-configuration holds the whole manifest).
      {"metadata.labels{}", 63},
      {"metadata.annotations{}", 262144},
      {"spec.source.kafka.bootstrapServers", kBootstrap},
      {"spec.source.kafka.topics[]", kTopic},
      {"spec.source.kafka.groupId", 255},
      {"spec.source.nats.servers[]", kServerUrl},
      {"spec.source.nats.stream", kNatsName},
      {"spec.source.nats.consumer", kNatsName},
      {"spec.source.nats.filterSubject", kSubject},
      {"spec.source.nats.keyHeader", 255},
      {"spec.processing.deadLetter.kafka.topic", kTopic},
      {"spec.processing.deadLetter.kafka.bootstrapServers", kBootstrap},
      {"spec.processing.deadLetter.nats.subject", kSubject},
      {"spec.processing.deadLetter.nats.servers[]", kServerUrl},
      {"spec.sink.http.url", 2048},
      {"spec.sink.http.headers{}", 8192},
      {"spec.sink.http.headersFrom[].name", 256},
      {"spec.sink.http.headersFrom[].secretKeyRef.name", kSecretName},
      {"spec.sink.http.headersFrom[].secretKeyRef.key", kSecretName},
      {"spec.sink.http.headersFrom[].valueFile", kFilePath},
      {"spec.sink.kafka.bootstrapServers", kBootstrap},
      {"spec.sink.kafka.topic", kTopic},
      {"spec.sink.nats.servers[]", kServerUrl},
      {"spec.sink.nats.subject", kSubject},
      {"spec.worker.image", 1024},
      {"spec.worker.resources.limits{}", 64},
      {"spec.worker.resources.requests{}", 64},
      {"spec.worker.env[].name", 256},
      {"spec.worker.env[].value", 32768},
      {"status.source", 512},
      {"status.workers.items[].pod", kSecretName},
      {"status.workers.items[].state", 64},
      {"status.workers.items[].lastHeartbeat", kTimestamp},
      {"status.lastScale.time", kTimestamp},
      {"status.lastScale.reason", 32768},
      {"status.conditions[].type", 316},
      {"status.conditions[].reason", 1024},
      {"status.conditions[].message", 32768},
      {"status.conditions[].lastTransitionTime", kTimestamp},
  };
  // TLS, SASL and NATS auth blocks have the same fields wherever they appear.
  for (const std::string owner :
       {"spec.source.kafka", "spec.source.nats", "spec.sink.kafka", "spec.sink.nats",
        "spec.processing.deadLetter.kafka", "spec.processing.deadLetter.nats"}) {
    for (const char* field : {".tls.caFile", ".tls.certFile", ".tls.keyFile"})
      table.emplace_back(owner + field, kFilePath);
    table.emplace_back(owner + ".tls.secretRef.name", kSecretName);
  }
  for (const std::string owner :
       {"spec.source.kafka", "spec.sink.kafka", "spec.processing.deadLetter.kafka"}) {
    for (const char* field : {".sasl.usernameFile", ".sasl.passwordFile"})
      table.emplace_back(owner + field, kFilePath);
    table.emplace_back(owner + ".sasl.secretRef.name", kSecretName);
  }
  for (const std::string owner : {"spec.source.nats", "spec.sink.nats", "spec.processing.deadLetter.nats"}) {
    for (const char* field : {".auth.credsFile", ".auth.nkeySeedFile", ".auth.tokenFile",
                              ".auth.usernameFile", ".auth.passwordFile"})
      table.emplace_back(owner + field, kFilePath);
    table.emplace_back(owner + ".auth.secretRef.name", kSecretName);
  }
  return table;
}

size_t lookup(const std::vector<std::pair<std::string, size_t>>& table, std::string_view path,
              size_t fallback) {
  const std::string key = schemaPath(path);
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const auto& entry) { return entry.first == key; });
  return it == table.end() ? fallback : it->second;
}

}  // namespace

std::string schemaPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '[') {
      out += path[i];
      continue;
    }
    const size_t close = path.find(']', i);
    if (close == std::string_view::npos) {
      out.append(path.substr(i));
      break;
    }
    out += "[]";
    i = close;
  }
  return out;
}

const std::vector<std::pair<std::string, size_t>>& maxLengths() {
  static const auto table = buildMaxLengths();
  return table;
}

const std::vector<std::pair<std::string, size_t>>& maxItems() {
  static const std::vector<std::pair<std::string, size_t>> table = {
      {"metadata.labels", 4096},
      {"metadata.annotations", 4096},
      {"spec.source.kafka.topics", 100},
      {"spec.source.nats.servers", 32},
      {"spec.processing.deadLetter.nats.servers", 32},
      {"spec.sink.http.headers", 64},
      {"spec.sink.http.headersFrom", 64},
      {"spec.sink.nats.servers", 32},
      {"spec.worker.resources.limits", 16},
      {"spec.worker.resources.requests", 16},
      {"spec.worker.env", 128},
      {"status.workers.items", 1000},
      {"status.conditions", 16},
  };
  return table;
}

size_t maxLengthOf(std::string_view path) { return lookup(maxLengths(), path, kDefaultMaxLength); }

size_t maxItemsOf(std::string_view path) { return lookup(maxItems(), path, kDefaultMaxItems); }

std::string truncateUtf8(std::string_view text, size_t maxBytes) {
  if (text.size() <= maxBytes) return std::string(text);
  constexpr std::string_view kEllipsis = "...";
  if (maxBytes < kEllipsis.size()) return std::string(kEllipsis.substr(0, maxBytes));
  size_t cut = maxBytes - kEllipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return std::string(text.substr(0, cut)) + std::string(kEllipsis);
}

std::string excerpt(std::string_view text) {
  constexpr size_t kShown = 64;
  if (text.size() <= kShown) return std::string(text);
  return std::string(text.substr(0, kShown)) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace sluice::spec

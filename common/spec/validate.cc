#include "common/spec/validate.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include "common/spec/consumer_properties.h"
#include "common/spec/limits.h"
#include "common/url.h"

namespace sluice::spec {
namespace {

// Worker objects are named <name>-worker and pods add a hash: keep names short enough.
constexpr size_t kMaxNameLength = 50;

// Workers sharing one JetStream consumer each get whichever messages are next, so one key's messages
// are spread over several processes (issue #19). One replica keeps the order; docs/architecture.md
// says what order NATS gives.
constexpr const char* kNatsKeyOrderingReplicasMessage =
    "spec.scaling.maxReplicas must be 1 with a NATS source and spec.processing.ordering: key (workers "
    "sharing one JetStream consumer deliver a key's messages out of order): set spec.scaling.maxReplicas: "
    "1, or spec.processing.ordering: none";

class Collector {
 public:
  void add(const std::string& path, const std::string& message) { errors.push_back({path, message, 0, 0}); }
  std::vector<SpecError> errors;
};

int countSet(std::initializer_list<bool> flags) {
  int n = 0;
  for (bool f : flags) n += f ? 1 : 0;
  return n;
}

// Hand-written scanners, not std::regex: libstdc++'s matcher recurses per character, and these run on
// input from manifests.
bool isHostChar(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '[' || ch == ']' ||
         ch == ':';
}

bool isSpace(char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }

// host:port where host is [A-Za-z0-9.-[]:]+ and port is 1-5 digits (the last ':' splits them).
bool isHostPort(std::string_view item) {
  const size_t colon = item.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = item.substr(0, colon), port = item.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  if (!std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) return false;
  return std::all_of(host.begin(), host.end(), isHostChar);
}

bool isHostPortList(std::string_view text) {
  while (true) {
    const size_t comma = text.find(',');
    if (!isHostPort(text.substr(0, comma))) return false;
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

bool isNatsUrl(std::string_view url) {
  for (std::string_view scheme : {"nats://", "tls://", "ws://", "wss://"}) {
    if (!url.starts_with(scheme)) continue;
    const std::string_view rest = url.substr(scheme.size());
    return !rest.empty() && std::none_of(rest.begin(), rest.end(), isSpace);
  }
  return false;
}

bool isPublishSubject(std::string_view subject) {
  return !subject.empty() && std::none_of(subject.begin(), subject.end(),
                                          [](char ch) { return isSpace(ch) || ch == '*' || ch == '>'; });
}

void checkHostPorts(const std::string& path, const std::string& servers, Collector& c) {
  if (servers.empty() || isHostPortList(servers)) return;
  c.add(path, path + " must be host:port[,host:port...] (got '" + excerpt(servers) + "')");
}

void checkNatsUrls(const std::string& path, const std::vector<std::string>& servers, Collector& c) {
  for (size_t i = 0; i < servers.size(); ++i) {
    if (isNatsUrl(servers[i])) continue;
    const std::string item = path + "[" + std::to_string(i) + "]";
    c.add(item, item + " must be a nats:// or tls:// URL (got '" + excerpt(servers[i]) + "')");
  }
}

void checkSubject(const std::string& path, const std::string& subject, Collector& c) {
  if (subject.empty() || isPublishSubject(subject)) return;
  c.add(path, path + " must be a subject without spaces or the wildcards '*' and '>' (got '" +
                  excerpt(subject) + "')");
}

void validateNatsAuth(const NatsAuthSpec& auth, const std::string& path, Collector& c) {
  const bool userPass = !auth.usernameFile.empty() || !auth.passwordFile.empty();
  const int ways =
      countSet({!auth.credsFile.empty(), !auth.nkeySeedFile.empty(), !auth.tokenFile.empty(), userPass});
  if (ways == 0) {
    c.add(path, path +
                    " must set one of credsFile, nkeySeedFile, tokenFile or "
                    "usernameFile with passwordFile (secretRef alone only names the Secret: set the field "
                    "of the chosen way to its key)");
  }
  if (ways > 1) {
    c.add(path, path +
                    " must set at most one of credsFile, nkeySeedFile, tokenFile "
                    "or usernameFile with passwordFile");
  }
  if (auth.usernameFile.empty() != auth.passwordFile.empty()) {
    c.add(path, path + ".usernameFile and passwordFile must be set together");
  }
}

void validateSource(const PipelineSpec& spec, Collector& c) {
  const int sources = countSet({spec.source.kafka.has_value(), spec.source.nats.has_value()});
  if (sources != 1) {
    c.add("spec.source", std::string("spec.source must set exactly one of kafka or nats (got ") +
                             (sources == 0 ? "none" : "both") + ")");
  }
  if (const auto& kafka = spec.source.kafka) {
    checkHostPorts("spec.source.kafka.bootstrapServers", kafka->bootstrapServers, c);
    for (size_t i = 0; i < kafka->topics.size(); ++i) {
      if (!isValidKafkaTopic(kafka->topics[i])) {
        c.add("spec.source.kafka.topics[" + std::to_string(i) + "]",
              "spec.source.kafka.topics[" + std::to_string(i) +
                  "] must be 1-249 characters of letters, digits, '.', '_' or '-' (got '" + kafka->topics[i] +
                  "')");
      }
    }
  }
  if (const auto& nats = spec.source.nats) {
    checkNatsUrls("spec.source.nats.servers", nats->servers, c);
    if (nats->auth) validateNatsAuth(*nats->auth, "spec.source.nats.auth", c);
    if (!nats->stream.empty() && !isValidNatsName(nats->stream)) {
      c.add("spec.source.nats.stream",
            "spec.source.nats.stream must not contain spaces, '.', '*', '>', '/' or '\\' (got '" +
                nats->stream + "')");
    }
    if (!nats->consumer.empty() && !isValidNatsName(nats->consumer)) {
      c.add("spec.source.nats.consumer",
            "spec.source.nats.consumer must not contain spaces, '.', '*', '>', '/' or '\\' (got '" +
                nats->consumer + "')");
    }
    if (!nats->keyHeader.empty() && nats->keySubjectToken > 0) {
      c.add("spec.source.nats", "spec.source.nats must set at most one of keyHeader or keySubjectToken");
    }
  }
}

void validateProcessing(const PipelineSpec& spec, Collector& c) {
  const auto& p = spec.processing;
  if (p.retry.maxBackoffMs < p.retry.initialBackoffMs) {
    c.add("spec.processing.retry.maxBackoffMs",
          "spec.processing.retry.maxBackoffMs must be at least initialBackoffMs (" +
              std::to_string(p.retry.initialBackoffMs) + "; got " + std::to_string(p.retry.maxBackoffMs) +
              ")");
  }
  if (spec.source.nats && p.ordering == Ordering::kPartition) {
    c.add("spec.processing.ordering",
          "spec.processing.ordering: partition applies to Kafka sources only; use key or none for NATS");
  }
  if (spec.source.nats && p.ordering == Ordering::kKey && spec.source.nats->keyHeader.empty() &&
      spec.source.nats->keySubjectToken == 0) {
    c.add("spec.processing.ordering",
          "spec.processing.ordering: key with a NATS source needs spec.source.nats.keyHeader or "
          "keySubjectToken");
  }
  if (spec.source.nats && p.ordering == Ordering::kKey && spec.scaling.maxReplicas > 1) {
    c.add("spec.scaling.maxReplicas", std::string(kNatsKeyOrderingReplicasMessage) + " (got " +
                                          std::to_string(spec.scaling.maxReplicas) + ")");
  }
  if (const auto& dlq = p.deadLetter) {
    const int n = countSet({dlq->kafka.has_value(), dlq->nats.has_value()});
    if (n != 1) {
      c.add("spec.processing.deadLetter",
            std::string("spec.processing.deadLetter must set exactly one of kafka or nats (got ") +
                (n == 0 ? "none" : "both") + ")");
    }
    if (dlq->kafka && dlq->kafka->bootstrapServers.empty() && !spec.source.kafka && !spec.sink.kafka) {
      c.add("spec.processing.deadLetter.kafka.bootstrapServers",
            "spec.processing.deadLetter.kafka.bootstrapServers is required when neither source nor sink is "
            "Kafka");
    }
    if (dlq->kafka)
      checkHostPorts("spec.processing.deadLetter.kafka.bootstrapServers", dlq->kafka->bootstrapServers, c);
    if (dlq->nats) {
      checkNatsUrls("spec.processing.deadLetter.nats.servers", dlq->nats->servers, c);
      checkSubject("spec.processing.deadLetter.nats.subject", dlq->nats->subject, c);
      if (dlq->nats->auth) validateNatsAuth(*dlq->nats->auth, "spec.processing.deadLetter.nats.auth", c);
    }
    if (dlq->kafka && !dlq->kafka->topic.empty() && !isValidKafkaTopic(dlq->kafka->topic)) {
      c.add("spec.processing.deadLetter.kafka.topic",
            "spec.processing.deadLetter.kafka.topic must be 1-249 characters of letters, digits, '.', '_' or "
            "'-' (got '" +
                dlq->kafka->topic + "')");
    }
    if (dlq->nats && dlq->nats->servers.empty() && !spec.source.nats && !spec.sink.nats) {
      c.add("spec.processing.deadLetter.nats.servers",
            "spec.processing.deadLetter.nats.servers is required when neither source nor sink is NATS");
    }
    if (spec.source.kafka && dlq->kafka) {
      for (const auto& topic : spec.source.kafka->topics) {
        if (topic == dlq->kafka->topic) {
          c.add("spec.processing.deadLetter.kafka.topic",
                "spec.processing.deadLetter.kafka.topic must differ from the source topics (got '" + topic +
                    "')");
        }
      }
    }
  }
}

void validateSink(const PipelineSpec& spec, Collector& c) {
  const auto& s = spec.sink;
  const int sinks = countSet({s.http.has_value(), s.kafka.has_value(), s.nats.has_value(), s.log.has_value(),
                              s.discard.has_value()});
  if (sinks != 1) {
    c.add("spec.sink", "spec.sink must set exactly one of http, kafka, nats, log or discard (got " +
                           std::to_string(sinks) + ")");
  }
  if (s.http && !s.http->url.empty() && s.http->url.rfind("http://", 0) != 0 &&
      s.http->url.rfind("https://", 0) != 0) {
    c.add("spec.sink.http.url", "spec.sink.http.url must start with http:// or https:// (got '" +
                                    excerpt(common::redactUserinfo(s.http->url)) + "')");
  }
  if (s.kafka) {
    if (s.kafka->bootstrapServers.empty() && !spec.source.kafka) {
      c.add("spec.sink.kafka.bootstrapServers",
            "spec.sink.kafka.bootstrapServers is required when the source is not Kafka");
    }
    if (!s.kafka->topic.empty() && !isValidKafkaTopic(s.kafka->topic)) {
      c.add("spec.sink.kafka.topic",
            "spec.sink.kafka.topic must be 1-249 characters of letters, digits, '.', '_' or '-' (got '" +
                s.kafka->topic + "')");
    }
    if (spec.source.kafka && s.kafka->bootstrapServers.empty()) {
      for (const auto& topic : spec.source.kafka->topics) {
        if (topic == s.kafka->topic) {
          c.add("spec.sink.kafka.topic",
                "spec.sink.kafka.topic must differ from the source topics, or the pipeline would consume its "
                "own output (got '" +
                    topic + "')");
        }
      }
    }
  }
  if (s.kafka) checkHostPorts("spec.sink.kafka.bootstrapServers", s.kafka->bootstrapServers, c);
  if (s.nats) {
    checkNatsUrls("spec.sink.nats.servers", s.nats->servers, c);
    checkSubject("spec.sink.nats.subject", s.nats->subject, c);
    if (s.nats->auth) validateNatsAuth(*s.nats->auth, "spec.sink.nats.auth", c);
  }
  if (s.nats && s.nats->servers.empty() && !spec.source.nats) {
    c.add("spec.sink.nats.servers", "spec.sink.nats.servers is required when the source is not NATS");
  }
}

// A token of RFC 9110: what a header name may hold.
bool isHeaderName(const std::string& name) {
  static const std::string kSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || kSpecials.find(ch) != std::string::npos;
  });
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return text;
}

void validateHeadersFrom(const HttpSinkSpec& http, Collector& c) {
  std::set<std::string> inlineNames;
  for (const auto& [name, value] : http.headers) inlineNames.insert(lowercase(name));
  for (size_t i = 0; i < http.headersFrom.size(); ++i) {
    const auto& header = http.headersFrom[i];
    const std::string path = "spec.sink.http.headersFrom[" + std::to_string(i) + "]";
    if (!header.name.empty() && !isHeaderName(header.name)) {
      c.add(path + ".name",
            path + ".name must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~; got '" +
                excerpt(header.name) + "')");
    }
    if (inlineNames.count(lowercase(header.name))) {
      c.add(path + ".name", path + ".name '" + header.name +
                                "' is also in spec.sink.http.headers: set each header in one place");
    }
    if (!header.secretKeyRef && header.valueFile.empty()) {
      c.add(path, path +
                      " must set secretKeyRef (a Secret's key; the operator mounts it) or valueFile (a file "
                      "on the worker)");
    }
    if (header.secretKeyRef) {
      const std::string& key = header.secretKeyRef->key;
      if (key == "." || key == ".." || key.find('/') != std::string::npos) {
        c.add(path + ".secretKeyRef.key",
              path + ".secretKeyRef.key must be a Secret key, not a path (got '" + excerpt(key) + "')");
      }
    }
  }
}

// A SLUICE_KAFKA_CONSUMER_PROPERTIES in spec.worker.env that would break at-least-once delivery.
void validateWorkerEnv(const PipelineSpec& spec, Collector& c) {
  for (size_t i = 0; i < spec.worker.env.size(); ++i) {
    const auto& var = spec.worker.env[i];
    if (var.name != kConsumerPropertiesEnv) continue;
    const std::string path = "spec.worker.env[" + std::to_string(i) + "].value";
    if (auto parsed = parseConsumerProperties(var.value, path); !parsed)
      c.add(path, parsed.status().message());
  }
}

void validateLimits(const PipelineSpec& spec, Collector& c) {
  if (spec.batch.maxMessages > spec.backpressure.maxInFlightMessages) {
    c.add("spec.batch.maxMessages",
          "spec.batch.maxMessages must not exceed spec.backpressure.maxInFlightMessages (" +
              std::to_string(spec.backpressure.maxInFlightMessages) + "; got " +
              std::to_string(spec.batch.maxMessages) + ")");
  }
  if (spec.batch.maxBytes > spec.backpressure.maxInFlightBytes) {
    c.add("spec.batch.maxBytes", "spec.batch.maxBytes must not exceed spec.backpressure.maxInFlightBytes (" +
                                     std::to_string(spec.backpressure.maxInFlightBytes) + "; got " +
                                     std::to_string(spec.batch.maxBytes) + ")");
  }
  if (spec.scaling.minReplicas > spec.scaling.maxReplicas) {
    c.add("spec.scaling.minReplicas", "spec.scaling.minReplicas must not exceed maxReplicas (" +
                                          std::to_string(spec.scaling.maxReplicas) + "; got " +
                                          std::to_string(spec.scaling.minReplicas) + ")");
  }
}

}  // namespace

bool isValidKafkaTopic(const std::string& topic) {
  const auto allowed = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
  };
  return !topic.empty() && topic.size() <= 249 && std::all_of(topic.begin(), topic.end(), allowed) &&
         topic != "." && topic != "..";
}

bool isValidNatsName(const std::string& name) {
  const auto forbidden = [](char ch) {
    return isSpace(ch) || ch == '.' || ch == '*' || ch == '>' || ch == '/' || ch == '\\';
  };
  return !name.empty() && std::none_of(name.begin(), name.end(), forbidden);
}

bool isValidDnsLabel(const std::string& name) {
  const auto lowerOrDigit = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
  if (name.empty() || name.size() > 63) return false;
  if (!lowerOrDigit(name.front()) || !lowerOrDigit(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char ch) { return lowerOrDigit(ch) || ch == '-'; });
}

std::vector<SpecError> validatePipeline(const ConsumerPipeline& pipeline) {
  Collector c;
  const auto& name = pipeline.metadata.name;
  if (!name.empty() && (!isValidDnsLabel(name) || name.size() > kMaxNameLength)) {
    c.add("metadata.name",
          "metadata.name must be at most " + std::to_string(kMaxNameLength) +
              " lowercase letters, digits or '-', starting and ending with a letter or digit (got '" + name +
              "')");
  }
  validateSource(pipeline.spec, c);
  validateProcessing(pipeline.spec, c);
  validateSink(pipeline.spec, c);
  if (pipeline.spec.sink.http) validateHeadersFrom(*pipeline.spec.sink.http, c);
  validateWorkerEnv(pipeline.spec, c);
  validateLimits(pipeline.spec, c);
  return c.errors;
}

}  // namespace sluice::spec

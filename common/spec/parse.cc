#include "common/spec/parse.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/spec/reader.h"
#include "common/spec/validate.h"

namespace sluice::spec {
namespace {

using detail::Errors;
using detail::MapReader;

constexpr int64_t kMaxInt32 = 2147483647;

std::optional<SecretRef> parseSecretRef(MapReader& parent) {
  auto reader = parent.child("secretRef");
  if (!reader) return std::nullopt;
  SecretRef ref;
  reader->string("name", ref.name, true, "the name of a Secret in the pipeline's namespace");
  reader->finish();
  return ref;
}

std::vector<HttpHeaderFrom> parseHeadersFrom(MapReader& http) {
  std::vector<HttpHeaderFrom> out;
  if (!http.has("headersFrom")) return out;
  const std::string path = http.pathOf("headersFrom");
  YAML::Node list = http.raw("headersFrom");
  if (!list.IsSequence()) {
    http.errors().add(path, path + " must be a list of {name, secretKeyRef: {name, key}}", list);
    return out;
  }
  if (!http.withinCount(path, list)) return out;
  for (size_t i = 0; i < list.size(); ++i) {
    MapReader item(list[i], path + "[" + std::to_string(i) + "]", http.errors());
    HttpHeaderFrom header;
    item.string("name", header.name, true, "the request header's name, e.g. Authorization");
    if (auto ref = item.child("secretKeyRef")) {
      SecretKeyRef key;
      ref->string("name", key.name, true, "the name of a Secret in the pipeline's namespace");
      ref->string("key", key.key, true, "the key of that Secret holding the header's value");
      ref->finish();
      header.secretKeyRef = key;
    }
    item.string("valueFile", header.valueFile);
    item.finish();
    out.push_back(header);
  }
  return out;
}

std::optional<TlsSpec> parseTls(MapReader& parent) {
  auto reader = parent.child("tls");
  if (!reader) return std::nullopt;
  TlsSpec tls;
  reader->boolean("enabled", tls.enabled);
  tls.secretRef = parseSecretRef(*reader);
  reader->string("caFile", tls.caFile);
  reader->string("certFile", tls.certFile);
  reader->string("keyFile", tls.keyFile);
  reader->boolean("insecureSkipVerify", tls.insecureSkipVerify);
  reader->finish();
  return tls;
}

std::optional<SaslSpec> parseSasl(MapReader& parent) {
  auto reader = parent.child("sasl");
  if (!reader) return std::nullopt;
  SaslSpec sasl;
  reader->enumeration<SaslMechanism>("mechanism", sasl.mechanism,
                                     {{"PLAIN", SaslMechanism::kPlain},
                                      {"SCRAM-SHA-256", SaslMechanism::kScramSha256},
                                      {"SCRAM-SHA-512", SaslMechanism::kScramSha512}});
  sasl.secretRef = parseSecretRef(*reader);
  reader->string("usernameFile", sasl.usernameFile);
  reader->string("passwordFile", sasl.passwordFile);
  reader->finish();
  return sasl;
}

KafkaSourceSpec parseKafkaSource(MapReader& reader) {
  KafkaSourceSpec kafka;
  reader.string("bootstrapServers", kafka.bootstrapServers, true,
                "host:port of one or more brokers, comma-separated");
  reader.stringList("topics", kafka.topics, true, "the topics to consume, e.g. [orders]");
  reader.string("groupId", kafka.groupId);
  reader.enumeration<StartFrom>("startFrom", kafka.startFrom,
                                {{"earliest", StartFrom::kEarliest}, {"latest", StartFrom::kLatest}});
  kafka.tls = parseTls(reader);
  kafka.sasl = parseSasl(reader);
  reader.finish();
  return kafka;
}

std::optional<NatsAuthSpec> parseNatsAuth(MapReader& parent) {
  auto reader = parent.child("auth");
  if (!reader) return std::nullopt;
  NatsAuthSpec auth;
  auth.secretRef = parseSecretRef(*reader);
  reader->string("credsFile", auth.credsFile);
  reader->string("nkeySeedFile", auth.nkeySeedFile);
  reader->string("tokenFile", auth.tokenFile);
  reader->string("usernameFile", auth.usernameFile);
  reader->string("passwordFile", auth.passwordFile);
  reader->finish();
  return auth;
}

NatsSourceSpec parseNatsSource(MapReader& reader) {
  NatsSourceSpec nats;
  reader.stringList("servers", nats.servers, true, "NATS URLs, e.g. [nats://nats:4222]");
  reader.string("stream", nats.stream, true, "the JetStream stream to consume");
  reader.string("consumer", nats.consumer);
  reader.string("filterSubject", nats.filterSubject);
  reader.string("keyHeader", nats.keyHeader);
  reader.integer("keySubjectToken", nats.keySubjectToken, 1, 64);
  reader.integer("ackWaitSeconds", nats.ackWaitSeconds, 1, 3600);
  nats.tls = parseTls(reader);
  nats.auth = parseNatsAuth(reader);
  reader.finish();
  return nats;
}

SourceSpec parseSource(MapReader& spec) {
  SourceSpec source;
  auto reader = spec.child("source");
  if (!reader) {
    if (!spec.has("source")) {
      spec.errors().add(spec.pathOf("source"),
                        spec.pathOf("source") + " is required: set source.kafka or source.nats");
    }
    return source;
  }
  if (auto kafka = reader->child("kafka")) source.kafka = parseKafkaSource(*kafka);
  if (auto nats = reader->child("nats")) source.nats = parseNatsSource(*nats);
  reader->finish();
  return source;
}

BatchSpec parseBatch(MapReader& spec) {
  BatchSpec batch;
  auto reader = spec.child("batch");
  if (!reader) return batch;
  reader->integer("maxMessages", batch.maxMessages, 1, 100000);
  reader->integer("maxBytes", batch.maxBytes, 1024, 268435456);
  reader->integer("maxWaitMs", batch.maxWaitMs, 1, 600000);
  reader->finish();
  return batch;
}

RetrySpec parseRetry(MapReader& processing) {
  RetrySpec retry;
  auto reader = processing.child("retry");
  if (!reader) return retry;
  reader->integer("maxAttempts", retry.maxAttempts, 1, 100);
  reader->integer("initialBackoffMs", retry.initialBackoffMs, 1, 3600000);
  reader->integer("maxBackoffMs", retry.maxBackoffMs, 1, 3600000);
  reader->number("multiplier", retry.multiplier, 1.0, 10.0);
  reader->number("jitter", retry.jitter, 0.0, 1.0);
  reader->finish();
  return retry;
}

std::optional<DeadLetterSpec> parseDeadLetter(MapReader& processing) {
  auto reader = processing.child("deadLetter");
  if (!reader) return std::nullopt;
  DeadLetterSpec dlq;
  if (auto kafka = reader->child("kafka")) {
    KafkaDeadLetterSpec spec;
    kafka->string("topic", spec.topic, true, "the dead-letter topic, e.g. orders.dlq");
    kafka->string("bootstrapServers", spec.bootstrapServers);
    spec.tls = parseTls(*kafka);
    spec.sasl = parseSasl(*kafka);
    kafka->finish();
    dlq.kafka = spec;
  }
  if (auto nats = reader->child("nats")) {
    NatsDeadLetterSpec spec;
    nats->string("subject", spec.subject, true, "the dead-letter subject, e.g. orders.dlq");
    nats->stringList("servers", spec.servers, false, "");
    spec.tls = parseTls(*nats);
    spec.auth = parseNatsAuth(*nats);
    nats->finish();
    dlq.nats = spec;
  }
  reader->finish();
  return dlq;
}

ProcessingSpec parseProcessing(MapReader& spec) {
  ProcessingSpec processing;
  auto reader = spec.child("processing");
  if (!reader) return processing;
  if (reader->has("ordering")) {
    Ordering ordering = Ordering::kKey;
    reader->enumeration<Ordering>(
        "ordering", ordering,
        {{"key", Ordering::kKey}, {"partition", Ordering::kPartition}, {"none", Ordering::kNone}});
    processing.ordering = ordering;
  }
  reader->integer("concurrency", processing.concurrency, 1, 256);
  reader->integer("timeoutMs", processing.timeoutMs, 100, 3600000);
  processing.retry = parseRetry(*reader);
  processing.deadLetter = parseDeadLetter(*reader);
  reader->finish();
  return processing;
}

BackpressureSpec parseBackpressure(MapReader& spec) {
  BackpressureSpec backpressure;
  auto reader = spec.child("backpressure");
  if (!reader) return backpressure;
  reader->integer("maxInFlightMessages", backpressure.maxInFlightMessages, 1, 10000000);
  reader->integer("maxInFlightBytes", backpressure.maxInFlightBytes, 65536, 17179869184LL);
  reader->number("resumeRatio", backpressure.resumeRatio, 0.0, 0.95);
  reader->finish();
  return backpressure;
}

SinkSpec parseSink(MapReader& spec) {
  SinkSpec sink;
  auto reader = spec.child("sink");
  if (!reader) {
    if (!spec.has("sink")) {
      spec.errors().add(
          spec.pathOf("sink"),
          spec.pathOf("sink") +
              " is required: set one of sink.http, sink.kafka, sink.nats, sink.log, sink.discard");
    }
    return sink;
  }
  if (auto http = reader->child("http")) {
    HttpSinkSpec h;
    http->string("url", h.url, true, "where batches are POSTed, e.g. http://ingest.shop/batch");
    http->enumeration<HttpFormat>("format", h.format,
                                  {{"json", HttpFormat::kJson}, {"ndjson", HttpFormat::kNdjson}});
    http->stringMap("headers", h.headers);
    h.headersFrom = parseHeadersFrom(*http);
    http->integer("timeoutMs", h.timeoutMs, 100, 3600000);
    http->finish();
    sink.http = h;
  }
  if (auto kafka = reader->child("kafka")) {
    KafkaSinkSpec k;
    kafka->string("bootstrapServers", k.bootstrapServers);
    kafka->string("topic", k.topic, true, "the topic to produce to");
    k.tls = parseTls(*kafka);
    k.sasl = parseSasl(*kafka);
    kafka->finish();
    sink.kafka = k;
  }
  if (auto nats = reader->child("nats")) {
    NatsSinkSpec n;
    nats->stringList("servers", n.servers, false, "");
    nats->string("subject", n.subject, true, "the subject to publish to");
    n.tls = parseTls(*nats);
    n.auth = parseNatsAuth(*nats);
    nats->enumeration<NatsPublish>("publish", n.publish,
                                   {{"jetstream", NatsPublish::kJetStream}, {"core", NatsPublish::kCore}});
    nats->finish();
    sink.nats = n;
  }
  // log and discard take no settings; `log: {}` and `log: null` both select them.
  for (const char* kind : {"log", "discard"}) {
    YAML::Node value = reader->raw(kind);
    if (!value.IsDefined()) continue;
    MapReader empty(value, reader->pathOf(kind), reader->errors());
    empty.finish();
    if (std::string(kind) == "log")
      sink.log = LogSinkSpec{};
    else
      sink.discard = DiscardSinkSpec{};
  }
  reader->finish();
  return sink;
}

ScalingSpec parseScaling(MapReader& spec) {
  ScalingSpec scaling;
  auto reader = spec.child("scaling");
  if (!reader) {
    scaling.lagPerReplica = kDefaultLagPerReplica;
    return scaling;
  }
  reader->integer("minReplicas", scaling.minReplicas, 0, 1000);
  reader->integer("maxReplicas", scaling.maxReplicas, 1, 1000);
  reader->optionalInteger("lagPerReplica", scaling.lagPerReplica, 1, 1000000000000LL);
  std::optional<int64_t> drain;
  reader->optionalInteger("drainSeconds", drain, 1, 86400);
  if (drain) scaling.drainSeconds = static_cast<int>(*drain);
  reader->integer("activationLag", scaling.activationLag, 0, 1000000000000LL);
  reader->integer("pollIntervalSeconds", scaling.pollIntervalSeconds, 1, 3600);
  reader->integer("scaleDownStabilizationSeconds", scaling.scaleDownStabilizationSeconds, 0, 3600);
  reader->integer("idleSecondsBeforeZero", scaling.idleSecondsBeforeZero, 0, 86400);
  reader->boolean("allowIdleConsumers", scaling.allowIdleConsumers);
  reader->boolean("paused", scaling.paused);
  reader->finish();
  if (!scaling.lagPerReplica && !scaling.drainSeconds && !reader->has("lagPerReplica") &&
      !reader->has("drainSeconds")) {
    spec.errors().add(reader->path(),
                      reader->path() +
                          " must set at least one target: lagPerReplica (messages per replica) or "
                          "drainSeconds (time to drain the backlog)");
  }
  return scaling;
}

nlohmann::json yamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted in the source: keep as string
      try {
        size_t used = 0;
        long long i = std::stoll(text, &used);
        if (used == text.size()) return i;
        double d = std::stod(text, &used);
        if (used == text.size()) return d;
      } catch (...) {
      }
      if (text == "true") return true;
      if (text == "false") return false;
      return text;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yamlToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.Scalar()] = yamlToJson(item.second);
      return out;
    }
  }
  return nullptr;
}

WorkerSpec parseWorker(MapReader& spec) {
  WorkerSpec worker;
  auto reader = spec.child("worker");
  if (!reader) return worker;
  reader->string("image", worker.image);
  reader->enumeration<std::string>(
      "imagePullPolicy", worker.imagePullPolicy,
      {{"Always", "Always"}, {"IfNotPresent", "IfNotPresent"}, {"Never", "Never"}});
  if (auto resources = reader->child("resources")) {
    // Only limits and requests, each a bounded map of quantities; checked here, passed on as written.
    const size_t before = resources->errors().list().size();
    std::map<std::string, std::string> limits, requests;
    resources->stringMap("limits", limits);
    resources->stringMap("requests", requests);
    resources->finish();
    if (resources->errors().list().size() == before)
      // replace: a quantity that is not UTF-8 must not throw out of the parser (found by
      // tests/fuzz/fuzz_spec_yaml: nlohmann's dump() threw type_error 316 and the process ended).
      worker.resourcesJson =
          yamlToJson(reader->raw("resources")).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (reader->has("env")) {
    YAML::Node env = reader->raw("env");
    if (!env.IsSequence()) {
      reader->errors().add(reader->pathOf("env"), reader->pathOf("env") + " must be a list of {name, value}",
                           env);
    } else if (reader->withinCount(reader->pathOf("env"), env)) {
      for (size_t i = 0; i < env.size(); ++i) {
        MapReader item(env[i], reader->pathOf("env") + "[" + std::to_string(i) + "]", reader->errors());
        EnvVar var;
        item.string("name", var.name, true, "an environment variable name");
        item.string("value", var.value);
        item.finish();
        worker.env.push_back(var);
      }
    }
  }
  reader->integer("drainSeconds", worker.drainSeconds, 1, 3600);
  reader->finish();
  return worker;
}

ObjectMeta parseMetadata(MapReader& root) {
  ObjectMeta meta;
  auto reader = root.child("metadata");
  if (!reader) {
    root.errors().add("metadata", "metadata is required: set metadata.name");
    return meta;
  }
  reader->string("name", meta.name, true, "a lowercase name like orders");
  reader->string("namespace", meta.namespace_);
  reader->string("uid", meta.uid);
  reader->integer("generation", meta.generation, 0, INT64_MAX);
  reader->string("resourceVersion", meta.resourceVersion);
  reader->string("creationTimestamp", meta.creationTimestamp);
  reader->stringMap("labels", meta.labels);
  reader->stringMap("annotations", meta.annotations);
  // metadata belongs to Kubernetes: its other fields (managedFields, creationTimestamp, ...) are fine.
  if (meta.namespace_.empty()) meta.namespace_ = "default";
  return meta;
}

// Counts the documents in `text`, stopping at `limit`. yaml-cpp 0.7's LoadAll never returns when a
// document begins with a flow entry (",": its parser reports a new empty document for ever without
// consuming the token, and memory grows until the process dies), so the documents are counted with
// a bound first and only a single one is loaded. Throws YAML::ParserException like LoadAll.
size_t countDocuments(const std::string& text, size_t limit) {
  class Ignore final : public YAML::EventHandler {
   public:
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  };
  std::istringstream in(text);
  YAML::Parser parser(in);
  Ignore ignore;
  size_t documents = 0;
  while (documents < limit && parser.HandleNextDocument(ignore)) ++documents;
  return documents;
}

ParseOutcome parseDocument(const YAML::Node& document) {
  ParseOutcome outcome;
  Errors errors;
  MapReader root(document, "", errors);
  if (root.valid()) {
    std::string apiVersion, kind;
    root.string("apiVersion", apiVersion, true, std::string("use ") + kApiVersion);
    root.string("kind", kind, true, std::string("use ") + kKind);
    if (!apiVersion.empty() && apiVersion != kApiVersion) {
      errors.add("apiVersion",
                 "apiVersion must be " + std::string(kApiVersion) + " (got '" + apiVersion + "')");
    }
    if (!kind.empty() && kind != kKind) {
      errors.add("kind", "kind must be " + std::string(kKind) + " (got '" + kind + "')");
    }
    outcome.pipeline.metadata = parseMetadata(root);
    root.raw("status");  // written by the operator; ignored here
    if (auto spec = root.child("spec")) {
      PipelineSpec& s = outcome.pipeline.spec;
      s.source = parseSource(*spec);
      s.batch = parseBatch(*spec);
      s.processing = parseProcessing(*spec);
      s.backpressure = parseBackpressure(*spec);
      s.sink = parseSink(*spec);
      s.scaling = parseScaling(*spec);
      s.worker = parseWorker(*spec);
      spec->finish();
    } else if (!root.has("spec")) {
      errors.add("spec", "spec is required: set spec.source and spec.sink");
    }
    root.finish();
  }
  outcome.errors = std::move(errors.list());
  for (auto& error : validatePipeline(outcome.pipeline)) outcome.errors.push_back(std::move(error));
  return outcome;
}

YAML::Node jsonToYaml(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return YAML::Node(YAML::NodeType::Null);
    case nlohmann::json::value_t::object: {
      YAML::Node node(YAML::NodeType::Map);
      for (const auto& [key, item] : value.items()) node[key] = jsonToYaml(item);
      return node;
    }
    case nlohmann::json::value_t::array: {
      YAML::Node node(YAML::NodeType::Sequence);
      for (const auto& item : value) node.push_back(jsonToYaml(item));
      return node;
    }
    case nlohmann::json::value_t::string:
      return YAML::Node(value.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return YAML::Node(value.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return YAML::Node(value.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return YAML::Node(value.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
      return YAML::Node(value.get<double>());
    case nlohmann::json::value_t::binary:
      return YAML::Node(YAML::NodeType::Null);
  }
  return YAML::Node(YAML::NodeType::Null);
}

}  // namespace

std::string SpecError::toString() const {
  if (line > 0)
    return message + " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
  return message;
}

std::string ParseOutcome::errorText() const {
  std::string text;
  for (const auto& error : errors) text += error.toString() + "\n";
  return text;
}

ParseOutcome parsePipelineYaml(const std::string& text) {
  YAML::Node document;
  size_t documents = 0;
  try {
    documents = countDocuments(text, 2);
    if (documents == 1) document = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    ParseOutcome outcome;
    outcome.errors.push_back({"", "YAML syntax error: " + e.msg, e.mark.line + 1, e.mark.column + 1});
    return outcome;
  }
  if (documents != 1) {
    ParseOutcome outcome;
    outcome.errors.push_back(
        {"", std::string("expected exactly one YAML document holding a ConsumerPipeline (got ") +
                 (documents == 0 ? "none" : "more than one") + ")"});
    return outcome;
  }
  return parseDocument(document);
}

ParseOutcome parsePipelineJson(const nlohmann::json& object) { return parseDocument(jsonToYaml(object)); }

ParseOutcome parsePipelineFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    ParseOutcome outcome;
    outcome.errors.push_back({"", path + " is a directory: name the pipeline's YAML file, e.g. " +
                                      (std::filesystem::path(path) / "pipeline.yaml").string()});
    return outcome;
  }
  std::ifstream in(path);
  if (!in) {
    ParseOutcome outcome;
    outcome.errors.push_back({"", "cannot read " + path + ": " + std::strerror(errno)});
    return outcome;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parsePipelineYaml(buffer.str());
}

common::Result<ConsumerPipeline> toResult(ParseOutcome outcome) {
  if (outcome.ok()) return std::move(outcome.pipeline);
  std::string text = outcome.errorText();
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return common::invalidArgument(text);
}

}  // namespace sluice::spec

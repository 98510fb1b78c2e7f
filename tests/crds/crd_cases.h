#pragma once
// Manifests shared by the CRD tests. crd_agreement_test.cc checks that the C++ parser rejects every
// case below (so the CRD is never stricter than `sluice-worker --config` on these rules), and
// crd_apiserver_test.cc checks that a real kube-apiserver rejects the same manifests at `kubectl apply`
// with a message naming the field. The accepted manifests must pass both.
#include <yaml-cpp/yaml.h>

#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/spec/spec_fixture.h"

namespace sluice::crdtest {

inline const char* kCrdRelativePath = "crds/consumerpipelines.sluice.dev.yaml";

// The base manifest and withField() are the spec tests' own: one fixture for both test suites.
using spec::testing::kBaseManifest;
using spec::testing::withField;

// A NATS-sourced pipeline, for rules that depend on the source kind.
inline const char* kNatsSpec = "{servers: ['nats://nats:4222'], stream: ORDERS}";

struct Edit {
  std::string path;
  std::string value;  // YAML, or "~delete"
};

struct RejectCase {
  std::string name;
  std::vector<Edit> edits;     // applied to kBaseManifest in order
  std::string apiFragment;     // expected in kubectl's error output
  std::string parserFragment;  // expected in the C++ parser's errors
};

struct AcceptCase {
  std::string name;
  std::vector<Edit> edits;
};

// gtest prints these by name in failures instead of dumping their bytes.
inline void PrintTo(const RejectCase& c, std::ostream* os) { *os << c.name; }
inline void PrintTo(const AcceptCase& c, std::ostream* os) { *os << c.name; }

template <typename Case>
std::string manifestOf(const Case& c, const std::string& base = kBaseManifest) {
  std::string manifest = base;
  for (const auto& edit : c.edits) manifest = withField(edit.path, edit.value, manifest);
  return manifest;
}

inline std::string repeat(char c, size_t n) { return std::string(n, c); }

// One row per CEL rule, then range, enum, pattern, type, required and unknown-field cases.
inline const std::vector<RejectCase>& rejectCases() {
  static const std::vector<RejectCase> cases = {
      // --- CEL rules ---
      {"NameTooLong",
       {{"metadata.name", repeat('a', 51)}},
       "metadata.name must be at most 50",
       "metadata.name must be at most 50"},
      {"NameNotDnsLabel",
       {{"metadata.name", "orders.v2"}},
       "metadata.name must be at most 50",
       "metadata.name must be at most 50"},
      {"NoSourceKind",
       {{"spec.source", "{}"}},
       "spec.source must set exactly one of kafka or nats",
       "spec.source must set exactly one of kafka or nats"},
      {"TwoSources",
       {{"spec.source.nats", kNatsSpec}},
       "spec.source must set exactly one of kafka or nats",
       "spec.source must set exactly one of kafka or nats"},
      {"HeaderNameTooLong",
       {{"spec.sink.http.headers", "{" + repeat('h', 318) + ": v}"}},
       "spec.sink.http.headers names must be 1 to 317 characters",
       "spec.sink.http.headers keys must be 1 to 317 characters"},
      {"HttpHeaderFromNeitherSecretNorFile",
       {{"spec.sink.http.headersFrom", "[{name: Authorization}]"}},
       "spec.sink.http.headersFrom[] must set secretKeyRef (a Secret's key) or valueFile",
       "spec.sink.http.headersFrom[0] must set secretKeyRef"},
      // --- bounds (common/spec/limits.h): every string, list and map has one ---
      {"BootstrapServersOverItsBound",
       {{"spec.source.kafka.bootstrapServers", "'" + repeat('k', 4094) + ":92'"}},
       "spec.source.kafka.bootstrapServers: Too long",
       "spec.source.kafka.bootstrapServers must be at most 4096 characters"},
      {"MegabyteNatsServerUrl",
       {{"spec.source", "{nats: {servers: ['nats://" + repeat('a', 1 << 20) + "'], stream: ORDERS}}"}},
       "spec.source.nats.servers[0]: Too long",
       "spec.source.nats.servers[0] must be at most 1024 characters"},
      {"TooManyTopics",
       {{"spec.source.kafka.topics", "[" +
                                         [] {
                                           std::string list;
                                           for (int i = 0; i <= 100; ++i)
                                             list += (i ? ", t" : "t") + std::to_string(i);
                                           return list;
                                         }() +
                                         "]"}},
       "spec.source.kafka.topics: Too many",
       "spec.source.kafka.topics must have at most 100 items"},
      {"TooManyResourceLimits",
       {{"spec.worker.resources", "{limits: {" +
                                      [] {
                                        std::string map;
                                        for (int i = 0; i <= 16; ++i)
                                          map += (i ? ", r" : "r") + std::to_string(i) + ": 1";
                                        return map;
                                      }() +
                                      "}}"}},
       "spec.worker.resources.limits: Too many",
       "spec.worker.resources.limits must have at most 16 items"},
      {"NoSinkKind",
       {{"spec.sink", "{}"}},
       "spec.sink must set exactly one of http, kafka, nats, log or discard",
       "spec.sink must set exactly one of http, kafka, nats, log or discard"},
      {"TwoSinks",
       {{"spec.sink.log", "{}"}},
       "spec.sink must set exactly one of http, kafka, nats, log or discard",
       "spec.sink must set exactly one of http, kafka, nats, log or discard"},
      {"DeadLetterEmpty",
       {{"spec.processing.deadLetter", "{}"}},
       "spec.processing.deadLetter must set exactly one of kafka or nats",
       "spec.processing.deadLetter must set exactly one of kafka or nats"},
      {"DeadLetterBoth",
       {{"spec.processing.deadLetter",
         "{kafka: {topic: dlq}, nats: {subject: dlq, servers: ['nats://n:4222']}}"}},
       "spec.processing.deadLetter must set exactly one of kafka or nats",
       "spec.processing.deadLetter must set exactly one of kafka or nats"},
      {"MinAboveMax",
       {{"spec.scaling", "{minReplicas: 5, maxReplicas: 2, lagPerReplica: 10}"}},
       "spec.scaling.minReplicas must not exceed maxReplicas",
       "spec.scaling.minReplicas must not exceed maxReplicas (2; got 5)"},
      {"MinAboveDefaultMax",
       {{"spec.scaling", "{minReplicas: 11, lagPerReplica: 10}"}},
       "spec.scaling.minReplicas must not exceed maxReplicas",
       "spec.scaling.minReplicas must not exceed maxReplicas (10; got 11)"},
      {"NoScalingTarget",
       {{"spec.scaling", "{maxReplicas: 4}"}},
       "spec.scaling must set at least one target",
       "spec.scaling must set at least one target"},
      {"RetryMaxBelowInitial",
       {{"spec.processing.retry", "{initialBackoffMs: 5000, maxBackoffMs: 1000}"}},
       "spec.processing.retry.maxBackoffMs must be at least initialBackoffMs",
       "spec.processing.retry.maxBackoffMs must be at least initialBackoffMs (5000; got 1000)"},
      {"RetryInitialAboveDefaultMax",
       {{"spec.processing.retry", "{initialBackoffMs: 60000}"}},
       "spec.processing.retry.maxBackoffMs must be at least initialBackoffMs",
       "spec.processing.retry.maxBackoffMs must be at least initialBackoffMs (60000; got 30000)"},
      {"BatchOverBudget",
       {{"spec.backpressure.maxInFlightMessages", "100"}},
       "spec.batch.maxMessages must not exceed spec.backpressure.maxInFlightMessages",
       "spec.batch.maxMessages must not exceed spec.backpressure.maxInFlightMessages (100; got 500)"},
      {"BatchBytesOverBudget",
       {{"spec.batch.maxBytes", "100000000"}},
       "spec.batch.maxBytes must not exceed spec.backpressure.maxInFlightBytes",
       "spec.batch.maxBytes must not exceed spec.backpressure.maxInFlightBytes (67108864; got 100000000)"},
      {"NatsPartitionOrdering",
       {{"spec.source", std::string("{nats: ") + kNatsSpec + "}"}, {"spec.processing.ordering", "partition"}},
       "spec.processing.ordering: partition applies to Kafka sources only",
       "spec.processing.ordering: partition applies to Kafka sources only"},
      {"NatsKeyOrderingWithoutKey",
       {{"spec.source", std::string("{nats: ") + kNatsSpec + "}"}, {"spec.processing.ordering", "key"}},
       "spec.processing.ordering: key with a NATS source needs spec.source.nats.keyHeader or keySubjectToken",
       "spec.processing.ordering: key with a NATS source needs spec.source.nats.keyHeader or "
       "keySubjectToken"},
      {"NatsKeyOrderingOnManyReplicas",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: S, keySubjectToken: 2}}"},
        {"spec.processing.ordering", "key"},
        {"spec.scaling", "{lagPerReplica: 100, maxReplicas: 2}"}},
       "spec.scaling.maxReplicas must be 1 with a NATS source and spec.processing.ordering: key",
       "spec.scaling.maxReplicas must be 1 with a NATS source and spec.processing.ordering: key"},
      {"NatsKeyOrderingWithoutScaling",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: S, keySubjectToken: 2}}"},
        {"spec.processing.ordering", "key"}},
       "set spec.scaling.maxReplicas: 1, or spec.processing.ordering: none",
       "set spec.scaling.maxReplicas: 1, or spec.processing.ordering: none (got 10)"},
      {"NatsTwoKeySources",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: S, keyHeader: k, keySubjectToken: 2}}"}},
       "spec.source.nats must set at most one of keyHeader or keySubjectToken",
       "spec.source.nats must set at most one of keyHeader or keySubjectToken"},
      {"KafkaSinkNeedsBootstrap",
       {{"spec.source", std::string("{nats: ") + kNatsSpec + "}"}, {"spec.sink", "{kafka: {topic: out}}"}},
       "spec.sink.kafka.bootstrapServers is required when the source is not Kafka",
       "spec.sink.kafka.bootstrapServers is required when the source is not Kafka"},
      {"NatsSinkNeedsServers",
       {{"spec.sink", "{nats: {subject: out}}"}},
       "spec.sink.nats.servers is required when the source is not NATS",
       "spec.sink.nats.servers is required when the source is not NATS"},
      {"KafkaSinkLoops",
       {{"spec.sink", "{kafka: {topic: orders}}"}},
       "spec.sink.kafka.topic must differ from the source topics",
       "spec.sink.kafka.topic must differ from the source topics"},
      {"DeadLetterIsSource",
       {{"spec.processing.deadLetter", "{kafka: {topic: orders}}"}},
       "spec.processing.deadLetter.kafka.topic must differ from the source topics",
       "spec.processing.deadLetter.kafka.topic must differ from the source topics"},
      {"DeadLetterKafkaNeedsBootstrap",
       {{"spec.source", std::string("{nats: ") + kNatsSpec + "}"},
        {"spec.sink", "{log: {}}"},
        {"spec.processing.deadLetter", "{kafka: {topic: dlq}}"}},
       "spec.processing.deadLetter.kafka.bootstrapServers is required when neither source nor sink is Kafka",
       "spec.processing.deadLetter.kafka.bootstrapServers is required when neither source nor sink is Kafka"},
      {"DeadLetterNatsNeedsServers",
       {{"spec.processing.deadLetter", "{nats: {subject: dlq}}"}},
       "spec.processing.deadLetter.nats.servers is required when neither source nor sink is NATS",
       "spec.processing.deadLetter.nats.servers is required when neither source nor sink is NATS"},
      // --- ranges ---
      {"BatchZero",
       {{"spec.batch.maxMessages", "0"}},
       "spec.batch.maxMessages in body should be greater than or equal to 1",
       "spec.batch.maxMessages must be between 1 and 100000 (got 0)"},
      {"BatchTooLarge",
       {{"spec.batch.maxMessages", "100001"}},
       "spec.batch.maxMessages in body should be less than or equal to 100000",
       "spec.batch.maxMessages must be between 1 and 100000 (got 100001)"},
      {"ResumeRatioHigh",
       {{"spec.backpressure.resumeRatio", "0.99"}},
       "spec.backpressure.resumeRatio in body should be less than or equal to 0.95",
       "spec.backpressure.resumeRatio must be between 0 and 0.95 (got 0.99)"},
      {"JitterNegative",
       {{"spec.processing.retry.jitter", "-0.1"}},
       "spec.processing.retry.jitter in body should be greater than or equal to 0",
       "spec.processing.retry.jitter must be between 0 and 1"},
      {"KeySubjectTokenZero",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: S, keySubjectToken: 0}}"}},
       "spec.source.nats.keySubjectToken in body should be greater than or equal to 1",
       "spec.source.nats.keySubjectToken must be between 1 and 64 (got 0)"},
      {"MaxReplicasZero",
       {{"spec.scaling", "{maxReplicas: 0, lagPerReplica: 10}"}},
       "spec.scaling.maxReplicas in body should be greater than or equal to 1",
       "spec.scaling.maxReplicas must be between 1 and 1000 (got 0)"},
      // --- types ---
      {"BatchNotInt",
       {{"spec.batch.maxMessages", "lots"}},
       "spec.batch.maxMessages in body must be of type integer",
       "spec.batch.maxMessages must be an integer (got 'lots')"},
      {"TlsEnabledNotBool",
       {{"spec.source.kafka.tls", "{enabled: maybe}"}},
       "spec.source.kafka.tls.enabled in body must be of type boolean",
       "spec.source.kafka.tls.enabled must be true or false"},
      {"TopicsNotList",
       {{"spec.source.kafka.topics", "orders"}},
       "spec.source.kafka.topics in body must be of type array",
       "spec.source.kafka.topics must be a list of strings"},
      {"ResourcesNotMap",
       {{"spec.worker", "{resources: big}"}},
       "spec.worker.resources in body must be of type object",
       "spec.worker.resources must be a mapping"},
      // --- enums ---
      {"BadStartFrom",
       {{"spec.source.kafka.startFrom", "beginning"}},
       "spec.source.kafka.startFrom: Unsupported value: \"beginning\"",
       "spec.source.kafka.startFrom must be one of earliest, latest (got 'beginning')"},
      {"BadOrdering",
       {{"spec.processing.ordering", "random"}},
       "spec.processing.ordering: Unsupported value: \"random\"",
       "spec.processing.ordering must be one of key, partition, none (got 'random')"},
      {"BadSaslMechanism",
       {{"spec.source.kafka.sasl", "{mechanism: GSSAPI}"}},
       "spec.source.kafka.sasl.mechanism: Unsupported value: \"GSSAPI\"",
       "spec.source.kafka.sasl.mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"},
      {"BadHttpFormat",
       {{"spec.sink.http.format", "xml"}},
       "spec.sink.http.format: Unsupported value: \"xml\"",
       "spec.sink.http.format must be one of json, ndjson (got 'xml')"},
      {"BadNatsPublish",
       {{"spec.sink", "{nats: {servers: ['nats://n:4222'], subject: out, publish: fire}}"}},
       "spec.sink.nats.publish: Unsupported value: \"fire\"",
       "spec.sink.nats.publish must be one of jetstream, core (got 'fire')"},
      {"BadPullPolicy",
       {{"spec.worker", "{imagePullPolicy: Sometimes}"}},
       "spec.worker.imagePullPolicy: Unsupported value: \"Sometimes\"",
       "spec.worker.imagePullPolicy must be one of Always, IfNotPresent, Never"},
      // --- patterns ---
      {"BadTopicName",
       {{"spec.source.kafka.topics", "['or ders']"}},
       "spec.source.kafka.topics[0] in body should match",
       "spec.source.kafka.topics[0] must be 1-249 characters"},
      {"TopicIsDot",
       {{"spec.source.kafka.topics", "['..']"}},
       "spec.source.kafka.topics must be 1-249 characters",
       "spec.source.kafka.topics[0] must be 1-249 characters"},
      {"BadBootstrap",
       {{"spec.source.kafka.bootstrapServers", "kafka"}},
       "spec.source.kafka.bootstrapServers in body should match",
       "spec.source.kafka.bootstrapServers must be host:port"},
      {"HttpUrlScheme",
       {{"spec.sink.http.url", "ftp://x"}},
       "spec.sink.http.url in body should match '^https?://'",
       "spec.sink.http.url must start with http:// or https://"},
      {"HttpHeaderFromBadName",
       {{"spec.sink.http.headersFrom", "[{name: 'Auth: x', valueFile: /token}]"}},
       "spec.sink.http.headersFrom[0].name in body should match",
       "spec.sink.http.headersFrom[0].name must be an HTTP header name"},
      {"HttpHeaderFromKeyIsAPath",
       {{"spec.sink.http.headersFrom", "[{name: Authorization, secretKeyRef: {name: s, key: ../x}}]"}},
       "spec.sink.http.headersFrom[0].secretKeyRef.key in body should match",
       "spec.sink.http.headersFrom[0].secretKeyRef.key must be a Secret key, not a path"},
      {"HttpHeaderFromSecretWithoutKey",
       {{"spec.sink.http.headersFrom", "[{name: Authorization, secretKeyRef: {name: s}}]"}},
       "spec.sink.http.headersFrom[0].secretKeyRef.key: Required value",
       "spec.sink.http.headersFrom[0].secretKeyRef.key is required"},
      {"SinkBadBootstrap",
       {{"spec.sink", "{kafka: {bootstrapServers: kafka, topic: out}}"}},
       "spec.sink.kafka.bootstrapServers in body should match",
       "spec.sink.kafka.bootstrapServers must be host:port"},
      {"DeadLetterBadBootstrap",
       {{"spec.processing.deadLetter", "{kafka: {topic: dlq, bootstrapServers: 'k 9092'}}"}},
       "spec.processing.deadLetter.kafka.bootstrapServers in body should match",
       "spec.processing.deadLetter.kafka.bootstrapServers must be host:port"},
      {"SinkNatsBadUrl",
       {{"spec.sink", "{nats: {servers: ['http://n:4222'], subject: out}}"}},
       "spec.sink.nats.servers[0] in body should match",
       "spec.sink.nats.servers[0] must be a nats:// or tls:// URL"},
      {"SinkNatsWildcardSubject",
       {{"spec.sink", "{nats: {servers: ['nats://n:4222'], subject: 'out.>'}}"}},
       "spec.sink.nats.subject in body should match",
       "spec.sink.nats.subject must be a subject without spaces or the wildcards"},
      {"DeadLetterNatsWildcardSubject",
       {{"spec.processing.deadLetter", "{nats: {servers: ['nats://n:4222'], subject: 'dlq.*'}}"}},
       "spec.processing.deadLetter.nats.subject in body should match",
       "spec.processing.deadLetter.nats.subject must be a subject without spaces or the wildcards"},
      {"DeadLetterNatsBadUrl",
       {{"spec.processing.deadLetter", "{nats: {servers: ['n:4222'], subject: dlq}}"}},
       "spec.processing.deadLetter.nats.servers[0] in body should match",
       "spec.processing.deadLetter.nats.servers[0] must be a nats:// or tls:// URL"},
      {"NatsStreamWithSlash",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: 'a/b'}}"}},
       "spec.source.nats.stream in body should match",
       "spec.source.nats.stream must not contain spaces"},
      {"NatsAuthTwoWays",
       {{"spec.source",
         "{nats: {servers: ['nats://n:4222'], stream: S, auth: {tokenFile: /t, credsFile: /c}}}"}},
       "spec.source.nats.auth must set at most one of credsFile, nkeySeedFile, tokenFile or usernameFile "
       "with passwordFile",
       "spec.source.nats.auth must set at most one of credsFile, nkeySeedFile, tokenFile or usernameFile "
       "with passwordFile"},
      {"NatsAuthSecretRefAlone",
       {{"spec.source",
         "{nats: {servers: ['nats://n:4222'], stream: S, auth: {secretRef: {name: nats-creds}}}}"}},
       "spec.source.nats.auth must set one of credsFile, nkeySeedFile, tokenFile or usernameFile with "
       "passwordFile",
       "spec.source.nats.auth must set one of credsFile, nkeySeedFile, tokenFile or usernameFile with "
       "passwordFile"},
      {"NatsAuthUserWithoutPassword",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: S, auth: {usernameFile: /u}}}"}},
       "spec.source.nats.auth.usernameFile and passwordFile must be set together",
       "spec.source.nats.auth.usernameFile and passwordFile must be set together"},
      {"SinkNatsAuthTwoWays",
       {{"spec.sink",
         "{nats: {servers: ['tls://n:4222'], subject: out, auth: {tokenFile: /t, credsFile: /c}}}"}},
       "spec.sink.nats.auth must set at most one of credsFile, nkeySeedFile, tokenFile or usernameFile with "
       "passwordFile",
       "spec.sink.nats.auth must set at most one of credsFile, nkeySeedFile, tokenFile or usernameFile "
       "with passwordFile"},
      {"DeadLetterNatsAuthSecretRefAlone",
       {{"spec.processing.deadLetter",
         "{nats: {subject: dlq, servers: ['tls://n:4222'], auth: {secretRef: {name: d}}}}"}},
       "spec.processing.deadLetter.nats.auth must set one of credsFile",
       "spec.processing.deadLetter.nats.auth must set one of credsFile"},
      {"SinkNatsAuthSecretRefAlone",
       {{"spec.sink", "{nats: {servers: ['tls://n:4222'], subject: out, auth: {secretRef: {name: s}}}}"}},
       "spec.sink.nats.auth must set one of credsFile",
       "spec.sink.nats.auth must set one of credsFile"},
      {"SinkNatsAuthUserWithoutPassword",
       {{"spec.sink", "{nats: {servers: ['tls://n:4222'], subject: out, auth: {usernameFile: /u}}}"}},
       "spec.sink.nats.auth.usernameFile and passwordFile must be set together",
       "spec.sink.nats.auth.usernameFile and passwordFile must be set together"},
      {"DeadLetterNatsAuthTwoWays",
       {{"spec.processing.deadLetter",
         "{nats: {subject: dlq, servers: ['tls://n:4222'], auth: {tokenFile: /t, credsFile: /c}}}"}},
       "spec.processing.deadLetter.nats.auth must set at most one",
       "spec.processing.deadLetter.nats.auth must set at most one"},
      {"DeadLetterNatsAuthUserWithoutPassword",
       {{"spec.processing.deadLetter",
         "{nats: {subject: dlq, servers: ['tls://n:4222'], auth: {passwordFile: /p}}}"}},
       "spec.processing.deadLetter.nats.auth.usernameFile and passwordFile must be set together",
       "spec.processing.deadLetter.nats.auth.usernameFile and passwordFile must be set together"},
      {"NatsBadStream",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: 'a.b'}}"}},
       "spec.source.nats.stream in body should match",
       "spec.source.nats.stream must not contain spaces"},
      {"NatsBadConsumer",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: S, consumer: 'a b'}}"}},
       "spec.source.nats.consumer in body should match",
       "spec.source.nats.consumer must not contain spaces"},
      {"NatsBadUrl",
       {{"spec.source", "{nats: {servers: ['http://x'], stream: S}}"}},
       "spec.source.nats.servers[0] in body should match",
       "spec.source.nats.servers[0] must be a nats:// or tls:// URL"},
      {"SinkTopicIsDotDot",
       {{"spec.sink", "{kafka: {topic: '..'}}"}},
       "spec.sink.kafka.topic must not be '.' or '..'",
       "spec.sink.kafka.topic must be 1-249 characters"},
      {"DeadLetterTopicIsDot",
       {{"spec.processing.deadLetter", "{kafka: {topic: '.'}}"}},
       "spec.processing.deadLetter.kafka.topic must not be '.' or '..'",
       "spec.processing.deadLetter.kafka.topic must be 1-249 characters"},
      {"SinkTopicBad",
       {{"spec.sink", "{kafka: {topic: 'a/b'}}"}},
       "spec.sink.kafka.topic in body should match",
       "spec.sink.kafka.topic must be 1-249 characters"},
      // --- required, empty and unknown ---
      {"MissingSink", {{"spec.sink", "~delete"}}, "spec.sink: Required value", "spec.sink is required"},
      {"MissingBootstrap",
       {{"spec.source.kafka.bootstrapServers", "~delete"}},
       "spec.source.kafka.bootstrapServers: Required value",
       "spec.source.kafka.bootstrapServers is required"},
      {"EmptyTopics",
       {{"spec.source.kafka.topics", "[]"}},
       "spec.source.kafka.topics in body should have at least 1 items",
       "spec.source.kafka.topics must not be empty"},
      {"SecretRefWithoutName",
       {{"spec.source.kafka.tls", "{secretRef: {}}"}},
       "spec.source.kafka.tls.secretRef.name: Required value",
       "spec.source.kafka.tls.secretRef.name is required"},
      {"EnvWithoutName",
       {{"spec.worker", "{env: [{value: x}]}"}},
       "spec.worker.env[0].name: Required value",
       "spec.worker.env[0].name is required"},
      {"DeadLetterSubjectEmpty",
       {{"spec.processing.deadLetter", "{nats: {subject: '', servers: ['nats://n:4222']}}"}},
       "spec.processing.deadLetter.nats.subject in body should be at least 1 chars long",
       "spec.processing.deadLetter.nats.subject must not be empty"},
      {"UnknownField",
       {{"spec.batch.colour", "5"}},
       "unknown field \"spec.batch.colour\"",
       "spec.batch.colour is not a known field"},
      {"LogSinkWithSettings",
       {{"spec.sink", "{log: {level: info}}"}},
       "unknown field \"spec.sink.log.level\"",
       "spec.sink.log.level is not a known field"},
  };
  return cases;
}

// Manifests both must accept: the edges where a CRD is easily stricter than the model.
inline const std::vector<AcceptCase>& acceptCases() {
  static const std::vector<AcceptCase> cases = {
      {"Minimal", {}},
      {"EmptyGroupIdAndLogSink", {{"spec.source.kafka.groupId", "''"}, {"spec.sink", "{log: {}}"}}},
      {"HttpHeadersFromASecretAndAFile",
       {{"spec.sink.http.headersFrom",
         "[{name: Authorization, secretKeyRef: {name: ingest-token, key: authorization}}, "
         "{name: X-Api-Key, valueFile: /etc/ingest/key}]"}}},
      {"KafkaToKafkaSameCluster",
       {{"spec.sink", "{kafka: {topic: orders-out}}"}, {"spec.processing.ordering", "partition"}}},
      {"KafkaToKafkaOtherClusterSameTopic",
       {{"spec.sink", "{kafka: {bootstrapServers: 'other:9092', topic: orders}}"}}},
      {"DrainTargetOnly", {{"spec.scaling", "{drainSeconds: 60, minReplicas: 1, maxReplicas: 1}"}}},
      {"Boundaries",
       {{"spec.batch", "{maxMessages: 100000, maxBytes: 1024, maxWaitMs: 600000}"},
        {"spec.backpressure", "{maxInFlightMessages: 100000, maxInFlightBytes: 65536, resumeRatio: 0}"},
        {"spec.processing.retry",
         "{initialBackoffMs: 3600000, maxBackoffMs: 3600000, multiplier: 10, jitter: 1}"}}},
      {"StringsAtTheirBounds",
       {{"spec.source.kafka.bootstrapServers", "'" +
                                                   [] {
                                                     std::string list = "kafka-0:9092";
                                                     while (list.size() + 13 <= 4096) list += ",kafka-0:9092";
                                                     return list;
                                                   }() +
                                                   "'"},
        {"spec.sink.http", "{url: 'http://ingest/" + repeat('p', 2048 - 14) + "', headers: {" +
                               repeat('h', 317) + ": '" + repeat('v', 8192) + "'}}"}}},
      {"NatsKeyHeaderToDiscard",
       {{"spec.source", "{nats: {servers: ['nats://n:4222'], stream: S, consumer: '', keyHeader: Key}}"},
        {"spec.processing.ordering", "key"},
        {"spec.sink", "{discard: {}}"},
        {"spec.processing.deadLetter", "{nats: {subject: orders.dlq}}"},
        {"spec.scaling", "{lagPerReplica: 100, maxReplicas: 1}"}}},
      {"NatsToKafkaWithEverything",
       {{"spec.source",
         "{nats: {servers: ['nats://n:4222', 'tls://m:4222'], stream: ORDERS, consumer: workers, "
         "filterSubject: 'orders.>', "
         "keySubjectToken: 2, ackWaitSeconds: 60, tls: {secretRef: {name: nats-tls}}, auth: {secretRef: "
         "{name: nats-creds}, credsFile: user.creds}}}"},
        {"spec.processing", "{ordering: key, concurrency: 8, deadLetter: {kafka: {topic: orders.dlq}}}"},
        {"spec.sink",
         "{kafka: {bootstrapServers: 'k1:9092,k2:9093', topic: orders.out, tls: {enabled: true, "
         "insecureSkipVerify: false},"
         " sasl: {mechanism: PLAIN, secretRef: {name: kafka-user}}}}"},
        {"spec.scaling",
         "{lagPerReplica: 500, drainSeconds: 30, activationLag: 10, paused: true, maxReplicas: 1}"},
        {"spec.worker",
         "{image: 'sluice:dev', imagePullPolicy: Never, resources: {requests: {cpu: 100m}}, env: [{name: A, "
         "value: b}],"
         " drainSeconds: 5}"}}},
  };
  return cases;
}

}  // namespace sluice::crdtest

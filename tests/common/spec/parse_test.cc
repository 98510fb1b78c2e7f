#include "common/spec/parse.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/common/spec/spec_fixture.h"

namespace sluice::spec {
namespace {

using testing::kBaseManifest;
using testing::withField;

struct InvalidCase {
  std::string name;
  std::string path;
  std::string value;  // YAML, or "~delete"
  std::string expected;
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class InvalidManifestTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidManifestTest, IsRejectedWithFieldPath) {
  const auto& c = GetParam();
  const std::string manifest = withField(c.path, c.value);
  const ParseOutcome outcome = parsePipelineYaml(manifest);
  ASSERT_FALSE(outcome.ok()) << "accepted:\n" << manifest;
  EXPECT_NE(outcome.errorText().find(c.expected), std::string::npos)
      << "expected fragment: " << c.expected << "\nerrors:\n"
      << outcome.errorText();
}

// One row per validation rule.
const InvalidCase kInvalidCases[] = {
    {"HeadersFromDuplicatesAnInlineHeader", "spec.sink.http",
     "{url: 'http://ingest/b', headers: {Authorization: a}, headersFrom: [{name: authorization, valueFile: "
     "/f}]}",
     "spec.sink.http.headersFrom[0].name 'authorization' is also in spec.sink.http.headers"},
    {"HeadersFromNotAList", "spec.sink.http.headersFrom", "{name: Authorization}",
     "spec.sink.http.headersFrom must be a list"},
    {"ConsumerPropertiesStoreOffsetsBeforeDelivery", "spec.worker.env",
     "[{name: SLUICE_KAFKA_CONSUMER_PROPERTIES, value: "
     "'session.timeout.ms=6000,enable.auto.offset.store=true'}]",
     "spec.worker.env[0].value may not set enable.auto.offset.store: Sluice stores an offset only after its "
     "message is delivered"},
    {"ConsumerPropertiesChangeTheGroup", "spec.worker.env",
     "[{name: SLUICE_KAFKA_CONSUMER_PROPERTIES, value: 'group.id=other'}]",
     "spec.worker.env[0].value may not set group.id"},
    {"WrongApiVersion", "apiVersion", "sluice.dev/v1",
     "apiVersion must be sluice.dev/v1alpha1 (got 'sluice.dev/v1')"},
    {"WrongKind", "kind", "Pipeline", "kind must be ConsumerPipeline (got 'Pipeline')"},
    {"MissingName", "metadata.name", "~delete", "metadata.name is required"},
    {"BadName", "metadata.name", "Orders_1", "metadata.name must be at most 50 lowercase letters"},
    {"MissingSpec", "spec", "~delete", "spec is required"},
    {"MissingSource", "spec.source", "~delete", "spec.source is required"},
    {"NoSourceKind", "spec.source", "{}", "spec.source must set exactly one of kafka or nats (got none)"},
    {"TwoSources", "spec.source.nats", "{servers: [nats://n:4222], stream: S}",
     "spec.source must set exactly one of kafka or nats (got both)"},
    {"MissingBootstrap", "spec.source.kafka.bootstrapServers", "~delete",
     "spec.source.kafka.bootstrapServers is required"},
    {"BadBootstrap", "spec.source.kafka.bootstrapServers", "kafka",
     "spec.source.kafka.bootstrapServers must be host:port"},
    {"MissingTopics", "spec.source.kafka.topics", "~delete", "spec.source.kafka.topics is required"},
    {"EmptyTopics", "spec.source.kafka.topics", "[]", "spec.source.kafka.topics must not be empty"},
    {"TopicsNotList", "spec.source.kafka.topics", "orders",
     "spec.source.kafka.topics must be a list of strings"},
    {"BadTopicName", "spec.source.kafka.topics", "['or ders']",
     "spec.source.kafka.topics[0] must be 1-249 characters"},
    {"BadStartFrom", "spec.source.kafka.startFrom", "beginning",
     "spec.source.kafka.startFrom must be one of earliest, latest (got 'beginning')"},
    {"BadSaslMechanism", "spec.source.kafka.sasl", "{mechanism: GSSAPI}",
     "spec.source.kafka.sasl.mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"},
    {"SecretRefWithoutName", "spec.source.kafka.tls", "{secretRef: {}}",
     "spec.source.kafka.tls.secretRef.name is required"},
    {"TlsEnabledNotBool", "spec.source.kafka.tls", "{enabled: maybe}",
     "spec.source.kafka.tls.enabled must be true or false"},
    {"BatchZero", "spec.batch.maxMessages", "0",
     "spec.batch.maxMessages must be between 1 and 100000 (got 0)"},
    {"BatchTooLarge", "spec.batch.maxMessages", "100001",
     "spec.batch.maxMessages must be between 1 and 100000 (got 100001)"},
    {"BatchNotInt", "spec.batch.maxMessages", "lots",
     "spec.batch.maxMessages must be an integer (got 'lots')"},
    {"BatchBytesSmall", "spec.batch.maxBytes", "10",
     "spec.batch.maxBytes must be between 1024 and 268435456 (got 10)"},
    {"BatchWaitZero", "spec.batch.maxWaitMs", "0",
     "spec.batch.maxWaitMs must be between 1 and 600000 (got 0)"},
    {"BadOrdering", "spec.processing.ordering", "random",
     "spec.processing.ordering must be one of key, partition, none (got 'random')"},
    {"ConcurrencyZero", "spec.processing.concurrency", "0",
     "spec.processing.concurrency must be between 1 and 256 (got 0)"},
    {"TimeoutTiny", "spec.processing.timeoutMs", "5",
     "spec.processing.timeoutMs must be between 100 and 3600000 (got 5)"},
    {"AttemptsZero", "spec.processing.retry.maxAttempts", "0",
     "spec.processing.retry.maxAttempts must be between 1 and 100 (got 0)"},
    {"InitialBackoffZero", "spec.processing.retry.initialBackoffMs", "0",
     "spec.processing.retry.initialBackoffMs must be between 1 and 3600000 (got 0)"},
    {"MaxBelowInitial", "spec.processing.retry", "{initialBackoffMs: 5000, maxBackoffMs: 1000}",
     "spec.processing.retry.maxBackoffMs must be at least initialBackoffMs (5000; got 1000)"},
    {"MultiplierBelowOne", "spec.processing.retry.multiplier", "0.5",
     "spec.processing.retry.multiplier must be between 1 and 10 (got 0.5)"},
    {"JitterAboveOne", "spec.processing.retry.jitter", "1.5",
     "spec.processing.retry.jitter must be between 0 and 1 (got 1.5)"},
    {"DeadLetterEmpty", "spec.processing.deadLetter", "{}",
     "spec.processing.deadLetter must set exactly one of kafka or nats (got none)"},
    {"DeadLetterNoTopic", "spec.processing.deadLetter", "{kafka: {}}",
     "spec.processing.deadLetter.kafka.topic is required"},
    {"DeadLetterIsSource", "spec.processing.deadLetter", "{kafka: {topic: orders}}",
     "spec.processing.deadLetter.kafka.topic must differ from the source topics"},
    {"DeadLetterNatsNeedsServers", "spec.processing.deadLetter", "{nats: {subject: dlq}}",
     "spec.processing.deadLetter.nats.servers is required when neither source nor sink is NATS"},
    {"InFlightZero", "spec.backpressure.maxInFlightMessages", "0",
     "spec.backpressure.maxInFlightMessages must be between 1 and 10000000 (got 0)"},
    {"InFlightBytesSmall", "spec.backpressure.maxInFlightBytes", "1000",
     "spec.backpressure.maxInFlightBytes must be between 65536 and 17179869184 (got 1000)"},
    {"ResumeRatioHigh", "spec.backpressure.resumeRatio", "0.99",
     "spec.backpressure.resumeRatio must be between 0 and 0.95 (got 0.99)"},
    {"BatchOverBudget", "spec.backpressure.maxInFlightMessages", "100",
     "spec.batch.maxMessages must not exceed spec.backpressure.maxInFlightMessages (100; got 500)"},
    {"BatchBytesOverBudget", "spec.batch.maxBytes", "100000000",
     "spec.batch.maxBytes must not exceed spec.backpressure.maxInFlightBytes (67108864; got 100000000)"},
    {"MissingSink", "spec.sink", "~delete", "spec.sink is required"},
    {"NoSinkKind", "spec.sink", "{}",
     "spec.sink must set exactly one of http, kafka, nats, log or discard (got 0)"},
    {"TwoSinks", "spec.sink.log", "{}",
     "spec.sink must set exactly one of http, kafka, nats, log or discard (got 2)"},
    {"HttpUrlScheme", "spec.sink.http.url", "ftp://x",
     "spec.sink.http.url must start with http:// or https://"},
    {"HttpUrlMissing", "spec.sink.http", "{format: json}", "spec.sink.http.url is required"},
    {"HttpFormat", "spec.sink.http.format", "xml",
     "spec.sink.http.format must be one of json, ndjson (got 'xml')"},
    {"HttpHeadersNotMap", "spec.sink.http.headers", "[a]", "spec.sink.http.headers must be a mapping"},
    {"KafkaSinkLoops", "spec.sink", "{kafka: {topic: orders}}",
     "spec.sink.kafka.topic must differ from the source topics"},
    {"KafkaSinkNoTopic", "spec.sink", "{kafka: {}}", "spec.sink.kafka.topic is required"},
    {"NatsSinkPublish", "spec.sink", "{nats: {servers: ['nats://n:4222'], subject: out, publish: fire}}",
     "spec.sink.nats.publish must be one of jetstream, core (got 'fire')"},
    {"NatsSinkNeedsServers", "spec.sink", "{nats: {subject: out}}",
     "spec.sink.nats.servers is required when the source is not NATS"},
    {"LogSinkWithSettings", "spec.sink", "{log: {level: info}}", "spec.sink.log.level is not a known field"},
    {"MinAboveMax", "spec.scaling", "{minReplicas: 5, maxReplicas: 2, lagPerReplica: 10}",
     "spec.scaling.minReplicas must not exceed maxReplicas (2; got 5)"},
    {"NoScalingTarget", "spec.scaling", "{maxReplicas: 4}", "spec.scaling must set at least one target"},
    {"MaxReplicasZero", "spec.scaling", "{maxReplicas: 0, lagPerReplica: 10}",
     "spec.scaling.maxReplicas must be between 1 and 1000 (got 0)"},
    {"LagPerReplicaZero", "spec.scaling", "{lagPerReplica: 0}",
     "spec.scaling.lagPerReplica must be between 1 and"},
    {"DrainZero", "spec.scaling", "{drainSeconds: 0}",
     "spec.scaling.drainSeconds must be between 1 and 86400 (got 0)"},
    {"PollZero", "spec.scaling", "{lagPerReplica: 5, pollIntervalSeconds: 0}",
     "spec.scaling.pollIntervalSeconds must be between 1 and 3600 (got 0)"},
    {"PausedNotBool", "spec.scaling", "{lagPerReplica: 5, paused: sometimes}",
     "spec.scaling.paused must be true or false"},
    {"PullPolicy", "spec.worker", "{imagePullPolicy: Sometimes}",
     "spec.worker.imagePullPolicy must be one of Always, IfNotPresent, Never"},
    {"EnvWithoutName", "spec.worker", "{env: [{value: x}]}", "spec.worker.env[0].name is required"},
    {"ResourcesNotMap", "spec.worker", "{resources: big}", "spec.worker.resources must be a mapping"},
    {"UnknownSpecField", "spec.batchs", "{maxMessages: 5}",
     "spec.batchs is not a known field (did you mean batch?)"},
    {"UnknownNestedField", "spec.batch.maxMesages", "5",
     "spec.batch.maxMesages is not a known field (did you mean maxMessages?)"},
    {"UnknownFarField", "spec.batch.colour", "5",
     "spec.batch.colour is not a known field; known fields here:"},
    {"BatchNotMap", "spec.batch", "[1, 2]", "spec.batch must be a mapping"},
    {"NatsBadUrl", "spec.source", "{nats: {servers: ['http://x'], stream: S}}",
     "spec.source.nats.servers[0] must be a nats:// or tls:// URL"},
    {"NatsBadStream", "spec.source", "{nats: {servers: ['nats://x:4222'], stream: 'a.b'}}",
     "spec.source.nats.stream must not contain spaces"},
    {"NatsMissingStream", "spec.source", "{nats: {servers: ['nats://x:4222']}}",
     "spec.source.nats.stream is required"},
    {"NatsPartitionOrdering", "spec",
     "{source: {nats: {servers: ['nats://x:4222'], stream: S}}, sink: {log: {}}, "
     "processing: {ordering: partition}}",
     "spec.processing.ordering: partition applies to Kafka sources only"},
    {"NatsKeyOrderingWithoutKey", "spec",
     "{source: {nats: {servers: ['nats://x:4222'], stream: S}}, sink: {log: {}}, "
     "processing: {ordering: key}}",
     "needs spec.source.nats.keyHeader or keySubjectToken"},
    {"NatsKeyOrderingOnManyReplicas", "spec",
     "{source: {nats: {servers: ['nats://x:4222'], stream: S, keyHeader: k}}, sink: {log: {}}, "
     "processing: {ordering: key}, scaling: {lagPerReplica: 10, maxReplicas: 3}}",
     "spec.scaling.maxReplicas must be 1 with a NATS source and spec.processing.ordering: key (workers "
     "sharing one JetStream consumer deliver a key's messages out of order): set spec.scaling.maxReplicas: "
     "1, or spec.processing.ordering: none (got 3)"},
    {"NatsTwoKeySources", "spec.source",
     "{nats: {servers: ['nats://x:4222'], stream: S, keyHeader: k, keySubjectToken: 2}}",
     "spec.source.nats must set at most one of keyHeader or keySubjectToken"},
};

INSTANTIATE_TEST_SUITE_P(Rules, InvalidManifestTest, ::testing::ValuesIn(kInvalidCases),
                         [](const ::testing::TestParamInfo<InvalidCase>& p) { return p.param.name; });

TEST(ParseTest, ReportsEveryErrorAtOnce) {
  std::string manifest = withField("spec.batch.maxMessages", "0");
  manifest = withField("spec.processing.concurrency", "0", manifest);
  manifest = withField("spec.sink.http.format", "xml", manifest);
  const auto outcome = parsePipelineYaml(manifest);
  ASSERT_EQ(outcome.errors.size(), 3u) << outcome.errorText();
}

TEST(ParseTest, YamlSyntaxErrorNamesLineAndColumn) {
  const auto outcome =
      parsePipelineYaml("apiVersion: sluice.dev/v1alpha1\nkind: ConsumerPipeline\nspec: [unclosed\n");
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(outcome.errors[0].line, 4);
  EXPECT_GT(outcome.errors[0].column, 0);
  EXPECT_NE(outcome.errors[0].toString().find("(line 4, column"), std::string::npos);
}

TEST(ParseTest, FieldErrorsCarryTheirLine) {
  const std::string manifest = std::string(kBaseManifest) + "  batch:\n    maxMessages: 0\n";
  const auto outcome = parsePipelineYaml(manifest);
  ASSERT_EQ(outcome.errors.size(), 1u) << outcome.errorText();
  EXPECT_EQ(outcome.errors[0].line, 15);
  EXPECT_EQ(outcome.errors[0].column, 18);
}

TEST(ParseTest, ParsesJsonFromTheApiServer) {
  const auto object = nlohmann::json::parse(R"({
    "apiVersion": "sluice.dev/v1alpha1", "kind": "ConsumerPipeline",
    "metadata": {"name": "orders", "namespace": "shop", "uid": "u-1", "generation": 3,
                 "managedFields": [{"manager": "kubectl"}]},
    "spec": {"source": {"nats": {"servers": ["nats://127.0.0.1:4222"], "stream": "ORDERS", "keyHeader": "Key"}},
             "processing": {"ordering": "key", "retry": {"jitter": 0.5}},
             "sink": {"discard": {}}, "scaling": {"drainSeconds": 60, "maxReplicas": 1}},
    "status": {"replicas": 2}})");
  const auto outcome = parsePipelineJson(object);
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  const auto& p = outcome.pipeline;
  EXPECT_EQ(p.metadata.uid, "u-1");
  EXPECT_EQ(p.metadata.generation, 3);
  ASSERT_TRUE(p.spec.source.nats);
  EXPECT_EQ(p.spec.source.nats->stream, "ORDERS");
  EXPECT_EQ(effectiveNatsConsumer(p), "shop-orders");
  EXPECT_EQ(effectiveOrdering(p.spec), Ordering::kKey);
  EXPECT_DOUBLE_EQ(p.spec.processing.retry.jitter, 0.5);
  EXPECT_TRUE(p.spec.sink.discard.has_value());
  EXPECT_EQ(p.spec.scaling.drainSeconds.value_or(0), 60);
  EXPECT_FALSE(p.spec.scaling.lagPerReplica.has_value());
  EXPECT_EQ(sinkKindOf(p.spec.sink), SinkKind::kDiscard);
  EXPECT_EQ(sourceKindOf(p.spec.source), SourceKind::kNats);
}

TEST(ParseTest, JsonErrorsNameFieldWithoutLine) {
  const auto object =
      nlohmann::json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "ConsumerPipeline",
    "metadata": {"name": "a"}, "spec": {"source": {"kafka": {"bootstrapServers": "k:9092", "topics": ["t"]}},
    "sink": {"log": null}, "batch": {"maxMessages": "many"}}})");
  const auto outcome = parsePipelineJson(object);
  ASSERT_EQ(outcome.errors.size(), 1u) << outcome.errorText();
  EXPECT_EQ(outcome.errors[0].toString(), "spec.batch.maxMessages must be an integer (got 'many')");
}

TEST(ParseTest, RejectsMultipleDocuments) {
  const auto outcome = parsePipelineYaml(std::string(kBaseManifest) + "---\n" + kBaseManifest);
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.errorText().find("exactly one YAML document"), std::string::npos);
}

// Found by tests/fuzz/fuzz_spec_yaml: yaml-cpp's LoadAll never returned on a document that begins
// with a flow entry (memory grew until the process died). Each input here hung before the fix.
TEST(ParseTest, RefusesADocumentBeginningWithAFlowEntryInsteadOfHanging) {
  for (const std::string& text :
       {std::string(","), std::string(",a"), std::string(kBaseManifest) + "---\n,\n"}) {
    const auto outcome = parsePipelineYaml(text);
    ASSERT_EQ(outcome.errors.size(), 1u) << text;
    EXPECT_NE(outcome.errorText().find("exactly one YAML document"), std::string::npos)
        << outcome.errorText();
  }
}

// Found by tests/fuzz/fuzz_spec_yaml: a resources quantity that is not UTF-8 made nlohmann's dump()
// throw out of the parser (std::terminate in sluice-worker --config).
TEST(ParseTest, ResourcesThatAreNotUtf8DoNotThrow) {
  std::string text(kBaseManifest);
  const std::string resources = "  worker:\n    resources:\n      requests: {memory: \"\xcf\xcd\xc7)i\"}\n";
  text += resources;
  EXPECT_NO_THROW((void)parsePipelineYaml(text));
}

TEST(ParseTest, RefusesAnEmptyDocument) {
  const auto outcome = parsePipelineYaml("# nothing here\n");
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0].toString(),
            "expected exactly one YAML document holding a ConsumerPipeline (got none)");
}

TEST(ParseTest, MissingFileNamesPath) {
  const auto outcome = parsePipelineFile("/nonexistent/pipeline.yaml");
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.errorText().find("cannot read /nonexistent/pipeline.yaml"), std::string::npos);
}

TEST(ParseTest, ToResultJoinsErrors) {
  auto result = toResult(parsePipelineYaml(withField("spec.batch.maxMessages", "0")));
  ASSERT_FALSE(result.isOk());
  EXPECT_EQ(result.status().code(), common::ErrorCode::kInvalidArgument);
  auto ok = toResult(parsePipelineYaml(kBaseManifest));
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
}

}  // namespace
}  // namespace sluice::spec

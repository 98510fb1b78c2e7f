#include <gtest/gtest.h>

#include "common/spec/parse.h"
#include "tests/common/spec/spec_fixture.h"

namespace sluice::spec {
namespace {

TEST(DefaultsTest, MinimalManifestGetsEveryDefault) {
  const auto outcome = parsePipelineYaml(testing::kBaseManifest);
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  const ConsumerPipeline& p = outcome.pipeline;
  const PipelineSpec& s = p.spec;
  EXPECT_EQ(p.metadata.name, "orders");
  EXPECT_EQ(p.metadata.namespace_, "shop");
  ASSERT_TRUE(s.source.kafka);
  EXPECT_EQ(s.source.kafka->startFrom, StartFrom::kLatest);
  EXPECT_EQ(effectiveGroupId(p), "shop.orders");
  EXPECT_FALSE(s.source.kafka->tls);
  EXPECT_FALSE(s.source.kafka->sasl);

  EXPECT_EQ(s.batch.maxMessages, 500);
  EXPECT_EQ(s.batch.maxBytes, 1048576);
  EXPECT_EQ(s.batch.maxWaitMs, 2000);

  EXPECT_FALSE(s.processing.ordering.has_value());
  EXPECT_EQ(effectiveOrdering(s), Ordering::kKey);
  EXPECT_EQ(s.processing.concurrency, 4);
  EXPECT_EQ(s.processing.timeoutMs, 30000);
  EXPECT_EQ(s.processing.retry.maxAttempts, 5);
  EXPECT_EQ(s.processing.retry.initialBackoffMs, 300);
  EXPECT_EQ(s.processing.retry.maxBackoffMs, 30000);
  EXPECT_DOUBLE_EQ(s.processing.retry.multiplier, 2.0);
  EXPECT_DOUBLE_EQ(s.processing.retry.jitter, 0.2);
  EXPECT_FALSE(s.processing.deadLetter);

  EXPECT_EQ(s.backpressure.maxInFlightMessages, 10000);
  EXPECT_EQ(s.backpressure.maxInFlightBytes, 67108864);
  EXPECT_DOUBLE_EQ(s.backpressure.resumeRatio, 0.5);

  ASSERT_TRUE(s.sink.http);
  EXPECT_EQ(s.sink.http->format, HttpFormat::kJson);
  EXPECT_EQ(s.sink.http->timeoutMs, 10000);

  EXPECT_EQ(s.scaling.minReplicas, 0);
  EXPECT_EQ(s.scaling.maxReplicas, 10);
  EXPECT_EQ(s.scaling.lagPerReplica.value_or(0), 1000);  // no scaling block: lag target 1000
  EXPECT_FALSE(s.scaling.drainSeconds);
  EXPECT_EQ(s.scaling.activationLag, 0);
  EXPECT_EQ(s.scaling.pollIntervalSeconds, 5);
  EXPECT_EQ(s.scaling.scaleDownStabilizationSeconds, 120);
  EXPECT_EQ(s.scaling.idleSecondsBeforeZero, 300);
  EXPECT_FALSE(s.scaling.allowIdleConsumers);
  EXPECT_FALSE(s.scaling.paused);

  EXPECT_EQ(s.worker.image, "");
  EXPECT_EQ(s.worker.imagePullPolicy, "IfNotPresent");
  EXPECT_EQ(s.worker.drainSeconds, 30);
}

TEST(DefaultsTest, NamespaceDefaultsToDefault) {
  const auto outcome = parsePipelineYaml(testing::withField("metadata.namespace", "~delete"));
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  EXPECT_EQ(outcome.pipeline.metadata.namespace_, "default");
  EXPECT_EQ(effectiveGroupId(outcome.pipeline), "default.orders");
}

TEST(DefaultsTest, NatsSourceDefaultsToNoOrderingAndNamedConsumer) {
  const auto outcome = parsePipelineYaml(
      testing::withField("spec.source", "{nats: {servers: ['nats://127.0.0.1:4222'], stream: ORDERS}}"));
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  EXPECT_EQ(effectiveOrdering(outcome.pipeline.spec), Ordering::kNone);
  EXPECT_EQ(effectiveNatsConsumer(outcome.pipeline), "shop-orders");
  EXPECT_EQ(outcome.pipeline.spec.source.nats->ackWaitSeconds, 30);
}

TEST(DefaultsTest, NatsSinkPublishesToJetStreamUnlessCoreIsChosen) {
  auto outcome = parsePipelineYaml(
      testing::withField("spec.sink", "{nats: {servers: ['nats://n:4222'], subject: out}}"));
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  ASSERT_TRUE(outcome.pipeline.spec.sink.nats);
  EXPECT_EQ(outcome.pipeline.spec.sink.nats->publish, NatsPublish::kJetStream);
  outcome = parsePipelineYaml(
      testing::withField("spec.sink", "{nats: {servers: ['nats://n:4222'], subject: out, publish: core}}"));
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  EXPECT_EQ(outcome.pipeline.spec.sink.nats->publish, NatsPublish::kCore);
}

TEST(DefaultsTest, FullDesignExampleParses) {
  const char* manifest = R"(apiVersion: sluice.dev/v1alpha1
kind: ConsumerPipeline
metadata: {name: orders, namespace: shop}
spec:
  source:
    kafka:
      bootstrapServers: kafka:9092
      topics: [orders]
      groupId: orders-workers
      startFrom: earliest
      tls: {secretRef: {name: kafka-tls}}
      sasl: {mechanism: SCRAM-SHA-512, secretRef: {name: kafka-user}}
  batch: {maxMessages: 500, maxBytes: 1048576, maxWaitMs: 2000}
  processing:
    ordering: key
    concurrency: 4
    timeoutMs: 30000
    retry: {maxAttempts: 5, initialBackoffMs: 300, maxBackoffMs: 30000, multiplier: 2, jitter: 0.2}
    deadLetter: {kafka: {topic: orders.dlq}}
  backpressure: {maxInFlightMessages: 10000, maxInFlightBytes: 67108864, resumeRatio: 0.5}
  sink:
    http: {url: http://ingest.shop/batch, format: ndjson, headers: {Authorization: Bearer x}}
  scaling:
    minReplicas: 0
    maxReplicas: 20
    lagPerReplica: 1000
    drainSeconds: 60
    pollIntervalSeconds: 5
    scaleDownStabilizationSeconds: 120
    idleSecondsBeforeZero: 300
  worker: {image: sluice:dev, resources: {requests: {cpu: 100m, memory: 64Mi}}, env: [{name: A, value: b}]}
)";
  const auto outcome = parsePipelineYaml(manifest);
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  const auto& s = outcome.pipeline.spec;
  EXPECT_EQ(effectiveGroupId(outcome.pipeline), "orders-workers");
  EXPECT_EQ(s.source.kafka->startFrom, StartFrom::kEarliest);
  EXPECT_EQ(s.source.kafka->tls->secretRef->name, "kafka-tls");
  EXPECT_EQ(s.source.kafka->sasl->mechanism, SaslMechanism::kScramSha512);
  EXPECT_EQ(s.processing.deadLetter->kafka->topic, "orders.dlq");
  EXPECT_EQ(s.sink.http->format, HttpFormat::kNdjson);
  EXPECT_EQ(s.sink.http->headers.at("Authorization"), "Bearer x");
  EXPECT_EQ(s.scaling.maxReplicas, 20);
  EXPECT_EQ(s.worker.resourcesJson, R"({"requests":{"cpu":"100m","memory":"64Mi"}})");
  ASSERT_EQ(s.worker.env.size(), 1u);
  EXPECT_EQ(s.worker.env[0].name, "A");
}

}  // namespace
}  // namespace sluice::spec

namespace sluice::spec {
namespace {

TEST(KindsTest, EachSinkAndSourceSpecNamesItsKind) {
  SinkSpec sink;
  EXPECT_EQ(sinkKindOf(sink), SinkKind::kDiscard);
  sink.log.emplace();
  EXPECT_EQ(sinkKindOf(sink), SinkKind::kLog);
  sink.log.reset();
  sink.nats.emplace();
  EXPECT_EQ(sinkKindOf(sink), SinkKind::kNats);
  sink.nats.reset();
  sink.kafka.emplace();
  EXPECT_EQ(sinkKindOf(sink), SinkKind::kKafka);
  sink.kafka.reset();
  sink.http.emplace();
  EXPECT_EQ(sinkKindOf(sink), SinkKind::kHttp);
  EXPECT_STREQ(toString(SinkKind::kHttp), "http");
  EXPECT_STREQ(toString(SinkKind::kDiscard), "discard");

  SourceSpec source;
  source.kafka.emplace();
  EXPECT_EQ(sourceKindOf(source), SourceKind::kKafka);
  source.kafka.reset();
  source.nats.emplace();
  EXPECT_EQ(sourceKindOf(source), SourceKind::kNats);
  EXPECT_STREQ(toString(SourceKind::kNats), "nats");
  EXPECT_STREQ(toString(SourceKind::kKafka), "kafka");
}

}  // namespace
}  // namespace sluice::spec

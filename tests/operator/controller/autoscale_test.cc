// The controller's autoscaling glue (autoscale.h) and how a poll shapes the status (status.h),
// with fixed lag snapshots, Lease objects and a FakeClock.
#include "operator/controller/autoscale.h"

#include <gtest/gtest.h>

#include "operator/controller/reasons.h"
#include "operator/controller/source_probe.h"
#include "operator/controller/status.h"

namespace sluice::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

scaling::LagSnapshot fourPartitions(int64_t perPartition, int64_t produced, int64_t consumed) {
  std::vector<scaling::PartitionLag> partitions;
  for (int p = 0; p < 4; ++p) partitions.push_back({"orders", p, 0, perPartition, 0, perPartition});
  scaling::LagSnapshot s = scaling::summarize(partitions, spec::StartFrom::kEarliest);
  s.partitionCount = 4;
  s.producedSum = produced;
  s.consumedSum = consumed;
  return s;
}

spec::PipelineSpec kafkaSpec() {
  spec::PipelineSpec s;
  s.source.kafka = spec::KafkaSourceSpec{};
  s.source.kafka->bootstrapServers = "127.0.0.1:9092";
  s.source.kafka->topics = {"orders", "refunds"};
  s.scaling.lagPerReplica = 100;
  s.scaling.maxReplicas = 10;
  s.scaling.pollIntervalSeconds = 2;
  return s;
}

json lease(const std::string& pod, const std::string& report) {
  json l = {{"metadata", {{"name", pod}, {"labels", {{contract::kPipelineLabel, "orders"}}}}}};
  if (!report.empty()) l["metadata"]["annotations"] = {{contract::kReportAnnotation, report}};
  return l;
}

json pipelineObject() {
  return {{"metadata", {{"name", "orders"}, {"namespace", "shop"}, {"generation", 1}}},
          {"spec", json::object()}};
}

std::string conditionField(const json& status, const char* type, const char* field) {
  const json* c = findCondition(status, type);
  return c ? (*c)[field].get<std::string>() : "<absent>";
}

TEST(ReportsFromLeases, DecodesReportsAndSkipsLeasesWithoutOne) {
  common::FakeClock clock;
  contract::WorkerReport report;
  report.state = contract::WorkerState::kRunning;
  report.lastHeartbeat = clock.wallNow();
  report.processedPerSecond = 250;
  const auto reports =
      reportsFromLeases({lease("orders-worker-a", contract::encodeReport(report)),
                         lease("orders-worker-b", ""), lease("orders-worker-c", "{not json")});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].pod, "orders-worker-a");  // the Lease name stands in for a missing pod
  EXPECT_DOUBLE_EQ(reports[0].processedPerSecond, 250);
}

// A worker account may create and patch any Lease in its namespace; only a Lease owned by a live
// Pod of the pipeline (as the worker writes it: owner kind Pod, the Lease's name, the Pod's uid)
// is trusted, so another pipeline's worker cannot forge this one's reports.
TEST(TrustedReportLeases, OnlyLeasesOwnedByALivePodOfThePipelineCount) {
  const auto pod = [](const std::string& name, const std::string& uid) {
    return json{{"metadata", {{"name", name}, {"uid", uid}}}};
  };
  const auto owned = [](const std::string& name, json ref) {
    json l = lease(name, "r");
    if (!ref.is_null()) l["metadata"]["ownerReferences"] = json::array({std::move(ref)});
    return l;
  };
  const auto podRef = [](const std::string& name, const std::string& uid) {
    return json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", name}, {"uid", uid}};
  };
  const std::vector<json> pods = {pod("orders-worker-a", "uid-a"), pod("orders-worker-b", "uid-b")};
  const std::vector<json> leases = {
      owned("orders-worker-a", podRef("orders-worker-a", "uid-a")),    // the worker's own: trusted
      owned("orders-worker-b", podRef("orders-worker-b", "guessed")),  // a forged owner uid
      owned("orders-worker-x", podRef("orders-worker-x", "uid-x")),    // no such Pod of the pipeline
      owned("orders-worker-c", json()),                                // no owner at all
      owned("orders-worker-b", podRef("orders-worker-a", "uid-a")),    // another Pod's owner
      owned("orders-worker-b", {{"kind", "ConfigMap"}, {"name", "orders-worker-b"}, {"uid", "uid-b"}}),
  };
  const auto trusted = trustedReportLeases(leases, pods);
  ASSERT_EQ(trusted.size(), 1u);
  EXPECT_EQ(trusted[0].value("/metadata/name"_json_pointer, std::string()), "orders-worker-a");
  EXPECT_TRUE(trustedReportLeases(leases, {}).empty());
}

TEST(SourceSummary, NamesTheFirstTopicOrTheStream) {
  EXPECT_EQ(sourceSummary(kafkaSpec()), "kafka:orders");
  spec::PipelineSpec nats;
  nats.source.nats = spec::NatsSourceSpec{};
  nats.source.nats->stream = "ORDERS";
  EXPECT_EQ(sourceSummary(nats), "nats:ORDERS");
}

TEST(PollScaling, LagScalesUpToThePartitionCountWithAScaledEvent) {
  common::FakeClock clock;
  scaling::PipelineAutoscaler autoscaler(clock);
  const auto out = pollScaling(autoscaler, kafkaSpec(), 0, {}, fourPartitions(250, 1000, 0), clock.wallNow());
  EXPECT_EQ(out.outcome.decision.from, 0);
  EXPECT_EQ(out.outcome.decision.to, 4);  // ceil(1000 / 100) = 10, capped at 4 partitions
  ASSERT_TRUE(out.event.has_value());
  EXPECT_EQ(out.event->reason, event::kScaled);
  EXPECT_EQ(out.event->message, out.outcome.decision.reason);
  EXPECT_NE(out.event->message.find("1000"), std::string::npos) << out.event->message;
  EXPECT_EQ(out.status.lag.total, 1000);
  EXPECT_EQ(out.status.lag.partitionsWithLag, 4);
  EXPECT_EQ(out.status.lag.maxPartitionLag, 250);
  ASSERT_TRUE(out.status.lastScale.has_value());
  EXPECT_EQ(out.status.lastScale->from, 0);
  EXPECT_EQ(out.status.lastScale->to, 4);
  EXPECT_EQ(out.status.workers.total, 0);
}

TEST(PollScaling, HoldingReplicasEmitsNoEventAndKeepsLastScaleOut) {
  common::FakeClock clock;
  scaling::PipelineAutoscaler autoscaler(clock);
  const auto out = pollScaling(autoscaler, kafkaSpec(), 4, {}, fourPartitions(250, 1000, 0), clock.wallNow());
  EXPECT_FALSE(out.outcome.decision.changed());
  EXPECT_FALSE(out.event.has_value());
  EXPECT_FALSE(out.status.lastScale.has_value());  // the merge patch leaves the previous one
}

TEST(ScalingStatus, DesiredLagSourceAndConditionsComeFromThePoll) {
  common::FakeClock clock;
  scaling::PipelineAutoscaler autoscaler(clock);
  const auto scaled =
      pollScaling(autoscaler, kafkaSpec(), 0, {}, fourPartitions(250, 1000, 0), clock.wallNow());
  const json deployment = {{"spec", {{"replicas", 0}}}, {"status", {{"replicas", 0}, {"readyReplicas", 0}}}};
  Observations observed;
  observed.deployment = &deployment;
  observed.scaling = &scaled;
  observed.sourceSummary = "kafka:orders";
  const json status = computeStatus(pipelineObject(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(status["desiredReplicas"], 4);
  EXPECT_EQ(status["replicas"], 0);
  EXPECT_EQ(status["lag"]["total"], 1000);
  EXPECT_EQ(status["source"], "kafka:orders");
  EXPECT_TRUE(status.contains("rates"));
  EXPECT_TRUE(status.contains("workers"));
  EXPECT_EQ(conditionField(status, condition::kSourceReachable, "status"), "True");
  EXPECT_EQ(conditionField(status, condition::kScaling, "status"), "True");
  EXPECT_EQ(conditionField(status, condition::kScaling, "reason"),
            scaling::reasonName(scaled.outcome.decision.cause));
  EXPECT_EQ(conditionField(status, condition::kDegraded, "status"), "False");

  // Replicas caught up: Scaling flips to False, and only then does its lastTransitionTime move.
  clock.advance(10s);
  const json caughtUp = {{"spec", {{"replicas", 4}}}, {"status", {{"replicas", 4}, {"readyReplicas", 4}}}};
  observed.deployment = &caughtUp;
  const json later = computeStatus(pipelineObject(), observed, status, clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(later, condition::kScaling, "status"), "False");
  EXPECT_EQ(conditionField(later, condition::kScaling, "lastTransitionTime"),
            common::formatRfc3339(clock.wallNow()));
  EXPECT_EQ(conditionField(later, condition::kSourceReachable, "lastTransitionTime"),
            conditionField(status, condition::kSourceReachable, "lastTransitionTime"));
}

TEST(ScalingStatus, AWorkerReportingASourceDifferenceDegradesThePipelineNamingIt) {
  common::FakeClock clock;
  scaling::PipelineAutoscaler autoscaler(clock);
  contract::WorkerReport report;
  report.pod = "orders-7d9-abc";
  report.state = contract::WorkerState::kRunning;
  report.lastHeartbeat = clock.wallNow();
  report.sourceDrift =
      "nats consumer ORDERS/orders exists with other settings, kept as it is: maxAckPending 1000";
  const std::vector<json> leases = {lease("orders-7d9-abc", contract::encodeReport(report))};
  const auto polled =
      pollScaling(autoscaler, kafkaSpec(), 1, leases, fourPartitions(0, 0, 0), clock.wallNow());
  const json deployment = {{"spec", {{"replicas", 1}}}, {"status", {{"replicas", 1}, {"readyReplicas", 1}}}};
  Observations observed;
  observed.deployment = &deployment;
  observed.scaling = &polled;
  const json status = computeStatus(pipelineObject(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(status, condition::kDegraded, "status"), "True");
  EXPECT_EQ(conditionField(status, condition::kDegraded, "reason"), reason::kSourceSettingsDiffer);
  const std::string message = conditionField(status, condition::kDegraded, "message");
  EXPECT_NE(message.find("orders-7d9-abc: nats consumer ORDERS/orders exists with other settings"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("delete it"), std::string::npos) << message;  // names the fix

  // The worker no longer reports it (the consumer was recreated): back to AsExpected.
  report.sourceDrift.clear();
  const auto fixed =
      pollScaling(autoscaler, kafkaSpec(), 1, {lease("orders-7d9-abc", contract::encodeReport(report))},
                  fourPartitions(0, 0, 0), clock.wallNow());
  observed.scaling = &fixed;
  const json later = computeStatus(pipelineObject(), observed, status, clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(later, condition::kDegraded, "status"), "False");
}

TEST(ScalingStatus, AMissingTopicIsSourceReachableFalseAndHoldsReplicas) {
  common::FakeClock clock;
  scaling::PipelineAutoscaler autoscaler(clock);
  const common::Result<scaling::LagSnapshot> missing = common::notFound("topic orders does not exist");
  const auto polled = pollScaling(autoscaler, kafkaSpec(), 2, {}, missing, clock.wallNow());
  EXPECT_EQ(polled.outcome.decision.to, 2);
  EXPECT_FALSE(polled.event.has_value());
  Observations observed;
  observed.scaling = &polled;
  observed.source = SourceObservation{SourceState::kReachable, "connected to 127.0.0.1:9092"};
  const json status = computeStatus(pipelineObject(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(status, condition::kSourceReachable, "status"), "False");
  EXPECT_EQ(conditionField(status, condition::kSourceReachable, "reason"), reason::kSourceMissing);
  EXPECT_NE(conditionField(status, condition::kSourceReachable, "message").find("orders"), std::string::npos);
}

TEST(ScalingStatus, StalledLagIsDegradedWithTheCauseAsReason) {
  common::FakeClock clock;
  scaling::PipelineAutoscaler autoscaler(clock);
  auto spec = kafkaSpec();
  contract::WorkerReport report;
  report.state = contract::WorkerState::kRunning;
  report.processedPerSecond = 10;
  std::optional<ScalingObservation> polled;
  for (int i = 0; i < 40; ++i) {  // lag stays, nothing is consumed, workers report Running
    report.lastHeartbeat = clock.wallNow();
    polled = pollScaling(autoscaler, spec, 4, {lease("orders-worker-a", contract::encodeReport(report))},
                         fourPartitions(250, 1000, 0), clock.wallNow());
    clock.advance(5s);
  }
  ASSERT_TRUE(polled->outcome.decision.degraded);
  Observations observed;
  observed.scaling = &*polled;
  const json status = computeStatus(pipelineObject(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(status, condition::kDegraded, "status"), "True");
  EXPECT_EQ(conditionField(status, condition::kDegraded, "reason"),
            scaling::reasonName(scaling::Cause::kStalled));
}

TEST(ProbeConfig, KafkaIsProbedWithTheEffectiveGroupAndTheSaslSecret) {
  spec::ConsumerPipeline pipeline;
  pipeline.metadata.name = "orders";
  pipeline.metadata.namespace_ = "shop";
  pipeline.spec = kafkaSpec();
  std::string why;
  auto config = kafkaProbeConfig(pipeline, {}, why);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->groupId, "shop.orders");
  EXPECT_EQ(config->topics, (std::vector<std::string>{"orders", "refunds"}));
  EXPECT_EQ(config->connection.properties.at("security.protocol"), "PLAINTEXT");

  pipeline.spec.source.kafka->sasl = spec::SaslSpec{};
  pipeline.spec.source.kafka->sasl->secretRef = spec::SecretRef{"kafka-user"};
  config = kafkaProbeConfig(pipeline, {{"kafka-user", {{"username", "u"}, {"password", "p"}}}}, why);
  ASSERT_TRUE(config.has_value()) << why;
  EXPECT_EQ(config->connection.properties.at("security.protocol"), "SASL_PLAINTEXT");
  EXPECT_EQ(config->connection.properties.at("sasl.username"), "u");

  EXPECT_FALSE(kafkaProbeConfig(pipeline, {}, why).has_value());  // the Secret is missing
  EXPECT_NE(why.find("Secret \"kafka-user\" named by spec.source.kafka.sasl.secretRef does not exist"),
            std::string::npos)
      << why;
}

TEST(ProbeConfig, NatsTokenComesFromTheSecret) {
  spec::ConsumerPipeline pipeline;
  pipeline.metadata.name = "orders";
  pipeline.metadata.namespace_ = "shop";
  pipeline.spec.source.nats = spec::NatsSourceSpec{};
  pipeline.spec.source.nats->servers = {"tls://127.0.0.1:4222"};  // a token only over TLS
  pipeline.spec.source.nats->stream = "ORDERS";
  pipeline.spec.source.nats->auth = spec::NatsAuthSpec{};
  pipeline.spec.source.nats->auth->secretRef = spec::SecretRef{"nats-token"};
  pipeline.spec.source.nats->auth->tokenFile = "/var/run/secrets/sluice/nats-token/token";
  std::string why;
  const auto config = natsProbeConfig(pipeline, {{"nats-token", {{"token", "t0k"}}}}, why);
  ASSERT_TRUE(config.has_value()) << why;
  EXPECT_EQ(config->connection.auth.token, "t0k");
  EXPECT_EQ(config->connection.servers, (std::vector<std::string>{"tls://127.0.0.1:4222"}));
  EXPECT_FALSE(natsProbeConfig(pipeline, {{"nats-token", {}}}, why).has_value());
  EXPECT_NE(why.find("has no key \"token\""), std::string::npos) << why;
}

TEST(MayContactSource, LoopbackAlwaysOtherwiseOnlyWhenAllowed) {
  std::string why;
  EXPECT_TRUE(mayContactSource(kafkaSpec(), {}, why));
  auto spec = kafkaSpec();
  spec.source.kafka->bootstrapServers = "kafka.shop.svc:9092";
  EXPECT_FALSE(mayContactSource(spec, {}, why));
  EXPECT_NE(why.find("kafka.shop.svc"), std::string::npos);
  ProbePolicy allowed;
  allowed.allowNonLoopback = true;
  EXPECT_TRUE(mayContactSource(spec, allowed, why));
}

}  // namespace
}  // namespace sluice::controller

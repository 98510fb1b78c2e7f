// The operator's autoscaling loop against the real local API server and the real Kafka broker
// (scripts/dev-env up kube kafka; 127.0.0.1 only): a 4-partition topic with 1000 messages and no
// committed offsets (startFrom earliest), lagPerReplica 100 -> the operator measures lag 1000 and
// scales the worker Deployment to 4 (ceil(1000/100) = 10, capped at the partition count), with
// status.lag, status.desiredReplicas and a Scaled Event. No workers run (pods stay Pending): the
// closed loop with workers is the e2e harness's.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <memory>
#include <string>

#include "kube/resources.h"
#include "tests/operator/integration/harness.h"
#include "tests/support/env_file.h"

namespace sluice::op::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace res = kube::resources;

constexpr int kPartitions = 4;
constexpr int kMessages = 1000;
constexpr int kTimeoutMs = 15000;

using KafkaHandle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

KafkaHandle producer(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  EXPECT_NE(rk, nullptr) << err;
  return KafkaHandle(rk, &rd_kafka_destroy);
}

// CreateTopics through the Admin API; returns the error text, empty on success.
std::string createTopic(rd_kafka_t* rk, const std::string& topic, int partitions) {
  char err[256];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  if (nt == nullptr) return err;
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> q(rd_kafka_queue_new(rk),
                                                                         &rd_kafka_queue_destroy);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q.get());
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q.get(), kTimeoutMs);
  if (ev == nullptr) return "CreateTopics timed out";
  std::string error;
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      error = rd_kafka_err2str(rd_kafka_topic_result_error(results[i]));
    }
  }
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) error = rd_kafka_event_error_string(ev);
  rd_kafka_event_destroy(ev);
  return error;
}

json pipelineManifest(const std::string& ns, const std::string& name, const std::string& bootstrap,
                      const std::string& topic) {
  return {
      {"apiVersion", "sluice.dev/v1alpha1"},
      {"kind", "ConsumerPipeline"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"spec",
       {{"source",
         {{"kafka",
           {{"bootstrapServers", bootstrap}, {"topics", json::array({topic})}, {"startFrom", "earliest"}}}}},
        {"sink", {{"log", json::object()}}},
        {"scaling",
         {{"minReplicas", 0}, {"maxReplicas", 10}, {"lagPerReplica", 100}, {"pollIntervalSeconds", 1}}}}}};
}

class AutoscaleIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = sluice::testing::requireServiceEnv("KAFKA_BOOTSTRAP");
    if (HasFatalFailure() || bootstrap_.empty()) GTEST_SKIP() << "no Kafka";
    ASSERT_EQ(bootstrap_.rfind("127.0.0.1:", 0), 0u) << "tests only talk to 127.0.0.1, got " << bootstrap_;
    std::string out;
    const std::string crd = std::string(SLUICE_SOURCE_DIR) + "/crds/consumerpipelines.sluice.dev.yaml";
    ASSERT_EQ(kubectl("apply --server-side --force-conflicts -f '" + crd + "'", &out), 0) << out;
    ASSERT_EQ(
        kubectl("wait --for=condition=Established --timeout=60s crd/consumerpipelines.sluice.dev", &out), 0)
        << out;
    cluster_ = connect();
    ASSERT_NE(cluster_, nullptr);
    ns_ = sluice::testing::uniqueName("autoscale");
    auto created = client().create(
        res::kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.isOk()) << created.status().toString();
  }

  void TearDown() override {
    if (operator_) {
      operator_->kill(SIGTERM);
      operator_->wait();
    }
    if (cluster_) (void)client().remove(res::kNamespaces, "", ns_);
  }

  kube::Client& client() { return *cluster_->client; }

  json get(const kube::ResourceType& type, const std::string& name) {
    auto got = client().get(type, ns_, name);
    return got.isOk() ? *got : json::object();
  }

  bool hasScaledEvent(const std::string& pipeline, std::string* message) {
    kube::ListOptions options;
    options.fieldSelector = "involvedObject.name=" + pipeline;
    auto events = client().list(res::kEvents, ns_, options);
    if (!events) return false;
    for (const auto& e : events->items) {
      if (e.value("reason", "") != "Scaled") continue;
      *message = e.value("message", "");
      return true;
    }
    return false;
  }

  std::string bootstrap_;
  std::unique_ptr<Cluster> cluster_;
  std::string ns_;
  std::unique_ptr<OperatorProcess> operator_;
};

TEST_F(AutoscaleIntegration, LagScalesTheDeploymentUpToThePartitionCount) {
  const std::string topic = sluice::testing::uniqueName("autoscale");
  auto kafka = producer(bootstrap_);
  ASSERT_EQ(createTopic(kafka.get(), topic, kPartitions), "");
  for (int i = 0; i < kMessages; ++i) {
    const std::string value = "m" + std::to_string(i);
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(kafka.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(i % kPartitions),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  }
  ASSERT_EQ(rd_kafka_flush(kafka.get(), kTimeoutMs), RD_KAFKA_RESP_ERR_NO_ERROR);

  const std::string name = "orders";
  auto created =
      client().create(res::kConsumerPipelines, ns_, pipelineManifest(ns_, name, bootstrap_, topic));
  ASSERT_TRUE(created.isOk()) << created.status().toString();
  operator_ = std::make_unique<OperatorProcess>(std::vector<std::string>{"--namespaces", ns_});
  ASSERT_TRUE(operator_->start());

  EXPECT_TRUE(
      eventually(60s,
                 [&] {
                   return get(res::kDeployments, name + "-worker").value("/spec/replicas"_json_pointer, -1) ==
                          kPartitions;
                 }))
      << get(res::kDeployments, name + "-worker").dump(2) << "\n"
      << operator_->log();

  json status;
  EXPECT_TRUE(eventually(30s, [&] {
    status = get(res::kConsumerPipelines, name).value("status", json::object());
    return status.value("/lag/total"_json_pointer, -1) == kMessages &&
           status.value("desiredReplicas", -1) == kPartitions;
  })) << status.dump(2);
  EXPECT_EQ(status.value("/lag/partitionsWithLag"_json_pointer, -1), kPartitions);
  EXPECT_EQ(status.value("source", ""), "kafka:" + topic);
  EXPECT_EQ(status.value("/lastScale/to"_json_pointer, -1), kPartitions);

  std::string message;
  EXPECT_TRUE(eventually(30s, [&] { return hasScaledEvent(name, &message); }));
  EXPECT_NE(message.find("lag 1000"), std::string::npos) << message;

  // The leader exports the pipeline's series (docs/operations.md).
  std::string metrics;
  EXPECT_TRUE(eventually(20s, [&] {
    metrics = operator_->scrapeMetrics();
    return metricSum(metrics, "sluice_pipeline_lag") == kMessages;
  })) << metrics;
  EXPECT_EQ(metricSum(metrics, "sluice_pipeline_desired_replicas"), kPartitions);
  EXPECT_GE(metricSum(metrics, "sluice_scale_events_total"), 1);
}

}  // namespace
}  // namespace sluice::op::testing

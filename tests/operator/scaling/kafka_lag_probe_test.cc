// KafkaLagProbe against the real local broker from scripts/dev-env (127.0.0.1 only).
#include "operator/scaling/kafka_lag_probe.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/env_file.h"

namespace sluice::scaling {
namespace {

using Handle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;
using PartList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)>;
constexpr int kTimeoutMs = 15000;

Handle client(rd_kafka_type_t type, const std::string& bootstrap, const std::string& group = "") {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  if (!group.empty()) rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  EXPECT_NE(rk, nullptr) << err;
  return Handle(rk, &rd_kafka_destroy);
}

// Runs one Admin request whose result arrives on a fresh queue; returns the event's error.
template <typename Start>
rd_kafka_resp_err_t adminRequest(rd_kafka_t* rk, Start start, std::string* detail) {
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> q(rd_kafka_queue_new(rk),
                                                                         &rd_kafka_queue_destroy);
  start(q.get());
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q.get(), kTimeoutMs);
  if (ev == nullptr) return RD_KAFKA_RESP_ERR__TIMED_OUT;
  rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_CREATETOPICS_RESULT) {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      if (rd_kafka_topic_result_error(res[i]) != RD_KAFKA_RESP_ERR_NO_ERROR)
        err = rd_kafka_topic_result_error(res[i]);
    }
  }
  if (detail && rd_kafka_event_error_string(ev)) *detail = rd_kafka_event_error_string(ev);
  rd_kafka_event_destroy(ev);
  return err;
}

class KafkaLagProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::requireServiceEnv("KAFKA_BOOTSTRAP");
    if (HasFatalFailure() || bootstrap.empty()) GTEST_SKIP() << "no Kafka";
    ASSERT_EQ(bootstrap.rfind("127.0.0.1:", 0), 0u) << "tests only talk to 127.0.0.1, got " << bootstrap;
    producer = std::make_unique<Handle>(client(RD_KAFKA_PRODUCER, bootstrap));
  }

  void createTopic(const std::string& topic, int partitions) {
    char err[256];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
    ASSERT_NE(nt, nullptr) << err;
    std::string detail;
    auto rc = adminRequest(
        producer->get(),
        [&](rd_kafka_queue_t* q) { rd_kafka_CreateTopics(producer->get(), &nt, 1, nullptr, q); }, &detail);
    rd_kafka_NewTopic_destroy(nt);
    ASSERT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc) << " " << detail;
  }

  void produce(const std::string& topic, int32_t partition, int count) {
    for (int i = 0; i < count; ++i) {
      std::string value = "m" + std::to_string(i);
      rd_kafka_resp_err_t err =
          rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END);
      ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    }
    ASSERT_EQ(rd_kafka_flush(producer->get(), kTimeoutMs), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // Consumes `count` messages of one partition as `group` and commits the next offset, as a worker does.
  void consumeAndCommit(const std::string& group, const std::string& topic, int32_t partition, int count) {
    Handle consumer = client(RD_KAFKA_CONSUMER, bootstrap, group);
    PartList assign(rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
    rd_kafka_topic_partition_list_add(assign.get(), topic.c_str(), partition)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    ASSERT_EQ(rd_kafka_assign(consumer.get(), assign.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t next = 0;
    int got = 0;
    for (int polls = 0; got < count && polls < 200; ++polls) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++got;
        next = m->offset + 1;
      }
      rd_kafka_message_destroy(m);
    }
    ASSERT_EQ(got, count);
    PartList offsets(rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
    rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)->offset = next;
    ASSERT_EQ(rd_kafka_commit(consumer.get(), offsets.get(), 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_consumer_close(consumer.get());
  }

  void deleteRecordsBefore(const std::string& topic, int32_t partition, int64_t offset) {
    PartList before(rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
    rd_kafka_topic_partition_list_add(before.get(), topic.c_str(), partition)->offset = offset;
    rd_kafka_DeleteRecords_t* del = rd_kafka_DeleteRecords_new(before.get());
    auto rc = adminRequest(
        producer->get(),
        [&](rd_kafka_queue_t* q) { rd_kafka_DeleteRecords(producer->get(), &del, 1, nullptr, q); }, nullptr);
    rd_kafka_DeleteRecords_destroy(del);
    ASSERT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc);
  }

  KafkaLagProbeConfig config(const std::string& topic, const std::string& group, spec::StartFrom from) {
    KafkaLagProbeConfig c;
    c.connection.bootstrapServers = bootstrap;
    c.topics = {topic};
    c.groupId = group;
    c.startFrom = from;
    c.timeout = std::chrono::milliseconds(kTimeoutMs);
    return c;
  }

  std::string bootstrap;
  std::unique_ptr<Handle> producer;
  KafkaAdminPool pool;
};

TEST_F(KafkaLagProbeTest, LagPerPartitionIsProducedMinusCommitted) {
  const std::string topic = testing::uniqueName("lag");
  const std::string group = testing::uniqueName("lag-group");
  createTopic(topic, 3);
  produce(topic, 0, 10);
  produce(topic, 1, 20);
  produce(topic, 2, 30);
  consumeAndCommit(group, topic, 0, 4);
  consumeAndCommit(group, topic, 1, 20);
  // partition 2: never committed -> startFrom decides
  KafkaLagProbe earliest(pool, config(topic, group, spec::StartFrom::kEarliest));
  auto snap = earliest.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  ASSERT_EQ(snap->partitions.size(), 3u);
  EXPECT_EQ(snap->partitions[0].lag, 6);
  EXPECT_EQ(snap->partitions[1].lag, 0);
  EXPECT_EQ(snap->partitions[2].lag, 30);
  EXPECT_EQ(snap->partitions[0].committed, 4);
  EXPECT_FALSE(snap->partitions[2].committed.has_value());
  EXPECT_EQ(snap->totalLag, 36);
  EXPECT_EQ(snap->partitionCount, 3);
  EXPECT_EQ(snap->producedSum, 60);
  EXPECT_EQ(snap->consumedSum, 24);

  KafkaLagProbe latest(pool, config(topic, group, spec::StartFrom::kLatest));
  auto snap2 = latest.probe();
  ASSERT_TRUE(snap2.isOk()) << snap2.status().toString();
  EXPECT_EQ(snap2->totalLag, 6);
  EXPECT_EQ(pool.liveConnections(), 1u) << "probes on the same cluster and credentials share one connection";
}

// Issue 18 item 12: with startFrom latest, a group that never committed read lag 0 however much was
// produced, so a pipeline left at its defaults (minReplicas 0) never scaled up. The probe now commits
// the group's position at the first message produced after the pipeline was created.
TEST_F(KafkaLagProbeTest, LatestCountsWhatWasProducedAfterThePipelineWasCreated) {
  const std::string topic = "lag-created-" + std::to_string(::getpid());
  createTopic(topic, 1);
  produce(topic, 0, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // message timestamps are in ms
  const auto created = std::chrono::system_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  produce(topic, 0, 7);

  auto before = config(topic, "g-created-" + topic, spec::StartFrom::kLatest);
  KafkaLagProbe withoutCreation(pool, before);  // the old behaviour, still what a plain probe does
  auto unpinned = withoutCreation.probe();
  ASSERT_TRUE(unpinned.isOk()) << unpinned.status().toString();
  EXPECT_EQ(unpinned->totalLag, 0);

  before.createdAt = created;
  KafkaLagProbe probe(pool, before);
  auto first = probe.probe();
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first->totalLag, 7) << "the 7 messages produced after the pipeline was created";
  ASSERT_EQ(first->partitions.size(), 1u);
  EXPECT_EQ(first->partitions[0].committed, std::optional<int64_t>(5));

  produce(topic, 0, 3);
  auto second = probe.probe();  // the committed position stays where it was pinned
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(second->totalLag, 10);
  KafkaLagProbe other(pool, config(topic, "g-created-" + topic, spec::StartFrom::kLatest));
  EXPECT_EQ(other.probe()->totalLag, 10) << "the position is committed for the group, not kept by the probe";
}

TEST_F(KafkaLagProbeTest, LatestCreatedAfterTheLastMessageStartsAtTheEnd) {
  const std::string topic = "lag-created-end-" + std::to_string(::getpid());
  createTopic(topic, 2);
  produce(topic, 0, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto c = config(topic, "g-end-" + topic, spec::StartFrom::kLatest);
  c.createdAt = std::chrono::system_clock::now();
  KafkaLagProbe probe(pool, c);
  auto first = probe.probe();
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first->totalLag, 0);
  produce(topic, 1, 6);
  auto second = probe.probe();
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(second->totalLag, 6);
}

TEST_F(KafkaLagProbeTest, RetentionSafeAfterRecordsAreDeleted) {
  const std::string topic = testing::uniqueName("retention");
  const std::string group = testing::uniqueName("retention-group");
  createTopic(topic, 1);
  produce(topic, 0, 10);
  consumeAndCommit(group, topic, 0, 2);
  deleteRecordsBefore(topic, 0, 8);  // low watermark 8, committed 2: only 2 records can still be consumed
  KafkaLagProbe probe(pool, config(topic, group, spec::StartFrom::kEarliest));
  auto snap = probe.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  EXPECT_EQ(snap->partitions[0].low, 8);
  EXPECT_EQ(snap->partitions[0].lag, 2);
}

TEST_F(KafkaLagProbeTest, CountsOnlyThePipelinesOwnTopics) {
  const std::string mine = testing::uniqueName("mine");
  const std::string other = testing::uniqueName("other");
  const std::string group = testing::uniqueName("shared-group");
  createTopic(mine, 1);
  createTopic(other, 1);
  produce(mine, 0, 5);
  produce(other, 0, 50);
  consumeAndCommit(group, other, 0, 1);
  KafkaLagProbe probe(pool, config(mine, group, spec::StartFrom::kEarliest));
  auto snap = probe.probe();
  ASSERT_TRUE(snap.isOk()) << snap.status().toString();
  EXPECT_EQ(snap->totalLag, 5);
  EXPECT_EQ(snap->partitions.size(), 1u);
}

TEST_F(KafkaLagProbeTest, MissingTopicIsNotFound) {
  KafkaLagProbe probe(pool, config(testing::uniqueName("absent"), "g", spec::StartFrom::kEarliest));
  auto snap = probe.probe();
  ASSERT_FALSE(snap.isOk());
  EXPECT_EQ(snap.status().code(), common::ErrorCode::kNotFound) << snap.status().toString();
  EXPECT_NE(snap.status().message().find("does not exist"), std::string::npos);
}

TEST_F(KafkaLagProbeTest, DifferentCredentialsGetTheirOwnConnection) {
  KafkaConnectionSettings a{bootstrap, {}};
  KafkaConnectionSettings b{bootstrap, {{"client.id", "other-credentials"}}};
  auto c1 = pool.acquire(a);
  auto c2 = pool.acquire(a);
  auto c3 = pool.acquire(b);
  ASSERT_TRUE(c1.isOk() && c2.isOk() && c3.isOk());
  EXPECT_EQ(c1->get(), c2->get());
  EXPECT_NE(c1->get(), c3->get());
  EXPECT_EQ(pool.liveConnections(), 2u);
}

TEST(KafkaLagProbeUnreachable, ClosedPortIsUnavailableNotNotFound) {
  KafkaAdminPool pool;
  KafkaLagProbeConfig c;
  c.connection.bootstrapServers = "127.0.0.1:1";
  c.topics = {"t"};
  c.groupId = "g";
  c.timeout = std::chrono::milliseconds(1500);
  KafkaLagProbe probe(pool, c);
  auto snap = probe.probe();
  ASSERT_FALSE(snap.isOk());
  EXPECT_NE(snap.status().code(), common::ErrorCode::kNotFound) << snap.status().toString();
}

}  // namespace
}  // namespace sluice::scaling

#include "tests/worker/kafka_test_client.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <memory>

namespace sluice::worker::testing {
namespace {

using Handle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;
using List =
    std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)>;

Handle client(rd_kafka_type_t type, const std::string& bootstrap,
              const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  for (const auto& [k, v] : extra) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK)
      ADD_FAILURE() << k << ": " << err;
  }
  Handle h(rd_kafka_new(type, conf, err, sizeof(err)), &rd_kafka_destroy);
  if (!h) ADD_FAILURE() << "rd_kafka_new: " << err;
  return h;
}

}  // namespace

void createTopic(const std::string& bootstrap, const std::string& topic, int partitions) {
  Handle h = client(RD_KAFKA_PRODUCER, bootstrap);
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  rd_kafka_queue_t* q = rd_kafka_queue_new(h.get());
  rd_kafka_CreateTopics(h.get(), &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  ASSERT_NE(ev, nullptr) << "CreateTopics timed out for " << topic;
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(rd_kafka_topic_result_error(results[i]), RD_KAFKA_RESP_ERR_NO_ERROR)
        << topic << ": " << rd_kafka_topic_result_error_string(results[i]);
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
}

void produce(const std::string& bootstrap, const std::string& topic, const std::vector<Record>& records) {
  // message.max.bytes just under the broker's default limit (1048588), above the worker's producer's
  // (1000000): a test can write a record the worker cannot produce to a Kafka sink as it is.
  Handle h = client(RD_KAFKA_PRODUCER, bootstrap,
                    {{"linger.ms", "20"}, {"enable.idempotence", "true"}, {"message.max.bytes", "1040000"}});
  for (const auto& r : records) {
    const void* key = r.key ? r.key->data() : nullptr;
    const size_t keySize = r.key ? r.key->size() : 0;
    for (;;) {
      rd_kafka_headers_t* headers = nullptr;  // owned by librdkafka once produced
      if (!r.headers.empty()) {
        headers = rd_kafka_headers_new(r.headers.size());
        for (const auto& [name, value] : r.headers) {
          rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                              static_cast<ssize_t>(value.size()));
        }
      }
      const auto e =
          rd_kafka_producev(h.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                            RD_KAFKA_V_KEY(key, keySize), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && headers) rd_kafka_headers_destroy(headers);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(h.get(), 50);
        continue;
      }
      ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
      break;
    }
  }
  ASSERT_EQ(rd_kafka_flush(h.get(), 60000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

std::map<int32_t, int64_t> committedOffsets(const std::string& bootstrap, const std::string& group,
                                            const std::string& topic, int partitions) {
  Handle h = client(RD_KAFKA_CONSUMER, bootstrap, {{"group.id", group}});
  List list(rd_kafka_topic_partition_list_new(partitions), &rd_kafka_topic_partition_list_destroy);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  EXPECT_EQ(rd_kafka_committed(h.get(), list.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<int32_t, int64_t> out;
  for (int i = 0; i < list->cnt; ++i) out[list->elems[i].partition] = list->elems[i].offset;
  rd_kafka_consumer_close(h.get());
  return out;
}

std::map<int32_t, int64_t> highWatermarks(const std::string& bootstrap, const std::string& topic,
                                          int partitions) {
  Handle h = client(RD_KAFKA_PRODUCER, bootstrap);
  std::map<int32_t, int64_t> out;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(h.get(), topic.c_str(), p, &low, &high, 30000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    out[p] = high;
  }
  return out;
}

std::vector<Message> consumeAll(const std::string& bootstrap, const std::string& topic, size_t expected,
                                std::chrono::seconds timeout) {
  Handle h = client(RD_KAFKA_CONSUMER, bootstrap,
                    {{"group.id", "sluice-test-reader"},
                     {"enable.auto.commit", "false"},
                     {"auto.offset.reset", "earliest"}});
  List list(rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(h.get(), list.get());
  std::vector<Message> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(h.get(), 200);
    if (!m) continue;
    if (!m->err) {
      Message msg;
      msg.topic = rd_kafka_topic_name(m->rkt);
      msg.partition = m->partition;
      msg.offset = m->offset;
      if (m->key) msg.key = std::string(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) msg.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0;
             rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          msg.headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
        }
      }
      out.push_back(std::move(msg));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(h.get());
  return out;
}

}  // namespace sluice::worker::testing

// sluice-kafka-tool: small librdkafka helper for the demo and the benchmarks.
//   sluice-kafka-tool create     <bootstrap> <topic> <partitions>
//   sluice-kafka-tool produce    <bootstrap> <topic> <count> <value-bytes> [keys]
//   sluice-kafka-tool committed  <bootstrap> <group> <topic> <partitions>   (prints "p offset", then total)
//   sluice-kafka-tool watermarks <bootstrap> <topic> <partitions>           (prints "p high", then total)
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

using Handle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

Handle make(rd_kafka_type_t type, const std::string& bootstrap, const char* group = nullptr) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  if (group) rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set(conf, "linger.ms", "20", err, sizeof(err));
    rd_kafka_conf_set(conf, "batch.num.messages", "10000", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
  }
  Handle h(rd_kafka_new(type, conf, err, sizeof(err)), &rd_kafka_destroy);
  if (!h) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    std::exit(1);
  }
  return h;
}

int create(const std::string& bootstrap, const std::string& topic, int partitions) {
  Handle h = make(RD_KAFKA_PRODUCER, bootstrap);
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  rd_kafka_queue_t* q = rd_kafka_queue_new(h.get());
  rd_kafka_CreateTopics(h.get(), &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  int rc = 1;
  if (ev) {
    size_t n = 0;
    auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    rc = 0;
    for (size_t i = 0; i < n; ++i) {
      if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "create %s: %s\n", topic.c_str(),
                     rd_kafka_topic_result_error_string(results[i]));
        rc = 1;
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  return rc;
}

int produce(const std::string& bootstrap, const std::string& topic, long count, size_t bytes, long keys) {
  Handle h = make(RD_KAFKA_PRODUCER, bootstrap);
  const auto start = std::chrono::steady_clock::now();
  std::string value(bytes, 'x');
  for (long i = 0; i < count; ++i) {
    const std::string id = "id-" + std::to_string(i) + ";";
    value.replace(0, std::min(id.size(), value.size()), id.substr(0, std::min(id.size(), value.size())));
    const std::string key = "k" + std::to_string(i % keys);
    for (;;) {
      const auto e = rd_kafka_producev(h.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_VALUE(value.data(), value.size()),
                                       RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
        return 1;
      }
      rd_kafka_poll(h.get(), 10);
    }
    rd_kafka_poll(h.get(), 0);
  }
  if (rd_kafka_flush(h.get(), 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "flush timed out\n");
    return 1;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("produced %ld messages of %zu bytes to %s in %.1f s\n", count, bytes, topic.c_str(), s);
  return 0;
}

int committed(const std::string& bootstrap, const std::string& group, const std::string& topic,
              int partitions) {
  Handle h = make(RD_KAFKA_CONSUMER, bootstrap, group.c_str());
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  const auto e = rd_kafka_committed(h.get(), list, 30000);
  long total = 0;
  for (int i = 0; i < list->cnt; ++i) {
    const long offset = list->elems[i].offset < 0 ? 0 : list->elems[i].offset;
    std::printf("%d %ld\n", list->elems[i].partition, offset);
    total += offset;
  }
  std::printf("total %ld\n", total);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(h.get());
  return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : 1;
}

int watermarks(const std::string& bootstrap, const std::string& topic, int partitions) {
  Handle h = make(RD_KAFKA_PRODUCER, bootstrap);
  long total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(h.get(), topic.c_str(), p, &low, &high, 30000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
      return 1;
    std::printf("%d %ld\n", p, static_cast<long>(high));
    total += high;
  }
  std::printf("total %ld\n", total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "create" && argc == 5) return create(argv[2], argv[3], std::atoi(argv[4]));
  if (cmd == "produce" && (argc == 6 || argc == 7)) {
    return produce(argv[2], argv[3], std::atol(argv[4]), std::strtoul(argv[5], nullptr, 10),
                   argc == 7 ? std::atol(argv[6]) : 1000);
  }
  if (cmd == "committed" && argc == 6) return committed(argv[2], argv[3], argv[4], std::atoi(argv[5]));
  if (cmd == "watermarks" && argc == 5) return watermarks(argv[2], argv[3], std::atoi(argv[4]));
  std::fprintf(stderr,
               "usage: sluice-kafka-tool create <bootstrap> <topic> <partitions>\n"
               "       sluice-kafka-tool produce <bootstrap> <topic> <count> <value-bytes> [keys]\n"
               "       sluice-kafka-tool committed <bootstrap> <group> <topic> <partitions>\n"
               "       sluice-kafka-tool watermarks <bootstrap> <topic> <partitions>\n");
  return 2;
}

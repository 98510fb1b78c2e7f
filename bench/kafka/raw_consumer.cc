// bench-raw-librdkafka: the baseline a worker is measured against. A consumer group member that
// pulls batches with rd_kafka_consume_batch_queue and does nothing else, until it has seen
// <count> messages; prints messages/s. No delivery, no commits, no metrics.
//   bench-raw-librdkafka <bootstrap> <topic> <group> <count>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bench-raw-librdkafka <bootstrap> <topic> <group> <count>\n");
    return 2;
  }
  const long count = std::atol(argv[4]);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", argv[3], err, sizeof(err));
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!rk) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  auto* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, argv[2], RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> batch(1000);
  long seen = 0;
  long bytes = 0;
  std::chrono::steady_clock::time_point start{};
  while (seen < count) {
    const ssize_t n = rd_kafka_consume_batch_queue(queue, 1000, batch.data(), batch.size());
    for (ssize_t i = 0; i < n; ++i) {
      if (!batch[i]->err) {
        if (seen == 0) start = std::chrono::steady_clock::now();
        ++seen;
        bytes += static_cast<long>(batch[i]->len);
      }
      rd_kafka_message_destroy(batch[i]);
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("raw librdkafka: %ld messages (%ld bytes) in %.2f s = %.0f msg/s\n", seen, bytes, s, seen / s);
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

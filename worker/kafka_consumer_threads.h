#pragma once
// The Kafka source's two helper threads and the partition-list handle they share with it. Part of
// the librdkafka consumer adapter (kafka_source.cc): only these two files include librdkafka for
// consuming.
#include <librdkafka/rdkafka.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "worker/message.h"

namespace sluice::worker {

using PartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)>;

PartitionList makeList(int size);
PartitionList listOf(const std::set<TopicPartition>& partitions);

// A thread of the source's own that sleeps on cv_ until it is given something or stopped. The
// derived class starts it (start()) once its members exist and stops it before they go.
class SignalledThread {
 public:
  SignalledThread() = default;
  SignalledThread(const SignalledThread&) = delete;
  SignalledThread& operator=(const SignalledThread&) = delete;

  // Sets stopping_, wakes the thread and joins it (its loop returns on stopping_).
  void stop();

 protected:
  ~SignalledThread() = default;  // derived destructors call stop()
  template <typename Loop>
  void start(Loop loop) {
    thread_ = std::thread(std::move(loop));
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;

 private:
  std::thread thread_;
};

// Sends a ListOffsets ("latest") for the given partitions to their leaders from its own thread, so
// the consumer thread never waits for the answer. Each request is an op on the leader's broker
// thread, which wakes it up and makes it decide afresh which partitions to fetch (see
// prefetch_waker.h). Requests made while one is running coalesce into the next.
class FetcherNudger final : public SignalledThread {
 public:
  explicit FetcherNudger(rd_kafka_t* rk) : rk_(rk) {
    start([this] { loop(); });
  }
  ~FetcherNudger() { stop(); }

  void nudge(const std::set<TopicPartition>& partitions);

 private:
  void loop();

  rd_kafka_t* rk_;
  std::set<TopicPartition> partitions_;
  bool requested_ = false;
};

// Destroys consumed librdkafka messages on its own thread. Destroying one drops references (its
// partition's, its fetch buffer's) on counters librdkafka's broker thread is incrementing for new
// messages at the same moment; on the consumer thread those contended atomics and the frees of
// broker-allocated memory were over a third of its time (perf, 2M x 100 B). The records were
// copied out before, so nothing reads a message once it is handed over.
class MessageReaper final : public SignalledThread {
 public:
  MessageReaper() {
    start([this] { loop(); });
  }
  ~MessageReaper() { stop(); }

  // Takes the messages (leaves `spent` empty).
  void give(std::vector<rd_kafka_message_t*>& spent);
  // stop() destroys what is pending and ends the thread; later messages are destroyed by give()
  // itself. Called before the consumer closes: librdkafka's close waits for its messages.

 private:
  void loop();

  std::vector<rd_kafka_message_t*> pending_;
};

}  // namespace sluice::worker

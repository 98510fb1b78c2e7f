#include "worker/kafka_consumer_threads.h"

#include <spdlog/spdlog.h>

namespace sluice::worker {

PartitionList makeList(int size) {
  return PartitionList(rd_kafka_topic_partition_list_new(size), &rd_kafka_topic_partition_list_destroy);
}

PartitionList listOf(const std::set<TopicPartition>& partitions) {
  auto list = makeList(static_cast<int>(partitions.size()));
  for (const auto& tp : partitions)
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

void SignalledThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void FetcherNudger::nudge(const std::set<TopicPartition>& partitions) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    partitions_ = partitions;
    requested_ = true;
  }
  cv_.notify_one();
}

void FetcherNudger::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    PartitionList list = listOf(partitions_);
    lock.unlock();
    for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_END;  // "latest"
    if (list->cnt > 0) {
      if (auto e = rd_kafka_offsets_for_times(rk_, list.get(), 1000); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::debug("waking the fetchers (ListOffsets): {}", rd_kafka_err2str(e));
      }
    }
    lock.lock();
  }
}

void MessageReaper::give(std::vector<rd_kafka_message_t*>& spent) {
  if (spent.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      for (auto* m : spent) rd_kafka_message_destroy(m);
    } else {
      pending_.insert(pending_.end(), spent.begin(), spent.end());
    }
  }
  spent.clear();
  cv_.notify_one();
}

void MessageReaper::loop() {
  std::vector<rd_kafka_message_t*> batch;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return !pending_.empty() || stopping_; });
    batch.swap(pending_);
    const bool last = stopping_;
    lock.unlock();
    for (auto* m : batch) rd_kafka_message_destroy(m);
    batch.clear();
    lock.lock();
    if (last && pending_.empty()) return;
  }
}

}  // namespace sluice::worker

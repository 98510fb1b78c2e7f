// KafkaSource: the librdkafka consumer. With its helper threads (kafka_consumer_threads.h), the
// only worker code that includes librdkafka for consuming. Everything but those threads runs on
// the consumer thread (see source.h).
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "clients/rdkafka_conf.h"
#include "worker/kafka_config.h"
#include "worker/kafka_consumer_threads.h"
#include "worker/prefetch_waker.h"
#include "worker/source.h"

namespace sluice::worker {
namespace {

using KafkaHandle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;
using QueueHandle = std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)>;

std::vector<TopicPartition> toPartitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

// Copies the record into `out`, overwriting every field: `out` may be a used message from the
// MessagePool, whose strings keep their capacity, so a record no larger than the one before costs a
// memcpy and no allocation.
void copyMessage(const rd_kafka_message_t* m, Message& out, bool copyHeaders) {
  const char* topic = rd_kafka_topic_name(m->rkt);
  if (out.topic != topic) out.topic.assign(topic);
  out.partition = m->partition;
  out.offset = m->offset;
  if (m->key) {
    if (out.key) {
      out.key->assign(static_cast<const char*>(m->key), m->key_len);
    } else {
      out.key.emplace(static_cast<const char*>(m->key), m->key_len);
    }
  } else {
    out.key.reset();
  }
  if (m->payload) {
    out.value.assign(static_cast<const char*>(m->payload), m->len);
  } else {
    out.value.clear();
  }
  rd_kafka_timestamp_type_t type;
  out.timestampMs = rd_kafka_message_timestamp(m, &type);
  out.headers.clear();
  out.stream.clear();
  out.deliveryId = 0;
  rd_kafka_headers_t* headers = nullptr;
  if (copyHeaders && rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      out.headers.emplace_back(name,
                               value ? std::string(static_cast<const char*>(value), size) : std::string());
    }
  }
}

class KafkaSource final : public Source {
 public:
  KafkaSource(RebalanceListener& listener, std::vector<std::string> topics, QueueLimits limits,
              bool copyHeaders)
      : listener_(listener),
        topics_(std::move(topics)),
        copyHeaders_(copyHeaders),
        waker_(limits.messages, limits.bytes) {}
  ~KafkaSource() override {
    nudger_.reset();  // its thread uses the handle
    reaper_.reset();  // messages go before the handle
    queue_.reset();   // before the handle it belongs to
    // Without close() the listener may be gone: skip the consumer close (and its callbacks).
    if (rk_ && !closed_) rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  common::Status open(const KafkaProperties& properties);
  common::Status poll(common::Millis timeout, size_t maxMessages, Batch& out) override;
  common::Status pauseAll() override;
  common::Status resumeAll() override;
  size_t pausedPartitions() const override { return paused_ ? assigned_.size() : 0; }
  // librdkafka's pause drops the prefetched queue (refetched after the resume); its queue is
  // bounded from the budget anyway, so a short hold costs nothing but a later rebalance callback.
  common::Millis holdBeforePause() const override { return common::Millis(1000); }
  common::Status commit(const std::vector<PartitionOffset>& offsets, bool synchronous) override;
  std::vector<PartitionWatermark> watermarks() override;
  common::Status close() override;

 private:
  static void rebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* parts, void* opaque);
  void onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void assign(rd_kafka_topic_partition_list_t* parts, bool cooperative);
  void revoke(rd_kafka_topic_partition_list_t* parts, bool cooperative);
  common::Status pauseOrResume(const rd_kafka_topic_partition_list_t* parts, bool pause);
  std::optional<common::Status> handleError(const rd_kafka_message_t* m);
  void retryRefusedCommit();
  void wakeFetchers();

  RebalanceListener& listener_;
  std::vector<std::string> topics_;
  bool copyHeaders_;  // rd_kafka_message_headers() allocates and parses, even for none
  KafkaHandle rk_{nullptr, &rd_kafka_destroy};
  QueueHandle queue_{nullptr, &rd_kafka_queue_destroy};  // the consumer queue, for its length
  PrefetchWaker waker_;
  std::unique_ptr<FetcherNudger> nudger_;
  std::unique_ptr<MessageReaper> reaper_;
  std::vector<rd_kafka_message_t*> spent_;  // this poll's messages, handed to the reaper
  std::set<TopicPartition> assigned_;
  // Partitions revoked inside the current rd_kafka_consumer_poll call: poll() drops what it fetched
  // of them before (keepUnrevoked, message.h).
  std::set<TopicPartition> revokedInPoll_;
  // A synchronous commit refused because the group was rebalancing; close() retries it.
  std::vector<PartitionOffset> refusedCommit_;
  bool paused_ = false;
  bool closed_ = false;
};

common::Status KafkaSource::open(const KafkaProperties& properties) {
  auto conf = clients::makeKafkaConf(properties, "kafka consumer");
  if (!conf) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaSource::rebalanceTrampoline);
  char err[512];
  rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof(err)));
  if (!rk_) return common::invalidArgument(std::string("kafka consumer: ") + err);
  (void)conf->release();  // rd_kafka_new took it
  rd_kafka_poll_set_consumer(rk_.get());
  queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  nudger_ = std::make_unique<FetcherNudger>(rk_.get());
  reaper_ = std::make_unique<MessageReaper>();
  auto topics = makeList(static_cast<int>(topics_.size()));
  for (const auto& topic : topics_)
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto e = rd_kafka_subscribe(rk_.get(), topics.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return common::unavailable(std::string("kafka subscribe: ") + rd_kafka_err2str(e));
  }
  spdlog::info("kafka consumer subscribed to {} topic(s); settings: {}", topics_.size(),
               clients::redacted(properties));
  return common::Status::ok();
}

void KafkaSource::rebalanceTrampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                                      rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<KafkaSource*>(opaque)->onRebalance(err, parts);
}

void KafkaSource::onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk_.get()), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(parts, cooperative);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    revoke(parts, cooperative);
    return;
  }
  spdlog::error("kafka rebalance error: {}", rd_kafka_err2str(err));
  revoke(parts, cooperative);
}

void KafkaSource::assign(rd_kafka_topic_partition_list_t* parts, bool cooperative) {
  rd_kafka_error_t* error = nullptr;
  if (cooperative) {
    error = rd_kafka_incremental_assign(rk_.get(), parts);
  } else if (auto e = rd_kafka_assign(rk_.get(), parts); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::error("kafka assign: {}", rd_kafka_err2str(e));
  }
  if (error) {
    spdlog::error("kafka incremental assign: {}", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return;
  }
  const auto partitions = toPartitions(parts);
  assigned_.insert(partitions.begin(), partitions.end());
  // librdkafka keeps a partition's pause flag across unassign/assign: a partition revoked while
  // paused would come back paused after our resumeAll (which only covers what was assigned then)
  // and never be fetched again. So every assigned partition takes the worker's current state.
  (void)pauseOrResume(parts, paused_);
  spdlog::info("kafka assigned {} partition(s), {} in total", partitions.size(), assigned_.size());
  listener_.onAssigned(partitions);
}

void KafkaSource::revoke(rd_kafka_topic_partition_list_t* parts, bool cooperative) {
  const bool lost = rd_kafka_assignment_lost(rk_.get());
  const auto partitions = toPartitions(parts);
  auto offsets = listener_.onRevoking(partitions, lost);
  if (!lost && !offsets.empty()) {
    if (auto st = commit(offsets, true); !st) spdlog::warn("commit on revoke: {}", st.toString());
  }
  for (const auto& tp : partitions) assigned_.erase(tp);
  revokedInPoll_.insert(partitions.begin(), partitions.end());
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_.get(), parts)) {
      spdlog::error("kafka incremental unassign: {}", rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(rk_.get(), nullptr);
  }
  spdlog::info("kafka {} {} partition(s), {} left", lost ? "lost" : "revoked", partitions.size(),
               assigned_.size());
}

std::optional<common::Status> KafkaSource::handleError(const rd_kafka_message_t* m) {
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
  if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
    char reason[512];
    rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason));
    return common::internalError(std::string("kafka consumer fatal error: ") + reason);
  }
  spdlog::warn("kafka consumer: {}", rd_kafka_message_errstr(m));
  return std::nullopt;
}

common::Status KafkaSource::poll(common::Millis timeout, size_t maxMessages, Batch& out) {
  const size_t queued = queue_ ? rd_kafka_queue_length(queue_.get()) : 0;
  // A queue emptied by the previous poll: wake the fetchers before waiting on it.
  if (queued == 0 && waker_.emptied()) wakeFetchers();
  out.reserve(std::min(maxMessages, std::max<size_t>(queued, 1)));  // no regrowth moves
  int wait = static_cast<int>(timeout.count());
  int64_t bytes = 0;
  size_t filled = 0;  // out[filled..] are used messages not overwritten yet
  bool ranDry = false;
  while (filled < maxMessages) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), wait);
    if (!revokedInPoll_.empty()) {  // the rebalance callback ran inside that call
      filled = keepUnrevoked(out, filled, revokedInPoll_);
      revokedInPoll_.clear();
    }
    if (!m) {
      ranDry = wait == 0;  // emptied the queue mid-poll (not a timeout on an empty one)
      break;
    }
    wait = 0;
    spent_.push_back(m);
    if (m->err) {
      if (auto fatal = handleError(m); fatal) {
        reaper_->give(spent_);
        out.clear();
        return *fatal;
      }
      continue;
    }
    bytes += static_cast<int64_t>(m->len + m->key_len);
    copyMessage(m, filled < out.size() ? out[filled] : out.emplace_back(), copyHeaders_);
    ++filled;
  }
  out.resize(filled);
  reaper_->give(spent_);
  if (waker_.consumed(static_cast<int64_t>(filled), bytes) || (ranDry && waker_.emptied())) wakeFetchers();
  return common::Status::ok();
}

// See prefetch_waker.h.
void KafkaSource::wakeFetchers() {
  if (paused_ || assigned_.empty() || !nudger_) return;
  nudger_->nudge(assigned_);
}

common::Status KafkaSource::pauseOrResume(const rd_kafka_topic_partition_list_t* parts, bool pause) {
  auto* list = const_cast<rd_kafka_topic_partition_list_t*>(parts);
  const auto e =
      pause ? rd_kafka_pause_partitions(rk_.get(), list) : rd_kafka_resume_partitions(rk_.get(), list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return common::internalError(std::string("kafka pause/resume: ") + rd_kafka_err2str(e));
  return common::Status::ok();
}

common::Status KafkaSource::pauseAll() {
  paused_ = true;
  waker_.paused();
  auto list = listOf(assigned_);
  return pauseOrResume(list.get(), true);
}

common::Status KafkaSource::resumeAll() {
  paused_ = false;
  waker_.resumed();
  auto list = listOf(assigned_);
  return pauseOrResume(list.get(), false);
}

common::Status KafkaSource::commit(const std::vector<PartitionOffset>& offsets, bool synchronous) {
  if (offsets.empty()) return common::Status::ok();
  auto list = makeList(static_cast<int>(offsets.size()));
  for (const auto& po : offsets) {
    if (!assigned_.count(po.partition)) continue;  // not ours any more: the new owner commits
    rd_kafka_topic_partition_list_add(list.get(), po.partition.topic.c_str(), po.partition.partition)
        ->offset = po.offset;
  }
  if (list->cnt == 0) return common::Status::ok();
  if (auto e = rd_kafka_offsets_store(rk_.get(), list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return common::unavailable(std::string("kafka offsets store: ") + rd_kafka_err2str(e));
  }
  if (!synchronous) return common::Status::ok();
  const auto e = rd_kafka_commit(rk_.get(), list.get(), 0);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    refusedCommit_.clear();
    return common::Status::ok();
  }
  if (e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION || e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
    refusedCommit_ = offsets;
  return common::unavailable(std::string("kafka commit: ") + rd_kafka_err2str(e));
}

std::vector<PartitionWatermark> KafkaSource::watermarks() {
  std::vector<PartitionWatermark> out;
  for (const auto& tp : assigned_) {
    int64_t low = -1;
    int64_t high = -1;
    rd_kafka_get_watermark_offsets(rk_.get(), tp.topic.c_str(), tp.partition, &low, &high);
    PartitionWatermark watermark;
    watermark.partition = tp;
    watermark.high = high;
    out.push_back(std::move(watermark));
  }
  return out;
}

// A commit made while the group rebalances is refused (old generation). Before leaving, let the
// rebalance finish by polling (messages are dropped: the worker is stopping and they are not
// committed) and commit again, so a graceful stop does not cause redelivery.
void KafkaSource::retryRefusedCommit() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!refusedCommit_.empty() && std::chrono::steady_clock::now() < deadline) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), 100)) rd_kafka_message_destroy(m);
    const auto offsets = refusedCommit_;
    if (auto st = commit(offsets, true); st) {
      spdlog::info("commit refused during a rebalance succeeded after it");
    }
  }
}

common::Status KafkaSource::close() {
  if (closed_) return common::Status::ok();
  closed_ = true;
  if (nudger_) nudger_->stop();
  if (reaper_) reaper_->stop();
  retryRefusedCommit();
  // Revokes the assignment through onRebalance (listener drains and commits), then leaves.
  if (auto e = rd_kafka_consumer_close(rk_.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return common::unavailable(std::string("kafka consumer close: ") + rd_kafka_err2str(e));
  }
  return common::Status::ok();
}

}  // namespace

common::Result<std::unique_ptr<Source>> makeKafkaSource(const spec::ConsumerPipeline& pipeline,
                                                        const std::string& podName,
                                                        RebalanceListener& listener, bool copyHeaders) {
  if (!pipeline.spec.source.kafka)
    return common::invalidArgument("spec.source.kafka is required for a Kafka source");
  auto properties = consumerProperties(pipeline, podName, processEnv());
  if (!properties) return properties.status();
  auto source = std::make_unique<KafkaSource>(listener, pipeline.spec.source.kafka->topics,
                                              queueLimits(*properties), copyHeaders);
  if (auto st = source->open(*properties); !st) return st;
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace sluice::worker

// The only file in operator/scaling that includes librdkafka.
#include "operator/scaling/kafka_lag_probe.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "clients/rdkafka_conf.h"

namespace sluice::scaling {

using common::Result;
using common::Status;

class KafkaAdminClient {
 public:
  explicit KafkaAdminClient(rd_kafka_t* rk) : rk_(rk, &rd_kafka_destroy) {}
  rd_kafka_t* get() const { return rk_.get(); }

 private:
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk_;
};

namespace {

using TopicPartitions =
    std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)>;

Status kafkaError(rd_kafka_resp_err_t err, const std::string& what) {
  const std::string message = what + ": " + rd_kafka_err2str(err);
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
      return common::timeoutError(message);
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return common::notFound(message);
    default:
      return common::unavailable(message);
  }
}

// librdkafka's own log lines (connection refused, broker down, ...) into the operator's log instead
// of stderr. librdkafka's errors and warnings become warnings (not errors): the failures that matter
// reach the pipeline's status through the probe's Result, these lines are the detail behind them.
// Called on librdkafka's threads; spdlog's loggers are thread-safe.
void logToSpdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const auto spdLevel = level <= 4   ? spdlog::level::warn
                        : level <= 6 ? spdlog::level::info
                                     : spdlog::level::debug;
  spdlog::log(spdLevel, "Kafka lag probe client {}: {}: {}", rk ? rd_kafka_name(rk) : "-", facility, message);
}

Result<std::shared_ptr<KafkaAdminClient>> connect(const KafkaConnectionSettings& settings) {
  std::map<std::string, std::string> props = settings.properties;
  props["bootstrap.servers"] = settings.bootstrapServers;
  props.emplace("client.id", "sluice-operator-lag-probe");
  props.emplace("allow.auto.create.topics", "false");
  // A group of its own that never joins (no subscribe): librdkafka 2.0-2.4 dereference the handle's
  // consumer group when a ListConsumerGroupOffsets answer is NOT_COORDINATOR (a fresh cluster, a
  // group never seen), and crash without one (confluentinc/librdkafka#5040).
  props.emplace("group.id", "sluice-operator-lag-probe");
  auto conf = clients::makeKafkaConf({props.begin(), props.end()}, "Kafka client");
  if (!conf) return conf.status();
  rd_kafka_conf_set_log_cb(conf->get(), &logToSpdlog);
  // A consumer-type handle that never joins its group: it can read metadata, watermarks and run
  // Admin requests for any group, and never auto-creates topics.
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof(err));
  if (rk == nullptr) {
    return common::unavailable(std::string("creating Kafka client for ") + settings.bootstrapServers + ": " +
                               err);
  }
  (void)conf->release();  // rd_kafka_new took it
  return std::make_shared<KafkaAdminClient>(rk);
}

// Partition ids of each requested topic, from cluster metadata. NotFound names the missing topic.
Result<std::map<std::string, int>> partitionCounts(rd_kafka_t* rk, const std::vector<std::string>& topics,
                                                   std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &md, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafkaError(err, "reading Kafka metadata");
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)> hold(
      md, &rd_kafka_metadata_destroy);
  std::map<std::string, int> counts;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) counts[t.topic] = t.partition_cnt;
  }
  std::map<std::string, int> wanted;
  for (const std::string& topic : topics) {
    auto it = counts.find(topic);
    if (it == counts.end()) return common::notFound("Kafka topic " + topic + " does not exist");
    wanted[topic] = it->second;
  }
  return wanted;
}

// Committed offsets of `group` for the given partitions (nullopt where the group never committed).
Result<std::map<std::pair<std::string, int32_t>, int64_t>> committedOffsets(
    rd_kafka_t* rk, const std::string& group, const std::map<std::string, int>& topics,
    std::chrono::milliseconds timeout) {
  TopicPartitions parts(rd_kafka_topic_partition_list_new(16), &rd_kafka_topic_partition_list_destroy);
  for (const auto& [topic, count] : topics) {
    for (int32_t p = 0; p < count; ++p) rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p);
  }
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), parts.get());
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> queue(rd_kafka_queue_new(rk),
                                                                             &rd_kafka_queue_destroy);
  rd_kafka_ListConsumerGroupOffsets(rk, &request, 1, nullptr, queue.get());
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()));
  if (ev == nullptr)
    return common::timeoutError("listing committed offsets of group " + group + ": no answer");
  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> event(ev, &rd_kafka_event_destroy);
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafkaError(rd_kafka_event_error(ev), "listing committed offsets of group " + group);
  }
  size_t n = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  for (size_t g = 0; g < n; ++g) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[g])) {
      return common::unavailable("committed offsets of group " + group + ": " + rd_kafka_error_string(e));
    }
    const rd_kafka_topic_partition_list_t* list = rd_kafka_group_result_partitions(groups[g]);
    for (int i = 0; list && i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = list->elems[i];
      if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.offset >= 0) out[{tp.topic, tp.partition}] = tp.offset;
    }
  }
  return out;
}

// Per partition, the offset of the first message with a timestamp at or after `when`, or `end` (the
// high watermark) where there is none.
Result<std::map<std::pair<std::string, int32_t>, int64_t>> offsetsAt(
    rd_kafka_t* rk, const std::vector<PartitionLag*>& partitions, common::WallTime when,
    std::chrono::milliseconds timeout) {
  TopicPartitions parts(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())),
                        &rd_kafka_topic_partition_list_destroy);
  const int64_t millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  for (const PartitionLag* p : partitions) {
    rd_kafka_topic_partition_list_add(parts.get(), p->topic.c_str(), p->partition)->offset = millis;
  }
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, parts.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafkaError(err, "looking up offsets by time");
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  for (const PartitionLag* p : partitions) {
    const rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_find(parts.get(), p->topic.c_str(), p->partition);
    const bool found = tp != nullptr && tp->err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->offset >= 0;
    out[{p->topic, p->partition}] = found ? std::clamp(tp->offset, p->low, p->high) : p->high;
  }
  return out;
}

// Commits `offsets` for `group` (AlterConsumerGroupOffsets). Fails while the group has members.
Status commitForGroup(rd_kafka_t* rk, const std::string& group,
                      const std::map<std::pair<std::string, int32_t>, int64_t>& offsets,
                      std::chrono::milliseconds timeout) {
  TopicPartitions parts(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())),
                        &rd_kafka_topic_partition_list_destroy);
  for (const auto& [tp, offset] : offsets) {
    rd_kafka_topic_partition_list_add(parts.get(), tp.first.c_str(), tp.second)->offset = offset;
  }
  rd_kafka_AlterConsumerGroupOffsets_t* request =
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), parts.get());
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> queue(rd_kafka_queue_new(rk),
                                                                             &rd_kafka_queue_destroy);
  rd_kafka_AlterConsumerGroupOffsets(rk, &request, 1, nullptr, queue.get());
  rd_kafka_AlterConsumerGroupOffsets_destroy(request);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()));
  if (ev == nullptr)
    return common::timeoutError("committing starting offsets of group " + group + ": no answer");
  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> event(ev, &rd_kafka_event_destroy);
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafkaError(rd_kafka_event_error(ev), "committing starting offsets of group " + group);
  }
  size_t n = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
  for (size_t g = 0; g < n; ++g) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[g])) {
      return common::unavailable("committing starting offsets of group " + group + ": " +
                                 rd_kafka_error_string(e));
    }
    const rd_kafka_topic_partition_list_t* list = rd_kafka_group_result_partitions(groups[g]);
    for (int i = 0; list && i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return kafkaError(list->elems[i].err,
                          "committing the starting offset of " + std::string(list->elems[i].topic) + "/" +
                              std::to_string(list->elems[i].partition) + " for group " + group);
      }
    }
  }
  return Status::ok();
}

// See KafkaLagProbe::probe() in the header.
void pinStartingPositions(rd_kafka_t* rk, const KafkaLagProbeConfig& config,
                          std::vector<PartitionLag>& partitions) {
  if (config.startFrom != spec::StartFrom::kLatest || !config.createdAt) return;
  std::vector<PartitionLag*> unpinned;
  for (PartitionLag& p : partitions) {
    if (!p.committed) unpinned.push_back(&p);
  }
  if (unpinned.empty()) return;
  auto offsets = offsetsAt(rk, unpinned, *config.createdAt, config.timeout);
  Status committed =
      offsets ? commitForGroup(rk, config.groupId, *offsets, config.timeout) : offsets.status();
  if (!committed) {
    spdlog::debug("group {}: starting positions not committed ({}); lag counts from the partitions' ends",
                  config.groupId, committed.toString());
    return;
  }
  for (PartitionLag* p : unpinned) {
    p->committed = offsets->at({p->topic, p->partition});
    p->lag = partitionLag(p->low, p->high, p->committed, config.startFrom);
  }
  spdlog::info(
      "group {}: committed the starting positions of {} partitions (first messages after the pipeline was "
      "created)",
      config.groupId, unpinned.size());
}

}  // namespace

std::string KafkaConnectionSettings::key() const {
  std::string k = bootstrapServers;
  for (const auto& [name, value] : properties) k += '\n' + name + '=' + value;
  return k;
}

KafkaAdminPool::KafkaAdminPool() = default;
KafkaAdminPool::~KafkaAdminPool() = default;

Result<std::shared_ptr<KafkaAdminClient>> KafkaAdminPool::acquire(const KafkaConnectionSettings& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = settings.key();
  if (auto existing = clients_[key].lock()) return existing;
  auto created = connect(settings);
  if (!created) return created.status();
  clients_[key] = *created;
  return created;
}

size_t KafkaAdminPool::liveConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(
      std::count_if(clients_.begin(), clients_.end(), [](const auto& kv) { return !kv.second.expired(); }));
}

KafkaLagProbe::KafkaLagProbe(KafkaAdminPool& pool, KafkaLagProbeConfig config)
    : pool_(pool), config_(std::move(config)) {}

Result<LagSnapshot> KafkaLagProbe::probe() {
  if (!client_) {
    auto acquired = pool_.acquire(config_.connection);
    if (!acquired) return acquired.status();
    client_ = *acquired;
  }
  rd_kafka_t* rk = client_->get();
  auto counts = partitionCounts(rk, config_.topics, config_.timeout);
  if (!counts) return counts.status();
  auto committed = committedOffsets(rk, config_.groupId, *counts, config_.timeout);
  if (!committed) return committed.status();
  std::vector<PartitionLag> partitions;
  for (const auto& [topic, count] : *counts) {
    for (int32_t p = 0; p < count; ++p) {
      PartitionLag lag{topic, p, 0, 0, std::nullopt, 0};
      rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lag.low, &lag.high,
                                                                 static_cast<int>(config_.timeout.count()));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return kafkaError(err, "watermarks of " + topic + "/" + std::to_string(p));
      }
      if (auto it = committed->find({topic, p}); it != committed->end()) lag.committed = it->second;
      lag.lag = partitionLag(lag.low, lag.high, lag.committed, config_.startFrom);
      partitions.push_back(std::move(lag));
    }
  }
  pinStartingPositions(rk, config_, partitions);
  return summarize(std::move(partitions), config_.startFrom);
}

}  // namespace sluice::scaling

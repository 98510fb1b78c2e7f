#pragma once
// KafkaLagProbe: per partition of the pipeline's own topics, lag = high watermark - the group's
// committed offset, retention-safe (see partitionLag()). Committed offsets come from the Admin API
// (ListConsumerGroupOffsets, so one connection serves every group), watermarks from
// rd_kafka_query_watermark_offsets, topics and partition counts from cluster metadata.
//
// Connections are shared: KafkaAdminPool hands out one client per (bootstrap servers, client
// properties), held as long as some probe uses it. Thread-safe: librdkafka handles are, and the pool
// locks its map. This header does not include librdkafka; kafka_lag_probe.cc is the only scaling
// file that does.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "operator/scaling/lag_probe.h"

namespace sluice::scaling {

struct KafkaConnectionSettings {
  std::string bootstrapServers;
  // Extra librdkafka properties the controller resolved from the spec and its Secrets
  // (security.protocol, ssl.ca.pem, sasl.mechanism, sasl.username, sasl.password, ...).
  std::map<std::string, std::string> properties;
  // The pool key: bootstrap servers and every property (credentials included, never logged).
  std::string key() const;
};

class KafkaAdminClient;  // defined in kafka_lag_probe.cc

class KafkaAdminPool {
 public:
  KafkaAdminPool();
  ~KafkaAdminPool();
  KafkaAdminPool(const KafkaAdminPool&) = delete;
  KafkaAdminPool& operator=(const KafkaAdminPool&) = delete;

  common::Result<std::shared_ptr<KafkaAdminClient>> acquire(const KafkaConnectionSettings& settings);
  // Connections currently alive (for tests and metrics).
  size_t liveConnections();

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<KafkaAdminClient>> clients_;
};

struct KafkaLagProbeConfig {
  KafkaConnectionSettings connection;
  std::vector<std::string> topics;
  std::string groupId;
  spec::StartFrom startFrom = spec::StartFrom::kLatest;
  // The pipeline's creationTimestamp. With startFrom latest, a partition the group never committed is
  // given the position of the first message produced at or after it (see KafkaLagProbe::probe()).
  std::optional<common::WallTime> createdAt;
  std::chrono::milliseconds timeout{5000};
};

class KafkaLagProbe final : public LagProbe {
 public:
  KafkaLagProbe(KafkaAdminPool& pool, KafkaLagProbeConfig config);
  // NotFound when a topic does not exist; Unavailable/Timeout when the cluster does not answer.
  //
  // With startFrom latest, a group that never committed has no position: its lag would read 0 however
  // much is produced, so a pipeline at zero workers would never scale up, and a worker started later
  // would skip what was produced meanwhile. So the probe commits, for the group and only for
  // partitions it never committed, the offset of the first message produced at or after the
  // pipeline's creation (createdAt; the partition's end when none is): from then on, what was produced
  // after the pipeline was created counts as lag and is consumed. The broker refuses the commit while
  // the group has members (they commit their own positions); the probe then reports lag as before.
  common::Result<LagSnapshot> probe() override;

 private:
  KafkaAdminPool& pool_;
  KafkaLagProbeConfig config_;
  std::shared_ptr<KafkaAdminClient> client_;  // acquired on first probe, kept while the probe lives
};

}  // namespace sluice::scaling

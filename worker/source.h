#pragma once
// worker::Source: where messages come from. KafkaSource (kafka_source.cc, the only file that
// includes librdkafka for consuming) and NatsSource (nats_source.cc, JetStream pull) implement it.
// Threading: every method runs on the one consumer thread. librdkafka 2.0.2 requires pause,
// resume, commit and rebalance handling on the thread that polls, so the pipeline never calls a
// Source from a lane. Rebalance callbacks arrive inside poll() and close(), on that same thread.
//
// Completion comes in two shapes (acknowledgement()): Kafka commits the lowest contiguous completed
// offset per partition (commit()); NATS JetStream settles each delivery on its own (settle(): ack,
// term or nak by Message::deliveryId). The pipeline feeds whichever the source asks for.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/spec/pipeline.h"
#include "worker/message.h"

namespace sluice::worker {

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void onAssigned(const std::vector<TopicPartition>& partitions) = 0;
  // Before the partitions are released: finish or give up their in-flight work within a bound and
  // return the offsets to commit (empty when `lost`: another member may own them already).
  virtual std::vector<PartitionOffset> onRevoking(const std::vector<TopicPartition>& partitions,
                                                  bool lost) = 0;
};

struct PartitionWatermark {
  TopicPartition partition;
  int64_t high = -1;           // -1 when not known yet
  std::optional<int64_t> lag;  // set when the source knows its lag directly (NATS: num_pending)
};

enum class Acknowledgement {
  kOffsets,     // commit() positions from the OffsetTracker (Kafka)
  kPerMessage,  // settle() every message by its deliveryId (NATS JetStream)
};

// What became of one message, for kPerMessage sources.
enum class Disposition {
  kDelivered,     // the sink took it: ack
  kDeadLettered,  // it is in the dead-letter destination: terminate, never redeliver
  kReleased,      // the worker gave it up undelivered (stopping): redeliver after redeliverAfter
};

struct Settlement {
  uint64_t deliveryId = 0;
  Disposition disposition = Disposition::kDelivered;
  common::Millis redeliverAfter{0};
};

class Source {
 public:
  virtual ~Source() = default;
  // Up to maxMessages into `out`, waiting at most `timeout` for the first one. `out` may arrive
  // holding used messages (a MessagePool batch) whose storage the source may overwrite; on return
  // it holds exactly the messages polled (none on an error).
  virtual common::Status poll(common::Millis timeout, size_t maxMessages, Batch& out) = 0;
  // Stops / restarts fetching on every assigned partition (and on partitions assigned later).
  virtual common::Status pauseAll() = 0;
  virtual common::Status resumeAll() = 0;
  virtual size_t pausedPartitions() const = 0;
  // Stores the positions (delivered up to there); `synchronous` also commits them and waits.
  virtual common::Status commit(const std::vector<PartitionOffset>& offsets, bool synchronous) = 0;
  // High watermarks as last seen in fetch responses (no broker round trip).
  virtual std::vector<PartitionWatermark> watermarks() = 0;
  // Leaves the group: revokes everything through the listener (which commits), then closes.
  virtual common::Status close() = 0;

  virtual Acknowledgement acknowledgement() const { return Acknowledgement::kOffsets; }
  // How long the pipeline may stop taking messages at its budget before it pauses the source
  // (see FlowControl). Zero: pause at once (a source that must be polled to keep its deliveries
  // alive, like NATS with its InProgress acks).
  virtual common::Millis holdBeforePause() const { return common::Millis(0); }
  // kPerMessage sources: acknowledge these deliveries. Offset sources have nothing to do.
  virtual common::Status settle(std::span<const Settlement> settlements) {
    (void)settlements;
    return common::Status::ok();
  }
};

// `copyHeaders`: fill Message::headers (false when nothing downstream reads them).
common::Result<std::unique_ptr<Source>> makeKafkaSource(const spec::ConsumerPipeline& pipeline,
                                                        const std::string& podName,
                                                        RebalanceListener& listener, bool copyHeaders);

}  // namespace sluice::worker

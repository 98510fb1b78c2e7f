#pragma once
// PrefetchWaker: decides when the Kafka source must wake librdkafka's fetchers. Pure (no client
// library); KafkaSource feeds it and acts on its answer.
//
// Why: librdkafka 2.0.2 stops fetching a partition while its local queue holds at least
// queued.min.messages or queued.max.messages.kbytes (Sluice sets both from the backpressure budget, so
// prefetched memory stays bounded), and looks again only when its broker thread wakes up: on the next
// op for that thread, or after up to 1 s (librdkafka 2.2 made that wait `fetch.queue.backoff.ms`;
// 2.0.2, Debian's, has no setting). A consumer slower than the fetcher therefore drains the queue and
// then idles for the rest of the second: measured, throughput was capped near one queue-full per
// second (50 000 messages -> ~90 000 msg/s where the pipeline itself could do far more).
//
// What: the source reports every poll's messages and bytes, and when the local queue is empty. Once
// at least half a queue's worth was consumed since the last wake, an empty queue means the fetchers
// have probably stopped at the limit, and drained() says "wake them". So does an empty queue after a
// resume (the broker thread would otherwise notice the resume only at its next wake-up too), up to
// kWakesAfterResume times until a message arrives (the resume may not have been served yet; a topic
// with nothing new must not be asked forever). The source wakes a fetcher by sending its broker a request (a ListOffsets
// for the assigned partitions, whose answer also refreshes the high watermarks): every op on a
// broker's queue makes its thread re-decide which partitions to fetch. Pause/resume does not: those
// ops are served by librdkafka's main thread.
#include <algorithm>
#include <cstdint>

namespace sluice::worker {

class PrefetchWaker {
 public:
  // The librdkafka queue limits in effect (queued.min.messages; queued.max.messages.kbytes in bytes).
  PrefetchWaker(int64_t queueMessages, int64_t queueBytes)
      : messagesToWake_(std::max<int64_t>(1, queueMessages / 2)), bytesToWake_(std::max<int64_t>(1, queueBytes / 2)) {}

  void consumed(int64_t messages, int64_t bytes) {
    messages_ += messages;
    bytes_ += bytes;
    if (messages > 0) wakesAfterResume_ = 0;
  }

  // The local queue is empty. True when the fetchers should be woken now; the count starts again.
  bool drained() {
    if (wakesAfterResume_ > 0) {
      --wakesAfterResume_;
    } else if (messages_ < messagesToWake_ && bytes_ < bytesToWake_) {
      return false;
    }
    messages_ = 0;
    bytes_ = 0;
    return true;
  }

  // Fetching was paused (nothing to wake) or resumed (wake on every empty queue until data flows).
  void paused() {
    messages_ = 0;
    bytes_ = 0;
    wakesAfterResume_ = 0;
  }
  void resumed() {
    paused();
    wakesAfterResume_ = kWakesAfterResume;
  }

  static constexpr int kWakesAfterResume = 5;

 private:
  int64_t messagesToWake_;
  int64_t bytesToWake_;
  int64_t messages_ = 0;
  int64_t bytes_ = 0;
  int wakesAfterResume_ = 0;
};

}  // namespace sluice::worker

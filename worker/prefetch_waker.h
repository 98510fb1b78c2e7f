#pragma once
// PrefetchWaker: decides when the Kafka source must wake librdkafka's fetchers. Pure (no client
// library); KafkaSource feeds it and acts on its answer.
//
// Why: librdkafka 2.0.2 stops fetching a partition while its local queue holds at least
// queued.min.messages or queued.max.messages.kbytes (Sluice sets both from the backpressure budget, so
// prefetched memory stays bounded), and looks again only when its broker thread wakes up: on the next
// op for that thread, or after up to 1 s (librdkafka 2.2 made that wait `fetch.queue.backoff.ms`;
// 2.0.2, Debian's, has no setting). A consumer slower than the fetcher therefore drains the queue and
// then idles for the rest of the second: measured (debug=fetch shows the 1 s cycle), throughput was
// capped near one queue-full per second (50 000 messages -> ~90 000 msg/s).
//
// What: the source reports what every poll consumed. Once half a queue's worth (messages or bytes)
// was consumed since the last wake, the queue has room again and consumed() says "wake them", so the
// next fetch overlaps with consuming the rest. When a poll finds the queue empty, emptied() says
// "wake them" if anything was consumed since the last wake (the fetchers may have stopped before
// the half-way mark). After a resume it says so for the next few empty polls even with nothing
// consumed (the broker thread would otherwise notice the resume only at its next wake-up too; the
// resume may not have been served yet; a topic with nothing new must not be asked forever).
// The source wakes a fetcher by sending its broker a request (ListOffsets for the assigned
// partitions): every op on a broker's queue makes its thread re-decide which partitions to fetch.
// Pause/resume does not: those ops are served by librdkafka's main thread.
#include <algorithm>
#include <cstdint>

namespace sluice::worker {

class PrefetchWaker {
 public:
  // The librdkafka queue limits in effect (queued.min.messages; queued.max.messages.kbytes in bytes).
  PrefetchWaker(int64_t queueMessages, int64_t queueBytes)
      : messagesToWake_(std::max<int64_t>(1, queueMessages / 2)),
        bytesToWake_(std::max<int64_t>(1, queueBytes / 2)) {}

  // A poll returned these. True when the fetchers should be woken now.
  bool consumed(int64_t messages, int64_t bytes) {
    messages_ += messages;
    bytes_ += bytes;
    if (messages > 0) wakesAfterResume_ = 0;
    if (messages_ < messagesToWake_ && bytes_ < bytesToWake_) return false;
    restart();
    return true;
  }

  // A poll found the local queue empty. True when the fetchers should be woken now.
  bool emptied() {
    if (wakesAfterResume_ > 0) {
      --wakesAfterResume_;
    } else if (messages_ == 0) {
      return false;  // nothing consumed since the last wake: an idle topic
    }
    restart();
    return true;
  }

  // Fetching was paused (nothing to wake) or resumed (wake on the next empty polls).
  void paused() {
    restart();
    wakesAfterResume_ = 0;
  }
  void resumed() {
    restart();
    wakesAfterResume_ = kWakesAfterResume;
  }

  static constexpr int kWakesAfterResume = 5;

 private:
  void restart() {
    messages_ = 0;
    bytes_ = 0;
  }

  int64_t messagesToWake_;
  int64_t bytesToWake_;
  int64_t messages_ = 0;
  int64_t bytes_ = 0;
  int wakesAfterResume_ = 0;
};

}  // namespace sluice::worker

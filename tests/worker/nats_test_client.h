#pragma once
// Test-side NATS access for the worker's NATS integration tests (the only test file including
// nats.c): streams, publishing with headers, consumer state, reading back a stored message.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::worker::testing {

struct NatsRecord {
  std::string subject;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct NatsConsumerState {
  int64_t numAckPending = 0;
  uint64_t numPending = 0;
  int64_t numRedelivered = 0;
  int64_t maxAckPending = 0;
  uint64_t ackFloorStream = 0;
  int64_t numWaiting = 0;          // pull requests the server holds and may still deliver to
  uint64_t deliveredConsumer = 0;  // deliveries made so far, redeliveries included
};

struct StoredMessage {
  uint64_t sequence = 0;
  std::string subject;
  std::string value;
  std::map<std::string, std::string> headers;
};

class NatsTestClient {
 public:
  explicit NatsTestClient(const std::string& url);
  // Authenticates as the NKey user whose seed is in `seedFile` (public key `nkeyPublic`).
  NatsTestClient(const std::string& url, const std::string& seedFile, const std::string& nkeyPublic);
  ~NatsTestClient();
  NatsTestClient(const NatsTestClient&) = delete;
  NatsTestClient& operator=(const NatsTestClient&) = delete;

  void createStream(const std::string& stream, const std::vector<std::string>& subjects);
  void deleteStream(const std::string& stream);
  // JetStream publish of every record (async, then waits for all acks). Fails the test on error.
  void publish(const std::vector<NatsRecord>& records);
  std::optional<NatsConsumerState> consumer(const std::string& stream, const std::string& consumer);
  // A durable pull consumer with explicit acks, as a worker (or a person) may have created it.
  void createConsumer(const std::string& stream, const std::string& consumer,
                      const std::string& filterSubject, int ackWaitSeconds, int64_t maxAckPending,
                      int64_t maxDeliver);
  // Pulls one message and drops it unacknowledged, like a worker killed while holding it; returns
  // the delivery count the server gave it (0 when nothing came within 4 s).
  uint64_t pullAndAbandon(const std::string& stream, const std::string& consumer);
  // Pulls one message and naks it, like a worker stopped past its drain deadline, and returns once
  // the server has processed the nak (the message is then due for redelivery at once); returns the
  // delivery count the server gave it (0 when nothing came within 4 s).
  uint64_t pullAndRelease(const std::string& stream, const std::string& consumer);
  void purgeStream(const std::string& stream);
  void deleteConsumer(const std::string& stream, const std::string& consumer);
  // Messages stored in the stream, in sequence order (up to `limit`).
  std::vector<StoredMessage> stored(const std::string& stream, uint64_t limit);
  uint64_t storedCount(const std::string& stream);
  // A core NATS subscription on `subject` that counts what arrives from now on (one at a time).
  void countCore(const std::string& subject);
  uint64_t coreCount() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::worker::testing

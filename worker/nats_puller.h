#pragma once
// NatsPuller: the JetStream pull protocol, spoken by NatsSource itself. One pull request at a time
// to $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, replying to an inbox of its own
// (<inbox>.<request number>), answers read from a plain synchronous subscription. The library's
// natsSubscription_FetchRequest is not used: see "Pulling" in the worker README for why.
// Threading: consumer thread only (source.h); nats.c's threads only fill the subscription's queue.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "worker/nats_config.h"
#include "worker/nats_connection.h"

namespace sluice::worker {

class NatsPuller {
 public:
  // Called for every JetStream message read; true when the source took it into the poll's batch
  // (its payload counts against the fetch's byte cap), false when it dealt with it otherwise.
  using Take = std::function<bool(natsMsg* message, const NatsAckMetadata& meta)>;
  // Called for every JetStream message the puller gives back unread on close: nak it.
  using Release = std::function<bool(const char* reply)>;

  // `connection` must outlive the puller. One fetch asks for at most `fetchMaxBytes`.
  NatsPuller(natsConnection* connection, std::string stream, std::string durable, int64_t fetchMaxBytes,
             common::Clock& clock);
  NatsPuller(const NatsPuller&) = delete;
  NatsPuller& operator=(const NatsPuller&) = delete;

  common::Status subscribe();
  // Answers to earlier requests that arrived after their poll returned, without waiting; returns
  // how many were taken.
  size_t takeLeftovers(size_t batch, const Take& take);
  // One pull request for up to `batch` messages, read until the batch or the byte cap is reached,
  // the server ends the request (404, 408, 409) or `wait` is over. What arrives later is a
  // leftover for the next poll.
  common::Status pull(size_t batch, common::Millis wait, const Take& take);
  // Stopping: gives back what arrived unread and what the last request still brings until the
  // server expires it (at most ~100 ms); returns how many were released.
  size_t releaseUnread(const Release& release);
  void unsubscribe();

 private:
  enum class PullStep {
    kContinue,  // a message (taken) or a status to ignore (heartbeat, an earlier request's end)
    kEnd,       // the server ended the current request (no messages, expired, or a 409 limit)
  };
  using SubscriptionPtr = std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)>;
  PullStep read(natsMsg* m, std::string_view currentRequest, const Take& take, int64_t& bytes, size_t& taken);
  PullStep requestEnded(natsMsg* m, std::string_view currentRequest);
  common::Status fetchFailed(natsStatus s, common::Millis timeout);
  bool warnNow();

  natsConnection* connection_;
  const std::string stream_;
  const std::string durable_;
  const int64_t fetchMaxBytes_;
  common::Clock& clock_;
  const std::string pullSubject_;
  SubscriptionPtr sub_{nullptr, &natsSubscription_Destroy};
  std::string inbox_;  // requests reply to <inbox_>.<request number>
  uint64_t requestNumber_ = 0;
  common::SteadyTime pullOpenUntil_{};  // when the server will have expired the last pull request
  common::SteadyTime lastFetchWarning_{};
};

}  // namespace sluice::worker

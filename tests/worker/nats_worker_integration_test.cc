// sluice-worker with a NATS JetStream source against the real local nats-server
// (scripts/dev-env up nats), delivering to the in-process HTTP receiver. Every test uses its own
// stream, subjects and durable consumer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "tests/support/env_file.h"
#include "tests/support/http_get.h"
#include "tests/support/tls_nats_server.h"
#include "tests/worker/http_receiver.h"
#include "tests/worker/nats_test_client.h"
#include "tests/worker/worker_process.h"

namespace sluice::worker::testing {
namespace {

using namespace std::chrono_literals;
using sluice::testing::requireServiceEnv;
using sluice::testing::uniqueName;

struct NatsSettings {
  std::string stream;
  std::string subjectPrefix;  // messages go to <prefix>.<key>; the key is subject token 2
  std::string consumer;
  std::string sinkUrl;
  std::string deadLetterSubject;
  std::string ordering = "key";
  int concurrency = 4;
  int maxMessages = 100;
  int maxWaitMs = 50;
  int maxAttempts = 3;
  int ackWaitSeconds = 2;
  int64_t maxInFlightMessages = 10000;
  int64_t maxInFlightBytes = 67108864;
};

std::string manifest(const std::string& url, const NatsSettings& s) {
  std::string y =
      "apiVersion: sluice.dev/v1alpha1\nkind: ConsumerPipeline\nmetadata: {name: nit, namespace: "
      "test}\nspec:\n";
  y += "  source:\n    nats: {servers: [\"" + url + "\"], stream: " + s.stream + ", consumer: " + s.consumer +
       ", filterSubject: \"" + s.subjectPrefix +
       ".>\", keySubjectToken: 2, ackWaitSeconds: " + std::to_string(s.ackWaitSeconds) + "}\n";
  y += "  batch: {maxMessages: " + std::to_string(s.maxMessages) +
       ", maxWaitMs: " + std::to_string(s.maxWaitMs) + "}\n";
  y += "  processing:\n    ordering: " + s.ordering + "\n    concurrency: " + std::to_string(s.concurrency) +
       "\n    timeoutMs: 5000\n";
  y += "    retry: {maxAttempts: " + std::to_string(s.maxAttempts) +
       ", initialBackoffMs: 50, maxBackoffMs: 500, multiplier: 2, jitter: 0.2}\n";
  if (!s.deadLetterSubject.empty())
    y += "    deadLetter: {nats: {subject: \"" + s.deadLetterSubject + "\"}}\n";
  y += "  backpressure: {maxInFlightMessages: " + std::to_string(s.maxInFlightMessages) +
       ", maxInFlightBytes: " + std::to_string(s.maxInFlightBytes) + ", resumeRatio: 0.5}\n";
  // One worker per consumer with ordering: key (spec validation refuses more). Before the sink, which
  // tests replace by cutting the manifest there.
  y += "  scaling: {lagPerReplica: 1000, maxReplicas: 1}\n";
  y += "  sink:\n    http: {url: \"" + s.sinkUrl + "\", format: json, timeoutMs: 5000}\n";
  y += "  worker: {drainSeconds: 10}\n";
  return y;
}

// Values "k<key>:<n>" with n the publish order, so each key's values must arrive increasing.
std::vector<NatsRecord> keyedRecords(const std::string& prefix, int count, int keys, size_t padding = 0) {
  std::vector<NatsRecord> out;
  out.reserve(count);
  for (int n = 0; n < count; ++n) {
    const std::string key = "k" + std::to_string(n % keys);
    out.push_back({prefix + "." + key, key + ":" + std::to_string(n) + std::string(padding, '.'), {}});
  }
  return out;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;  // the worker under test is the sanitizer build's: RSS means nothing
#else
constexpr bool kAddressSanitizer = false;
#endif

int sequenceOf(const std::string& value) { return std::stoi(value.substr(value.find(':') + 1)); }

class NatsWorkerIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = requireServiceEnv("NATS_URL");
    ASSERT_FALSE(url_.empty());
    client_ = std::make_unique<NatsTestClient>(url_);
    const std::string name = uniqueName("nit");
    settings_.stream = "S" + name;
    std::replace(settings_.stream.begin(), settings_.stream.end(), '.', '_');
    settings_.subjectPrefix = settings_.stream + "-in";
    settings_.consumer = settings_.stream + "-c";
    client_->createStream(settings_.stream, {settings_.subjectPrefix + ".>"});
  }
  void TearDown() override {
    if (client_) {
      client_->deleteStream(settings_.stream);
      if (!dlqStream_.empty()) client_->deleteStream(dlqStream_);
    }
  }

  std::string url_;
  std::unique_ptr<NatsTestClient> client_;
  NatsSettings settings_;
  std::string dlqStream_;
};

TEST_F(NatsWorkerIntegration, KeepsPerKeyOrderWithEightLanes) {
  const int count = 10000;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, 300));
  HttpReceiver receiver([](const std::vector<Received>&, int) {
    std::this_thread::sleep_for(2ms);  // lets lanes overlap
    return Reply{};
  });
  settings_.sinkUrl = receiver.url();
  settings_.concurrency = 8;
  WorkerProcess worker("nats-order", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(count, 60s)) << receiver.distinctValues() << " of " << count << "\n"
                                                    << worker.log();
  std::map<std::string, int> last;
  int violations = 0;
  for (const auto& r : receiver.accepted()) {
    ASSERT_TRUE(r.key.has_value()) << "no key from subject token 2 of " << r.topic;
    EXPECT_EQ(r.topic, settings_.subjectPrefix + "." + *r.key);
    const int n = sequenceOf(r.value);
    auto [it, fresh] = last.try_emplace(*r.key, n);
    if (!fresh && n <= it->second && ++violations <= 5) {
      ADD_FAILURE() << "key " << *r.key << ": " << n << " after " << it->second;
    }
    it->second = n;
  }
  EXPECT_EQ(last.size(), 300u);
  EXPECT_EQ(violations, 0) << "messages of one key arrived out of order (or twice)";
  EXPECT_EQ(receiver.acceptedCount(), receiver.distinctValues()) << "duplicates without failures";
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
  const auto state = client_->consumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->numAckPending, 0) << "everything delivered is acked";
  EXPECT_EQ(state->numPending, 0u);
}

TEST_F(NatsWorkerIntegration, KillNineLosesNothingRedeliveredAfterAckWait) {
  const int count = 8000;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, 200));
  HttpReceiver receiver([](const std::vector<Received>&, int) {
    std::this_thread::sleep_for(5ms);
    return Reply{};
  });
  settings_.sinkUrl = receiver.url();
  settings_.maxMessages = 50;
  settings_.maxInFlightMessages = 2000;
  {
    WorkerProcess first("nats-kill-first", manifest(url_, settings_));
    ASSERT_TRUE(receiver.waitForDistinct(count / 4, 60s)) << first.log();
    first.signal(SIGKILL);
    EXPECT_EQ(first.waitExit(10s), 128 + SIGKILL);
  }
  const size_t beforeRestart = receiver.distinctValues();
  ASSERT_LT(beforeRestart, static_cast<size_t>(count)) << "the kill came too late to test anything";
  const auto held = client_->consumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(held);
  WorkerProcess second("nats-kill-second", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(count, 60s)) << receiver.distinctValues() << " of " << count << "\n"
                                                    << second.log();
  const size_t duplicates = receiver.acceptedCount() - receiver.distinctValues();
  std::cout << "[ figures  ] kill -9 after " << beforeRestart << " distinct with " << held->numAckPending
            << " unacked on the server; " << count << " delivered, " << duplicates
            << " duplicate deliveries\n";
  // Every value reached the sink, but the killed worker's last deliveries may still be inside their
  // AckWait on the server (the sink had them before the kill): wait until they came back and the
  // second worker acked them, so what is checked after the stop is the stop alone.
  bool settled = false;
  for (auto end = std::chrono::steady_clock::now() + 20s;
       !settled && std::chrono::steady_clock::now() < end;) {
    const auto now = client_->consumer(settings_.stream, settings_.consumer);
    settled = now && now->numAckPending == 0 && now->numPending == 0;
    if (!settled) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(settled) << "the killed worker's deliveries never came back and were acked\n" << second.log();
  second.signal(SIGTERM);
  EXPECT_EQ(second.waitExit(30s), 0) << second.log();
  const auto state = client_->consumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->numAckPending, 0) << "a delivery the stopped worker neither acked nor nak'ed\n"
                                     << second.log();
  // What the killed worker held unacknowledged came back: acked now (settled above) and every value
  // delivered. Duplicates are not required: the kill may land between a delivery and its ack (a
  // duplicate) or before any delivery of what it held (none), and num_redelivered counts only
  // redeliveries still pending, 0 once settled, so neither can be asserted without a timing race.
  EXPECT_GT(held->numAckPending, 0)
      << "nothing was unacknowledged at the kill: the test tested no redelivery";
}

// Per key, the values' publish numbers in the order they first reached the sink must increase
// (a duplicate, arriving again later, is not a violation); returns the violations, the first few
// reported as failures.
int firstDeliveryViolations(const std::vector<Received>& accepted) {
  std::map<std::string, int> lastFirst;
  std::set<std::string> seen;
  int violations = 0;
  for (const auto& r : accepted) {
    if (!seen.insert(r.value).second) continue;
    const int n = sequenceOf(r.value);
    auto [it, fresh] = lastFirst.try_emplace(r.key.value_or(""), n);
    if (!fresh && n < it->second && ++violations <= 5)
      ADD_FAILURE() << "key " << it->first << ": " << n << " first delivered after " << it->second;
    it->second = std::max(it->second, n);
  }
  return violations;
}

// Issue #19: a worker killed with -9 mid-stream held unacknowledged messages, which the server
// redelivers only after AckWait. The restarted worker must not deliver any key's newer messages
// before them: it holds what it pulls until the server's unacknowledged deliveries are all its own
// (worker/nats_takeover.h). 500 keys x 100 messages, the sink refusing every 7th request.
TEST_F(NatsWorkerIntegration, KillNineAndRestartKeepsEachKeysOrderOfFirstDeliveries) {
  const int keys = 500;
  const int count = keys * 100;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, keys));
  HttpReceiver receiver([](const std::vector<Received>&, int request) {
    return request % 7 == 6 ? Reply{503, ""} : Reply{};
  });
  settings_.sinkUrl = receiver.url();
  // Workers share the failing-request counter: a message's retries could keep landing on a 503 and
  // stop its lane (no dead-letter); the test is about order, so retries must not run out.
  settings_.maxAttempts = 20;
  settings_.maxMessages = 100;
  settings_.maxInFlightMessages = 2000;
  {
    WorkerProcess first("nats-order-kill-first", manifest(url_, settings_));
    ASSERT_TRUE(receiver.waitForDistinct(count / 3, 120s)) << first.log();
    first.signal(SIGKILL);
    EXPECT_EQ(first.waitExit(10s), 128 + SIGKILL);
  }
  const size_t beforeRestart = receiver.distinctValues();
  ASSERT_LT(beforeRestart, static_cast<size_t>(count)) << "the kill came too late to test anything";
  const auto held = client_->consumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(held);
  ASSERT_GT(held->numAckPending, 0) << "nothing was unacknowledged at the kill: nothing to keep in order";
  WorkerProcess second("nats-order-kill-second", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(count, 180s)) << receiver.distinctValues() << " of " << count << "\n"
                                                     << second.log();
  const int violations = firstDeliveryViolations(receiver.accepted());
  const size_t duplicates = receiver.acceptedCount() - receiver.distinctValues();
  std::cout << "[ figures  ] kill -9 after " << beforeRestart << " of " << count << " with "
            << held->numAckPending << " unacknowledged; restarted: " << receiver.distinctValues()
            << " delivered (0 lost), " << violations << " first-delivery order violations, " << duplicates
            << " duplicate deliveries, " << receiver.rejected() << " requests refused by the sink\n";
  EXPECT_EQ(violations, 0) << second.log();
  EXPECT_NE(second.log().find("unacknowledged deliveries from an earlier worker"), std::string::npos)
      << "the restarted worker did not take over the killed one's deliveries\n"
      << second.log();
  second.signal(SIGTERM);
  EXPECT_EQ(second.waitExit(30s), 0) << second.log();
  const auto state = client_->consumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->numAckPending, 0) << second.log();
  EXPECT_EQ(state->numPending, 0u);
}

// A rollout or a deleted Pod: the old worker gets SIGTERM and drains (delivers what it holds, naks
// the rest) while its replacement already starts. The replacement takes over what the old one
// leaves unacknowledged, so no key's newer message reaches the sink before an older one.
TEST_F(NatsWorkerIntegration, ReplacementStartingWhileTheOldWorkerDrainsKeepsEachKeysOrder) {
  const int keys = 200;
  const int count = keys * 100;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, keys));
  HttpReceiver receiver([](const std::vector<Received>&, int request) {
    std::this_thread::sleep_for(3ms);
    return request % 7 == 6 ? Reply{503, ""} : Reply{};
  });
  settings_.sinkUrl = receiver.url();
  // Workers share the failing-request counter: a message's retries could keep landing on a 503 and
  // stop its lane (no dead-letter); the test is about order, so retries must not run out.
  settings_.maxAttempts = 20;
  settings_.maxMessages = 100;
  settings_.maxInFlightMessages = 2000;
  WorkerProcess first("nats-order-drain-first", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(count / 3, 120s)) << first.log();
  first.signal(SIGTERM);
  WorkerProcess second("nats-order-drain-second", manifest(url_, settings_));
  EXPECT_EQ(first.waitExit(30s), 0) << first.log();
  ASSERT_TRUE(receiver.waitForDistinct(count, 180s)) << receiver.distinctValues() << " of " << count << "\n"
                                                     << second.log();
  const int violations = firstDeliveryViolations(receiver.accepted());
  std::cout << "[ figures  ] SIGTERM + replacement: " << receiver.distinctValues() << " of " << count
            << " delivered, " << violations << " first-delivery order violations, "
            << receiver.acceptedCount() - receiver.distinctValues() << " duplicate deliveries\n";
  EXPECT_EQ(violations, 0) << first.log() << "\n" << second.log();
  second.signal(SIGTERM);
  EXPECT_EQ(second.waitExit(30s), 0) << second.log();
}

TEST_F(NatsWorkerIntegration, DeadLettersAPoisonMessageWithProvenanceAndTerminatesIt) {
  settings_.deadLetterSubject = settings_.stream + "-dlq.poison";
  dlqStream_ = settings_.stream + "-DLQ";
  client_->createStream(dlqStream_, {settings_.deadLetterSubject});
  const int count = 2000;
  auto records = keyedRecords(settings_.subjectPrefix, count, 40);
  records[777].value = "k17:777:poison";
  records[777].headers = {{"Trace", "t-777"}};
  client_->publish(records);
  HttpReceiver receiver([](const std::vector<Received>& batch, int) {
    for (const auto& r : batch) {
      if (r.value.find("poison") != std::string::npos) return Reply{500, ""};
    }
    return Reply{};
  });
  settings_.sinkUrl = receiver.url();
  WorkerProcess worker("nats-dlq", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(count - 1, 60s)) << receiver.distinctValues() << "\n" << worker.log();
  for (auto end = std::chrono::steady_clock::now() + 20s;
       client_->storedCount(dlqStream_) == 0 && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(50ms);
  }
  const auto dead = client_->stored(dlqStream_, 10);
  ASSERT_EQ(dead.size(), 1u) << worker.log();
  EXPECT_EQ(dead[0].value, "k17:777:poison");
  auto headers = dead[0].headers;
  EXPECT_EQ(headers["sluice.source.stream"], settings_.stream);
  EXPECT_EQ(headers["sluice.source.sequence"], "778") << "stream sequences start at 1";
  EXPECT_EQ(headers["sluice.source.subject"], settings_.subjectPrefix + ".k17");
  EXPECT_EQ(headers["sluice.attempts"], "3");
  EXPECT_NE(headers["sluice.error"].find("500"), std::string::npos) << headers["sluice.error"];
  EXPECT_EQ(headers["Trace"], "t-777") << "the message's own headers travel along";
  for (const auto& r : receiver.accepted()) EXPECT_EQ(r.value.find("poison"), std::string::npos);
  // Terminated, not pending: nothing waits for an ack and nothing comes back after AckWait.
  std::optional<NatsConsumerState> state;
  for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;) {
    state = client_->consumer(settings_.stream, settings_.consumer);
    if (state && state->numAckPending == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(state);
  EXPECT_EQ(state->numAckPending, 0);
  std::this_thread::sleep_for(std::chrono::seconds(settings_.ackWaitSeconds + 1));
  EXPECT_EQ(client_->consumer(settings_.stream, settings_.consumer)->numRedelivered, 0);
  EXPECT_EQ(receiver.distinctValues(), static_cast<size_t>(count - 1));
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
}

TEST_F(NatsWorkerIntegration, SlowSinkKeepsMemoryAndAckPendingWithinTheBudget) {
  const int count = 30000;  // ~30 MiB of 1 KiB values waiting
  client_->publish(keyedRecords(settings_.subjectPrefix, count, 100, 1000));
  HttpReceiver receiver([](const std::vector<Received>&, int) {
    std::this_thread::sleep_for(100ms);
    return Reply{};
  });
  settings_.sinkUrl = receiver.url();
  settings_.maxMessages = 50;
  settings_.concurrency = 2;
  settings_.maxInFlightMessages = 500;
  settings_.maxInFlightBytes = 2 << 20;
  WorkerProcess worker("nats-slow", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(200, 60s)) << worker.log();
  long peakKiB = 0;
  int64_t peakAckPending = 0;
  int64_t maxAckPending = 0;
  bool sawPaused = false;
  for (auto end = std::chrono::steady_clock::now() + 6s; std::chrono::steady_clock::now() < end;) {
    peakKiB = std::max(peakKiB, worker.vmRssKiB());
    const auto scrape = sluice::testing::httpGet(worker.metricsPort(), "/metrics");
    sawPaused = sawPaused || scrape.body.find("sluice_worker_paused_partitions 1") != std::string::npos;
    if (auto state = client_->consumer(settings_.stream, settings_.consumer)) {
      peakAckPending = std::max(peakAckPending, state->numAckPending);
      maxAckPending = state->maxAckPending;
    }
    std::this_thread::sleep_for(50ms);
  }
  const auto metrics = sluice::testing::httpGet(worker.metricsPort(), "/metrics");
  // Budget (2 MiB: a held message costs its copy; only the ack subject of its natsMsg is kept) + a
  // fixed allowance for the binary, its libraries, thread stacks and allocator slack.
  const long limitKiB = (2 + 60) * 1024;
  std::cout << "[ figures  ] peak VmRSS " << peakKiB / 1024 << " MiB with a ~30 MiB backlog (limit "
            << limitKiB / 1024 << " MiB); peak num_ack_pending " << peakAckPending << " of MaxAckPending "
            << maxAckPending << "; delivered " << receiver.distinctValues() << " meanwhile\n";
  EXPECT_EQ(maxAckPending, settings_.maxInFlightMessages) << "MaxAckPending follows the in-flight budget";
  EXPECT_GT(peakAckPending, 0);
  EXPECT_LE(peakAckPending, maxAckPending);
  EXPECT_GT(peakKiB, 0);
  if (!kAddressSanitizer) {
    EXPECT_LT(peakKiB, limitKiB) << "(not checked under ASan: shadow memory and quarantine)";
  }
  EXPECT_LT(receiver.distinctValues(), static_cast<size_t>(count)) << "the backlog must still be waiting";
  EXPECT_TRUE(sawPaused) << "fetching paused at the budget";
  EXPECT_NE(metrics.body.find("sluice_worker_source_config_drift 0"), std::string::npos);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
}

// The bench's shape (ordering none, 4 lanes) with a small budget, so every pull is sized differently
// and pulls often end before the server has sent everything: the leftovers arrive after the poll
// returned. nats.c 3.4.1's own fetch overflowed its message array in exactly that case (heap
// corruption); the sanitizer build of this test reports such a write at once.
TEST_F(NatsWorkerIntegration, OrderingNoneWithFourLanesTakesLeftoverAnswersSafely) {
  const int count = 30000;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, 1000));
  HttpReceiver receiver;
  settings_.sinkUrl = receiver.url();
  settings_.ordering = "none";
  settings_.concurrency = 4;
  settings_.maxMessages = 100;
  settings_.maxWaitMs = 5;
  settings_.maxInFlightMessages = 700;
  WorkerProcess worker("nats-none", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(count, 120s)) << receiver.distinctValues() << " of " << count << "\n"
                                                     << worker.log();
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
  const auto state = client_->consumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->numAckPending, 0);
  EXPECT_EQ(state->numPending, 0u);
  std::cout << "[ figures  ] " << count << " delivered, "
            << receiver.acceptedCount() - receiver.distinctValues() << " duplicates, "
            << state->numRedelivered << " redelivered\n";
}

// A message whose deliveries kept ending unsettled as often as retry.maxAttempts allows (here: one
// pulled and dropped, as by a worker killed while holding it, then one pulled and nak'ed, as by a
// worker stopped past its drain deadline) is dead-lettered on arrival, before the server's
// MaxDeliver (maxAttempts + 2) could make it give up on it silently.
//
// The worker's delivery is arranged so that it does not fall due while the worker's pull requests
// come and go: nats-server 2.9 (Debian's 2.9.10), when a redelivery falls due while the only pull
// request it holds has just expired, counts the delivery although nobody got it (NumDelivered one
// higher, the message back only after another AckWait) and delivers the stream's previous message
// again. Left to AckWait, the third delivery met the worker's 90 ms pulls that way in 2 of 260
// runs under load and arrived as the fourth. After the nak the message is due at once while no pull
// request is waiting (checked below), so the server hands it to the worker's first pull request as
// that request arrives: the third delivery.
TEST_F(NatsWorkerIntegration, DeadLettersOnArrivalAfterMaxAttemptsUnsettledDeliveries) {
  settings_.deadLetterSubject = settings_.stream + "-dlq.crash";
  dlqStream_ = settings_.stream + "-DLQ";
  client_->createStream(dlqStream_, {settings_.deadLetterSubject});
  settings_.maxAttempts = 2;
  settings_.ackWaitSeconds = 1;
  // The consumer the worker would create (so no drift), created first so deliveries can be abandoned.
  client_->createConsumer(settings_.stream, settings_.consumer, settings_.subjectPrefix + ".>",
                          settings_.ackWaitSeconds, settings_.maxInFlightMessages, settings_.maxAttempts + 2);
  client_->publish({{settings_.subjectPrefix + ".k1", "k1:0:crasher", {}}});
  auto pullUntilDelivered = [&](auto pull) {
    uint64_t delivered = 0;
    for (auto end = std::chrono::steady_clock::now() + 10s;
         delivered == 0 && std::chrono::steady_clock::now() < end;) {
      delivered = pull();
    }
    return delivered;
  };
  ASSERT_EQ(pullUntilDelivered([&] { return client_->pullAndAbandon(settings_.stream, settings_.consumer); }),
            1u);
  // The test's pull request (batch 1) is the only one waiting when this comes back after AckWait.
  ASSERT_EQ(pullUntilDelivered([&] { return client_->pullAndRelease(settings_.stream, settings_.consumer); }),
            2u)
      << "delivery 2 (redelivered after AckWait)";
  const auto before = client_->consumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->deliveredConsumer, 2u) << "two deliveries so far";
  ASSERT_EQ(before->numWaiting, 0) << "no pull request left that the redelivery could go to";
  ASSERT_EQ(before->numAckPending, 1);
  client_->publish({{settings_.subjectPrefix + ".k2", "k2:1:fine", {}}});
  HttpReceiver receiver;
  settings_.sinkUrl = receiver.url();
  WorkerProcess worker("nats-arrival-dlq", manifest(url_, settings_));
  ASSERT_TRUE(receiver.waitForDistinct(1, 30s)) << worker.log();
  for (auto end = std::chrono::steady_clock::now() + 20s;
       client_->storedCount(dlqStream_) == 0 && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(50ms);
  }
  const auto dead = client_->stored(dlqStream_, 10);
  ASSERT_EQ(dead.size(), 1u) << worker.log();
  EXPECT_EQ(dead[0].value, "k1:0:crasher");
  auto headers = dead[0].headers;
  EXPECT_EQ(headers["sluice.source.sequence"], "1");
  EXPECT_EQ(headers["sluice.attempts"], "2") << worker.log();
  EXPECT_NE(headers["sluice.error"].find("delivered 3 times by the server without being settled"),
            std::string::npos)
      << headers["sluice.error"];
  for (const auto& r : receiver.accepted())
    EXPECT_EQ(r.value, "k2:1:fine") << "the sink never saw the crasher";
  std::optional<NatsConsumerState> state;
  for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;) {
    state = client_->consumer(settings_.stream, settings_.consumer);
    if (state && state->numAckPending == 0 && state->ackFloorStream >= 2) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(state);
  EXPECT_EQ(state->numAckPending, 0) << "terminated, not waiting for AckWait";
  EXPECT_EQ(state->ackFloorStream, 2u);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
}

// The lag gauge follows the server while no message arrives (fetching paused behind a stuck sink):
// a purge of the backlog shows up within the refresh interval instead of the last fetched
// message's num_pending staying on.
TEST_F(NatsWorkerIntegration, LagGaugeIsRefreshedWhileNoMessageArrives) {
  const int count = 2000;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, 10));
  std::atomic<bool> release{false};
  HttpReceiver receiver([&release](const std::vector<Received>&, int) {
    while (!release) std::this_thread::sleep_for(20ms);
    return Reply{};
  });
  settings_.sinkUrl = receiver.url();
  settings_.maxMessages = 10;
  settings_.concurrency = 1;
  settings_.maxInFlightMessages = 50;
  WorkerProcess worker("nats-lag", manifest(url_, settings_));
  const std::string series =
      "sluice_worker_partition_lag{partition=\"0\",topic=\"" + settings_.stream + "\"} ";
  auto lag = [&]() -> std::optional<double> {
    const auto body = sluice::testing::httpGet(worker.metricsPort(), "/metrics").body;
    const auto at = body.find(series);
    if (at == std::string::npos) return std::nullopt;
    return std::stod(body.substr(at + series.size()));
  };
  std::optional<double> before;
  for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
    before = lag();
    if (before && *before > 0) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(before && *before > 1000) << worker.log();
  client_->purgeStream(settings_.stream);
  std::optional<double> after;
  const auto purged = std::chrono::steady_clock::now();
  for (auto end = purged + 20s; std::chrono::steady_clock::now() < end;) {
    after = lag();
    if (after && *after == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - purged);
  std::cout << "[ figures  ] lag " << *before << " -> " << (after ? *after : -1) << " " << took.count()
            << " ms after the purge with no message arriving\n";
  EXPECT_TRUE(after && *after == 0) << worker.log();
  release = true;
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
}

TEST_F(NatsWorkerIntegration, KeepsAnExistingConsumerWithOtherSettingsAndFlagsIt) {
  client_->publish(keyedRecords(settings_.subjectPrefix, 100, 10));
  HttpReceiver receiver;
  settings_.sinkUrl = receiver.url();
  {
    WorkerProcess first("nats-drift-first", manifest(url_, settings_));
    ASSERT_TRUE(receiver.waitForDistinct(100, 30s)) << first.log();
    first.signal(SIGTERM);
    ASSERT_EQ(first.waitExit(30s), 0) << first.log();
  }
  settings_.maxInFlightMessages = 777;
  WorkerProcess second("nats-drift-second", manifest(url_, settings_));
  std::string body;
  for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
    body = sluice::testing::httpGet(second.metricsPort(), "/metrics").body;
    if (body.find("sluice_worker_source_config_drift 1") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(body.find("sluice_worker_source_config_drift 1"), std::string::npos) << second.log();
  EXPECT_NE(second.log().find("maxAckPending is 10000, the pipeline wants 777"), std::string::npos)
      << second.log();
  EXPECT_EQ(client_->consumer(settings_.stream, settings_.consumer)->maxAckPending, 10000)
      << "kept as it was";
  second.signal(SIGTERM);
  EXPECT_EQ(second.waitExit(30s), 0) << second.log();
}

// #18 item 14: an existing consumer whose AckWait is shorter than the pipeline's would redeliver work
// in progress: the worker does not consume from it and reports why (the drift the pipeline's Degraded
// condition shows); once the consumer is deleted the worker creates it from the spec and delivers.
TEST_F(NatsWorkerIntegration, RefusesAnExistingConsumerThatWouldRedeliverWorkInProgress) {
  settings_.ackWaitSeconds = 10;
  client_->createConsumer(settings_.stream, settings_.consumer, settings_.subjectPrefix + ".>", 2, 10000, -1);
  client_->publish(keyedRecords(settings_.subjectPrefix, 100, 10));
  HttpReceiver receiver;
  settings_.sinkUrl = receiver.url();
  WorkerProcess worker("nats-refuse", manifest(url_, settings_));
  std::string body;
  for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
    body = sluice::testing::httpGet(worker.metricsPort(), "/metrics").body;
    if (body.find("sluice_worker_source_config_drift 1") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(body.find("sluice_worker_source_config_drift 1"), std::string::npos) << worker.log();
  EXPECT_NE(worker.log().find("its AckWait is 2 s, shorter than spec.source.nats.ackWaitSeconds (10 s)"),
            std::string::npos)
      << worker.log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(receiver.distinctValues(), 0u) << "consumed from a consumer it refused\n" << worker.log();
  EXPECT_EQ(client_->consumer(settings_.stream, settings_.consumer)->deliveredConsumer, 0u);
  client_->deleteConsumer(settings_.stream, settings_.consumer);
  ASSERT_TRUE(receiver.waitForDistinct(100, 40s)) << worker.log();
  EXPECT_EQ(client_->consumer(settings_.stream, settings_.consumer)->maxAckPending, 10000);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
}

// NATS -> NATS: the sink publishes to a subject a stream captures (JetStream publish with ack), keeping
// each message's headers.
TEST_F(NatsWorkerIntegration, NatsSinkPublishesIntoTheStreamThatCapturesTheSubject) {
  const std::string outStream = settings_.stream + "-OUT";
  dlqStream_ = outStream;  // deleted in TearDown
  const std::string outSubject = settings_.stream + "-out.all";
  client_->createStream(outStream, {outSubject});
  const int count = 1000;
  auto records = keyedRecords(settings_.subjectPrefix, count, 10);
  for (auto& r : records) r.headers = {{"Trace", r.value}};
  client_->publish(records);
  HttpReceiver unused;
  settings_.sinkUrl = unused.url();
  std::string yaml = manifest(url_, settings_);
  yaml = yaml.substr(0, yaml.find("  sink:\n")) + "  sink:\n    nats: {subject: \"" + outSubject + "\"}\n";
  WorkerProcess worker("nats-sink", yaml);
  for (auto end = std::chrono::steady_clock::now() + 30s;
       client_->storedCount(outStream) < static_cast<uint64_t>(count) &&
       std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(client_->storedCount(outStream), static_cast<uint64_t>(count)) << worker.log();
  EXPECT_NE(worker.log().find("JetStream publish with ack"), std::string::npos) << worker.log();
  for (const auto& m : client_->stored(outStream, 20)) EXPECT_EQ(m.headers.at("Trace"), m.value);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
  EXPECT_EQ(client_->consumer(settings_.stream, settings_.consumer)->numAckPending, 0);
}

// The default publish mode never drops: with no stream capturing the sink subject nothing is
// acknowledged at the source (#18 item 11; before, the worker fell back to a core publish and acked
// every message nobody stored). Once a stream exists, a new worker delivers all of them into it.
TEST_F(NatsWorkerIntegration, NatsSinkWithoutAStreamAcknowledgesNothingUntilOneExists) {
  const std::string outStream = settings_.stream + "-LATE";
  dlqStream_ = outStream;  // deleted in TearDown
  const std::string outSubject = settings_.stream + "-late.all";
  const int count = 50;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, 5));
  HttpReceiver unused;
  settings_.sinkUrl = unused.url();
  settings_.maxAttempts = 100;  // keep retrying while there is no stream (no dead-letter configured)
  std::string yaml = manifest(url_, settings_);
  yaml = yaml.substr(0, yaml.find("  sink:\n")) + "  sink:\n    nats: {subject: \"" + outSubject + "\"}\n";
  {
    WorkerProcess worker("nats-sink-nostream", yaml);
    for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
      if (worker.log().find("no JetStream stream captures subject " + outSubject) != std::string::npos) break;
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_NE(worker.log().find("no JetStream stream captures subject " + outSubject), std::string::npos)
        << worker.log();
    std::this_thread::sleep_for(1s);  // a window in which a wrong ack would have been sent
    const auto state = client_->consumer(settings_.stream, settings_.consumer);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->ackFloorStream, 0u) << "acknowledged with nothing stored\n" << worker.log();
    EXPECT_EQ(state->numPending + static_cast<uint64_t>(state->numAckPending), static_cast<uint64_t>(count));
    worker.signal(SIGKILL);  // it would keep retrying through its drain; the server redelivers after AckWait
    EXPECT_TRUE(worker.waitExit(30s).has_value()) << worker.log();
  }
  client_->createStream(outStream, {outSubject});
  WorkerProcess worker("nats-sink-late-stream", yaml);
  for (auto end = std::chrono::steady_clock::now() + 30s;
       client_->storedCount(outStream) < static_cast<uint64_t>(count) &&
       std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(client_->storedCount(outStream), static_cast<uint64_t>(count)) << worker.log();
  std::set<std::string> distinct;
  for (const auto& m : client_->stored(outStream, 10 * count)) distinct.insert(m.value);
  EXPECT_EQ(distinct.size(), static_cast<size_t>(count));
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
  EXPECT_EQ(client_->consumer(settings_.stream, settings_.consumer)->numAckPending, 0);
}

// publish: core is the explicit opt-in: plain publish + flush to whoever is subscribed.
TEST_F(NatsWorkerIntegration, NatsSinkCorePublishIsAnExplicitOptIn) {
  const std::string outSubject = settings_.stream + "-core.all";
  NatsTestClient subscriber(url_);
  subscriber.countCore(outSubject);
  const int count = 200;
  client_->publish(keyedRecords(settings_.subjectPrefix, count, 10));
  HttpReceiver unused;
  settings_.sinkUrl = unused.url();
  std::string yaml = manifest(url_, settings_);
  yaml = yaml.substr(0, yaml.find("  sink:\n")) + "  sink:\n    nats: {subject: \"" + outSubject +
         "\", publish: core}\n";
  WorkerProcess worker("nats-sink-core", yaml);
  for (auto end = std::chrono::steady_clock::now() + 30s;
       subscriber.coreCount() < static_cast<uint64_t>(count) && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(subscriber.coreCount(), static_cast<uint64_t>(count)) << worker.log();
  EXPECT_NE(worker.log().find("core publish + flush (publish: core"), std::string::npos) << worker.log();
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
}

// #18 item 10: the worker verifies the NATS server's name against its certificate. Both servers'
// certificates come from a CA the worker trusts; only the one for 127.0.0.1 gets past the handshake
// (to the next thing a fresh server lacks: the stream).
TEST(NatsTlsIntegration, RefusesACertificateForAnotherName) {
  sluice::testing::TlsNatsServer right({"IP:127.0.0.1"});
  ASSERT_TRUE(right.ok()) << right.error();
  sluice::testing::TlsNatsServer wrong({"DNS:elsewhere.example"});
  ASSERT_TRUE(wrong.ok()) << wrong.error();
  NatsSettings settings;
  settings.stream = "TLS";
  settings.subjectPrefix = "tls-in";
  settings.consumer = "tls-c";
  settings.sinkUrl = "http://127.0.0.1:1/unused";
  auto withCa = [&](const sluice::testing::TlsNatsServer& server) {
    std::string yaml = manifest(server.url(), settings);
    const std::string anchor = "ackWaitSeconds: " + std::to_string(settings.ackWaitSeconds) + "}";
    return yaml.replace(yaml.find(anchor), anchor.size(),
                        "ackWaitSeconds: " + std::to_string(settings.ackWaitSeconds) + ", tls: {caFile: \"" +
                            server.caFile() + "\"}}");
  };
  {
    WorkerProcess refused("nats-tls-wrong-name", withCa(wrong));
    EXPECT_NE(refused.waitExit(30s).value_or(0), 0) << refused.log();
    EXPECT_NE(refused.log().find("mismatch"), std::string::npos) << refused.log();
  }
  WorkerProcess connected("nats-tls-right-name", withCa(right));
  EXPECT_NE(connected.waitExit(30s).value_or(0), 0) << connected.log();
  EXPECT_NE(connected.log().find("nats stream 'TLS' does not exist"), std::string::npos) << connected.log();
  EXPECT_EQ(connected.log().find("mismatch"), std::string::npos) << connected.log();
}

// NKey authentication with only the seed in the Secret: a nats-server of our own (Debian's, on a free
// loopback port) knows one NKey user; the worker derives the public key from the seed file, nats.c
// signs the server's nonce with the seed, the server checks it against the configured key. A worker
// holding another user's seed is refused.
bool listening(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

TEST(NatsNkeyAuthIntegration, ConsumesWithOnlyTheSeedFile) {
  // Made with `nk -gen user -pubout` (nkeys v0.4.7) for these tests only; they grant nothing elsewhere.
  const std::string seed = "SUAJ437U6UX464YIMFJ6HHZM5PASZ24REIP6SQEPK4YVYANNWI44KJ2BGE";
  const std::string pub = "UASB6V4RZFTYB2UQZHGJ3OJPA3YZ3Z4RAWA3WG5LDNCCQKSR36RXBVVR";
  const std::string otherSeed =
      "SUAMGFSIMRTFVC2OCIM6LK2MX4765VQRSIO3FX2JPCZDXGABDS7YMUGZCI";  // a user the server does not know
  const std::string dir = "/tmp/" + uniqueName("sluice-nkey");
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/js").c_str()), 0);
  const int port = freeLoopbackPort();
  const std::string url = "nats://127.0.0.1:" + std::to_string(port);
  std::ofstream(dir + "/nats.conf") << "listen: 127.0.0.1:" << port << "\njetstream {store_dir: \"" << dir
                                    << "/js\", max_mem: 64M, max_file: 64M}\nauthorization {users: [{nkey: "
                                    << pub << "}]}\n";
  std::ofstream(dir + "/user.nk") << seed << "\n";
  const pid_t server = fork();
  if (server == 0) {
    freopen((dir + "/nats.log").c_str(), "w", stderr);
    execlp("nats-server", "nats-server", "-c", (dir + "/nats.conf").c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ASSERT_GT(server, 0);
  struct Reap {
    pid_t pid;
    ~Reap() {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  } reap{server};
  bool up = false;
  for (auto end = std::chrono::steady_clock::now() + 20s; !up && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(100ms);
    up = listening(port);
  }
  ASSERT_TRUE(up) << "nats-server did not come up on " << url;
  NatsTestClient client(url, dir + "/user.nk", pub);
  NatsSettings settings;
  settings.stream = "NKEY";
  settings.subjectPrefix = "nkey-in";
  settings.consumer = "nkey-c";
  client.createStream(settings.stream, {settings.subjectPrefix + ".>"});
  client.publish(keyedRecords(settings.subjectPrefix, 200, 5));
  HttpReceiver receiver;
  settings.sinkUrl = receiver.url();
  auto withSeed = [&](const std::string& file) {
    std::string yaml = manifest(url, settings);
    const std::string anchor = "ackWaitSeconds: " + std::to_string(settings.ackWaitSeconds) + "}";
    return yaml.replace(yaml.find(anchor), anchor.size(),
                        "ackWaitSeconds: " + std::to_string(settings.ackWaitSeconds) +
                            ", auth: {nkeySeedFile: \"" + file + "\"}}");
  };
  {
    std::ofstream(dir + "/other.nk") << otherSeed << "\n";
    WorkerProcess refused("nats-nkey-refused", withSeed(dir + "/other.nk"));
    EXPECT_NE(refused.waitExit(30s).value_or(0), 0) << refused.log();
    EXPECT_NE(refused.log().find("Authorization Violation"), std::string::npos) << refused.log();
    EXPECT_EQ(receiver.distinctValues(), 0u);
  }
  WorkerProcess worker("nats-nkey", withSeed(dir + "/user.nk"));
  ASSERT_TRUE(receiver.waitForDistinct(200, 30s)) << worker.log();
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.waitExit(30s), 0) << worker.log();
  EXPECT_EQ(client.consumer(settings.stream, settings.consumer)->numAckPending, 0);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace sluice::worker::testing

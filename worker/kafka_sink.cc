// The librdkafka producer behind KafkaSink and KafkaDeadLetterSink. A background thread serves
// delivery reports; deliver()/send() wait for the reports of their own messages, so lanes can
// produce concurrently. Each message times out on its own (message.timeout.ms = the sink timeout,
// producerProperties): a call never purges the queue, which holds other lanes' messages too.
#include "worker/kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "clients/rdkafka_conf.h"

namespace sluice::worker {
namespace {

// Sizes of a message a produce error names.
struct MessageSize {
  size_t valueBytes = 0;
  size_t keyBytes = 0;
};

// Delivery reports of one deliver()/send() call.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  size_t outstanding = 0;
  rd_kafka_resp_err_t firstError = RD_KAFKA_RESP_ERR_NO_ERROR;
  MessageSize firstMessage;
};

bool isTerminal(rd_kafka_resp_err_t e) {
  switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

class Producer {
 public:
  ~Producer() {
    stop_ = true;
    if (poller_.joinable()) poller_.join();
    if (rk_) rd_kafka_flush(rk_.get(), 5000);
  }

  common::Status open(const KafkaProperties& properties) {
    auto conf = clients::makeKafkaConf(properties, "kafka producer");
    if (!conf) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &Producer::onDelivery);
    char err[512];
    rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof(err)));
    if (!rk_) return common::invalidArgument(std::string("kafka producer: ") + err);
    (void)conf->release();  // rd_kafka_new took it
    poller_ = std::thread([this] {
      while (!stop_) rd_kafka_poll(rk_.get(), 100);
    });
    return common::Status::ok();
  }

  // Produces every message and waits for all delivery reports (or the timeout).
  DeliveryResult produce(
      const std::string& topic, std::span<const Message> batch,
      const std::function<std::vector<std::pair<std::string, std::string>>(const Message&)>& headersOf,
      common::Millis timeout) {
    Pending pending;
    for (const auto& m : batch) {
      if (auto e = produceOne(topic, m, headersOf(m), pending); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        waitFor(pending, timeout);
        return failure(topic, {m.value.size(), m.key ? m.key->size() : 0}, e);
      }
    }
    waitFor(pending, timeout);
    if (pending.firstError == RD_KAFKA_RESP_ERR_NO_ERROR) return DeliveryResult::delivered();
    return failure(topic, pending.firstMessage, pending.firstError);
  }

 private:
  // A produce error as a delivery result: terminal when no retry can succeed, with what to change.
  static DeliveryResult failure(const std::string& topic, const MessageSize& m, rd_kafka_resp_err_t e) {
    std::string error = "kafka produce to " + topic + ": " + rd_kafka_err2str(e);
    if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || e == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE) {
      error += " (a message with a " + std::to_string(m.valueBytes) + "-byte value and a " +
               std::to_string(m.keyBytes) +
               "-byte key, headers not counted, is over the producer's message.max.bytes (1000000) or "
               "the topic's max.message.bytes: it cannot succeed on retry; the processing step must "
               "make such messages smaller)";
    }
    return isTerminal(e) ? DeliveryResult::terminal(error) : DeliveryResult::retryable(error);
  }

  static void onDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* pending = static_cast<Pending*>(m->_private);
    std::lock_guard<std::mutex> lock(pending->mu);
    if (m->err && pending->firstError == RD_KAFKA_RESP_ERR_NO_ERROR) {
      pending->firstError = m->err;
      pending->firstMessage = {m->len, m->key_len};
    }
    if (--pending->outstanding == 0) pending->cv.notify_all();
  }

  rd_kafka_resp_err_t produceOne(const std::string& topic, const Message& m,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 Pending& pending) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [name, value] : headers) {
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    {
      std::lock_guard<std::mutex> lock(pending.mu);
      ++pending.outstanding;
    }
    const void* key = m.key ? m.key->data() : nullptr;
    const size_t keySize = m.key ? m.key->size() : 0;
    const auto e = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()), RD_KAFKA_V_KEY(key, keySize),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&pending), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(hdrs);
      std::lock_guard<std::mutex> lock(pending.mu);
      --pending.outstanding;
    }
    return e;
  }

  // The reports reference `pending` on our stack, so this returns only once every one has come.
  // librdkafka fails each message by itself (_MSG_TIMED_OUT) at its message.timeout.ms, the sink's
  // `timeout` (producerProperties), so the wait ends about then; past twice that it logs once.
  void waitFor(Pending& pending, common::Millis timeout) {
    std::unique_lock<std::mutex> lock(pending.mu);
    if (pending.cv.wait_for(lock, 2 * timeout, [&] { return pending.outstanding == 0; })) return;
    spdlog::warn("kafka producer: {} delivery report(s) still outstanding after {} ms; waiting for them",
                 pending.outstanding, 2 * timeout.count());
    pending.cv.wait(lock, [&] { return pending.outstanding == 0; });
  }

  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk_{nullptr, &rd_kafka_destroy};
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

class KafkaSink final : public Sink {
 public:
  KafkaSink(std::string topic, common::Millis timeout) : topic_(std::move(topic)), timeout_(timeout) {}
  common::Status open(const KafkaProperties& properties) { return producer_.open(properties); }
  DeliveryResult deliver(std::span<const Message> batch) override {
    return producer_.produce(
        topic_, batch, [](const Message& m) { return m.headers; }, timeout_);
  }
  std::string describe() const override { return "kafka topic " + topic_; }

 private:
  std::string topic_;
  common::Millis timeout_;
  Producer producer_;
};

class KafkaDeadLetterSink final : public DeadLetterSink {
 public:
  KafkaDeadLetterSink(std::string topic, common::Millis timeout)
      : topic_(std::move(topic)), timeout_(timeout) {}
  common::Status open(const KafkaProperties& properties) { return producer_.open(properties); }
  common::Status send(const Message& message, const std::string& error, int attempts) override {
    auto result = producer_.produce(
        topic_, std::span<const Message>(&message, 1),
        [&](const Message& m) { return deadLetterHeaders(m, error, attempts); }, timeout_);
    if (result.outcome == DeliveryOutcome::kDelivered) return common::Status::ok();
    return common::unavailable("dead-letter topic " + topic_ + ": " + result.error);
  }
  std::string describe() const override { return "kafka topic " + topic_; }

 private:
  std::string topic_;
  common::Millis timeout_;
  Producer producer_;
};

}  // namespace

common::Result<std::unique_ptr<Sink>> makeKafkaSink(const KafkaProperties& properties,
                                                    const std::string& topic, common::Millis timeout) {
  auto sink = std::make_unique<KafkaSink>(topic, timeout);
  if (auto st = sink->open(properties); !st) return st;
  return std::unique_ptr<Sink>(std::move(sink));
}

common::Result<std::unique_ptr<DeadLetterSink>> makeKafkaDeadLetterSink(const KafkaProperties& properties,
                                                                        const std::string& topic,
                                                                        common::Millis timeout) {
  auto sink = std::make_unique<KafkaDeadLetterSink>(topic, timeout);
  if (auto st = sink->open(properties); !st) return st;
  return std::unique_ptr<DeadLetterSink>(std::move(sink));
}

}  // namespace sluice::worker

#include "worker/nats_sink.h"

#include <spdlog/spdlog.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

namespace sluice::worker {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Errors the stream reported for one publish call (ErrHandler runs on a nats.c thread).
struct PublishContext {
  JetStreamPtr js{nullptr, &jsCtx_Destroy};
  std::mutex mu;
  size_t errors = 0;
  bool terminal = false;
  bool noStream = false;  // the server answered "no responders": nothing captures the subject
  std::string firstError;
};

void onPublishError(jsCtx*, jsPubAckErr* pae, void* closure) {
  auto* ctx = static_cast<PublishContext*>(closure);
  std::lock_guard<std::mutex> lock(ctx->mu);
  if (ctx->errors++ == 0) {
    ctx->firstError =
        std::string(natsStatus_GetText(pae->Err)) + (pae->ErrText ? std::string(": ") + pae->ErrText : "");
  }
  if (pae->Err == NATS_MAX_PAYLOAD) ctx->terminal = true;
  if (pae->Err == NATS_NO_RESPONDERS) ctx->noStream = true;
}

// Header values are one line on the wire.
std::string oneLine(std::string value) {
  for (auto& c : value) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return value;
}

class Publisher {
 public:
  Publisher(std::string subject, spec::NatsPublish mode, common::Millis timeout)
      : subject_(std::move(subject)), mode_(mode), timeout_(timeout) {}
  ~Publisher() {
    pool_.clear();
    if (nc_) natsConnection_FlushTimeout(nc_.get(), 2000);
  }

  common::Status open(const NatsEndpoint& endpoint) {
    auto nc = connectNats(endpoint);
    if (!nc) return nc.status();
    nc_ = std::move(*nc);
    if (mode_ == spec::NatsPublish::kCore) {
      spdlog::info("nats: '{}': core publish + flush (publish: core; nothing stores the messages)", subject_);
      return common::Status::ok();
    }
    // Only for the logs and describe(): every publish goes to JetStream and waits for an ack whatever
    // this lookup says, so a stream created (or a server elected) later is used without a restart.
    stream_ = streamFor(subject_);
    if (stream_.empty()) {
      spdlog::warn(
          "nats: no JetStream stream captures '{}' yet (or JetStream did not answer): deliveries fail and "
          "are retried until one does; create a stream for it, or set publish: core to publish "
          "without storage",
          subject_);
    } else {
      spdlog::info("nats: '{}' belongs to stream {}: JetStream publish with ack", subject_, stream_);
    }
    return common::Status::ok();
  }

  DeliveryResult publish(std::span<const Message> batch,
                         const std::function<Headers(const Message&)>& headersOf) {
    return mode_ == spec::NatsPublish::kCore ? publishCore(batch, headersOf)
                                             : publishJetStream(batch, headersOf);
  }

  std::string describe() const {
    if (mode_ == spec::NatsPublish::kCore) return "nats subject " + subject_ + " (core)";
    return "nats subject " + subject_ +
           (stream_.empty() ? std::string(" (JetStream)") : " (stream " + stream_ + ")");
  }

 private:
  // What the stream side is called in errors: its name when the start-up lookup found it.
  std::string streamName() const {
    return stream_.empty() ? "the stream capturing " + subject_ : "stream " + stream_;
  }

  // The stream whose subjects capture `subject` ($JS.API.STREAM.NAMES with a subject filter), or "".
  std::string streamFor(const std::string& subject) {
    natsMsg* reply = nullptr;
    const std::string request = nlohmann::json{{"subject", subject}}.dump();
    if (natsConnection_RequestString(&reply, nc_.get(), "$JS.API.STREAM.NAMES", request.c_str(), 5000) !=
        NATS_OK) {
      return "";  // no JetStream on this server (no responders) or it did not answer
    }
    NatsMsgPtr owned(reply, &natsMsg_Destroy);
    const auto body = nlohmann::json::parse(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)),
                                            nullptr, false);
    if (body.is_discarded() || !body.contains("streams") || !body["streams"].is_array() ||
        body["streams"].empty()) {
      return "";
    }
    return body["streams"][0].get<std::string>();
  }

  common::Result<NatsMsgPtr> toNatsMsg(const Message& m, const Headers& headers) {
    natsMsg* raw = nullptr;
    if (auto s =
            natsMsg_Create(&raw, subject_.c_str(), nullptr, m.value.data(), static_cast<int>(m.value.size()));
        s != NATS_OK) {
      return common::internalError(natsError(s, "message"));
    }
    NatsMsgPtr msg(raw, &natsMsg_Destroy);
    for (const auto& [name, value] : headers) {
      // Expectations about the source stream's state would make the publish fail on the sink's.
      if (name.rfind("Nats-Expected", 0) == 0) continue;
      natsMsgHeader_Add(msg.get(), name.c_str(), oneLine(value).c_str());
    }
    return msg;
  }

  DeliveryResult publishCore(std::span<const Message> batch,
                             const std::function<Headers(const Message&)>& headersOf) {
    for (const auto& m : batch) {
      auto msg = toNatsMsg(m, headersOf(m));
      if (!msg) return DeliveryResult::terminal(msg.status().toString());
      if (auto s = natsConnection_PublishMsg(nc_.get(), msg->get()); s != NATS_OK) {
        const auto error = natsError(s, "publish to " + subject_);
        return s == NATS_MAX_PAYLOAD ? DeliveryResult::terminal(error) : DeliveryResult::retryable(error);
      }
    }
    if (auto s = natsConnection_FlushTimeout(nc_.get(), timeout_.count()); s != NATS_OK) {
      return DeliveryResult::retryable(natsError(s, "flush to " + subject_));
    }
    return DeliveryResult::delivered();
  }

  std::unique_ptr<PublishContext> takeContext() {
    {
      std::lock_guard<std::mutex> lock(poolMu_);
      if (!pool_.empty()) {
        auto ctx = std::move(pool_.back());
        pool_.pop_back();
        return ctx;
      }
    }
    auto ctx = std::make_unique<PublishContext>();
    jsOptions opts;
    jsOptions_Init(&opts);
    opts.Wait = timeout_.count();
    opts.PublishAsync.ErrHandler = &onPublishError;
    opts.PublishAsync.ErrHandlerClosure = ctx.get();
    jsCtx* js = nullptr;
    if (natsConnection_JetStream(&js, nc_.get(), &opts) != NATS_OK) return nullptr;
    ctx->js.reset(js);
    return ctx;
  }

  void giveBack(std::unique_ptr<PublishContext> ctx) {
    ctx->errors = 0;
    ctx->terminal = false;
    ctx->noStream = false;
    ctx->firstError.clear();
    std::lock_guard<std::mutex> lock(poolMu_);
    pool_.push_back(std::move(ctx));
  }

  DeliveryResult publishJetStream(std::span<const Message> batch,
                                  const std::function<Headers(const Message&)>& headersOf) {
    auto ctx = takeContext();
    if (!ctx) return DeliveryResult::retryable("nats: cannot create a JetStream context");
    for (const auto& m : batch) {
      auto msg = toNatsMsg(m, headersOf(m));
      if (!msg) return DeliveryResult::terminal(msg.status().toString());
      natsMsg* raw = msg->release();
      const natsStatus s = js_PublishMsgAsync(ctx->js.get(), &raw, nullptr);
      if (raw) natsMsg_Destroy(raw);  // not taken by the library
      if (s != NATS_OK) {
        drop(*ctx);
        return DeliveryResult::retryable(natsError(s, "publish to " + subject_));
      }
    }
    jsPubOptions opts;
    jsPubOptions_Init(&opts);
    opts.MaxWait = timeout_.count();
    if (auto s = js_PublishAsyncComplete(ctx->js.get(), &opts); s != NATS_OK) {
      drop(*ctx);
      return DeliveryResult::retryable(natsError(s, "waiting for acks from " + streamName()));
    }
    DeliveryResult result = DeliveryResult::delivered();
    {
      std::lock_guard<std::mutex> lock(ctx->mu);
      if (ctx->noStream) {
        result = DeliveryResult::retryable("no JetStream stream captures subject " + subject_ +
                                           " (the publish had no responder): create a stream whose subjects "
                                           "include it, or set publish: core to publish without storage");
      } else if (ctx->errors > 0) {
        const std::string error =
            streamName() + " refused " + std::to_string(ctx->errors) + " message(s): " + ctx->firstError;
        result = ctx->terminal ? DeliveryResult::terminal(error) : DeliveryResult::retryable(error);
      }
    }
    giveBack(std::move(ctx));
    return result;
  }

  // Publishes still waiting for an ack are forgotten (the whole batch is retried) and the context,
  // which may still receive their late acks, is not reused.
  void drop(PublishContext& ctx) {
    natsMsgList pending{nullptr, 0};
    if (js_PublishAsyncGetPendingList(&pending, ctx.js.get()) == NATS_OK) natsMsgList_Destroy(&pending);
  }

  std::string subject_;
  spec::NatsPublish mode_;
  common::Millis timeout_;
  std::string stream_;
  NatsConnectionPtr nc_{nullptr, &natsConnection_Destroy};
  std::mutex poolMu_;
  std::vector<std::unique_ptr<PublishContext>> pool_;
};

class NatsSink final : public Sink {
 public:
  NatsSink(std::string subject, spec::NatsPublish mode, common::Millis timeout)
      : publisher_(std::move(subject), mode, timeout) {}
  common::Status open(const NatsEndpoint& endpoint) { return publisher_.open(endpoint); }
  DeliveryResult deliver(std::span<const Message> batch) override {
    return publisher_.publish(batch, [](const Message& m) { return m.headers; });
  }
  std::string describe() const override { return publisher_.describe(); }

 private:
  Publisher publisher_;
};

class NatsDeadLetterSink final : public DeadLetterSink {
 public:
  // Dead letters always go to JetStream with acks: the original is terminated only once one is stored.
  NatsDeadLetterSink(std::string subject, common::Millis timeout)
      : publisher_(std::move(subject), spec::NatsPublish::kJetStream, timeout) {}
  common::Status open(const NatsEndpoint& endpoint) { return publisher_.open(endpoint); }
  common::Status send(const Message& message, const std::string& error, int attempts) override {
    auto result = publisher_.publish(std::span<const Message>(&message, 1),
                                     [&](const Message& m) { return deadLetterHeaders(m, error, attempts); });
    if (result.outcome == DeliveryOutcome::kDelivered) return common::Status::ok();
    return common::unavailable("dead-letter " + publisher_.describe() + ": " + result.error);
  }
  std::string describe() const override { return publisher_.describe(); }

 private:
  Publisher publisher_;
};

}  // namespace

common::Result<std::unique_ptr<Sink>> makeNatsSink(const NatsEndpoint& endpoint, const std::string& subject,
                                                   spec::NatsPublish mode, common::Millis timeout) {
  auto sink = std::make_unique<NatsSink>(subject, mode, timeout);
  if (auto st = sink->open(endpoint); !st) return st;
  return std::unique_ptr<Sink>(std::move(sink));
}

common::Result<std::unique_ptr<DeadLetterSink>> makeNatsDeadLetterSink(const NatsEndpoint& endpoint,
                                                                       const std::string& subject,
                                                                       common::Millis timeout) {
  auto sink = std::make_unique<NatsDeadLetterSink>(subject, timeout);
  if (auto st = sink->open(endpoint); !st) return st;
  return std::unique_ptr<DeadLetterSink>(std::move(sink));
}

}  // namespace sluice::worker

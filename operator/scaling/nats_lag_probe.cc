// The only file in operator/scaling that includes nats.c.
#include "operator/scaling/nats_lag_probe.h"

#include <nats/nats.h>

#include <algorithm>

#include "clients/nats_options.h"

namespace sluice::scaling {

using common::Result;
using common::Status;

class NatsConnection {
 public:
  NatsConnection(natsConnection* nc, jsCtx* js) : nc_(nc, &natsConnection_Destroy), js_(js, &jsCtx_Destroy) {}
  ~NatsConnection() {
    js_.reset();
    if (nc_) natsConnection_Close(nc_.get());
  }
  jsCtx* js() const { return js_.get(); }

 private:
  std::unique_ptr<natsConnection, decltype(&natsConnection_Destroy)> nc_;
  std::unique_ptr<jsCtx, decltype(&jsCtx_Destroy)> js_;
};

namespace {

std::string lastError(natsStatus s) {
  const char* text = nats_GetLastError(nullptr);
  return text != nullptr && *text != '\0' ? text : natsStatus_GetText(s);
}

Status natsError(natsStatus s, const std::string& what) {
  switch (s) {
    case NATS_TIMEOUT:
      return common::timeoutError(what + ": " + lastError(s));
    case NATS_NOT_FOUND:
      return common::notFound(what + ": " + lastError(s));
    default:
      return common::unavailable(what + ": " + lastError(s));
  }
}

Result<std::shared_ptr<NatsConnection>> connect(clients::NatsClientSettings c,
                                                std::chrono::milliseconds timeout) {
  c.connectTimeout = timeout;
  c.reconnect.maxAttempts = -1;  // keep trying; probes report failures
  auto opts = clients::makeNatsOptions(c);
  if (!opts) return opts.status().withContext("NATS connection options");
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts->get());
  const std::string where = c.servers.empty() ? std::string("NATS") : c.servers.front();
  if (s != NATS_OK) return natsError(s == NATS_NOT_FOUND ? NATS_NO_SERVER : s, "connecting to " + where);
  jsCtx* js = nullptr;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = timeout.count();
  s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) {
    natsConnection_Destroy(nc);
    return natsError(s, "JetStream context on " + where);
  }
  return std::make_shared<NatsConnection>(nc, js);
}

}  // namespace

NatsConnectionPool::NatsConnectionPool() = default;
NatsConnectionPool::~NatsConnectionPool() = default;

Result<std::shared_ptr<NatsConnection>> NatsConnectionPool::acquire(
    const clients::NatsClientSettings& settings, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = settings.key();
  if (auto existing = connections_[key].lock()) return existing;
  auto created = connect(settings, timeout);
  if (!created) return created.status();
  connections_[key] = *created;
  return created;
}

size_t NatsConnectionPool::liveConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count_if(connections_.begin(), connections_.end(),
                                           [](const auto& kv) { return !kv.second.expired(); }));
}

NatsLagProbe::NatsLagProbe(NatsConnectionPool& pool, NatsLagProbeConfig config)
    : pool_(pool), config_(std::move(config)) {}

Result<LagSnapshot> NatsLagProbe::probe() {
  if (!connection_) {
    auto acquired = pool_.acquire(config_.connection, config_.timeout);
    if (!acquired) return acquired.status();
    connection_ = *acquired;
  }
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = config_.timeout.count();
  const std::string what = "consumer " + config_.consumer + " of stream " + config_.stream;
  natsStatus s = js_GetConsumerInfo(&ci, connection_->js(), config_.stream.c_str(), config_.consumer.c_str(),
                                    &jo, &jerr);
  if (jerr == JSStreamNotFoundErr)
    return common::notFound("NATS stream " + config_.stream + " does not exist");
  if (jerr == JSConsumerNotFoundErr) return streamBacklog();
  if (s != NATS_OK) return natsError(s, "reading " + what);
  std::unique_ptr<jsConsumerInfo, decltype(&jsConsumerInfo_Destroy)> info(ci, &jsConsumerInfo_Destroy);
  LagSnapshot snap;
  const auto pending = static_cast<int64_t>(ci->NumPending);
  snap.totalLag = pending + ci->NumAckPending;
  snap.consumedSum = static_cast<int64_t>(ci->AckFloor.Consumer);
  snap.producedSum = snap.consumedSum + snap.totalLag;
  return snap;
}

Result<LagSnapshot> NatsLagProbe::streamBacklog() {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = config_.timeout.count();
  if (!config_.filterSubject.empty()) jo.Stream.Info.SubjectsFilter = config_.filterSubject.c_str();
  natsStatus s = js_GetStreamInfo(&si, connection_->js(), config_.stream.c_str(), &jo, &jerr);
  if (jerr == JSStreamNotFoundErr)
    return common::notFound("NATS stream " + config_.stream + " does not exist");
  if (s != NATS_OK) return natsError(s, "reading stream " + config_.stream);
  std::unique_ptr<jsStreamInfo, decltype(&jsStreamInfo_Destroy)> info(si, &jsStreamInfo_Destroy);
  int64_t backlog = static_cast<int64_t>(si->State.Msgs);
  if (!config_.filterSubject.empty()) {
    backlog = 0;
    const jsStreamStateSubjects* subjects = si->State.Subjects;
    for (int i = 0; subjects != nullptr && i < subjects->Count; ++i) {
      backlog += static_cast<int64_t>(subjects->List[i].Msgs);
    }
  }
  LagSnapshot snap;
  snap.totalLag = backlog;
  snap.consumedSum = 0;
  snap.producedSum = backlog;
  return snap;
}

}  // namespace sluice::scaling

// The only file in operator/scaling that includes nats.c.
#include "operator/scaling/nats_lag_probe.h"

#include <nats/nats.h>

#include <algorithm>

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
    case NATS_TIMEOUT: return common::timeoutError(what + ": " + lastError(s));
    case NATS_NOT_FOUND: return common::notFound(what + ": " + lastError(s));
    default: return common::unavailable(what + ": " + lastError(s));
  }
}

natsStatus applyTls(natsOptions* opts, const NatsConnectionSettings& c) {
  if (!c.tls) return NATS_OK;
  natsStatus s = natsOptions_SetSecure(opts, true);
  if (s == NATS_OK && !c.caPem.empty()) {
    s = natsOptions_SetCATrustedCertificates(opts, c.caPem.c_str());
  } else if (s == NATS_OK && !c.caFile.empty()) {
    s = natsOptions_LoadCATrustedCertificates(opts, c.caFile.c_str());
  }
  if (s == NATS_OK && !c.certPem.empty()) s = natsOptions_SetCertificatesChain(opts, c.certPem.c_str(), c.keyPem.c_str());
  if (s == NATS_OK && c.insecureSkipVerify) s = natsOptions_SkipServerVerification(opts, true);
  return s;
}

natsStatus applyCredentials(natsOptions* opts, const NatsConnectionSettings& c) {
  if (!c.credsFile.empty()) return natsOptions_SetUserCredentialsFromFiles(opts, c.credsFile.c_str(), nullptr);
  if (!c.token.empty()) return natsOptions_SetToken(opts, c.token.c_str());
  if (!c.username.empty()) return natsOptions_SetUserInfo(opts, c.username.c_str(), c.password.c_str());
  return NATS_OK;
}

Result<std::shared_ptr<NatsConnection>> connect(const NatsConnectionSettings& c, std::chrono::milliseconds timeout) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) return common::internalError("natsOptions_Create failed");
  std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> opts(raw, &natsOptions_Destroy);
  std::vector<const char*> servers;
  for (const std::string& s : c.servers) servers.push_back(s.c_str());
  natsStatus s = natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.get(), timeout.count());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), -1);  // keep trying; probes report failures
  if (s == NATS_OK) s = applyTls(opts.get(), c);
  if (s == NATS_OK) s = applyCredentials(opts.get(), c);
  if (s != NATS_OK) return common::invalidArgument("NATS connection options: " + lastError(s));
  natsConnection* nc = nullptr;
  s = natsConnection_Connect(&nc, opts.get());
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

std::string NatsConnectionSettings::key() const {
  std::string k;
  for (const std::string& s : servers) k += s + ',';
  k += '\n' + credsFile + '\n' + token + '\n' + username + '\n' + password;
  return k + '\n' + (tls ? "tls" : "") + (insecureSkipVerify ? "-insecure" : "") + '\n' + caPem + '\n' + caFile + '\n' +
         certPem + '\n' + keyPem;
}

NatsConnectionPool::NatsConnectionPool() = default;
NatsConnectionPool::~NatsConnectionPool() = default;

Result<std::shared_ptr<NatsConnection>> NatsConnectionPool::acquire(const NatsConnectionSettings& settings,
                                                                     std::chrono::milliseconds timeout) {
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
  return static_cast<size_t>(
      std::count_if(connections_.begin(), connections_.end(), [](const auto& kv) { return !kv.second.expired(); }));
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
  natsStatus s = js_GetConsumerInfo(&ci, connection_->js(), config_.stream.c_str(), config_.consumer.c_str(), &jo, &jerr);
  if (jerr == JSStreamNotFoundErr) return common::notFound("NATS stream " + config_.stream + " does not exist");
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
  if (jerr == JSStreamNotFoundErr) return common::notFound("NATS stream " + config_.stream + " does not exist");
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

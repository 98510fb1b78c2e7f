#include "worker/nats_connection.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "worker/nkey.h"

namespace sluice::worker {
namespace {

using OptionsPtr = std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)>;

common::Result<std::string> readSecretFile(const std::string& path, const std::string& field) {
  std::ifstream in(path);
  if (!in) return common::invalidArgument(field + ": cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

common::Status check(natsStatus s, const std::string& what) {
  if (s == NATS_OK) return common::Status::ok();
  return common::invalidArgument(natsError(s, what));
}

void onDisconnected(natsConnection* nc, void* closure) {
  // nats.c also reports a deliberate natsConnection_Close (on stop) as a disconnect.
  if (natsConnection_IsClosed(nc)) return;
  spdlog::warn("nats {}: disconnected, reconnecting", static_cast<const char*>(closure));
}

void onReconnected(natsConnection*, void* closure) {
  spdlog::info("nats {}: reconnected", static_cast<const char*>(closure));
}

void onAsyncError(natsConnection*, natsSubscription*, natsStatus err, void* closure) {
  spdlog::warn("nats {}: {}", static_cast<const char*>(closure), natsStatus_GetText(err));
}

common::Status applyTls(natsOptions* opts, const spec::TlsSpec& tls) {
  if (!tls.enabled) return common::Status::ok();
  if (auto st = check(natsOptions_SetSecure(opts, true), "tls"); !st) return st;
  if (!tls.caFile.empty()) {
    if (auto st = check(natsOptions_LoadCATrustedCertificates(opts, tls.caFile.c_str()), "tls.caFile " + tls.caFile); !st) {
      return st;
    }
  }
  if (!tls.certFile.empty() || !tls.keyFile.empty()) {
    const auto s = natsOptions_LoadCertificatesChain(opts, tls.certFile.c_str(), tls.keyFile.c_str());
    if (auto st = check(s, "tls.certFile/keyFile " + tls.certFile); !st) return st;
  }
  if (tls.insecureSkipVerify) return check(natsOptions_SkipServerVerification(opts, true), "tls.insecureSkipVerify");
  return common::Status::ok();
}

common::Status applyAuth(natsOptions* opts, const spec::NatsAuthSpec& auth) {
  if (!auth.credsFile.empty()) {
    return check(natsOptions_SetUserCredentialsFromFiles(opts, auth.credsFile.c_str(), nullptr),
                 "auth.credsFile " + auth.credsFile);
  }
  if (!auth.nkeySeedFile.empty()) {
    // nats.c signs the server's nonce with the seed it reads from the file, and wants the user's
    // public key beside it: derived from the same seed, so the Secret needs only the seed.
    auto content = readSecretFile(auth.nkeySeedFile, "auth.nkeySeedFile");
    if (!content) return content.status();
    auto pub = nkeyPublicKey(nkeySeedIn(*content));
    if (!pub) return common::invalidArgument("auth.nkeySeedFile " + auth.nkeySeedFile + ": " + pub.status().message());
    return check(natsOptions_SetNKeyFromSeed(opts, pub->c_str(), auth.nkeySeedFile.c_str()), "auth.nkeySeedFile");
  }
  if (!auth.tokenFile.empty()) {
    auto token = readSecretFile(auth.tokenFile, "auth.tokenFile");
    if (!token) return token.status();
    return check(natsOptions_SetToken(opts, token->c_str()), "auth.tokenFile");
  }
  if (!auth.usernameFile.empty()) {
    auto user = readSecretFile(auth.usernameFile, "auth.usernameFile");
    if (!user) return user.status();
    auto password = auth.passwordFile.empty() ? common::Result<std::string>(std::string())
                                              : readSecretFile(auth.passwordFile, "auth.passwordFile");
    if (!password) return password.status();
    return check(natsOptions_SetUserInfo(opts, user->c_str(), password->c_str()), "auth.usernameFile");
  }
  return common::Status::ok();
}

common::Status applyReconnect(natsOptions* opts) {
  // Forever, 1 s apart with up to 1 s (2 s with TLS) of jitter so a fleet does not reconnect in step;
  // 8 MiB of publishes (acks) are buffered while disconnected.
  if (auto st = check(natsOptions_SetMaxReconnect(opts, -1), "reconnect"); !st) return st;
  if (auto st = check(natsOptions_SetReconnectWait(opts, 1000), "reconnect"); !st) return st;
  if (auto st = check(natsOptions_SetReconnectJitter(opts, 1000, 2000), "reconnect"); !st) return st;
  return check(natsOptions_SetReconnectBufSize(opts, 8 * 1024 * 1024), "reconnect");
}

}  // namespace

std::string natsError(natsStatus status, const std::string& what) {
  std::string text = "nats " + what + ": " + natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail && *detail && last == status) {
    text += std::string(" (") + detail + ")";
  }
  return text;
}

common::Result<NatsConnectionPtr> connectNats(const NatsEndpoint& endpoint) {
  if (endpoint.servers.empty()) return common::invalidArgument("nats " + endpoint.name + ": no servers configured");
  natsOptions* raw = nullptr;
  if (auto st = check(natsOptions_Create(&raw), "options"); !st) return st;
  OptionsPtr opts(raw, &natsOptions_Destroy);
  std::vector<const char*> servers;
  for (const auto& s : endpoint.servers) servers.push_back(s.c_str());
  if (auto st = check(natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size())), "servers"); !st) {
    return st;
  }
  if (auto st = check(natsOptions_SetName(opts.get(), endpoint.name.c_str()), "name"); !st) return st;
  if (auto st = applyReconnect(opts.get()); !st) return st;
  // The closure outlives every connection: endpoint names are per process, so intern them.
  static std::mutex namesMu;
  static std::vector<std::unique_ptr<std::string>> names;
  const char* closure = nullptr;
  {
    std::lock_guard<std::mutex> lock(namesMu);
    names.push_back(std::make_unique<std::string>(endpoint.name));
    closure = names.back()->c_str();
  }
  natsOptions_SetDisconnectedCB(opts.get(), &onDisconnected, const_cast<char*>(closure));
  natsOptions_SetReconnectedCB(opts.get(), &onReconnected, const_cast<char*>(closure));
  natsOptions_SetErrorHandler(opts.get(), &onAsyncError, const_cast<char*>(closure));
  if (endpoint.tls) {
    if (auto st = applyTls(opts.get(), *endpoint.tls); !st) return st.withContext("nats " + endpoint.name);
  }
  if (endpoint.auth) {
    if (auto st = applyAuth(opts.get(), *endpoint.auth); !st) return st.withContext("nats " + endpoint.name);
  }
  natsConnection* nc = nullptr;
  if (const auto s = natsConnection_Connect(&nc, opts.get()); s != NATS_OK) {
    return common::unavailable(natsError(s, endpoint.name + " connect to " + endpoint.servers.front()));
  }
  return NatsConnectionPtr(nc, &natsConnection_Destroy);
}

common::Result<JetStreamPtr> jetStream(natsConnection* connection) {
  jsCtx* js = nullptr;
  jsOptions opts;
  jsOptions_Init(&opts);
  opts.Wait = 10000;
  if (const auto s = natsConnection_JetStream(&js, connection, &opts); s != NATS_OK) {
    return common::unavailable(natsError(s, "jetstream context"));
  }
  return JetStreamPtr(js, &jsCtx_Destroy);
}

NatsEndpoint destinationEndpoint(const std::vector<std::string>& own, const spec::PipelineSpec& spec,
                                 const std::string& name) {
  NatsEndpoint endpoint;
  endpoint.name = name;
  if (!own.empty() && !(spec.source.nats && spec.source.nats->servers == own)) {
    endpoint.servers = own;
    return endpoint;
  }
  // The source's cluster: the same servers, so the same TLS and credentials.
  if (spec.source.nats) {
    endpoint.servers = spec.source.nats->servers;
    endpoint.tls = spec.source.nats->tls;
    endpoint.auth = spec.source.nats->auth;
  }
  return endpoint;
}

}  // namespace sluice::worker

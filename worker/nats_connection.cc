#include "worker/nats_connection.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "clients/nats_options.h"
#include "worker/nkey.h"

namespace sluice::worker {
namespace {

common::Result<std::string> readSecretFile(const std::string& path, const std::string& field) {
  std::ifstream in(path);
  if (!in) return common::invalidArgument(field + ": cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
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

// The first way the spec names (credentials file, NKey seed, token, user + password), its secrets
// read from the files mounted from a Secret.
common::Result<clients::NatsAuth> resolveAuth(const spec::NatsAuthSpec& auth) {
  clients::NatsAuth out;
  if (!auth.credsFile.empty()) {
    out.credsFile = auth.credsFile;
    return out;
  }
  if (!auth.nkeySeedFile.empty()) {
    // nats.c signs the server's nonce with the seed it reads from the file, and wants the user's
    // public key beside it: derived from the same seed, so the Secret needs only the seed.
    auto content = readSecretFile(auth.nkeySeedFile, "auth.nkeySeedFile");
    if (!content) return content.status();
    auto pub = nkeyPublicKey(nkeySeedIn(*content));
    if (!pub)
      return common::invalidArgument("auth.nkeySeedFile " + auth.nkeySeedFile + ": " +
                                     pub.status().message());
    out.nkeySeedFile = auth.nkeySeedFile;
    out.nkeyPublicKey = *pub;
    return out;
  }
  if (!auth.tokenFile.empty()) {
    auto token = readSecretFile(auth.tokenFile, "auth.tokenFile");
    if (!token) return token.status();
    out.token = *token;
    return out;
  }
  if (!auth.usernameFile.empty()) {
    auto user = readSecretFile(auth.usernameFile, "auth.usernameFile");
    if (!user) return user.status();
    auto password = auth.passwordFile.empty() ? common::Result<std::string>(std::string())
                                              : readSecretFile(auth.passwordFile, "auth.passwordFile");
    if (!password) return password.status();
    out.username = *user;
    out.password = *password;
  }
  return out;
}

common::Result<clients::NatsClientSettings> clientSettings(const NatsEndpoint& endpoint) {
  clients::NatsClientSettings settings;
  settings.servers = endpoint.servers;
  settings.name = endpoint.name;
  // Forever, 1 s apart with up to 1 s (2 s with TLS) of jitter so a fleet does not reconnect in step;
  // 8 MiB of publishes (acks) are buffered while disconnected.
  settings.reconnect.maxAttempts = -1;
  settings.reconnect.wait = std::chrono::milliseconds(1000);
  settings.reconnect.jitter = std::chrono::milliseconds(1000);
  settings.reconnect.jitterTls = std::chrono::milliseconds(2000);
  settings.reconnect.bufferBytes = 8 * 1024 * 1024;
  if (endpoint.tls && endpoint.tls->enabled) {
    const spec::TlsSpec& tls = *endpoint.tls;
    settings.tls.emplace();
    settings.tls->caFile = tls.caFile;
    settings.tls->certFile = tls.certFile;
    settings.tls->keyFile = tls.keyFile;
    settings.tls->insecureSkipVerify = tls.insecureSkipVerify;
  }
  if (!endpoint.auth) return settings;
  auto auth = resolveAuth(*endpoint.auth);
  if (!auth) return auth.status();
  settings.auth = std::move(*auth);
  return settings;
}

}  // namespace

std::string natsError(natsStatus status, const std::string& what) {
  return clients::natsErrorText(status, what);
}

common::Result<NatsConnectionPtr> connectNats(const NatsEndpoint& endpoint) {
  if (endpoint.servers.empty())
    return common::invalidArgument("nats " + endpoint.name + ": no servers configured");
  auto settings = clientSettings(endpoint);
  if (!settings) return settings.status().withContext("nats " + endpoint.name);
  auto opts = clients::makeNatsOptions(*settings);
  if (!opts) return opts.status().withContext("nats " + endpoint.name);
  // The closure outlives every connection: endpoint names are per process, so intern them.
  static std::mutex namesMu;
  static std::vector<std::unique_ptr<std::string>> names;
  const char* closure = nullptr;
  {
    std::lock_guard<std::mutex> lock(namesMu);
    names.push_back(std::make_unique<std::string>(endpoint.name));
    closure = names.back()->c_str();
  }
  natsOptions_SetDisconnectedCB(opts->get(), &onDisconnected, const_cast<char*>(closure));
  natsOptions_SetReconnectedCB(opts->get(), &onReconnected, const_cast<char*>(closure));
  natsOptions_SetErrorHandler(opts->get(), &onAsyncError, const_cast<char*>(closure));
  natsConnection* nc = nullptr;
  if (const auto s = natsConnection_Connect(&nc, opts->get()); s != NATS_OK) {
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

NatsEndpoint destinationEndpoint(const std::vector<std::string>& own,
                                 const std::optional<spec::TlsSpec>& ownTls,
                                 const std::optional<spec::NatsAuthSpec>& ownAuth,
                                 const spec::PipelineSpec& spec, const std::string& name) {
  NatsEndpoint endpoint;
  endpoint.name = name;
  const bool sourceCluster = spec.source.nats && (own.empty() || spec.source.nats->servers == own);
  endpoint.servers = own.empty() && spec.source.nats ? spec.source.nats->servers : own;
  // The source's cluster: the same TLS and credentials, unless the destination sets its own.
  endpoint.tls = ownTls ? ownTls : (sourceCluster ? spec.source.nats->tls : std::nullopt);
  endpoint.auth = ownAuth ? ownAuth : (sourceCluster ? spec.source.nats->auth : std::nullopt);
  return endpoint;
}

}  // namespace sluice::worker

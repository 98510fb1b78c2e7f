// The only file in clients/ that includes nats.c.
#include "clients/nats_options.h"

#include <nats/nats.h>

#include <string>
#include <vector>

namespace sluice::clients {
namespace {

common::Status check(natsStatus status, const std::string& what) {
  if (status == NATS_OK) return common::Status::ok();
  return common::invalidArgument(natsErrorText(status, what));
}

common::Status applyTls(natsOptions* opts, const NatsTls& tls) {
  if (auto st = check(natsOptions_SetSecure(opts, true), "tls"); !st) return st;
  if (!tls.caPem.empty()) {
    if (auto st = check(natsOptions_SetCATrustedCertificates(opts, tls.caPem.c_str()), "tls CA"); !st)
      return st;
  } else if (!tls.caFile.empty()) {
    const auto s = natsOptions_LoadCATrustedCertificates(opts, tls.caFile.c_str());
    if (auto st = check(s, "tls.caFile " + tls.caFile); !st) return st;
  }
  if (!tls.certPem.empty()) {
    const auto s = natsOptions_SetCertificatesChain(opts, tls.certPem.c_str(), tls.keyPem.c_str());
    if (auto st = check(s, "tls client certificate"); !st) return st;
  } else if (!tls.certFile.empty() || !tls.keyFile.empty()) {
    const auto s = natsOptions_LoadCertificatesChain(opts, tls.certFile.c_str(), tls.keyFile.c_str());
    if (auto st = check(s, "tls.certFile/keyFile " + tls.certFile); !st) return st;
  }
  if (tls.insecureSkipVerify)
    return check(natsOptions_SkipServerVerification(opts, true), "tls.insecureSkipVerify");
  return common::Status::ok();
}

common::Status applyAuth(natsOptions* opts, const NatsAuth& auth) {
  if (!auth.credsFile.empty()) {
    return check(natsOptions_SetUserCredentialsFromFiles(opts, auth.credsFile.c_str(), nullptr),
                 "auth.credsFile " + auth.credsFile);
  }
  if (!auth.nkeySeedFile.empty()) {
    return check(natsOptions_SetNKeyFromSeed(opts, auth.nkeyPublicKey.c_str(), auth.nkeySeedFile.c_str()),
                 "auth.nkeySeedFile");
  }
  if (!auth.token.empty()) return check(natsOptions_SetToken(opts, auth.token.c_str()), "auth.tokenFile");
  if (!auth.username.empty()) {
    return check(natsOptions_SetUserInfo(opts, auth.username.c_str(), auth.password.c_str()),
                 "auth.usernameFile");
  }
  return common::Status::ok();
}

common::Status applyReconnect(natsOptions* opts, const NatsReconnect& r) {
  if (auto st = check(natsOptions_SetMaxReconnect(opts, r.maxAttempts), "reconnect"); !st) return st;
  if (r.wait) {
    if (auto st = check(natsOptions_SetReconnectWait(opts, r.wait->count()), "reconnect"); !st) return st;
  }
  if (r.jitter) {
    const auto s = natsOptions_SetReconnectJitter(opts, r.jitter->count(), r.jitterTls.count());
    if (auto st = check(s, "reconnect"); !st) return st;
  }
  if (!r.bufferBytes) return common::Status::ok();
  return check(natsOptions_SetReconnectBufSize(opts, *r.bufferBytes), "reconnect");
}

}  // namespace

std::string natsErrorText(int status, const std::string& what) {
  const auto code = static_cast<natsStatus>(status);
  std::string text = "nats " + what + ": " + natsStatus_GetText(code);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail && *detail && last == code) {
    text += std::string(" (") + detail + ")";
  }
  return text;
}

void NatsOptionsDeleter::operator()(natsOptions* options) const { natsOptions_Destroy(options); }

common::Result<NatsOptionsPtr> makeNatsOptions(const NatsClientSettings& settings) {
  natsOptions* raw = nullptr;
  if (auto st = check(natsOptions_Create(&raw), "options"); !st) return st;
  NatsOptionsPtr opts(raw);
  std::vector<const char*> servers;
  for (const auto& s : settings.servers) servers.push_back(s.c_str());
  const auto s = natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size()));
  if (auto st = check(s, "servers"); !st) return st;
  if (!settings.name.empty()) {
    if (auto st = check(natsOptions_SetName(opts.get(), settings.name.c_str()), "name"); !st) return st;
  }
  if (settings.connectTimeout) {
    if (auto st = check(natsOptions_SetTimeout(opts.get(), settings.connectTimeout->count()), "timeout"); !st)
      return st;
  }
  if (auto st = applyReconnect(opts.get(), settings.reconnect); !st) return st;
  if (settings.tls) {
    if (auto st = applyTls(opts.get(), *settings.tls); !st) return st;
  }
  if (auto st = applyAuth(opts.get(), settings.auth); !st) return st;
  return opts;
}

}  // namespace sluice::clients

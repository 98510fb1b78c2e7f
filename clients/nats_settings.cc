#include "clients/nats_settings.h"

namespace sluice::clients {

std::string NatsClientSettings::key() const {
  std::string k;
  for (const std::string& s : servers) k += s + ',';
  k += '\n' + name + '\n' + auth.credsFile + '\n' + auth.nkeySeedFile + '\n' + auth.token + '\n' +
       auth.username + '\n' + auth.password + '\n';
  if (!tls) return k;
  return k + (tls->insecureSkipVerify ? "tls-insecure" : "tls") + '\n' + tls->caPem + '\n' + tls->caFile +
         '\n' + tls->certPem + '\n' + tls->keyPem + '\n' + tls->certFile + '\n' + tls->keyFile;
}

}  // namespace sluice::clients

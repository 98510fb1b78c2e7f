#pragma once
// nats.c connection settings for the worker's source and sinks and the operator's lag probe alike:
// what nats_options.cc turns into a natsOptions. Pure data: the caller resolves the credentials
// (the worker from files mounted from a Secret, the operator from the Secret's data) and fills this.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sluice::clients {

struct NatsTls {
  // The CA: in memory (caPem) or a file (caFile); caPem wins. Neither: the system's CAs.
  std::string caPem;
  std::string caFile;
  // A client certificate and its key (mutual TLS): in memory, or as files.
  std::string certPem;
  std::string keyPem;
  std::string certFile;
  std::string keyFile;
  bool insecureSkipVerify = false;
};

// At most one way to authenticate is used, in this order: credsFile, NKey, token, user + password.
struct NatsAuth {
  std::string credsFile;     // a .creds file (JWT + NKey seed)
  std::string nkeySeedFile;  // with nkeyPublicKey: the user's NKey seed file and its public key
  std::string nkeyPublicKey;
  std::string token;
  std::string username;
  std::string password;
};

// How a connection reconnects after it was up once; nullopt: nats.c's default.
struct NatsReconnect {
  int maxAttempts = -1;  // -1: forever
  std::optional<std::chrono::milliseconds> wait;
  std::optional<std::chrono::milliseconds> jitter;  // with jitterTls
  std::chrono::milliseconds jitterTls{0};
  std::optional<int> bufferBytes;  // publishes buffered while disconnected
};

struct NatsClientSettings {
  std::vector<std::string> servers;
  std::string name;  // the connection name the server shows; empty: none
  std::optional<std::chrono::milliseconds> connectTimeout;
  NatsReconnect reconnect;
  std::optional<NatsTls> tls;  // nullopt: plain TCP
  NatsAuth auth;

  // Equal for settings that may share one connection (servers, name, TLS material, credentials).
  std::string key() const;
};

}  // namespace sluice::clients

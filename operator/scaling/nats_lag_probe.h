#pragma once
// NatsLagProbe: lag of a JetStream durable consumer = num_pending + num_ack_pending, from consumer
// info through the JetStream API (answered by the consumer's leader, so it is current).
// Connections are shared per (servers, credentials) by NatsConnectionPool, held while some probe
// uses them; nats.c connections are thread-safe. This header does not include nats.c;
// nats_lag_probe.cc is the only scaling file that does.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "operator/scaling/lag_probe.h"

namespace sluice::scaling {

struct NatsConnectionSettings {
  std::vector<std::string> servers;
  // Credentials the controller resolved from the spec and its Secrets (at most one way is used).
  std::string credsFile;
  std::string token;
  std::string username;
  std::string password;
  // TLS, PEM held in memory (the controller read it from a Secret; nothing is written to disk).
  bool tls = false;
  std::string caPem;    // empty: the system's CAs (caFile when it names their bundle)
  std::string caFile;   // without caPem: the system CA bundle to load (kube::systemCaBundle()), if named
  std::string certPem;  // client certificate and key (mutual TLS), both or neither
  std::string keyPem;
  bool insecureSkipVerify = false;
  std::string key() const;
};

class NatsConnection;  // defined in nats_lag_probe.cc

class NatsConnectionPool {
 public:
  NatsConnectionPool();
  ~NatsConnectionPool();
  NatsConnectionPool(const NatsConnectionPool&) = delete;
  NatsConnectionPool& operator=(const NatsConnectionPool&) = delete;

  common::Result<std::shared_ptr<NatsConnection>> acquire(const NatsConnectionSettings& settings,
                                                          std::chrono::milliseconds timeout);
  size_t liveConnections();

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<NatsConnection>> connections_;
};

struct NatsLagProbeConfig {
  NatsConnectionSettings connection;
  std::string stream;
  std::string consumer;
  // The consumer's filter. While the durable consumer does not exist yet (the first worker creates
  // it, DeliverAll), the backlog is every stream message matching this filter: without that, a
  // pipeline at zero replicas would never see lag and never scale from zero.
  std::string filterSubject;
  std::chrono::milliseconds timeout{5000};
};

class NatsLagProbe final : public LagProbe {
 public:
  NatsLagProbe(NatsConnectionPool& pool, NatsLagProbeConfig config);
  // NotFound when the stream does not exist; Unavailable/Timeout otherwise. A missing consumer
  // is not an error: its lag is the stream's matching messages (see filterSubject).
  common::Result<LagSnapshot> probe() override;

 private:
  common::Result<LagSnapshot> streamBacklog();
  NatsConnectionPool& pool_;
  NatsLagProbeConfig config_;
  std::shared_ptr<NatsConnection> connection_;
};

}  // namespace sluice::scaling

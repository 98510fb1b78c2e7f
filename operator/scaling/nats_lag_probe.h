#pragma once
// NatsLagProbe: lag of a JetStream durable consumer = num_pending + num_ack_pending, from consumer
// info through the JetStream API (answered by the consumer's leader, so it is current).
// Connections are shared per (servers, credentials: clients::NatsClientSettings::key()) by
// NatsConnectionPool, held while some probe uses them; nats.c connections are thread-safe. This header does
// not include nats.c; nats_lag_probe.cc is the only scaling file that does.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clients/nats_settings.h"
#include "common/result.h"
#include "operator/scaling/lag_probe.h"

namespace sluice::scaling {

class NatsConnection;  // defined in nats_lag_probe.cc

class NatsConnectionPool {
 public:
  NatsConnectionPool();
  ~NatsConnectionPool();
  NatsConnectionPool(const NatsConnectionPool&) = delete;
  NatsConnectionPool& operator=(const NatsConnectionPool&) = delete;

  common::Result<std::shared_ptr<NatsConnection>> acquire(const clients::NatsClientSettings& settings,
                                                          std::chrono::milliseconds timeout);
  size_t liveConnections();

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<NatsConnection>> connections_;
};

struct NatsLagProbeConfig {
  clients::NatsClientSettings connection;
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

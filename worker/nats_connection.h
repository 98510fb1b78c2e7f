#pragma once
// The nats.c connection behind NatsSource, NatsSink and NatsDeadLetterSink: servers, reconnect
// with backoff and jitter, TLS and credentials (credentials file, NKey seed, token or user/password,
// each read from a file mounted from a Secret). nats_connection.cc, nats_source.cc and nats_sink.cc
// are the only worker files that include nats.c.
// Threading: a natsConnection is thread-safe; nats.c runs its own reader and flusher threads.
#include <nats/nats.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/spec/pipeline.h"

namespace sluice::worker {

using NatsConnectionPtr = std::unique_ptr<natsConnection, decltype(&natsConnection_Destroy)>;
using JetStreamPtr = std::unique_ptr<jsCtx, decltype(&jsCtx_Destroy)>;
using NatsMsgPtr = std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)>;

struct NatsEndpoint {
  std::vector<std::string> servers;
  std::optional<spec::TlsSpec> tls;
  std::optional<spec::NatsAuthSpec> auth;
  std::string name;  // connection name the server shows (monitoring)
};

// Connects (the first connect must succeed; later disconnects reconnect forever with backoff).
common::Result<NatsConnectionPtr> connectNats(const NatsEndpoint& endpoint);
common::Result<JetStreamPtr> jetStream(natsConnection* connection);

// "nats: timeout (<library detail>)" for logs and errors.
std::string natsError(natsStatus status, const std::string& what);

// The endpoint of a NATS destination: its own servers, else the source's. Its own tls/auth when it
// sets them; else, on the source's servers, the source's; else none.
NatsEndpoint destinationEndpoint(const std::vector<std::string>& own,
                                 const std::optional<spec::TlsSpec>& ownTls,
                                 const std::optional<spec::NatsAuthSpec>& ownAuth,
                                 const spec::PipelineSpec& spec, const std::string& name);

}  // namespace sluice::worker

#pragma once
// The one place that turns NatsClientSettings into nats.c options (servers, name, timeout,
// reconnect, TLS, credentials), for the worker's source and sinks and the operator's lag probe.
// nats_options.cc is the only file here that includes nats.c; this header names its options type
// without including it. The caller adds what only it needs (callbacks) before connecting.
#include <memory>
#include <string>

#include "clients/nats_settings.h"
#include "common/result.h"

extern "C" {
typedef struct __natsOptions natsOptions;  // NOLINT: nats.c's own spelling
}

namespace sluice::clients {

struct NatsOptionsDeleter {
  void operator()(natsOptions* options) const;
};
using NatsOptionsPtr = std::unique_ptr<natsOptions, NatsOptionsDeleter>;

// "nats <what>: <nats.c's text for status> (<its last error detail>)"; `status` is a natsStatus.
std::string natsErrorText(int status, const std::string& what);

// InvalidArgument naming the setting (e.g. "nats tls.caFile /etc/ca.crt: ...") when nats.c refuses one.
common::Result<NatsOptionsPtr> makeNatsOptions(const NatsClientSettings& settings);

}  // namespace sluice::clients

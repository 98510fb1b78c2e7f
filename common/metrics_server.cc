#include "common/metrics_server.h"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <exception>
#include <string>
#include <vector>

namespace sluice::common {

MetricsServer::~MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address,
                                                            std::shared_ptr<prometheus::Registry> registry,
                                                            Limits limits) {
  std::string bind = address;
  if (!bind.empty() && bind.front() == ':') bind = "0.0.0.0" + bind;
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  try {
    // CivetWeb's options; request_timeout_ms bounds the whole request head, not each read.
    std::vector<std::string> options = {"listening_ports",    bind,
                                        "num_threads",        std::to_string(limits.threads),
                                        "request_timeout_ms", std::to_string(limits.requestTimeout.count()),
                                        "max_request_size",   std::to_string(limits.maxRequestBytes)};
    server->exposer_ = std::make_unique<prometheus::Exposer>(std::move(options));
  } catch (const std::exception& e) {
    return unavailable("metrics server cannot listen on " + address + ": " + e.what());
  }
  server->exposer_->RegisterCollectable(registry, "/metrics");
  const auto ports = server->exposer_->GetListeningPorts();
  server->port_ = ports.empty() ? 0 : ports.front();
  return server;
}

}  // namespace sluice::common

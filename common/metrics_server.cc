#include "common/metrics_server.h"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <exception>

namespace sluice::common {

MetricsServer::~MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address,
                                                            std::shared_ptr<prometheus::Registry> registry) {
  std::string bind = address;
  if (!bind.empty() && bind.front() == ':') bind = "0.0.0.0" + bind;
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  try {
    server->exposer_ = std::make_unique<prometheus::Exposer>(bind, 2);
  } catch (const std::exception& e) {
    return unavailable("metrics server cannot listen on " + address + ": " + e.what());
  }
  server->exposer_->RegisterCollectable(registry, "/metrics");
  const auto ports = server->exposer_->GetListeningPorts();
  server->port_ = ports.empty() ? 0 : ports.front();
  return server;
}

}  // namespace sluice::common

#pragma once
// Serves a prometheus-cpp registry on /metrics. Owns the exposer's threads (CivetWeb); metrics
// themselves are created by each module on the shared registry.
#include <memory>
#include <string>

#include "common/result.h"

namespace prometheus {
class Registry;
class Exposer;
}  // namespace prometheus

namespace sluice::common {

class MetricsServer {
 public:
  ~MetricsServer();
  // address is host:port, e.g. "127.0.0.1:9400" or ":9400" (all interfaces, inside a pod).
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& address,
                                                      std::shared_ptr<prometheus::Registry> registry);
  // The port actually bound (useful with port 0).
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace sluice::common

#pragma once
// Serves a prometheus-cpp registry on /metrics. Owns the exposer's threads (CivetWeb); metrics
// themselves are created by each module on the shared registry.
//
// CivetWeb serves one connection per thread. A client that opens a request and stops half way holds
// its thread until the request timeout, so the limits give enough threads for a few such clients
// and a timeout well under a scrape's; the request size bounds what one connection buffers.
#include <chrono>
#include <cstddef>
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
  struct Limits {
    int threads = 8;
    std::chrono::milliseconds requestTimeout{5000};
    size_t maxRequestBytes = 16 * 1024;
  };

  ~MetricsServer();
  // address is host:port, e.g. "127.0.0.1:9400" or ":9400" (all interfaces, inside a pod).
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& address,
                                                      std::shared_ptr<prometheus::Registry> registry,
                                                      Limits limits);
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& address,
                                                      std::shared_ptr<prometheus::Registry> registry) {
    return start(address, std::move(registry), Limits{});
  }
  // The port actually bound (useful with port 0).
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace sluice::common

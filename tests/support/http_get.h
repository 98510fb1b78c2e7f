#pragma once
// A minimal blocking HTTP/1.0 GET over a loopback socket, so tests check what a real client
// (kubelet probe, Prometheus scrape) sees without pulling an HTTP library into the tests.
#include <string>

namespace sluice::testing {

struct HttpReply {
  int status = 0;  // 0 when the connection failed
  std::string body;
};

HttpReply httpGet(int port, const std::string& path, const std::string& host = "127.0.0.1");

}  // namespace sluice::testing

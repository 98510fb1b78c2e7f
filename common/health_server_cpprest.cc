// The only file in common/ that includes cpprestsdk: the HTTP listener behind HealthServer.
#include <cpprest/http_listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>

#include "common/health_server.h"

namespace sluice::common {
namespace {

// cpprest cannot report the port it bound for port 0, so pick a free one first.
int pickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

class CpprestHealthServer final : public HealthServer {
 public:
  CpprestHealthServer(const std::string& uri, int port) : listener_(uri), port_(port) {}
  ~CpprestHealthServer() override {
    try {
      listener_.close().wait();
    } catch (const std::exception&) {
      // Closing during shutdown; nothing left to report to.
    }
  }

  Status open() {
    listener_.support(web::http::methods::GET, [this](const web::http::http_request& request) {
      const auto path = request.relative_uri().path();
      Answer answer{404, "not found\n"};
      if (path == "/healthz" || path == "/livez") answer = answerHealthz();
      if (path == "/readyz") answer = answerReadyz();
      request.reply(static_cast<web::http::status_code>(answer.code), answer.body,
                    "text/plain; charset=utf-8");
    });
    try {
      listener_.open().wait();
    } catch (const std::exception& e) {
      return unavailable(std::string("health server cannot listen: ") + e.what());
    }
    return Status::ok();
  }
  int port() const override { return port_; }

 private:
  web::http::experimental::listener::http_listener listener_;
  int port_;
};

}  // namespace

Result<std::unique_ptr<HealthServer>> HealthServer::start(const std::string& address) {
  auto hostPort = parseHostPort(address, "health address");
  if (!hostPort) return hostPort.status();
  auto [host, port] = *hostPort;
  if (host.empty()) host = "0.0.0.0";
  if (port == 0) port = pickFreePort();
  const std::string uri = "http://" + host + ":" + std::to_string(port);
  auto server = std::make_unique<CpprestHealthServer>(uri, port);
  if (Status st = server->open(); !st) return st.withContext(uri);
  return std::unique_ptr<HealthServer>(std::move(server));
}

}  // namespace sluice::common

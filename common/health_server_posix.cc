// HealthServer over plain POSIX sockets: one thread, one poll loop, every connection bounded in
// bytes and time (see health_server.h). It replaced cpprest's http_listener, which buffered request
// headers without bound or timeout: one client streaming header lines grew a worker by its stream.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/health_server.h"

namespace sluice::common {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Connection {
  int fd = -1;
  SteadyTime deadline;
  std::string request;  // bytes read so far, at most Limits::maxRequestBytes (+ one read)
  std::string answer;   // set once the request is complete (or refused); then only written
  size_t written = 0;
  // After the answer: what the peer still sends is read and dropped (up to kMaxDrainBytes) until it
  // closes, so closing with unread bytes does not reset the connection before it read the answer.
  bool draining = false;
  size_t drained = 0;
};

constexpr size_t kMaxDrainBytes = 64 * 1024;

const char* reasonPhrase(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

std::string httpAnswer(int code, const std::string& body, bool withBody) {
  std::string out =
      "HTTP/1.1 " + std::to_string(code) + " " + reasonPhrase(code) +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  if (withBody) out += body;
  return out;
}

// The length of the request head up to its blank line ("\r\n\r\n", or "\n\n" from lenient
// clients), or npos while it has not arrived.
size_t headLength(const std::string& request) {
  if (const auto crlf = request.find("\r\n\r\n"); crlf != std::string::npos) return crlf + 4;
  if (const auto lf = request.find("\n\n"); lf != std::string::npos) return lf + 2;
  return std::string::npos;
}

class PosixHealthServer final : public HealthServer {
 public:
  PosixHealthServer(int listenFd, int port, Limits limits)
      : listenFd_(listenFd), port_(port), limits_(limits) {}
  ~PosixHealthServer() override { stop(); }

  Status run() {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC | O_NONBLOCK) != 0)
      return unavailable(std::string("health server: pipe: ") + std::strerror(errno));
    wakeRead_ = pipeFds[0];
    wakeWrite_ = pipeFds[1];
    thread_ = std::thread([this] { loop(); });
    return Status::ok();
  }

  void stop() override {
    std::lock_guard<std::mutex> lock(stopMu_);
    if (thread_.joinable()) {
      const char byte = 'x';
      (void)!::write(wakeWrite_, &byte, 1);
      thread_.join();
    }
    for (auto& c : connections_) ::close(c.fd);
    connections_.clear();
    for (int* fd : {&listenFd_, &wakeRead_, &wakeWrite_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  int port() const override { return port_; }

 private:
  void loop() {
    std::vector<pollfd> fds;
    while (true) {
      fds.clear();
      fds.push_back({wakeRead_, POLLIN, 0});
      fds.push_back({listenFd_, POLLIN, 0});
      for (const auto& c : connections_)
        fds.push_back({c.fd, static_cast<short>(c.answer.empty() || c.draining ? POLLIN : POLLOUT), 0});
      const int ready = ::poll(fds.data(), fds.size(), pollTimeoutMs());
      if (ready < 0 && errno != EINTR) {
        spdlog::error("health server: poll: {}; no longer serving", std::strerror(errno));
        return;
      }
      if (fds[0].revents != 0) return;  // stop()
      for (size_t i = 0; i < connections_.size(); ++i) {
        if (fds[i + 2].revents != 0) serve(connections_[i], fds[i + 2].revents);
      }
      const SteadyTime now = std::chrono::steady_clock::now();
      for (auto& c : connections_) {
        if (c.fd >= 0 && now >= c.deadline) close(c);
      }
      std::erase_if(connections_, [](const Connection& c) { return c.fd < 0; });
      if (fds[1].revents & POLLIN) acceptAll();
    }
  }

  int pollTimeoutMs() const {
    if (connections_.empty()) return -1;
    const auto next = connections_.front().deadline;  // accepted in order, same timeout for all
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now())
            .count();
    return static_cast<int>(std::clamp<int64_t>(left + 1, 0, 1000));
  }

  void acceptAll() {
    while (true) {
      const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a connection reset before we got to it
      if (connections_.size() >= limits_.maxConnections) {
        close(connections_.front());  // the oldest has had the longest to finish
        connections_.erase(connections_.begin());
      }
      Connection c;
      c.fd = fd;
      c.deadline = std::chrono::steady_clock::now() + limits_.requestTimeout;
      connections_.push_back(std::move(c));
    }
  }

  void serve(Connection& c, short revents) {
    if (revents & POLLNVAL) return close(c);
    if (c.draining) return drain(c);
    if (c.answer.empty()) return read(c);
    write(c);
  }

  void read(Connection& c) {
    char buf[4096];
    while (c.answer.empty()) {
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return close(c);  // the peer went away before finishing its request
      c.request.append(buf, static_cast<size_t>(n));
      const size_t head = headLength(c.request);
      if (head <= limits_.maxRequestBytes) {
        c.answer = answer(c.request);
      } else if (c.request.size() >= limits_.maxRequestBytes) {
        c.answer = httpAnswer(431, "request headers too large\n", true);
      }
    }
    c.request.clear();
    c.request.shrink_to_fit();
    write(c);
  }

  void write(Connection& c) {
    while (c.written < c.answer.size()) {
      const ssize_t n = ::send(c.fd, c.answer.data() + c.written, c.answer.size() - c.written, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return close(c);
      c.written += static_cast<size_t>(n);
    }
    ::shutdown(c.fd, SHUT_WR);
    c.draining = true;
    drain(c);
  }

  void drain(Connection& c) {
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return close(c);
      c.drained += static_cast<size_t>(n);
      if (c.drained > kMaxDrainBytes) return close(c);
    }
  }

  static void close(Connection& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }

  // "GET /healthz HTTP/1.1\r\n..." -> the answer bytes.
  std::string answer(const std::string& request) const {
    const auto lineEnd = request.find_first_of("\r\n");
    const std::string line = request.substr(0, lineEnd);
    const auto space1 = line.find(' ');
    const auto space2 = space1 == std::string::npos ? std::string::npos : line.find(' ', space1 + 1);
    if (space2 == std::string::npos) return httpAnswer(400, "bad request line\n", true);
    const std::string method = line.substr(0, space1);
    std::string path = line.substr(space1 + 1, space2 - space1 - 1);
    path = path.substr(0, path.find('?'));
    if (method != "GET" && method != "HEAD") return httpAnswer(405, "only GET and HEAD\n", true);
    Answer result{404, "not found\n"};
    if (path == "/healthz" || path == "/livez") result = answerHealthz();
    if (path == "/readyz") result = answerReadyz();
    return httpAnswer(result.code, result.body, method == "GET");
  }

  int listenFd_;
  int port_;
  Limits limits_;
  int wakeRead_ = -1;
  int wakeWrite_ = -1;
  std::vector<Connection> connections_;  // only the serving thread touches it (then stop())
  std::thread thread_;
  std::mutex stopMu_;
};

// A listening, non-blocking socket on host:port ("" = every IPv4 interface); the port bound.
Result<std::pair<int, int>> listenOn(std::string host, int port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = host.empty() ? AF_INET : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return invalidArgument("health address host '" + host + "': " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  std::string lastError = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      sockaddr_storage bound{};
      socklen_t len = sizeof(bound);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      const int boundPort = bound.ss_family == AF_INET6
                                ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      return std::make_pair(fd, boundPort);
    }
    lastError = std::strerror(errno);
    ::close(fd);
  }
  return unavailable("health server cannot listen: " + lastError);
}

}  // namespace

Result<std::unique_ptr<HealthServer>> HealthServer::start(const std::string& address, Limits limits) {
  auto hostPort = parseHostPort(address, "health address");
  if (!hostPort) return hostPort.status();
  auto listening = listenOn(hostPort->first, hostPort->second);
  if (!listening) return listening.status().withContext(address);
  auto server = std::make_unique<PosixHealthServer>(listening->first, listening->second, limits);
  if (Status st = server->run(); !st) return st.withContext(address);
  return std::unique_ptr<HealthServer>(std::move(server));
}

}  // namespace sluice::common

#include "operator/controller/source_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>

namespace sluice::controller {
namespace {

Endpoint parseHostPort(std::string text, int defaultPort) {
  const auto scheme = text.find("://");
  if (scheme != std::string::npos) text = text.substr(scheme + 3);
  if (const auto at = text.rfind('@'); at != std::string::npos) text = text.substr(at + 1);
  if (const auto slash = text.find('/'); slash != std::string::npos) text = text.substr(0, slash);
  Endpoint out{text, defaultPort};
  if (!text.empty() && text.front() == '[') {  // [::1]:9092
    const auto close = text.find(']');
    out.host = text.substr(1, close - 1);
    if (close + 1 < text.size() && text[close + 1] == ':') out.port = std::atoi(text.c_str() + close + 2);
    return out;
  }
  if (const auto colon = text.rfind(':'); colon != std::string::npos && text.find(':') == colon) {
    out.host = text.substr(0, colon);
    out.port = std::atoi(text.c_str() + colon + 1);
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool mayConnect(AddressClass cls, const ProbePolicy& policy) {
  switch (cls) {
    case AddressClass::kLoopback:
      return true;
    case AddressClass::kPublic:
    case AddressClass::kPrivate:  // in a real cluster, service names resolve to 10.x
      return policy.allowNonLoopback;
    case AddressClass::kName:
      return false;  // resolved first, then each address is judged
  }
  return false;
}

}  // namespace

std::vector<Endpoint> sourceEndpoints(const spec::PipelineSpec& spec) {
  std::vector<Endpoint> out;
  if (spec.source.kafka) {
    std::stringstream list(spec.source.kafka->bootstrapServers);
    std::string item;
    while (std::getline(list, item, ',')) {
      if (!trim(item).empty()) out.push_back(parseHostPort(trim(item), 9092));
    }
  }
  if (spec.source.nats) {
    for (const auto& server : spec.source.nats->servers) out.push_back(parseHostPort(trim(server), 4222));
  }
  return out;
}

AddressClass classifyHost(const std::string& host) {
  if (host == "localhost") return AddressClass::kLoopback;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    const uint32_t a = ntohl(v4.s_addr);
    if ((a >> 24) == 127) return AddressClass::kLoopback;
    if ((a >> 24) == 10 || (a >> 20) == (172u << 4 | 1u) || (a >> 16) == (192u << 8 | 168u) ||
        (a >> 16) == (169u << 8 | 254u) || (a >> 24) == 0 || (a >> 22) == (100u << 2 | 1u)) {
      return AddressClass::kPrivate;  // RFC 1918, link-local, "this network", CGNAT
    }
    return AddressClass::kPublic;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return AddressClass::kLoopback;
    if (IN6_IS_ADDR_LINKLOCAL(&v6) || (v6.s6_addr[0] & 0xfe) == 0xfc || IN6_IS_ADDR_V4MAPPED(&v6)) {
      return AddressClass::kPrivate;
    }
    return AddressClass::kPublic;
  }
  return AddressClass::kName;
}

// Decide which numeric addresses to try for one endpoint; empty with a reason when none.
static std::vector<std::string> addressesToTry(const Endpoint& endpoint, TcpProber& prober,
                                               const ProbePolicy& policy, std::string& skipped) {
  const AddressClass cls = classifyHost(endpoint.host);
  if (endpoint.host == "localhost") return {"127.0.0.1"};
  if (cls != AddressClass::kName) {
    if (mayConnect(cls, policy)) return {endpoint.host};
    skipped = endpoint.host + " is not loopback; enable --probe-non-loopback-sources to probe it";
    return {};
  }
  if (!policy.allowNonLoopback) {
    skipped = endpoint.host + " is a host name; enable --probe-non-loopback-sources to probe it";
    return {};
  }
  std::vector<std::string> out;
  for (const auto& address : prober.resolve(endpoint.host)) {
    if (mayConnect(classifyHost(address), policy)) out.push_back(address);
  }
  if (out.empty()) skipped = endpoint.host + " does not resolve to an address the operator may probe";
  return out;
}

bool mayContactSource(const spec::PipelineSpec& spec, const ProbePolicy& policy, std::string& why) {
  const auto endpoints = sourceEndpoints(spec);
  if (endpoints.empty()) {
    why = "the source names no servers";
    return false;
  }
  for (const auto& endpoint : endpoints) {
    if (classifyHost(endpoint.host) == AddressClass::kLoopback || policy.allowNonLoopback) continue;
    why = endpoint.host + " is not loopback; enable --probe-non-loopback-sources to measure lag";
    return false;
  }
  return true;
}

SourceObservation probeSource(const spec::PipelineSpec& spec, TcpProber& prober, const ProbePolicy& policy) {
  const auto endpoints = sourceEndpoints(spec);
  std::string skipped;
  std::string failures;
  bool probed = false;
  for (const auto& endpoint : endpoints) {
    for (const auto& address : addressesToTry(endpoint, prober, policy, skipped)) {
      probed = true;
      const auto st = prober.connect(address, endpoint.port, policy.timeout);
      const std::string target = endpoint.host + ":" + std::to_string(endpoint.port);
      if (st) return {SourceState::kReachable, "connected to " + target};
      failures += (failures.empty() ? "" : "; ") + target + ": " + st.message();
    }
  }
  if (probed) return {SourceState::kUnreachable, "no source server accepted a connection: " + failures};
  if (endpoints.empty()) return {SourceState::kSkipped, "the source names no servers"};
  return {SourceState::kSkipped, "not probed: " + skipped};
}

common::Status SystemTcpProber::connect(const std::string& address, int port,
                                        std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* info = nullptr;
  if (getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &info) != 0 || !info) {
    return common::invalidArgument("not a numeric address: " + address);
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(info, &freeaddrinfo);
  const int fd = ::socket(info->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return common::unavailable(std::string("socket: ") + std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  if (::connect(fd, info->ai_addr, info->ai_addrlen) == 0) return common::Status::ok();
  if (errno != EINPROGRESS) return common::unavailable(std::strerror(errno));
  pollfd pfd{fd, POLLOUT, 0};
  const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready == 0) return common::timeoutError("no answer within " + std::to_string(timeout.count()) + " ms");
  int error = 0;
  socklen_t len = sizeof(error);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (ready < 0 || error != 0) return common::unavailable(std::strerror(error ? error : errno));
  return common::Status::ok();
}

std::vector<std::string> SystemTcpProber::resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* info = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &info) != 0) return {};
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(info, &freeaddrinfo);
  std::vector<std::string> out;
  for (auto* p = info; p; p = p->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr =
        p->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr);
    if (inet_ntop(p->ai_family, addr, text, sizeof(text))) out.push_back(text);
  }
  return out;
}

}  // namespace sluice::controller

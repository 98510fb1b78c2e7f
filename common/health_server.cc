#include "common/health_server.h"

namespace sluice::common {

void HealthServer::addLivenessCheck(std::string name, Check check) {
  std::lock_guard<std::mutex> lock(mu_);
  checks_.emplace_back(std::move(name), std::move(check));
}

HealthServer::Answer HealthServer::answerHealthz() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string body;
  bool ok = true;
  for (const auto& [name, check] : checks_) {
    const Status status = check();
    if (status.isOk()) {
      body += "[+]" + name + " ok\n";
    } else {
      ok = false;
      body += "[-]" + name + " failed: " + status.message() + "\n";
    }
  }
  body += ok ? "healthz check passed\n" : "healthz check failed\n";
  return {ok ? 200 : 500, body};
}

HealthServer::Answer HealthServer::answerReadyz() const {
  if (ready()) return {200, "ok\n"};
  return {503, "not ready\n"};
}

Result<std::pair<std::string, int>> parseHostPort(const std::string& address, const std::string& what) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return invalidArgument(what + " must be host:port or :port (got '" + address + "')");
  }
  const std::string host = address.substr(0, colon);
  const std::string portText = address.substr(colon + 1);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(portText, &used);
    if (used != portText.size()) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return invalidArgument(what + " port must be a number between 0 and 65535 (got '" + portText + "')");
  }
  return std::make_pair(host, port);
}

}  // namespace sluice::common

#include "tests/support/tls_nats_server.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace sluice::testing {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TlsNatsServer::TlsNatsServer(const std::vector<std::string>& subjectAltNames) {
  dir_ = "/tmp/sluice-tls-nats-" + std::to_string(::getpid()) + "-" + std::to_string(freeLoopbackPort());
  std::string san;
  for (const auto& name : subjectAltNames) san += (san.empty() ? "" : ",") + name;
  const std::string q = shellQuote(dir_);
  const std::string script =
      "set -e; mkdir -p " + q + "/js; cd " + q +
      "; openssl req -x509 -nodes -newkey rsa:2048 -sha256 -days 1 -keyout ca.key -out ca.crt"
      " -subj /CN=sluice-test-ca 2>/dev/null"
      "; openssl req -new -nodes -newkey rsa:2048 -sha256 -keyout server.key -out server.csr"
      " -subj /CN=sluice-test-server 2>/dev/null"
      "; printf 'subjectAltName=" +
      san +
      "\\n' > san.ext"
      "; openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -sha256"
      " -extfile san.ext -out server.crt 2>/dev/null";
  std::string out;
  if (runShell(script, &out) != 0) {
    error_ = "making the test certificates failed: " + out;
    return;
  }
  port_ = freeLoopbackPort();
  std::ofstream(dir_ + "/nats.conf") << "listen: 127.0.0.1:" << port_ << "\njetstream {store_dir: \"" << dir_
                                     << "/js\", max_mem: 16M, max_file: 16M}\ntls {cert_file: \"" << dir_
                                     << "/server.crt\", key_file: \"" << dir_ << "/server.key\"}\n";
  server_ = std::make_unique<Subprocess>(
      std::vector<std::string>{"/usr/sbin/nats-server", "-c", dir_ + "/nats.conf"}, dir_ + "/nats.log");
  if (!server_->start()) {
    error_ = "nats-server did not start";
    return;
  }
  ok_ = eventually(std::chrono::seconds(20),
                   [&] { return log().find("Server is ready") != std::string::npos; });
  if (!ok_) error_ = "nats-server did not get ready: " + log();
}

TlsNatsServer::~TlsNatsServer() {
  server_.reset();
  if (!dir_.empty()) runShell("rm -rf " + shellQuote(dir_));
}

std::string TlsNatsServer::caPem() const { return readFile(caFile()); }

std::string TlsNatsServer::log() const { return readFile(dir_ + "/nats.log"); }

}  // namespace sluice::testing

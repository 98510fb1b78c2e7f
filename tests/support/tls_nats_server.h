#pragma once
// A nats-server of a test's own (Debian's, JetStream on, loopback only) that speaks TLS with a
// certificate made for the test: a throw-away CA signs a server certificate for the names the test
// chooses, so a test can offer a certificate signed by the trusted CA but for another name and
// check that clients refuse it (hostname verification), and one for 127.0.0.1 that they accept.
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace sluice::testing {

class TlsNatsServer {
 public:
  // `subjectAltNames` as openssl writes them, e.g. {"IP:127.0.0.1"} or {"DNS:elsewhere.example"}.
  // Check ok() before use; the destructor stops the server and removes its files.
  explicit TlsNatsServer(const std::vector<std::string>& subjectAltNames);
  ~TlsNatsServer();
  TlsNatsServer(const TlsNatsServer&) = delete;
  TlsNatsServer& operator=(const TlsNatsServer&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string url() const { return "tls://127.0.0.1:" + std::to_string(port_); }
  std::string caFile() const { return dir_ + "/ca.crt"; }
  std::string caPem() const;
  std::string log() const;

 private:
  std::string dir_;
  int port_ = 0;
  bool ok_ = false;
  std::string error_;
  std::unique_ptr<Subprocess> server_;
};

}  // namespace sluice::testing

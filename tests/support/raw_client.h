#pragma once
// Raw loopback TCP clients for what an HTTP library would never send: a request that never ends,
// or one that stops half way. Tests of the health and metrics servers use them to play a hostile
// or stalled peer.
#include <chrono>
#include <cstddef>
#include <string>

namespace sluice::testing {

// A connected loopback socket, closed on destruction. fd() < 0 when the connection failed.
class RawClient {
 public:
  explicit RawClient(int port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  int fd() const { return fd_; }
  // Sends all of `bytes`; false when the peer closed or reset the connection (or `timeout` passed).
  bool sendAll(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the peer closes the connection (EOF or reset) within `timeout`; what it sent before
  // closing is appended to `received` when given.
  bool closedByPeerWithin(std::chrono::milliseconds timeout, std::string* received = nullptr);

 private:
  int fd_ = -1;
};

// This process's resident set size in bytes (VmRSS), 0 when unreadable.
size_t residentBytes();

}  // namespace sluice::testing

#pragma once
// Is the pipeline's source reachable? A TCP connect with a short timeout to the Kafka bootstrap
// servers or NATS servers. Which addresses may be contacted is a pure decision: loopback always;
// everything else (private ranges such as the 10.x service IPs of a real cluster, public addresses,
// host names and what they resolve to) only with --probe-non-loopback-sources. The default is
// loopback-only because the pod and service IPs of a local control plane are not real and tests
// must never contact them.
#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/spec/pipeline.h"
#include "operator/controller/status.h"

namespace sluice::controller {

struct Endpoint {
  std::string host;
  int port = 0;
};

// bootstrapServers "a:9092,b:9092" or NATS URLs "nats://host:4222" (default port 4222).
std::vector<Endpoint> sourceEndpoints(const spec::PipelineSpec& spec);

enum class AddressClass { kLoopback, kPrivate, kPublic, kName };
AddressClass classifyHost(const std::string& host);

// The I/O: connect to a numeric address and close again.
class TcpProber {
 public:
  virtual ~TcpProber() = default;
  virtual common::Status connect(const std::string& address, int port, std::chrono::milliseconds timeout) = 0;
  // Numeric addresses of a host name (empty when it does not resolve).
  virtual std::vector<std::string> resolve(const std::string& host) = 0;
};

class SystemTcpProber final : public TcpProber {
 public:
  common::Status connect(const std::string& address, int port, std::chrono::milliseconds timeout) override;
  std::vector<std::string> resolve(const std::string& host) override;
};

struct ProbePolicy {
  bool allowNonLoopback = false;
  // The lag probe may use Secrets without the kProbeSecretLabel label (probe_credentials.h): the
  // cluster admin's consent to send any Secret a pipeline names to the servers it names.
  bool unlabelledSecrets = false;
  std::chrono::milliseconds timeout{500};
};

// Whether clients that resolve names themselves (the lag probes' librdkafka and nats.c) may be
// pointed at every server of the source: yes when all are loopback, else only when allowed.
bool mayContactSource(const spec::PipelineSpec& spec, const ProbePolicy& policy, std::string& why);

SourceObservation probeSource(const spec::PipelineSpec& spec, TcpProber& prober, const ProbePolicy& policy);

}  // namespace sluice::controller

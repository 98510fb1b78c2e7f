#pragma once
// librdkafka security properties from a Kafka source's / destination's TLS and SASL settings, for
// the worker's consumer and producers and the operator's lag probe alike. Pure: the caller resolves
// where the material is (the worker: files and environment on its filesystem; the operator: PEM from
// the Secrets the spec names) and this decides the properties, so a fix to them lands once.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/spec/pipeline.h"

namespace sluice::clients {

// librdkafka properties in the order they are set (a later one wins).
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// TLS material for one client: each item either as a file path (*File, -> ssl.*.location) or in
// memory (*Pem, -> ssl.*.pem); the Pem wins when both are set. Empty: not given.
struct KafkaTls {
  std::string caFile;
  std::string caPem;
  std::string certFile;
  std::string certPem;
  std::string keyFile;
  std::string keyPem;
  bool insecureSkipVerify = false;
};

struct SaslCredentials {
  spec::SaslMechanism mechanism = spec::SaslMechanism::kScramSha512;
  std::string username;
  std::string password;
};

// security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL), ssl.* when `tls` is set, sasl.*
// when `sasl` is set.
KafkaProperties kafkaSecurityProperties(const std::optional<KafkaTls>& tls,
                                        const std::optional<SaslCredentials>& sasl);

bool isSecretKafkaProperty(const std::string& name);
// "k=v, k2=v2" with secret values replaced by "[redacted]", for logs.
std::string redacted(const KafkaProperties& properties);

}  // namespace sluice::clients

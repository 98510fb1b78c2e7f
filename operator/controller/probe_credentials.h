#pragma once
// Credentials for the lag probes from the Secrets a pipeline's source names: pure. The reconciler
// reads the Secrets (it already checks that they exist) and passes their data in; these functions
// resolve spec.source.kafka.tls/sasl and spec.source.nats.tls/auth from them, with the same keys the
// worker reads from the mounted Secret (ca.crt, tls.crt, tls.key, username, password; NATS: the keys
// the *File fields name under the mount), and hand the material to clients/ (librdkafka properties,
// NatsClientSettings), which builds the worker's client settings too.
//
// The operator never writes credentials to disk: PEM goes to librdkafka's ssl.*.pem and nats.c's
// in-memory TLS settings. What cannot be passed in memory (a NATS .creds file or NKey seed, or a
// credential given only as a path on the worker's filesystem) is refused with a message saying so,
// and the pipeline is then not lag-probed, as before.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "clients/nats_settings.h"
#include "common/result.h"
#include "common/spec/pipeline.h"

namespace sluice::controller {

using SecretValues = std::map<std::string, std::string>;  // key -> decoded value

// The Secrets a pipeline names that exist and that the lag probe may use, by name; `refused`: those
// that exist but the probe may not use (probeSecretRefusal), with the reason.
struct SecretsByName : std::map<std::string, SecretValues> {
  using std::map<std::string, SecretValues>::map;
  std::map<std::string, std::string> refused;
};

// Trust model (docs/security.md): a pipeline's author chooses the servers its source names, so
// the operator sends them credentials only with the consent of whoever controls the Secret: the
// Secret carries this label with the value "true" (writing a label takes the right to write the
// Secret, which a user who may only create ConsumerPipelines lacks). The cluster admin may waive
// it for the whole operator (--lag-probe-unlabelled-secrets, chart value
// operator.lagProbe.unlabelledSecrets). The workers mount the Secret either way: they are the
// pipeline's own code.
inline constexpr const char* kProbeSecretLabel = "sluice.dev/lag-probe";

// Why the lag probe may not use `secret` (a v1 Secret as the API returns it), named by `field`
// ("spec.source.kafka.sasl.secretRef"); nullopt: it may.
std::optional<std::string> probeSecretRefusal(const nlohmann::json& secret, const std::string& field,
                                              bool unlabelledAllowed);

// A v1 Secret's `data` (base64) decoded, merged with `stringData` (which a fake or a dry run may
// hold) the way the API server would.
SecretValues decodeSecret(const nlohmann::json& secret);

// librdkafka properties (security.protocol, ssl.ca.pem, ssl.certificate.pem, ssl.key.pem,
// sasl.mechanisms, sasl.username, sasl.password, ...) for the Kafka source. Errors, each naming the
// field and the Secret: NotFound when a named Secret is not in `secrets`; InvalidArgument when a
// key is missing or a credential is only a file path.
common::Result<std::map<std::string, std::string>> kafkaProbeSecurity(const spec::KafkaSourceSpec& kafka,
                                                                      const SecretsByName& secrets);

// Fills the TLS and credential fields of `settings` for the NATS source; errors as above.
common::Status natsProbeSecurity(const spec::NatsSourceSpec& nats, const SecretsByName& secrets,
                                 clients::NatsClientSettings& settings);

// Whether the lag probe can use the settings of the pipeline's source (whichever it is); the error
// of kafkaProbeSecurity/natsProbeSecurity otherwise. Never in clear text: a SASL PLAIN password,
// or a NATS token or user and password, only with TLS on.
common::Status sourceProbeSecurity(const spec::PipelineSpec& spec, const SecretsByName& secrets);

}  // namespace sluice::controller

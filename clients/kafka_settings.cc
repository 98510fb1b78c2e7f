#include "clients/kafka_settings.h"

namespace sluice::clients {
namespace {

// The in-memory form wins over the file form of one item.
void addItem(KafkaProperties& props, const char* name, const std::string& file, const std::string& pem) {
  if (!pem.empty()) {
    props.emplace_back(std::string(name) + ".pem", pem);
    return;
  }
  if (!file.empty()) props.emplace_back(std::string(name) + ".location", file);
}

}  // namespace

KafkaProperties kafkaSecurityProperties(const std::optional<KafkaTls>& tls,
                                        const std::optional<SaslCredentials>& sasl) {
  KafkaProperties props;
  if (sasl) {
    props.emplace_back("security.protocol", tls ? "SASL_SSL" : "SASL_PLAINTEXT");
  } else {
    props.emplace_back("security.protocol", tls ? "SSL" : "PLAINTEXT");
  }
  if (tls) {
    addItem(props, "ssl.ca", tls->caFile, tls->caPem);
    addItem(props, "ssl.certificate", tls->certFile, tls->certPem);
    addItem(props, "ssl.key", tls->keyFile, tls->keyPem);
    if (tls->insecureSkipVerify) {
      props.emplace_back("enable.ssl.certificate.verification", "false");
      props.emplace_back("ssl.endpoint.identification.algorithm", "none");
    }
  }
  if (!sasl) return props;
  props.emplace_back("sasl.mechanisms", spec::toString(sasl->mechanism));
  props.emplace_back("sasl.username", sasl->username);
  props.emplace_back("sasl.password", sasl->password);
  return props;
}

bool isSecretKafkaProperty(const std::string& name) {
  // Anything named like a password or secret (sasl.password, ssl.key.password,
  // ssl.keystore.password, sasl.oauthbearer.client.secret, ...), the private key in memory, and
  // the OAUTHBEARER config (it may carry a token or client secret).
  return name.find("password") != std::string::npos || name.find("secret") != std::string::npos ||
         name == "ssl.key.pem" || name == "ssl_key" || name == "sasl.oauthbearer.config";
}

std::string redacted(const KafkaProperties& properties) {
  std::string out;
  for (const auto& [name, value] : properties) {
    if (!out.empty()) out += ", ";
    out += name + "=" + (isSecretKafkaProperty(name) ? std::string("[redacted]") : value);
  }
  return out;
}

}  // namespace sluice::clients

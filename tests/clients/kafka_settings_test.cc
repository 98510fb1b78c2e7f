#include "clients/kafka_settings.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice::clients {
namespace {

using Props = std::map<std::string, std::string>;

Props asMap(const KafkaProperties& properties) { return {properties.begin(), properties.end()}; }

KafkaTls tlsWith(void (*edit)(KafkaTls&)) {
  KafkaTls tls;
  edit(tls);
  return tls;
}

SaslCredentials scram256() { return {spec::SaslMechanism::kScramSha256, "alice", "s3cret"}; }

// The worker hands in file paths (mounted Secrets), the operator PEM (read from the Secrets); both
// used to build these properties on their own, the worker with ssl.*.location and the operator with
// ssl.*.pem plus ssl.ca.location for the system bundle. The rows cover both ways.
TEST(KafkaSecurityProperties, Table) {
  struct Row {
    const char* name;
    std::optional<KafkaTls> tls;
    std::optional<SaslCredentials> sasl;
    Props want;
  };
  const Row rows[] = {
      {"plaintext", std::nullopt, std::nullopt, {{"security.protocol", "PLAINTEXT"}}},
      {"tls with the library's CAs", KafkaTls{}, std::nullopt, {{"security.protocol", "SSL"}}},
      {"tls from files (worker)",
       tlsWith([](KafkaTls& t) {
         t.caFile = "/s/ca.crt";
         t.certFile = "/s/tls.crt";
         t.keyFile = "/s/tls.key";
       }),
       std::nullopt,
       {{"security.protocol", "SSL"},
        {"ssl.ca.location", "/s/ca.crt"},
        {"ssl.certificate.location", "/s/tls.crt"},
        {"ssl.key.location", "/s/tls.key"}}},
      {"tls in memory (operator)",
       tlsWith([](KafkaTls& t) {
         t.caPem = "CA PEM";
         t.certPem = "CERT PEM";
         t.keyPem = "KEY PEM";
       }),
       std::nullopt,
       {{"security.protocol", "SSL"},
        {"ssl.ca.pem", "CA PEM"},
        {"ssl.certificate.pem", "CERT PEM"},
        {"ssl.key.pem", "KEY PEM"}}},
      {"system bundle as a CA file when no CA PEM (operator)",
       tlsWith([](KafkaTls& t) { t.caFile = "/etc/ssl/certs/ca-certificates.crt"; }),
       std::nullopt,
       {{"security.protocol", "SSL"}, {"ssl.ca.location", "/etc/ssl/certs/ca-certificates.crt"}}},
      {"PEM wins over a file",
       tlsWith([](KafkaTls& t) {
         t.caFile = "/s/ca.crt";
         t.caPem = "CA PEM";
       }),
       std::nullopt,
       {{"security.protocol", "SSL"}, {"ssl.ca.pem", "CA PEM"}}},
      {"insecureSkipVerify turns off both checks",
       tlsWith([](KafkaTls& t) { t.insecureSkipVerify = true; }),
       std::nullopt,
       {{"security.protocol", "SSL"},
        {"enable.ssl.certificate.verification", "false"},
        {"ssl.endpoint.identification.algorithm", "none"}}},
      {"sasl without tls",
       std::nullopt,
       scram256(),
       {{"security.protocol", "SASL_PLAINTEXT"},
        {"sasl.mechanisms", "SCRAM-SHA-256"},
        {"sasl.username", "alice"},
        {"sasl.password", "s3cret"}}},
      {"sasl with tls",
       KafkaTls{},
       SaslCredentials{spec::SaslMechanism::kPlain, "u", "p"},
       {{"security.protocol", "SASL_SSL"},
        {"sasl.mechanisms", "PLAIN"},
        {"sasl.username", "u"},
        {"sasl.password", "p"}}},
  };
  for (const Row& row : rows) {
    const KafkaProperties props = kafkaSecurityProperties(row.tls, row.sasl);
    EXPECT_EQ(asMap(props), row.want) << row.name;
    EXPECT_EQ(props.size(), row.want.size()) << row.name << ": a property set twice";
  }
}

TEST(KafkaSecurityProperties, RedactedHidesSecretsOnly) {
  KafkaProperties props =
      kafkaSecurityProperties(tlsWith([](KafkaTls& t) { t.keyPem = "KEY PEM"; }), scram256());
  const std::string shown = redacted(props);
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("KEY PEM"), std::string::npos) << shown;
  EXPECT_NE(shown.find("sasl.password=[redacted]"), std::string::npos) << shown;
  EXPECT_NE(shown.find("sasl.username=alice"), std::string::npos) << shown;
  EXPECT_NE(shown.find("security.protocol=SASL_SSL"), std::string::npos) << shown;
}

// #18: the OAUTHBEARER config (it may hold a token or client secret) was printed as it is; so is
// anything named like a password or secret that an override adds.
TEST(KafkaSecurityProperties, RedactedHidesEveryKindOfSecret) {
  const KafkaProperties props = {{"ssl.key.pem", "KEY PEM"},
                                 {"sasl.oauthbearer.config", "principal=admin token=T0KEN"},
                                 {"sasl.oauthbearer.client.secret", "CLIENT SECRET"},
                                 {"ssl.keystore.password", "KEYSTORE PW"},
                                 {"ssl.truststore.password", "TRUSTSTORE PW"},
                                 {"session.timeout.ms", "6000"}};
  const std::string shown = redacted(props);
  for (const char* secret : {"KEY PEM", "T0KEN", "CLIENT SECRET", "KEYSTORE PW", "TRUSTSTORE PW"})
    EXPECT_EQ(shown.find(secret), std::string::npos) << shown;
  EXPECT_NE(shown.find("sasl.oauthbearer.config=[redacted]"), std::string::npos) << shown;
  EXPECT_NE(shown.find("session.timeout.ms=6000"), std::string::npos) << shown;
}

}  // namespace
}  // namespace sluice::clients

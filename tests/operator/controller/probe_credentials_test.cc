#include "operator/controller/probe_credentials.h"

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

using nlohmann::json;
using Props = std::map<std::string, std::string>;

spec::TlsSpec tlsFrom(const std::string& secret) {
  spec::TlsSpec tls;
  tls.secretRef = spec::SecretRef{secret};
  return tls;
}

spec::SaslSpec saslFrom(const std::string& secret) {
  spec::SaslSpec sasl;
  sasl.mechanism = spec::SaslMechanism::kScramSha256;
  sasl.secretRef = spec::SecretRef{secret};
  return sasl;
}

const SecretsByName kSecrets = {
    {"kafka-tls", {{"ca.crt", "CA PEM"}, {"tls.crt", "CERT PEM"}, {"tls.key", "KEY PEM"}}},
    {"ca-only", {{"ca.crt", "CA PEM"}}},
    {"cert-no-key", {{"tls.crt", "CERT PEM"}}},
    {"kafka-user", {{"username", "alice"}, {"password", "s3cret"}}},
    {"no-password", {{"username", "alice"}}},
    {"nats-user", {{"user", "bob"}, {"pass", "hunter2"}, {"token", "T0KEN"}}},
    // Made with `kubectl create secret --from-file` from files ending in a newline.
    {"from-files", {{"username", "alice\n"}, {"password", "s3cret\r\n"}, {"token", "T0KEN\n"}}},
};

TEST(DecodeSecret, DecodesDataAndLetsStringDataWin) {
  const json secret = {{"data", {{"username", "YWxpY2U="}, {"password", "b2xk"}}},
                       {"stringData", {{"password", "new"}}}};
  EXPECT_EQ(decodeSecret(secret), (SecretValues{{"username", "alice"}, {"password", "new"}}));
  EXPECT_TRUE(decodeSecret(json::object()).empty());
}

struct KafkaCase {
  std::string name;
  std::optional<spec::TlsSpec> tls;
  std::optional<spec::SaslSpec> sasl;
  Props want;                  // checked when wantError is empty
  common::ErrorCode wantCode;  // checked when wantError is set
  std::string wantError;       // a fragment of the message
};

spec::TlsSpec with(spec::TlsSpec tls, void (*edit)(spec::TlsSpec&)) {
  edit(tls);
  return tls;
}

TEST(KafkaProbeSecurity, Table) {
  using common::ErrorCode;
  const std::vector<KafkaCase> cases = {
      {"plaintext", std::nullopt, std::nullopt, {{"security.protocol", "PLAINTEXT"}}, ErrorCode::kOk, ""},
      {"tls without a Secret uses the system CAs",
       spec::TlsSpec{},
       std::nullopt,
       {{"security.protocol", "SSL"}},
       ErrorCode::kOk,
       ""},
      {"tls disabled keeps plaintext",
       with(tlsFrom("kafka-tls"), [](spec::TlsSpec& t) { t.enabled = false; }),
       std::nullopt,
       {{"security.protocol", "PLAINTEXT"}},
       ErrorCode::kOk,
       ""},
      {"mutual tls from the Secret",
       tlsFrom("kafka-tls"),
       std::nullopt,
       {{"security.protocol", "SSL"},
        {"ssl.ca.pem", "CA PEM"},
        {"ssl.certificate.pem", "CERT PEM"},
        {"ssl.key.pem", "KEY PEM"}},
       ErrorCode::kOk,
       ""},
      {"a CA alone",
       tlsFrom("ca-only"),
       std::nullopt,
       {{"security.protocol", "SSL"}, {"ssl.ca.pem", "CA PEM"}},
       ErrorCode::kOk,
       ""},
      {"insecureSkipVerify",
       with(tlsFrom("ca-only"), [](spec::TlsSpec& t) { t.insecureSkipVerify = true; }),
       std::nullopt,
       {{"security.protocol", "SSL"},
        {"ssl.ca.pem", "CA PEM"},
        {"enable.ssl.certificate.verification", "false"},
        {"ssl.endpoint.identification.algorithm", "none"}},
       ErrorCode::kOk,
       ""},
      {"a file field pointing into the mount names the key",
       with(tlsFrom("nats-user"),
            [](spec::TlsSpec& t) { t.caFile = "/var/run/secrets/sluice/nats-user/token"; }),
       std::nullopt,
       {{"security.protocol", "SSL"}, {"ssl.ca.pem", "T0KEN"}},
       ErrorCode::kOk,
       ""},
      {"sasl over tls",
       tlsFrom("ca-only"),
       saslFrom("kafka-user"),
       {{"security.protocol", "SASL_SSL"},
        {"ssl.ca.pem", "CA PEM"},
        {"sasl.mechanisms", "SCRAM-SHA-256"},
        {"sasl.username", "alice"},
        {"sasl.password", "s3cret"}},
       ErrorCode::kOk,
       ""},
      {"credentials without the trailing newlines of files, as the worker reads them",
       tlsFrom("ca-only"),
       saslFrom("from-files"),
       {{"security.protocol", "SASL_SSL"},
        {"ssl.ca.pem", "CA PEM"},
        {"sasl.mechanisms", "SCRAM-SHA-256"},
        {"sasl.username", "alice"},
        {"sasl.password", "s3cret"}},
       ErrorCode::kOk,
       ""},
      {"sasl in plain text",
       std::nullopt,
       saslFrom("kafka-user"),
       {{"security.protocol", "SASL_PLAINTEXT"},
        {"sasl.mechanisms", "SCRAM-SHA-256"},
        {"sasl.username", "alice"},
        {"sasl.password", "s3cret"}},
       ErrorCode::kOk,
       ""},
      {"missing tls Secret",
       tlsFrom("gone"),
       std::nullopt,
       {},
       ErrorCode::kNotFound,
       "Secret \"gone\" named by spec.source.kafka.tls.secretRef does not exist"},
      {"missing sasl Secret",
       std::nullopt,
       saslFrom("gone"),
       {},
       ErrorCode::kNotFound,
       "Secret \"gone\" named by spec.source.kafka.sasl.secretRef does not exist"},
      {"a key the Secret lacks",
       std::nullopt,
       saslFrom("no-password"),
       {},
       ErrorCode::kInvalidArgument,
       "Secret \"no-password\" named by spec.source.kafka.sasl.secretRef has no key \"password\""},
      {"a certificate without its key",
       tlsFrom("cert-no-key"),
       std::nullopt,
       {},
       ErrorCode::kInvalidArgument,
       "must hold both tls.crt and tls.key"},
      {"an explicitly named key the Secret lacks",
       with(tlsFrom("ca-only"),
            [](spec::TlsSpec& t) { t.caFile = "/var/run/secrets/sluice/ca-only/bundle.pem"; }),
       std::nullopt,
       {},
       ErrorCode::kInvalidArgument,
       "has no key \"bundle.pem\""},
      {"a worker file outside the mount",
       with(tlsFrom("kafka-tls"), [](spec::TlsSpec& t) { t.caFile = "/etc/ssl/ca.pem"; }),
       std::nullopt,
       {},
       ErrorCode::kInvalidArgument,
       "spec.source.kafka.tls.caFile (/etc/ssl/ca.pem) is a file on the worker"},
      {"tls files without a secretRef",
       with(spec::TlsSpec{}, [](spec::TlsSpec& t) { t.caFile = "/etc/ca.pem"; }),
       std::nullopt,
       {},
       ErrorCode::kInvalidArgument,
       "no secretRef names a Secret"},
      {"sasl without a secretRef",
       std::nullopt,
       spec::SaslSpec{},
       {},
       ErrorCode::kInvalidArgument,
       "spec.source.kafka.sasl has no secretRef"},
  };
  for (const auto& c : cases) {
    spec::KafkaSourceSpec kafka;
    kafka.tls = c.tls;
    kafka.sasl = c.sasl;
    const auto got = kafkaProbeSecurity(kafka, kSecrets);
    if (c.wantError.empty()) {
      ASSERT_TRUE(got.isOk()) << c.name << ": " << got.status().toString();
      EXPECT_EQ(*got, c.want) << c.name;
      continue;
    }
    ASSERT_FALSE(got.isOk()) << c.name;
    EXPECT_EQ(got.status().code(), c.wantCode) << c.name;
    EXPECT_NE(got.status().message().find(c.wantError), std::string::npos)
        << c.name << ": " << got.status().message();
  }
}

spec::NatsAuthSpec natsAuth(void (*edit)(spec::NatsAuthSpec&)) {
  spec::NatsAuthSpec auth;
  auth.secretRef = spec::SecretRef{"nats-user"};
  edit(auth);
  return auth;
}

TEST(NatsProbeSecurity, TokenFromTheKeyTheFileFieldNames) {
  spec::NatsSourceSpec nats;
  nats.servers = {"tls://nats.nats.svc:4222"};  // TLS by the URL
  nats.auth =
      natsAuth([](spec::NatsAuthSpec& a) { a.tokenFile = "/var/run/secrets/sluice/nats-user/token"; });
  clients::NatsClientSettings settings;
  ASSERT_TRUE(natsProbeSecurity(nats, kSecrets, settings).isOk());
  EXPECT_EQ(settings.auth.token, "T0KEN");
  EXPECT_TRUE(settings.auth.username.empty());
  EXPECT_FALSE(settings.tls.has_value());
}

TEST(NatsProbeSecurity, ATokenFileMadeSecretLosesItsTrailingNewlineAsInTheWorker) {
  spec::NatsSourceSpec nats;
  nats.servers = {"tls://nats.nats.svc:4222"};  // a token only over TLS
  nats.auth = natsAuth([](spec::NatsAuthSpec& a) {
    a.secretRef = spec::SecretRef{"from-files"};
    a.tokenFile = "token";
  });
  clients::NatsClientSettings settings;
  ASSERT_TRUE(natsProbeSecurity(nats, kSecrets, settings).isOk());
  EXPECT_EQ(settings.auth.token, "T0KEN");
}

// A bare key names the same Secret key as the path the operator points the field at.
TEST(NatsProbeSecurity, ABareKeyNamesTheSameSecretKeyAsItsMountPath) {
  spec::NatsSourceSpec nats;
  nats.servers = {"tls://nats-0:4222", "tls://nats-1:4222"};
  nats.auth = natsAuth([](spec::NatsAuthSpec& a) {
    a.usernameFile = "user";
    a.passwordFile = "/var/run/secrets/sluice/nats-user/pass";
  });
  clients::NatsClientSettings settings;
  ASSERT_TRUE(natsProbeSecurity(nats, kSecrets, settings).isOk());
  EXPECT_EQ(settings.auth.username, "bob");
  EXPECT_EQ(settings.auth.password, "hunter2");
}

TEST(NatsProbeSecurity, UserAndPasswordWithMutualTls) {
  spec::NatsSourceSpec nats;
  nats.tls = tlsFrom("kafka-tls");
  nats.tls->insecureSkipVerify = true;
  nats.auth = natsAuth([](spec::NatsAuthSpec& a) {
    a.usernameFile = "/var/run/secrets/sluice/nats-user/user";
    a.passwordFile = "/var/run/secrets/sluice/nats-user/pass";
  });
  clients::NatsClientSettings settings;
  ASSERT_TRUE(natsProbeSecurity(nats, kSecrets, settings).isOk());
  EXPECT_EQ(settings.auth.username, "bob");
  EXPECT_EQ(settings.auth.password, "hunter2");
  ASSERT_TRUE(settings.tls.has_value());
  EXPECT_TRUE(settings.tls->insecureSkipVerify);
  EXPECT_EQ(settings.tls->caPem, "CA PEM");
  EXPECT_EQ(settings.tls->certPem, "CERT PEM");
  EXPECT_EQ(settings.tls->keyPem, "KEY PEM");
}

TEST(NatsProbeSecurity, RefusesWhatCannotBePassedInMemoryOrIsMissing) {
  const std::vector<std::pair<spec::NatsAuthSpec, std::string>> cases = {
      {natsAuth([](spec::NatsAuthSpec& a) { a.credsFile = "/var/run/secrets/sluice/nats-user/user.creds"; }),
       "spec.source.nats.auth.credsFile: the lag probe's NATS client takes these only as files"},
      {natsAuth([](spec::NatsAuthSpec& a) { a.nkeySeedFile = "/var/run/secrets/sluice/nats-user/seed"; }),
       "spec.source.nats.auth.nkeySeedFile"},
      {natsAuth([](spec::NatsAuthSpec& a) { a.tokenFile = "/var/run/secrets/sluice/nats-user/missing"; }),
       "has no key \"missing\""},
      {natsAuth([](spec::NatsAuthSpec& a) { a.tokenFile = "/etc/nats/token"; }),
       "spec.source.nats.auth.tokenFile (/etc/nats/token) is a file on the worker"},
      {natsAuth([](spec::NatsAuthSpec&) {}), "none of tokenFile, usernameFile/passwordFile points into it"},
      {natsAuth([](spec::NatsAuthSpec& a) {
         a.secretRef.reset();
         a.tokenFile = "/etc/nats/token";
       }),
       "spec.source.nats.auth has no secretRef"},
      {natsAuth([](spec::NatsAuthSpec& a) {
         a.secretRef = spec::SecretRef{"gone"};
         a.tokenFile = "/var/run/secrets/sluice/gone/token";
       }),
       "Secret \"gone\" named by spec.source.nats.auth.secretRef does not exist"},
  };
  for (const auto& [auth, fragment] : cases) {
    spec::NatsSourceSpec nats;
    nats.auth = auth;
    clients::NatsClientSettings settings;
    const auto st = natsProbeSecurity(nats, kSecrets, settings);
    ASSERT_FALSE(st.isOk()) << fragment;
    EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
  }
}

json secretObject(const std::string& name, json labels) {
  json secret = {
      {"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", "shop"}}}};
  if (!labels.is_null()) secret["metadata"]["labels"] = std::move(labels);
  return secret;
}

// The trust model's decision: the lag probe uses a Secret only with the consent of whoever may
// write it (the label), or with the cluster admin's for all (the operator's switch).
TEST(ProbeSecretRefusal, OnlyLabelledSecretsUnlessTheAdminAllowsAll) {
  const std::string field = "spec.source.kafka.sasl.secretRef";
  const auto labelled = secretObject("kafka-user", {{"sluice.dev/lag-probe", "true"}});
  EXPECT_FALSE(probeSecretRefusal(labelled, field, false).has_value());
  for (const json& unlabelled :
       {secretObject("kafka-user", json()), secretObject("kafka-user", {{"sluice.dev/lag-probe", "false"}}),
        secretObject("kafka-user", {{"sluice.dev/lag-probe", "yes"}}),
        secretObject("kafka-user", {{"app", "payments"}})}) {
    const auto refusal = probeSecretRefusal(unlabelled, field, false);
    ASSERT_TRUE(refusal.has_value()) << unlabelled.dump();
    EXPECT_NE(refusal->find("Secret \"kafka-user\" named by spec.source.kafka.sasl.secretRef is not labelled "
                            "sluice.dev/lag-probe=true"),
              std::string::npos)
        << *refusal;
    EXPECT_NE(refusal->find("kubectl label secret kafka-user sluice.dev/lag-probe=true"), std::string::npos);
    EXPECT_FALSE(probeSecretRefusal(unlabelled, field, true).has_value());  // the admin's switch
  }
}

// A Secret refused for the probe is reported as such (not as missing), and nothing of it is used.
TEST(ProbeSecretRefusal, ARefusedSecretStopsTheProbeWithItsReason) {
  SecretsByName secrets = kSecrets;
  secrets.erase("kafka-user");
  secrets.refused["kafka-user"] = "Secret \"kafka-user\" ... is not labelled sluice.dev/lag-probe=true";
  spec::KafkaSourceSpec kafka;
  kafka.sasl = saslFrom("kafka-user");
  const auto got = kafkaProbeSecurity(kafka, secrets);
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), common::ErrorCode::kPermissionDenied);
  EXPECT_NE(got.status().message().find("is not labelled sluice.dev/lag-probe=true"), std::string::npos);
}

// Never in clear text: a PLAIN password, or a NATS token or password, only over TLS. SCRAM and
// client certificates do not send the secret itself.
TEST(ProbeSecurity, NoPasswordInClearText) {
  spec::KafkaSourceSpec kafka;
  kafka.sasl = saslFrom("kafka-user");
  kafka.sasl->mechanism = spec::SaslMechanism::kPlain;
  auto plain = kafkaProbeSecurity(kafka, kSecrets);
  ASSERT_FALSE(plain.isOk());
  EXPECT_EQ(plain.status().code(), common::ErrorCode::kPermissionDenied);
  EXPECT_NE(plain.status().message().find("does not send a SASL PLAIN password without TLS"),
            std::string::npos);
  kafka.tls = tlsFrom("ca-only");
  EXPECT_TRUE(kafkaProbeSecurity(kafka, kSecrets).isOk());
  kafka.tls.reset();
  kafka.sasl->mechanism = spec::SaslMechanism::kScramSha512;
  EXPECT_TRUE(kafkaProbeSecurity(kafka, kSecrets).isOk());

  for (const std::vector<std::string>& servers :
       {std::vector<std::string>{"nats://nats:4222"},
        std::vector<std::string>{"tls://a:4222", "nats://b:4222"}, std::vector<std::string>{}}) {
    spec::NatsSourceSpec nats;
    nats.servers = servers;
    nats.auth = natsAuth([](spec::NatsAuthSpec& a) { a.tokenFile = "token"; });
    clients::NatsClientSettings settings;
    const auto st = natsProbeSecurity(nats, kSecrets, settings);
    ASSERT_FALSE(st.isOk()) << servers.size();
    EXPECT_NE(st.message().find("does not send a NATS token or password without TLS"), std::string::npos)
        << st.message();
    nats.tls = tlsFrom("ca-only");
    clients::NatsClientSettings withTls;
    EXPECT_TRUE(natsProbeSecurity(nats, kSecrets, withTls).isOk()) << servers.size();
  }
}

}  // namespace
}  // namespace sluice::controller

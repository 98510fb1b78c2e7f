#include "operator/controller/probe_credentials.h"

#include <algorithm>
#include <optional>

#include "clients/kafka_settings.h"
#include "kube/config.h"
#include "kube/system_trust.h"
#include "operator/controller/desired.h"

namespace sluice::controller {
namespace {

using common::Result;
using common::Status;

// The Secret one tls/sasl/auth block names, or nullptr for a block without a secretRef.
Result<const SecretValues*> blockSecret(const std::optional<spec::SecretRef>& ref,
                                        const SecretsByName& secrets, const std::string& field) {
  if (!ref || ref->name.empty()) return static_cast<const SecretValues*>(nullptr);
  if (const auto refused = secrets.refused.find(ref->name); refused != secrets.refused.end())
    return Status(common::ErrorCode::kPermissionDenied, refused->second);
  const auto found = secrets.find(ref->name);
  if (found == secrets.end()) {
    return common::notFound("Secret \"" + ref->name + "\" named by " + field + ".secretRef does not exist");
  }
  return &found->second;
}

// One credential of a block with a secretRef: the Secret key its *File field names. An empty field
// means the default key (what workerManifest points the field at); a bare key or a path inside the
// Secret's mount names that key (secretKeyOf); any other path is a file on the worker the operator
// cannot read.
struct Credential {
  const char* fileField;   // "caFile"
  std::string file;        // the field's value in the spec
  const char* defaultKey;  // "ca.crt"; nullptr: no default, the field must name the key
};

Status notReadable(const std::string& field, const std::string& file, const std::string& secret) {
  return common::invalidArgument(field + " (" + file + ") is a file on the worker, not a key of Secret \"" +
                                 secret + "\" (<key> or " + kSecretsDir + "/" + secret +
                                 "/<key>): the operator cannot read it to probe lag");
}

// A user name, password or token as the worker reads it from the mounted file: without trailing
// newlines (worker/kafka_config.cc, worker/nats_connection.cc), which Secrets made with
// `kubectl create secret --from-file` usually carry. PEM is used as it is.
std::string credentialText(std::string value) {
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

// The value, nullopt when the Secret lacks an optional default key.
Result<std::optional<std::string>> lookup(const SecretValues& values, const std::string& secret,
                                          const std::string& block, const Credential& credential,
                                          bool required) {
  std::string key;
  if (credential.file.empty()) {
    if (!credential.defaultKey) return std::optional<std::string>();
    key = credential.defaultKey;
  } else {
    const auto named = secretKeyOf(credential.file, secret);
    if (!named) return notReadable(block + "." + credential.fileField, credential.file, secret);
    key = *named;
    required = true;  // named explicitly: it must be there
  }
  const auto found = values.find(key);
  if (found != values.end()) return std::optional<std::string>(found->second);
  if (!required) return std::optional<std::string>();
  return common::invalidArgument("Secret \"" + secret + "\" named by " + block + ".secretRef has no key \"" +
                                 key + "\"");
}

struct TlsMaterial {
  std::string caPem;
  std::string certPem;
  std::string keyPem;
};

// ca.crt, tls.crt and tls.key are each optional (system CAs; no client certificate), but a client
// certificate needs its key and the other way round.
Result<TlsMaterial> tlsMaterial(const spec::TlsSpec& tls, const SecretsByName& secrets,
                                const std::string& block) {
  auto secret = blockSecret(tls.secretRef, secrets, block);
  if (!secret) return secret.status();
  TlsMaterial out;
  if (!*secret) {
    for (const auto& [field, file] :
         {std::pair{"caFile", tls.caFile}, {"certFile", tls.certFile}, {"keyFile", tls.keyFile}}) {
      if (!file.empty()) {
        return common::invalidArgument(
            block + "." + field + " (" + file +
            ") is a file on the worker and no secretRef names a Secret: the operator "
            "cannot read it to probe lag");
      }
    }
    return out;
  }
  const std::string& name = tls.secretRef->name;
  const std::vector<std::pair<Credential, std::string*>> wanted = {
      {{"caFile", tls.caFile, "ca.crt"}, &out.caPem},
      {{"certFile", tls.certFile, "tls.crt"}, &out.certPem},
      {{"keyFile", tls.keyFile, "tls.key"}, &out.keyPem}};
  for (const auto& [credential, target] : wanted) {
    auto value = lookup(**secret, name, block, credential, false);
    if (!value) return value.status();
    if (*value) *target = **value;
  }
  if (out.certPem.empty() != out.keyPem.empty()) {
    return common::invalidArgument(
        "Secret \"" + name + "\" named by " + block +
        ".secretRef must hold both tls.crt and tls.key for a client certificate, or neither");
  }
  return out;
}

// The SASL user and password from the Secret spec.source.kafka.sasl names.
Result<std::optional<clients::SaslCredentials>> kafkaSaslCredentials(
    const std::optional<spec::SaslSpec>& sasl, const SecretsByName& secrets) {
  if (!sasl) return std::optional<clients::SaslCredentials>();
  const std::string block = "spec.source.kafka.sasl";
  auto secret = blockSecret(sasl->secretRef, secrets, block);
  if (!secret) return secret.status();
  if (!*secret) {
    return common::invalidArgument(
        block +
        " has no secretRef: its credentials are files or environment variables on the "
        "worker, which the operator cannot read to probe lag");
  }
  const std::string& name = sasl->secretRef->name;
  auto user = lookup(**secret, name, block, {"usernameFile", sasl->usernameFile, "username"}, true);
  if (!user) return user.status();
  auto password = lookup(**secret, name, block, {"passwordFile", sasl->passwordFile, "password"}, true);
  if (!password) return password.status();
  return std::optional<clients::SaslCredentials>(
      clients::SaslCredentials{sasl->mechanism, credentialText(**user), credentialText(**password)});
}

// The token, or user and password, from the Secret spec.source.nats.auth names.
Result<clients::NatsAuth> natsCredentials(const spec::NatsAuthSpec& auth, const SecretsByName& secrets) {
  const std::string block = "spec.source.nats.auth";
  if (!auth.credsFile.empty() || !auth.nkeySeedFile.empty()) {
    return common::invalidArgument(
        block + (auth.credsFile.empty() ? ".nkeySeedFile" : ".credsFile") +
        ": the lag probe's NATS client takes these only as files, which the operator does "
        "not write; use tokenFile or usernameFile/passwordFile to have the lag probed");
  }
  auto secret = blockSecret(auth.secretRef, secrets, block);
  if (!secret) return secret.status();
  if (!*secret) {
    return common::invalidArgument(block +
                                   " has no secretRef: its credentials are files on the worker, which the "
                                   "operator cannot read to probe lag");
  }
  const std::string& name = auth.secretRef->name;
  clients::NatsAuth out;
  if (!auth.tokenFile.empty()) {
    auto token = lookup(**secret, name, block, {"tokenFile", auth.tokenFile, nullptr}, true);
    if (!token) return token.status();
    out.token = credentialText(**token);
    return out;
  }
  if (auth.usernameFile.empty()) {
    return common::invalidArgument(block + " names Secret \"" + name +
                                   "\" but none of tokenFile, usernameFile/passwordFile points into it");
  }
  auto user = lookup(**secret, name, block, {"usernameFile", auth.usernameFile, nullptr}, true);
  if (!user) return user.status();
  auto password = lookup(**secret, name, block, {"passwordFile", auth.passwordFile, nullptr}, true);
  if (!password) return password.status();
  out.username = credentialText(**user);
  out.password = credentialText(**password);
  return out;
}

}  // namespace

std::optional<std::string> probeSecretRefusal(const nlohmann::json& secret, const std::string& field,
                                              bool unlabelledAllowed) {
  if (unlabelledAllowed) return std::nullopt;
  const nlohmann::json labels = secret.value("/metadata/labels"_json_pointer, nlohmann::json::object());
  if (labels.is_object() && labels.value(kProbeSecretLabel, "") == "true") return std::nullopt;
  const std::string name = secret.value("/metadata/name"_json_pointer, std::string());
  return "Secret \"" + name + "\" named by " + field + " is not labelled " + kProbeSecretLabel +
         "=true: the operator sends a Secret's credentials to the servers a pipeline names only with the "
         "consent of whoever may write that Secret (kubectl label secret " +
         name + " " + kProbeSecretLabel +
         "=true), or when the cluster admin allows it for all (--lag-probe-unlabelled-secrets); the workers "
         "use the Secret either way";
}

SecretValues decodeSecret(const nlohmann::json& secret) {
  SecretValues out;
  const auto data = secret.find("data");
  if (data != secret.end() && data->is_object()) {
    for (const auto& [key, value] : data->items()) {
      if (value.is_string()) out[key] = kube::base64Decode(value.get<std::string>());
    }
  }
  const auto stringData = secret.find("stringData");
  if (stringData != secret.end() && stringData->is_object()) {
    for (const auto& [key, value] : stringData->items()) {
      if (value.is_string()) out[key] = value.get<std::string>();
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> kafkaProbeSecurity(const spec::KafkaSourceSpec& kafka,
                                                              const SecretsByName& secrets) {
  std::optional<clients::KafkaTls> inMemory;
  if (kafka.tls && kafka.tls->enabled) {
    auto tls = tlsMaterial(*kafka.tls, secrets, "spec.source.kafka.tls");
    if (!tls) return tls.status();
    inMemory.emplace();
    inMemory->caPem = tls->caPem;
    if (tls->caPem.empty()) inMemory->caFile = kube::systemCaBundle();  // empty: none named
    inMemory->certPem = tls->certPem;
    inMemory->keyPem = tls->keyPem;
    inMemory->insecureSkipVerify = kafka.tls->insecureSkipVerify;
  }
  auto sasl = kafkaSaslCredentials(kafka.sasl, secrets);
  if (!sasl) return sasl.status();
  if (*sasl && !inMemory && (*sasl)->mechanism == spec::SaslMechanism::kPlain) {
    return Status(common::ErrorCode::kPermissionDenied,
                  "spec.source.kafka.sasl: the lag probe does not send a SASL PLAIN password without TLS "
                  "(set spec.source.kafka.tls.enabled, or use SCRAM)");
  }
  const clients::KafkaProperties props = clients::kafkaSecurityProperties(inMemory, *sasl);
  return std::map<std::string, std::string>(props.begin(), props.end());
}

Status natsProbeSecurity(const spec::NatsSourceSpec& nats, const SecretsByName& secrets,
                         clients::NatsClientSettings& settings) {
  if (nats.tls && nats.tls->enabled) {
    auto tls = tlsMaterial(*nats.tls, secrets, "spec.source.nats.tls");
    if (!tls) return tls.status();
    settings.tls.emplace();
    settings.tls->caPem = tls->caPem;
    if (tls->caPem.empty()) settings.tls->caFile = kube::systemCaBundle();
    settings.tls->certPem = tls->certPem;
    settings.tls->keyPem = tls->keyPem;
    settings.tls->insecureSkipVerify = nats.tls->insecureSkipVerify;
  }
  if (!nats.auth) return Status::ok();
  auto auth = natsCredentials(*nats.auth, secrets);
  if (!auth) return auth.status();
  const bool allTls =
      !nats.servers.empty() && std::all_of(nats.servers.begin(), nats.servers.end(),
                                           [](const auto& s) { return s.rfind("tls://", 0) == 0; });
  if (!settings.tls && !allTls) {
    return Status(
        common::ErrorCode::kPermissionDenied,
        "spec.source.nats.auth: the lag probe does not send a NATS token or password without TLS (set "
        "spec.source.nats.tls.enabled or tls:// servers)");
  }
  settings.auth = std::move(*auth);
  return Status::ok();
}

Status sourceProbeSecurity(const spec::PipelineSpec& spec, const SecretsByName& secrets) {
  if (spec.source.kafka) return kafkaProbeSecurity(*spec.source.kafka, secrets).status();
  clients::NatsClientSettings ignored;
  if (spec.source.nats) return natsProbeSecurity(*spec.source.nats, secrets, ignored);
  return Status::ok();
}

}  // namespace sluice::controller

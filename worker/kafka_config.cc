#include "worker/kafka_config.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>

#include "common/spec/consumer_properties.h"

namespace sluice::worker {

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

namespace {

common::Result<std::string> readSecretFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in)
    return common::invalidArgument(what + " file " + path +
                                   " cannot be read: mount the Secret or fix the path");
  std::stringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

common::Result<std::string> credential(const std::string& file, const std::string& envName,
                                       const std::string& what, const EnvLookup& env) {
  if (!file.empty()) return readSecretFile(file, what);
  if (auto value = env(envName)) return *value;
  return common::invalidArgument("SASL " + what + " missing: set spec.source.kafka.sasl." + what +
                                 "File or the environment variable " + envName);
}

}  // namespace

common::Result<KafkaProperties> securityProperties(const std::optional<spec::TlsSpec>& tls,
                                                   const std::optional<spec::SaslSpec>& sasl,
                                                   const EnvLookup& env) {
  std::optional<clients::KafkaTls> files;
  if (tls && tls->enabled) {
    files.emplace();
    files->caFile = tls->caFile;
    files->certFile = tls->certFile;
    files->keyFile = tls->keyFile;
    files->insecureSkipVerify = tls->insecureSkipVerify;
  }
  if (!sasl) return clients::kafkaSecurityProperties(files, std::nullopt);
  auto user = credential(sasl->usernameFile, "SLUICE_SASL_USERNAME", "username", env);
  if (!user) return user.status();
  auto password = credential(sasl->passwordFile, "SLUICE_SASL_PASSWORD", "password", env);
  if (!password) return password.status();
  return clients::kafkaSecurityProperties(files, clients::SaslCredentials{sasl->mechanism, *user, *password});
}

common::Result<KafkaProperties> propertyOverrides(const std::string& text) {
  return spec::parseConsumerProperties(text, spec::kConsumerPropertiesEnv);
}

namespace {

// librdkafka's share of the byte budget for prefetching: a quarter, at least 1 MiB.
int64_t prefetchBytes(const spec::BackpressureSpec& budget) {
  return std::clamp<int64_t>(budget.maxInFlightBytes / 4, 1 << 20, 2097151LL * 1024);
}

}  // namespace

common::Result<KafkaProperties> consumerProperties(const spec::ConsumerPipeline& pipeline,
                                                   const std::string& podName, const EnvLookup& env) {
  const auto& kafka = *pipeline.spec.source.kafka;
  const auto& budget = pipeline.spec.backpressure;
  KafkaProperties props = {
      {"bootstrap.servers", kafka.bootstrapServers},
      {"group.id", spec::effectiveGroupId(pipeline)},
      {"client.id", podName.empty() ? "sluice-worker" : podName},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.auto.offset.store", "false"},
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", "1000"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", kafka.startFrom == spec::StartFrom::kEarliest ? "earliest" : "latest"},
      // librdkafka's own prefetch queue is bounded from the same budget: a quarter of the bytes
      // (at least 1 MiB) and at most twice the message budget (one budget's worth left the queue
      // at 10 000 small messages, ~5 ms of consuming, so every fetch round trip showed as a stall;
      // twice measured +2-25% at ~300 bytes of librdkafka overhead per queued message). A fetch
      // response may overshoot those limits
      // by one response, so a response is bounded too: an eighth of the prefetch share in total (at
      // least 1 MiB; librdkafka's default, 50 MiB, made one response bring ~80 000 small messages
      // into a queue meant for 10 000), at most 1 MiB per partition.
      {"queued.max.messages.kbytes", std::to_string(prefetchBytes(budget) / 1024)},
      {"queued.min.messages",
       std::to_string(std::clamp<int64_t>(2 * budget.maxInFlightMessages, 1, 10000000))},
      {"fetch.message.max.bytes",
       std::to_string(std::clamp<int64_t>(budget.maxInFlightBytes / 8, 65536, 1048576))},
      {"fetch.max.bytes", std::to_string(std::clamp<int64_t>(prefetchBytes(budget) / 8, 1048576, 52428800))},
  };
  if (!podName.empty()) props.emplace_back("group.instance.id", podName);
  auto security = securityProperties(kafka.tls, kafka.sasl, env);
  if (!security) return security.status().withContext("spec.source.kafka");
  props.insert(props.end(), security->begin(), security->end());
  auto overrides = propertyOverrides(env(spec::kConsumerPropertiesEnv).value_or(""));
  if (!overrides) return overrides.status();
  props.insert(props.end(), overrides->begin(), overrides->end());
  return props;
}

QueueLimits queueLimits(const KafkaProperties& properties) {
  QueueLimits limits;
  for (const auto& [name, value] : properties) {
    try {
      if (name == "queued.min.messages") limits.messages = std::stoll(value);
      if (name == "queued.max.messages.kbytes") limits.bytes = std::stoll(value) * 1024;
    } catch (const std::exception&) {
      // librdkafka itself rejects a non-numeric value when the consumer is created.
    }
  }
  return limits;
}

// A Kafka destination's security: its own tls/sasl when it sets them; else, on the source's
// cluster, the source's; else none.
common::Result<KafkaProperties> destinationSecurity(const std::string& ownCluster,
                                                    const std::optional<spec::TlsSpec>& tls,
                                                    const std::optional<spec::SaslSpec>& sasl,
                                                    const spec::PipelineSpec& spec, const EnvLookup& env) {
  const bool sourceCluster =
      spec.source.kafka && (ownCluster.empty() || ownCluster == spec.source.kafka->bootstrapServers);
  return securityProperties(tls ? tls : (sourceCluster ? spec.source.kafka->tls : std::nullopt),
                            sasl ? sasl : (sourceCluster ? spec.source.kafka->sasl : std::nullopt), env);
}

KafkaProperties producerProperties(const std::string& bootstrapServers, common::Millis deliveryTimeout) {
  // librdkafka wants message.timeout.ms above linger.ms (5); processing.timeoutMs is at least 100.
  const auto timeoutMs = std::max<int64_t>(deliveryTimeout.count(), 100);
  return {
      {"bootstrap.servers", bootstrapServers},
      {"client.id", "sluice-worker-producer"},
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"linger.ms", "5"},
      {"message.timeout.ms", std::to_string(timeoutMs)},
  };
}

}  // namespace sluice::worker

#pragma once
// The ConsumerPipeline API (sluice.dev/v1alpha1) as C++ types, shared by operator and worker.
// Defaults live here (member initialisers) and must agree with crds/consumerpipelines.sluice.dev.yaml;
// tests/crds/crd_agreement_test.cc checks that they do.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::spec {

inline constexpr const char* kGroup = "sluice.dev";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "sluice.dev/v1alpha1";
inline constexpr const char* kKind = "ConsumerPipeline";
inline constexpr const char* kPlural = "consumerpipelines";

struct SecretRef {
  std::string name;
};

// TLS towards a broker. With secretRef the operator mounts the Secret (keys ca.crt, tls.crt, tls.key)
// and sets the *File fields to the mount path; standalone workers set the files directly.
struct TlsSpec {
  bool enabled = true;
  std::optional<SecretRef> secretRef;
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  bool insecureSkipVerify = false;
};

enum class SaslMechanism { kPlain, kScramSha256, kScramSha512 };

// SASL credentials. With secretRef the operator mounts the Secret (keys username, password);
// standalone workers point usernameFile/passwordFile at files, or set SLUICE_SASL_USERNAME/PASSWORD.
struct SaslSpec {
  SaslMechanism mechanism = SaslMechanism::kScramSha512;
  std::optional<SecretRef> secretRef;
  std::string usernameFile;
  std::string passwordFile;
};

enum class StartFrom { kEarliest, kLatest };

struct KafkaSourceSpec {
  std::string bootstrapServers;
  std::vector<std::string> topics;
  std::string groupId;  // defaulted to <namespace>.<name> when empty
  StartFrom startFrom = StartFrom::kLatest;
  std::optional<TlsSpec> tls;
  std::optional<SaslSpec> sasl;
};

// NATS credentials: exactly one way of authenticating, each read from a file (mounted from secretRef).
struct NatsAuthSpec {
  std::optional<SecretRef> secretRef;
  std::string credsFile;
  std::string nkeySeedFile;
  std::string tokenFile;
  std::string usernameFile;
  std::string passwordFile;
};

struct NatsSourceSpec {
  std::vector<std::string> servers;
  std::string stream;
  std::string consumer;  // durable pull consumer; defaulted to <namespace>-<name> when empty
  std::string filterSubject;
  std::string keyHeader;    // ordering: key reads the key from this header ...
  int keySubjectToken = 0;  // ... or from this 1-based subject token (0 = unset)
  int ackWaitSeconds = 30;
  std::optional<TlsSpec> tls;
  std::optional<NatsAuthSpec> auth;
};

struct SourceSpec {
  std::optional<KafkaSourceSpec> kafka;
  std::optional<NatsSourceSpec> nats;
};

struct BatchSpec {
  int maxMessages = 500;
  int64_t maxBytes = 1048576;
  int maxWaitMs = 2000;
};

enum class Ordering { kKey, kPartition, kNone };

struct RetrySpec {
  int maxAttempts = 5;
  int initialBackoffMs = 300;
  int maxBackoffMs = 30000;
  double multiplier = 2.0;
  double jitter = 0.2;
};

// Destinations (sink, dead letter) on a cluster of their own take their own tls/sasl/auth; on the
// source's cluster (no servers of their own) they use the source's unless they set their own.
struct KafkaDeadLetterSpec {
  std::string topic;
  std::string bootstrapServers;  // default: the source's (or sink's) Kafka cluster
  std::optional<TlsSpec> tls;
  std::optional<SaslSpec> sasl;
};

struct NatsDeadLetterSpec {
  std::string subject;
  std::vector<std::string> servers;  // default: the source's NATS servers
  std::optional<TlsSpec> tls;
  std::optional<NatsAuthSpec> auth;
};

struct DeadLetterSpec {
  std::optional<KafkaDeadLetterSpec> kafka;
  std::optional<NatsDeadLetterSpec> nats;
};

struct ProcessingSpec {
  std::optional<Ordering> ordering;  // resolved by effectiveOrdering(): key for Kafka, none for NATS
  int concurrency = 4;
  int timeoutMs = 30000;
  RetrySpec retry;
  std::optional<DeadLetterSpec> deadLetter;
};

struct BackpressureSpec {
  int64_t maxInFlightMessages = 10000;
  int64_t maxInFlightBytes = 67108864;
  double resumeRatio = 0.5;
};

enum class HttpFormat { kJson, kNdjson };

// One key of a Secret in the pipeline's namespace (Kubernetes' SecretKeySelector).
struct SecretKeyRef {
  std::string name;
  std::string key;
};

// A request header whose value is kept out of the spec: with secretKeyRef the operator mounts the
// Secret and points valueFile at the key's file; standalone, valueFile names a file directly.
struct HttpHeaderFrom {
  std::string name;
  std::optional<SecretKeyRef> secretKeyRef;
  std::string valueFile;
};

struct HttpSinkSpec {
  std::string url;
  HttpFormat format = HttpFormat::kJson;
  std::map<std::string, std::string> headers;
  std::vector<HttpHeaderFrom> headersFrom;
  int timeoutMs = 10000;
};

struct KafkaSinkSpec {
  std::string bootstrapServers;  // default: the source's Kafka cluster
  std::string topic;
  std::optional<TlsSpec> tls;
  std::optional<SaslSpec> sasl;
};

// How the NATS sink publishes: to JetStream, waiting for the stream's ack (a subject no stream
// captures is a retryable delivery error), or core NATS (explicit opt-in: nothing stores the message,
// so a message nobody is subscribed to is gone; delivered once the server has it).
enum class NatsPublish { kJetStream, kCore };

struct NatsSinkSpec {
  std::vector<std::string> servers;  // default: the source's NATS servers
  std::string subject;
  std::optional<TlsSpec> tls;
  std::optional<NatsAuthSpec> auth;
  NatsPublish publish = NatsPublish::kJetStream;
};

struct LogSinkSpec {};
struct DiscardSinkSpec {};

struct SinkSpec {
  std::optional<HttpSinkSpec> http;
  std::optional<KafkaSinkSpec> kafka;
  std::optional<NatsSinkSpec> nats;
  std::optional<LogSinkSpec> log;
  std::optional<DiscardSinkSpec> discard;
};

// The lag target of a manifest without a scaling block (set by the parser, the one place this
// default is applied; a scaling block must name lagPerReplica or drainSeconds itself).
inline constexpr int64_t kDefaultLagPerReplica = 1000;

struct ScalingSpec {
  int minReplicas = 0;
  int maxReplicas = 10;
  std::optional<int64_t> lagPerReplica;  // nullopt: no lag target (drainSeconds only)
  std::optional<int> drainSeconds;
  int64_t activationLag = 0;
  int pollIntervalSeconds = 5;
  int scaleDownStabilizationSeconds = 120;
  int idleSecondsBeforeZero = 300;
  bool allowIdleConsumers = false;
  bool paused = false;
};

struct EnvVar {
  std::string name;
  std::string value;
};

struct WorkerSpec {
  std::string image;  // empty: the operator's --worker-image
  std::string imagePullPolicy = "IfNotPresent";
  std::string resourcesJson;  // corev1.ResourceRequirements as JSON, passed through; empty = none
  std::vector<EnvVar> env;
  int drainSeconds = 30;  // graceful-stop deadline; terminationGracePeriod = drainSeconds + 10
};

struct PipelineSpec {
  SourceSpec source;
  BatchSpec batch;
  ProcessingSpec processing;
  BackpressureSpec backpressure;
  SinkSpec sink;
  ScalingSpec scaling;
  WorkerSpec worker;
};

struct ObjectMeta {
  std::string name;
  std::string namespace_;
  std::string uid;
  int64_t generation = 0;
  std::string resourceVersion;
  std::string creationTimestamp;  // RFC 3339, set by the API server; empty outside Kubernetes
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct ConsumerPipeline {
  ObjectMeta metadata;
  PipelineSpec spec;
};

// Helpers resolving the defaults that depend on other fields.
Ordering effectiveOrdering(const PipelineSpec& spec);
std::string effectiveGroupId(const ConsumerPipeline& pipeline);
std::string effectiveNatsConsumer(const ConsumerPipeline& pipeline);
const char* toString(Ordering ordering);
const char* toString(StartFrom startFrom);
const char* toString(SaslMechanism mechanism);
const char* toString(HttpFormat format);
const char* toString(NatsPublish publish);

// Which source / sink a spec names (validation saw to it that exactly one is set). Both binaries
// switch on these; toString gives the spec's own field name.
enum class SourceKind { kKafka, kNats };
enum class SinkKind { kHttp, kKafka, kNats, kLog, kDiscard };
SourceKind sourceKindOf(const SourceSpec& source);
SinkKind sinkKindOf(const SinkSpec& sink);
const char* toString(SourceKind kind);
const char* toString(SinkKind kind);

}  // namespace sluice::spec

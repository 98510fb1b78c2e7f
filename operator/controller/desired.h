#pragma once
// The objects a ConsumerPipeline owns, as pure functions of the pipeline (no clients, no clock):
// ServiceAccount, Role, RoleBinding, ConfigMap (the manifest the worker reads) and the worker
// Deployment. The reconciler applies them with server-side apply; tests compare them with golden
// files under tests/operator/testdata/.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/contract/worker_report.h"
#include "common/spec/pipeline.h"

namespace sluice::controller {

inline constexpr const char* kSpecHashAnnotation = "sluice.dev/spec-hash";
// On the worker pod template: a hash of the referenced Secrets' identities and resourceVersions
// (never of their data), so a changed Secret rolls the workers, which read credentials at start.
inline constexpr const char* kSecretsHashAnnotation = "sluice.dev/secrets-hash";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedBy = "sluice-operator";
inline constexpr const char* kWorkerCommand = "/usr/local/bin/sluice-worker";
inline constexpr const char* kConfigPath = "/etc/sluice/pipeline.yaml";
inline constexpr const char* kSecretsDir = "/var/run/secrets/sluice";
inline constexpr int kMetricsPort = 9400;
inline constexpr int kHealthPort = 8081;
inline constexpr int kWorkerUid = 65532;
inline constexpr int kPreStopSleepSeconds = 5;

// A referenced Secret as the reconcile read it: which object, which version, which keys (never
// the values).
struct ReadSecret {
  std::string uid;
  std::string resourceVersion;
  std::set<std::string> keys;
};

struct DesiredOptions {
  std::string defaultImage;
  // Replica count to write. nullopt leaves spec.replicas out of the apply body, so another field
  // manager (the autoscaler, issue 7) owns it without this manager fighting over it.
  std::optional<int> replicas;
  // The referenced Secrets as this reconcile read them (those that exist): their versions make the
  // pod template's kSecretsHashAnnotation, their keys decide which absent *File fields get a
  // default (workerManifest). Empty (none read): no annotation, every default.
  std::map<std::string, ReadSecret> secrets;
};

// A Secret the pipeline references and the field that names it (for condition messages).
struct SecretUse {
  std::string name;
  std::string field;  // "spec.source.kafka.sasl.secretRef"
};
std::vector<SecretUse> referencedSecrets(const spec::PipelineSpec& spec);

// The pod template's kSecretsHashAnnotation: changes when a referenced Secret is changed, replaced
// (new uid), created or deleted. Built from uids and resourceVersions only, so the annotation
// (readable by whoever may read Deployments) says nothing about the credentials. Empty map: "".
std::string secretsHash(const std::map<std::string, ReadSecret>& byName);

// The replicas the controller writes while no autoscaler owns them: minReplicas within [0, max].
int defaultReplicas(const spec::ScalingSpec& scaling);

// Names of the owned objects.
std::string workerName(const std::string& pipelineName);  // SA, Role, RoleBinding, Deployment
std::string configMapName(const std::string& pipelineName);

// Stable hash (FNV-1a 64, hex) of the parts of the spec the workers run with; scaling is left out
// because changing it must not restart every worker.
std::string specHash(const nlohmann::json& pipelineObject);
std::string contentHash(const std::string& text);

// The controller owner reference to the pipeline (controller and blockOwnerDeletion true).
nlohmann::json ownerReference(const nlohmann::json& pipelineObject);

struct DesiredObjects {
  nlohmann::json serviceAccount;
  nlohmann::json role;
  nlohmann::json roleBinding;
  nlohmann::json configMap;
  nlohmann::json deployment;
};

// `pipelineObject` is the API object (metadata with uid, spec as stored); `pipeline` its parse.
DesiredObjects desiredObjects(const spec::ConsumerPipeline& pipeline, const nlohmann::json& pipelineObject,
                              const DesiredOptions& options);

nlohmann::json desiredServiceAccount(const spec::ConsumerPipeline& pipeline,
                                     const nlohmann::json& pipelineObject);
nlohmann::json desiredRole(const spec::ConsumerPipeline& pipeline, const nlohmann::json& pipelineObject);
nlohmann::json desiredRoleBinding(const spec::ConsumerPipeline& pipeline,
                                  const nlohmann::json& pipelineObject);
nlohmann::json desiredConfigMap(const spec::ConsumerPipeline& pipeline, const nlohmann::json& pipelineObject,
                                const DesiredOptions& options = {});
nlohmann::json desiredDeployment(const spec::ConsumerPipeline& pipeline, const nlohmann::json& pipelineObject,
                                 const DesiredOptions& options);
// The manifest the worker reads: the pipeline with Secret file paths pointed at the mounts. An
// absent *File field gets its default key (tls: ca.crt, tls.crt, tls.key; sasl: username,
// password) unless `secrets` shows that Secret read without that key: a TLS Secret holding only
// ca.crt verifies the server and presents no client certificate, instead of naming a file that
// is not there.
nlohmann::json workerManifest(const nlohmann::json& pipelineObject,
                              const std::map<std::string, ReadSecret>& secrets = {});

// The Secret key a *File field of a block whose secretRef names `secret` refers to: a bare key
// ("user.creds"; Secret keys hold no '/') or a path inside the Secret's mount
// (kSecretsDir/<secret>/<key>). nullopt for any other path: a file on the worker, used as it is.
std::optional<std::string> secretKeyOf(const std::string& file, const std::string& secret);

}  // namespace sluice::controller

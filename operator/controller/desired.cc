#include "operator/controller/desired.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace sluice::controller {
namespace {

using nlohmann::json;

std::string nameOf(const json& object) { return object.at("metadata").value("name", ""); }
std::string namespaceOf(const json& object) { return object.at("metadata").value("namespace", ""); }

json labels(const std::string& pipelineName) {
  return {{"app.kubernetes.io/name", "sluice-worker"},
          {"app.kubernetes.io/instance", pipelineName},
          {kManagedByLabel, kManagedBy},
          {contract::kPipelineLabel, pipelineName}};
}

json selectorLabels(const std::string& pipelineName) {
  return {{"app.kubernetes.io/name", "sluice-worker"}, {"app.kubernetes.io/instance", pipelineName}};
}

json metadataFor(const json& pipelineObject, const std::string& name) {
  return {{"name", name},
          {"namespace", namespaceOf(pipelineObject)},
          {"labels", labels(nameOf(pipelineObject))},
          {"ownerReferences", json::array({ownerReference(pipelineObject)})}};
}

std::string secretDir(const std::string& secretName) { return std::string(kSecretsDir) + "/" + secretName; }

void addSecretUse(std::vector<SecretUse>& out, const std::optional<spec::SecretRef>& ref,
                  const std::string& field) {
  if (ref && !ref->name.empty()) out.push_back({ref->name, field + ".secretRef"});
}

// Points the file fields of a tls/sasl/auth block that has a secretRef at where the Secret is
// mounted: an absent field at its default key (when it has one), a field naming a key at that key.
// Other paths are files the worker has some other way and stay as they are.
// A default key is used only when the Secret holds it, or was not read (then it cannot be known).
void rewriteSecretFiles(json& block, const std::vector<std::pair<const char*, const char*>>& fileKeys,
                        const std::map<std::string, ReadSecret>& read) {
  if (!block.is_object() || !block.contains("secretRef")) return;
  const std::string secret = block["secretRef"].value("name", "");
  const auto found = read.find(secret);
  for (const auto& [field, defaultKey] : fileKeys) {
    if (!block.contains(field)) {
      if (defaultKey && (found == read.end() || found->second.keys.count(defaultKey))) {
        block[field] = secretDir(secret) + "/" + defaultKey;
      }
      continue;
    }
    if (!block[field].is_string()) continue;
    if (const auto key = secretKeyOf(block[field].get<std::string>(), secret)) {
      block[field] = secretDir(secret) + "/" + *key;
    }
  }
}

const std::vector<std::pair<const char*, const char*>> kTlsFiles = {
    {"caFile", "ca.crt"}, {"certFile", "tls.crt"}, {"keyFile", "tls.key"}};
const std::vector<std::pair<const char*, const char*>> kSaslFiles = {{"usernameFile", "username"},
                                                                     {"passwordFile", "password"}};
// No defaults: which field is set is the way of authenticating (at most one may be).
const std::vector<std::pair<const char*, const char*>> kNatsAuthFiles = {{"credsFile", nullptr},
                                                                         {"nkeySeedFile", nullptr},
                                                                         {"tokenFile", nullptr},
                                                                         {"usernameFile", nullptr},
                                                                         {"passwordFile", nullptr}};

// Each spec.sink.http.headersFrom entry with a secretKeyRef reads its value from where the Secret is
// mounted; the value itself never enters the ConfigMap.
void pointHeadersAtSecretFiles(json& headersFrom) {
  if (!headersFrom.is_array()) return;
  for (json& header : headersFrom) {
    if (!header.is_object() || !header.contains("secretKeyRef") || !header["secretKeyRef"].is_object())
      continue;
    const json& ref = header["secretKeyRef"];
    const std::string secret = ref.value("name", "");
    const auto key = secretKeyOf(ref.value("key", ""), secret);
    if (secret.empty() || !key) continue;
    header["valueFile"] = secretDir(secret) + "/" + *key;
  }
}

json* find(json& root, const std::vector<const char*>& path) {
  json* node = &root;
  for (const char* key : path) {
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
  }
  return node;
}

json secretVolumes(const std::vector<SecretUse>& secrets, json& mounts) {
  json volumes = json::array();
  std::set<std::string> seen;
  for (const auto& use : secrets) {
    if (!seen.insert(use.name).second) continue;
    const std::string volume = "secret-" + std::to_string(seen.size());
    volumes.push_back({{"name", volume}, {"secret", {{"secretName", use.name}, {"defaultMode", 0440}}}});
    mounts.push_back({{"name", volume}, {"mountPath", secretDir(use.name)}, {"readOnly", true}});
  }
  return volumes;
}

// The pod's identity from the downward API: the heartbeat Lease is named after the pod and owned by
// it (name + uid make the owner reference), so the worker needs no `get pods` permission.
json containerEnv(const spec::WorkerSpec& worker) {
  json env = json::array({
      {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
      {{"name", "POD_NAMESPACE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
      {{"name", "POD_UID"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.uid"}}}}}},
  });
  for (const auto& var : worker.env) env.push_back({{"name", var.name}, {"value", var.value}});
  return env;
}

json containerSecurityContext() {
  return {{"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"runAsNonRoot", true},
          {"runAsUser", kWorkerUid},
          {"capabilities", {{"drop", json::array({"ALL"})}}},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

void addProbes(json& container) {
  container["readinessProbe"] = {
      {"httpGet", {{"path", "/readyz"}, {"port", "health"}}}, {"periodSeconds", 5}, {"failureThreshold", 2}};
  container["livenessProbe"] = {{"httpGet", {{"path", "/healthz"}, {"port", "health"}}},
                                {"initialDelaySeconds", 10},
                                {"periodSeconds", 10},
                                {"failureThreshold", 3}};
}

json workerContainer(const spec::ConsumerPipeline& pipeline, const DesiredOptions& options, json mounts) {
  const auto& worker = pipeline.spec.worker;
  json container = {
      {"name", "worker"},
      {"image", worker.image.empty() ? options.defaultImage : worker.image},
      {"imagePullPolicy", worker.imagePullPolicy},
      // The image holds both programs and has no ENTRYPOINT: name the worker explicitly.
      {"command", json::array({kWorkerCommand})},
      {"args", json::array({"--config", kConfigPath})},
      {"env", containerEnv(worker)},
      {"ports", json::array({{{"name", "metrics"}, {"containerPort", kMetricsPort}, {"protocol", "TCP"}},
                             {{"name", "health"}, {"containerPort", kHealthPort}, {"protocol", "TCP"}}})},
      {"securityContext", containerSecurityContext()},
      // Endpoints stop sending before SIGTERM reaches the worker, which then drains.
      {"lifecycle", {{"preStop", {{"sleep", {{"seconds", kPreStopSleepSeconds}}}}}}},
      {"volumeMounts", std::move(mounts)},
  };
  if (!worker.resourcesJson.empty()) {
    json resources = json::parse(worker.resourcesJson, nullptr, false);
    if (resources.is_object()) container["resources"] = resources;
  }
  addProbes(container);
  return container;
}

json podSpec(const spec::ConsumerPipeline& pipeline, const DesiredOptions& options) {
  json mounts = json::array({{{"name", "config"}, {"mountPath", "/etc/sluice"}, {"readOnly", true}},
                             {{"name", "tmp"}, {"mountPath", "/tmp"}}});
  json volumes = secretVolumes(referencedSecrets(pipeline.spec), mounts);
  volumes.push_back({{"name", "config"},
                     {"configMap",
                      {{"name", configMapName(pipeline.metadata.name)},
                       {"items", json::array({{{"key", "pipeline.yaml"}, {"path", "pipeline.yaml"}}})}}}});
  volumes.push_back({{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}});
  return {{"serviceAccountName", workerName(pipeline.metadata.name)},
          {"terminationGracePeriodSeconds", pipeline.spec.worker.drainSeconds + 10},
          {"securityContext",
           {{"runAsNonRoot", true},
            {"runAsUser", kWorkerUid},
            {"runAsGroup", kWorkerUid},
            {"fsGroup", kWorkerUid},
            {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
          {"containers", json::array({workerContainer(pipeline, options, std::move(mounts))})},
          {"volumes", std::move(volumes)}};
}

}  // namespace

std::vector<SecretUse> referencedSecrets(const spec::PipelineSpec& spec) {
  std::vector<SecretUse> out;
  if (const auto& kafka = spec.source.kafka) {
    if (kafka->tls) addSecretUse(out, kafka->tls->secretRef, "spec.source.kafka.tls");
    if (kafka->sasl) addSecretUse(out, kafka->sasl->secretRef, "spec.source.kafka.sasl");
  }
  if (const auto& nats = spec.source.nats) {
    if (nats->tls) addSecretUse(out, nats->tls->secretRef, "spec.source.nats.tls");
    if (nats->auth) addSecretUse(out, nats->auth->secretRef, "spec.source.nats.auth");
  }
  if (const auto& kafka = spec.sink.kafka) {
    if (kafka->tls) addSecretUse(out, kafka->tls->secretRef, "spec.sink.kafka.tls");
    if (kafka->sasl) addSecretUse(out, kafka->sasl->secretRef, "spec.sink.kafka.sasl");
  }
  if (const auto& nats = spec.sink.nats) {
    if (nats->tls) addSecretUse(out, nats->tls->secretRef, "spec.sink.nats.tls");
    if (nats->auth) addSecretUse(out, nats->auth->secretRef, "spec.sink.nats.auth");
  }
  if (const auto& dlq = spec.processing.deadLetter) {
    if (dlq->kafka && dlq->kafka->tls)
      addSecretUse(out, dlq->kafka->tls->secretRef, "spec.processing.deadLetter.kafka.tls");
    if (dlq->kafka && dlq->kafka->sasl)
      addSecretUse(out, dlq->kafka->sasl->secretRef, "spec.processing.deadLetter.kafka.sasl");
    if (dlq->nats && dlq->nats->tls)
      addSecretUse(out, dlq->nats->tls->secretRef, "spec.processing.deadLetter.nats.tls");
    if (dlq->nats && dlq->nats->auth)
      addSecretUse(out, dlq->nats->auth->secretRef, "spec.processing.deadLetter.nats.auth");
  }
  if (const auto& http = spec.sink.http) {
    for (size_t i = 0; i < http->headersFrom.size(); ++i) {
      if (const auto& ref = http->headersFrom[i].secretKeyRef; ref && !ref->name.empty())
        out.push_back({ref->name, "spec.sink.http.headersFrom[" + std::to_string(i) + "].secretKeyRef"});
    }
  }
  return out;
}

int defaultReplicas(const spec::ScalingSpec& scaling) {
  return std::clamp(scaling.minReplicas, 0, std::max(0, scaling.maxReplicas));
}

std::string workerName(const std::string& pipelineName) { return pipelineName + "-worker"; }
std::string configMapName(const std::string& pipelineName) { return pipelineName + "-pipeline"; }

std::string specHash(const json& pipelineObject) {
  json spec = pipelineObject.value("spec", json::object());
  if (spec.is_object()) spec.erase("scaling");
  return contentHash(spec.dump());  // object keys are sorted: stable
}

std::string secretsHash(const std::map<std::string, ReadSecret>& byName) {
  if (byName.empty()) return "";
  json all = json::object();
  for (const auto& [name, version] : byName) all[name] = {version.uid, version.resourceVersion};
  return contentHash(all.dump());
}

std::string contentHash(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

json ownerReference(const json& pipelineObject) {
  return {{"apiVersion", spec::kApiVersion},
          {"kind", spec::kKind},
          {"name", nameOf(pipelineObject)},
          {"uid", pipelineObject.at("metadata").value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

json desiredServiceAccount(const spec::ConsumerPipeline& pipeline, const json& pipelineObject) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", metadataFor(pipelineObject, workerName(pipeline.metadata.name))}};
}

// Least privilege: the worker reads its own pipeline and keeps a heartbeat Lease, written with
// server-side apply only (create when absent, else patch: it never reads, lists or replaces one,
// so it cannot find other Leases' names). Lease names are per Pod, so patch cannot be narrowed by
// name and create never can be; the operator trusts only reports from Leases owned by a live Pod
// of the pipeline (trustedReportLeases), which another pipeline's worker cannot forge (it cannot
// read Pods). The operator must itself hold every permission it grants here (RBAC escalation
// check): consumerpipelines get, leases create/patch (charts/sluice/templates/_helpers.tpl).
json desiredRole(const spec::ConsumerPipeline& pipeline, const json& pipelineObject) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", metadataFor(pipelineObject, workerName(pipeline.metadata.name))},
          {"rules", json::array({{{"apiGroups", json::array({spec::kGroup})},
                                  {"resources", json::array({spec::kPlural})},
                                  {"resourceNames", json::array({pipeline.metadata.name})},
                                  {"verbs", json::array({"get"})}},
                                 {{"apiGroups", json::array({"coordination.k8s.io"})},
                                  {"resources", json::array({"leases"})},
                                  {"verbs", json::array({"create", "patch"})}}})}};
}

json desiredRoleBinding(const spec::ConsumerPipeline& pipeline, const json& pipelineObject) {
  const std::string name = workerName(pipeline.metadata.name);
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", metadataFor(pipelineObject, name)},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", name}}},
          {"subjects",
           json::array(
               {{{"kind", "ServiceAccount"}, {"name", name}, {"namespace", namespaceOf(pipelineObject)}}})}};
}

std::optional<std::string> secretKeyOf(const std::string& file, const std::string& secret) {
  const std::string mount = secretDir(secret) + "/";
  const std::string key = file.rfind(mount, 0) == 0 ? file.substr(mount.size()) : file;
  if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos) return std::nullopt;
  return key;
}

json workerManifest(const json& pipelineObject, const std::map<std::string, ReadSecret>& secrets) {
  json spec = pipelineObject.value("spec", json::object());
  for (const auto& path :
       std::vector<std::vector<const char*>>{{"source", "kafka", "tls"},
                                             {"source", "nats", "tls"},
                                             {"sink", "kafka", "tls"},
                                             {"sink", "nats", "tls"},
                                             {"processing", "deadLetter", "kafka", "tls"},
                                             {"processing", "deadLetter", "nats", "tls"}}) {
    if (json* block = find(spec, path)) rewriteSecretFiles(*block, kTlsFiles, secrets);
  }
  for (const auto& path :
       std::vector<std::vector<const char*>>{{"source", "kafka", "sasl"},
                                             {"sink", "kafka", "sasl"},
                                             {"processing", "deadLetter", "kafka", "sasl"}}) {
    if (json* block = find(spec, path)) rewriteSecretFiles(*block, kSaslFiles, secrets);
  }
  for (const auto& path :
       std::vector<std::vector<const char*>>{{"source", "nats", "auth"},
                                             {"sink", "nats", "auth"},
                                             {"processing", "deadLetter", "nats", "auth"}}) {
    if (json* block = find(spec, path)) rewriteSecretFiles(*block, kNatsAuthFiles, secrets);
  }
  if (json* headers = find(spec, {"sink", "http", "headersFrom"})) pointHeadersAtSecretFiles(*headers);
  return {{"apiVersion", spec::kApiVersion},
          {"kind", spec::kKind},
          {"metadata", {{"name", nameOf(pipelineObject)}, {"namespace", namespaceOf(pipelineObject)}}},
          {"spec", spec}};
}

json desiredConfigMap(const spec::ConsumerPipeline& pipeline, const json& pipelineObject,
                      const DesiredOptions& options) {
  // JSON is YAML: the worker's YAML parser reads it as is.
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", metadataFor(pipelineObject, configMapName(pipeline.metadata.name))},
          {"data", {{"pipeline.yaml", workerManifest(pipelineObject, options.secrets).dump(2) + "\n"}}}};
}

json desiredDeployment(const spec::ConsumerPipeline& pipeline, const json& pipelineObject,
                       const DesiredOptions& options) {
  const std::string hash = specHash(pipelineObject);
  json metadata = metadataFor(pipelineObject, workerName(pipeline.metadata.name));
  metadata["annotations"] = {{kSpecHashAnnotation, hash}};
  json templateLabels = labels(pipeline.metadata.name);
  json templateAnnotations = {{"prometheus.io/scrape", "true"},
                              {"prometheus.io/port", std::to_string(kMetricsPort)},
                              {"prometheus.io/path", "/metrics"},
                              {kSpecHashAnnotation, hash}};
  if (const std::string secrets = secretsHash(options.secrets); !secrets.empty()) {
    templateAnnotations[kSecretsHashAnnotation] = secrets;
  }
  json spec = {{"selector", {{"matchLabels", selectorLabels(pipeline.metadata.name)}}},
               {"template",
                {{"metadata", {{"labels", templateLabels}, {"annotations", templateAnnotations}}},
                 {"spec", podSpec(pipeline, options)}}}};
  if (options.replicas) spec["replicas"] = *options.replicas;
  // A NATS pipeline ordered by key runs one worker on its consumer (spec validation keeps
  // maxReplicas at 1): a rollout stops the old worker before it starts the new one, instead of the
  // default surge running both on the consumer at once. The new one may start while the old one
  // drains (no longer pulling); it takes over what the old one leaves unacknowledged
  // (worker/nats_takeover.h). Not type Recreate: server-side apply cannot switch an existing
  // Deployment to it (the defaulted rollingUpdate stays and Recreate forbids it).
  if (pipeline.spec.source.nats && spec::effectiveOrdering(pipeline.spec) == spec::Ordering::kKey)
    spec["strategy"] = {{"type", "RollingUpdate"},
                        {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 1}}}};
  return {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", metadata}, {"spec", spec}};
}

DesiredObjects desiredObjects(const spec::ConsumerPipeline& pipeline, const json& pipelineObject,
                              const DesiredOptions& options) {
  return {desiredServiceAccount(pipeline, pipelineObject), desiredRole(pipeline, pipelineObject),
          desiredRoleBinding(pipeline, pipelineObject), desiredConfigMap(pipeline, pipelineObject, options),
          desiredDeployment(pipeline, pipelineObject, options)};
}

}  // namespace sluice::controller

#include "kube/resources.h"

namespace sluice::kube {

namespace resources {
const ResourceType kConsumerPipelines{"sluice.dev", "v1alpha1", "consumerpipelines", "ConsumerPipeline",
                                      true};
const ResourceType kDeployments{"apps", "v1", "deployments", "Deployment", true};
const ResourceType kReplicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
const ResourceType kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceType kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
const ResourceType kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
const ResourceType kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
const ResourceType kSecrets{"", "v1", "secrets", "Secret", true};
const ResourceType kEvents{"", "v1", "events", "Event", true};
const ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const ResourceType kPods{"", "v1", "pods", "Pod", true};
const ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
}  // namespace resources

std::string collectionPath(const ResourceType& type, const std::string& namespace_) {
  std::string path = type.group.empty() ? "/api/" + type.version : "/apis/" + type.group + "/" + type.version;
  if (type.namespaced && !namespace_.empty()) path += "/namespaces/" + namespace_;
  return path + "/" + type.plural;
}

std::string objectPath(const ResourceType& type, const std::string& namespace_, const std::string& name) {
  return collectionPath(type, namespace_) + "/" + name;
}

std::string objectKey(const std::string& namespace_, const std::string& name) {
  return namespace_.empty() ? name : namespace_ + "/" + name;
}

std::pair<std::string, std::string> splitKey(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace sluice::kube

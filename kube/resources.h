#pragma once
// The API resources Sluice reads and writes, and the REST paths that address them.
#include <string>

namespace sluice::kube {

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "deployments"
  std::string kind;     // "Deployment"
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
};

namespace resources {
extern const ResourceType kConsumerPipelines;
extern const ResourceType kDeployments;
extern const ResourceType kReplicaSets;
extern const ResourceType kConfigMaps;
extern const ResourceType kServiceAccounts;
extern const ResourceType kRoles;
extern const ResourceType kRoleBindings;
extern const ResourceType kSecrets;
extern const ResourceType kEvents;
extern const ResourceType kLeases;
extern const ResourceType kPods;
extern const ResourceType kNamespaces;
}  // namespace resources

// "/apis/apps/v1/namespaces/shop/deployments"; an empty namespace addresses all namespaces
// (or a cluster-scoped type).
std::string collectionPath(const ResourceType& type, const std::string& namespace_);
std::string objectPath(const ResourceType& type, const std::string& namespace_, const std::string& name);

// "namespace/name" (or "name" for cluster-scoped objects), the key of caches and the work queue.
std::string objectKey(const std::string& namespace_, const std::string& name);
std::pair<std::string, std::string> splitKey(const std::string& key);

}  // namespace sluice::kube

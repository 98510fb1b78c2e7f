#pragma once
// An informer's store: the latest copy of each watched object, keyed "namespace/name".
// Thread-safe: one watcher writes, reconcile workers read. Objects are shared immutable snapshots,
// so a reader keeps a consistent copy while the watcher replaces it.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <string>
#include <vector>

namespace sluice::kube {

class ObjectCache {
 public:
  using Ptr = std::shared_ptr<const nlohmann::json>;

  static std::string keyOf(const nlohmann::json& object);

  void upsert(nlohmann::json object);
  void erase(const std::string& key);
  // After a relist: the cache becomes exactly `objects`; returns the keys that disappeared.
  std::vector<std::string> replaceAll(std::vector<nlohmann::json> objects);
  Ptr get(const std::string& key) const;  // nullptr when absent
  std::vector<std::string> keys() const;
  size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, Ptr> objects_;
};

}  // namespace sluice::kube

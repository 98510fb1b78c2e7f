#include "kube/cache.h"

#include <mutex>

#include "kube/resources.h"

namespace sluice::kube {

std::string ObjectCache::keyOf(const nlohmann::json& object) {
  const auto& meta = object.at("metadata");
  return objectKey(meta.value("namespace", ""), meta.value("name", ""));
}

void ObjectCache::upsert(nlohmann::json object) {
  const std::string key = keyOf(object);
  auto ptr = std::make_shared<const nlohmann::json>(std::move(object));
  std::unique_lock lock(mu_);
  objects_[key] = std::move(ptr);
}

void ObjectCache::erase(const std::string& key) {
  std::unique_lock lock(mu_);
  objects_.erase(key);
}

std::vector<std::string> ObjectCache::replaceAll(std::vector<nlohmann::json> objects) {
  std::map<std::string, Ptr> fresh;
  for (auto& object : objects) {
    const std::string key = keyOf(object);
    fresh[key] = std::make_shared<const nlohmann::json>(std::move(object));
  }
  std::vector<std::string> gone;
  std::unique_lock lock(mu_);
  for (const auto& [key, value] : objects_) {
    if (!fresh.count(key)) gone.push_back(key);
  }
  objects_.swap(fresh);
  return gone;
}

ObjectCache::Ptr ObjectCache::get(const std::string& key) const {
  std::shared_lock lock(mu_);
  const auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<std::string> ObjectCache::keys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [key, value] : objects_) out.push_back(key);
  return out;
}

size_t ObjectCache::size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

}  // namespace sluice::kube

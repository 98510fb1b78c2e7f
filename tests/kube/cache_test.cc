#include "kube/cache.h"

#include <gtest/gtest.h>

namespace sluice::kube {
namespace {

nlohmann::json obj(const std::string& ns, const std::string& name, int gen = 1) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"generation", gen}}}};
}

TEST(ObjectCache, UpsertReplacesAndReadersKeepTheirSnapshot) {
  ObjectCache cache;
  cache.upsert(obj("shop", "orders", 1));
  auto before = cache.get("shop/orders");
  cache.upsert(obj("shop", "orders", 2));
  EXPECT_EQ((*before)["metadata"]["generation"], 1);
  EXPECT_EQ((*cache.get("shop/orders"))["metadata"]["generation"], 2);
  EXPECT_EQ(cache.get("shop/missing"), nullptr);
}

TEST(ObjectCache, ReplaceAllReportsWhatVanished) {
  ObjectCache cache;
  cache.upsert(obj("a", "x"));
  cache.upsert(obj("a", "y"));
  const auto gone = cache.replaceAll({obj("a", "y"), obj("b", "z")});
  EXPECT_EQ(gone, std::vector<std::string>{"a/x"});
  EXPECT_EQ(cache.keys(), (std::vector<std::string>{"a/y", "b/z"}));
  cache.erase("a/y");
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace sluice::kube

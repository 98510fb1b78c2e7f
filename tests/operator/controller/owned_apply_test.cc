// adoptionRefusal: which objects at an owned name the operator may write (only those the pipeline
// controls). The write path around it is in reconciler_test.cc and, against the real API server,
// tests/operator/integration (RefusesToAdoptAServiceAccountItDidNotCreate).
#include "operator/controller/owned_apply.h"

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

using nlohmann::json;

const json kPipeline = {{"apiVersion", "sluice.dev/v1alpha1"},
                        {"kind", "ConsumerPipeline"},
                        {"metadata", {{"name", "orders"}, {"namespace", "shop"}, {"uid", "pipeline-uid"}}}};

json account(json ownerReferences) {
  json object = {{"apiVersion", "v1"},
                 {"kind", "ServiceAccount"},
                 {"metadata", {{"name", "orders-worker"}, {"namespace", "shop"}}}};
  if (!ownerReferences.is_null()) object["metadata"]["ownerReferences"] = std::move(ownerReferences);
  return object;
}

json ref(const std::string& uid, bool controller, const std::string& kind = "ConsumerPipeline") {
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", kind},
          {"name", "orders"},
          {"uid", uid},
          {"controller", controller}};
}

TEST(AdoptionRefusal, OnlyAnObjectThePipelineControlsMayBeWritten) {
  struct Case {
    const char* name;
    json ownerReferences;
    const char* refusal;  // a part of the message, or nullptr: may be written
  };
  const Case cases[] = {
      {"controlled by this pipeline", json::array({ref("pipeline-uid", true)}), nullptr},
      {"also owned by others, controlled by this pipeline",
       json::array({ref("other", false, "ConfigMap"), ref("pipeline-uid", true)}), nullptr},
      {"no owner references", json(),
       "not controlled by this ConsumerPipeline (no controller owner reference)"},
      {"an empty list", json::array(), "not controlled by this ConsumerPipeline"},
      {"owned by this pipeline but not as controller", json::array({ref("pipeline-uid", false)}),
       "not controlled by this ConsumerPipeline"},
      // A pipeline of the same name deleted and created again: the old one's objects wait for the
      // garbage collector, and are not taken over meanwhile.
      {"controlled by an earlier pipeline of the same name", json::array({ref("old-uid", true)}),
       "is controlled by ConsumerPipeline \"orders\" (uid old-uid), not by this ConsumerPipeline"},
      {"controlled by something else", json::array({ref("x", true, "HelmRelease")}),
       "is controlled by HelmRelease"},
  };
  for (const auto& c : cases) {
    const auto refusal = adoptionRefusal(account(c.ownerReferences), kPipeline);
    if (!c.refusal) {
      EXPECT_FALSE(refusal.has_value()) << c.name << ": " << refusal.value_or("");
      continue;
    }
    ASSERT_TRUE(refusal.has_value()) << c.name;
    EXPECT_NE(refusal->find(c.refusal), std::string::npos) << c.name << ": " << *refusal;
    EXPECT_EQ(refusal->rfind("ServiceAccount \"orders-worker\" already exists", 0), 0u) << *refusal;
    EXPECT_NE(refusal->find("delete or rename that ServiceAccount"), std::string::npos) << *refusal;
  }
}

}  // namespace
}  // namespace sluice::controller

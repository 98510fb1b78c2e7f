#include "operator/controller/status.h"

#include <gtest/gtest.h>

#include "operator/controller/reasons.h"

namespace sluice::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json pipeline(int generation = 2) {
  return {{"metadata", {{"name", "orders"}, {"namespace", "shop"}, {"generation", generation}}},
          {"spec", {{"scaling", {{"minReplicas", 2}}}}}};
}

json deployment(int desired, int current, int ready) {
  return {{"spec", {{"replicas", desired}}}, {"status", {{"replicas", current}, {"readyReplicas", ready}}}};
}

std::string conditionField(const json& status, const char* type, const char* field) {
  const json* c = findCondition(status, type);
  return c ? (*c)[field].get<std::string>() : "<absent>";
}

TEST(Status, ReadyWhenAllWorkersAreReady) {
  common::FakeClock clock;
  const json d = deployment(2, 2, 2);
  Observations observed;
  observed.deployment = &d;
  observed.source = SourceObservation{SourceState::kReachable, "connected to 127.0.0.1:9092"};
  const json status = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(status["observedGeneration"], 2);
  EXPECT_EQ(status["replicas"], 2);
  EXPECT_EQ(status["readyReplicas"], 2);
  EXPECT_EQ(conditionField(status, condition::kReady, "status"), "True");
  EXPECT_EQ(conditionField(status, condition::kReady, "reason"), reason::kWorkersReady);
  EXPECT_EQ(conditionField(status, condition::kSourceReachable, "status"), "True");
  EXPECT_EQ(conditionField(status, condition::kDegraded, "status"), "False");
  EXPECT_EQ(conditionField(status, condition::kScaling, "reason"), reason::kScalingStable);
  // Exactly the metav1.Condition fields.
  for (const auto& c : status["conditions"]) {
    EXPECT_EQ(c.size(), 6u);
    for (const char* field :
         {"type", "status", "observedGeneration", "lastTransitionTime", "reason", "message"}) {
      EXPECT_TRUE(c.contains(field)) << field;
    }
  }
}

TEST(Status, LastTransitionTimeMovesOnlyWhenStatusFlips) {
  common::FakeClock clock;
  const json pending = deployment(2, 2, 1);
  Observations observed;
  observed.deployment = &pending;
  const json first = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(first, condition::kReady, "lastTransitionTime"), "2026-01-01T00:00:00Z");

  clock.advance(30s);  // still not ready, message unchanged: same time
  const json second = computeStatus(pipeline(), observed, first, clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(second, condition::kReady, "lastTransitionTime"), "2026-01-01T00:00:00Z");
  EXPECT_FALSE(statusChanged(first, second));

  clock.advance(30s);  // becomes ready: Ready flips, Degraded does not
  const json ready = deployment(2, 2, 2);
  observed.deployment = &ready;
  const json third = computeStatus(pipeline(), observed, second, clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(third, condition::kReady, "status"), "True");
  EXPECT_EQ(conditionField(third, condition::kReady, "lastTransitionTime"), "2026-01-01T00:01:00Z");
  EXPECT_EQ(conditionField(third, condition::kDegraded, "lastTransitionTime"), "2026-01-01T00:00:00Z");
  EXPECT_TRUE(statusChanged(second, third));
}

TEST(Status, ReasonChangeWithoutFlipKeepsTheTime) {
  common::FakeClock clock;
  Observations observed;  // no deployment yet: DeploymentPending
  const json first = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  clock.advance(10s);
  const json d = deployment(2, 0, 0);
  observed.deployment = &d;
  const json second = computeStatus(pipeline(), observed, first, clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(second, condition::kReady, "reason"), reason::kWorkersNotReady);
  EXPECT_EQ(conditionField(second, condition::kReady, "lastTransitionTime"), "2026-01-01T00:00:00Z");
}

TEST(Status, InvalidSpecIsAConditionWithTheParserMessage) {
  common::FakeClock clock;
  Observations observed;
  observed.specError = "spec.batch.maxMessages must be between 1 and 100000 (got 0)";
  const json status = computeStatus(pipeline(5), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(status, condition::kReady, "reason"), reason::kSpecInvalid);
  EXPECT_EQ(conditionField(status, condition::kReady, "message"), observed.specError);
  EXPECT_EQ(conditionField(status, condition::kDegraded, "status"), "True");
  EXPECT_EQ(status["observedGeneration"], 5);
  const auto events = transitionEvents(json::object(), status, false);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, "SpecInvalid");
  EXPECT_EQ(events[0].type, "Warning");
  EXPECT_TRUE(transitionEvents(status, status, false).empty());  // no repeat
}

TEST(Status, MissingSecretIsNamedInTheMessage) {
  common::FakeClock clock;
  const json d = deployment(1, 0, 0);
  Observations observed;
  observed.deployment = &d;
  observed.missingSecrets = {{"kafka-user", "spec.source.kafka.sasl.secretRef"}};
  const json status = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(status, condition::kReady, "reason"), reason::kSecretNotFound);
  EXPECT_NE(conditionField(status, condition::kReady, "message").find("\"kafka-user\""), std::string::npos);
  EXPECT_NE(conditionField(status, condition::kReady, "message").find("spec.source.kafka.sasl.secretRef"),
            std::string::npos);
}

TEST(Status, UnreachableSourceAndSkippedProbe) {
  common::FakeClock clock;
  Observations observed;
  observed.source = SourceObservation{SourceState::kUnreachable, "127.0.0.1:1: refused"};
  EXPECT_EQ(conditionField(computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson(),
                           condition::kSourceReachable, "status"),
            "False");
  observed.source = SourceObservation{SourceState::kSkipped, "not probed"};
  EXPECT_EQ(conditionField(computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson(),
                           condition::kSourceReachable, "status"),
            "Unknown");
}

TEST(Status, ScalingAndScaledEvent) {
  common::FakeClock clock;
  const json d = deployment(4, 2, 2);
  Observations observed;
  observed.deployment = &d;
  const json status = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(status, condition::kScaling, "status"), "True");
  EXPECT_EQ(conditionField(status, condition::kScaling, "message"), "scaling from 2 to 4 replicas");
  json previous = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  previous["desiredReplicas"] = 2;
  const auto events = transitionEvents(previous, status, false);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, "Scaled");
  // The first sight of the Deployment is not a scaling.
  Observations none;
  const json pending = computeStatus(pipeline(), none, json::object(), clock.wallNow()).toJson();
  EXPECT_TRUE(transitionEvents(pending, status, true).size() == 1u);  // only WorkersCreated
}

TEST(Status, AHeldScalingIsTheScalingConditionAndKeepsTheDeploymentsReplicas) {
  common::FakeClock clock;
  const json d = deployment(3, 3, 3);
  Observations observed;
  observed.deployment = &d;
  observed.scalingHeld = Condition{condition::kScaling, "Unknown", reason::kLagSampleStale,
                                   "holding 3 replicas: the last lag sample of kafka:orders is 40 s old"};
  const json status = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(status["desiredReplicas"], 3);
  EXPECT_EQ(conditionField(status, condition::kScaling, "status"), "Unknown");
  EXPECT_EQ(conditionField(status, condition::kScaling, "reason"), reason::kLagSampleStale);
  EXPECT_EQ(conditionField(status, condition::kReady, "status"), "True");  // the workers still run
  EXPECT_FALSE(status.contains("lag"));  // the last known lag stays as it was (merge patch)
}

TEST(Status, FailingDeploymentDegrades) {
  common::FakeClock clock;
  json d = deployment(1, 1, 0);
  d["status"]["conditions"] = json::array({{{"type", "Progressing"},
                                            {"status", "False"},
                                            {"reason", "ProgressDeadlineExceeded"},
                                            {"message", "slow"}}});
  Observations observed;
  observed.deployment = &d;
  const json status = computeStatus(pipeline(), observed, json::object(), clock.wallNow()).toJson();
  EXPECT_EQ(conditionField(status, condition::kDegraded, "reason"), reason::kDeploymentFailing);
}

}  // namespace
}  // namespace sluice::controller

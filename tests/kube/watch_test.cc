#include "kube/watch.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/kube/fake_transport.h"

namespace sluice::kube {
namespace {

using common::ErrorCode;
using common::Status;

std::vector<std::string> readStream(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/operator/testdata/watch/" + name);
  EXPECT_TRUE(in) << "missing testdata " << name;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

struct Fed {
  std::vector<CacheAction> actions;
};

Fed feed(WatchMachine& machine, const std::vector<std::string>& lines) {
  Fed fed;
  for (const auto& line : lines) {
    auto event = parseWatchLine(line);
    EXPECT_TRUE(event.isOk()) << line;
    fed.actions.push_back(machine.onEvent(*event));
  }
  return fed;
}

class WatchMachineTest : public ::testing::Test {
 protected:
  common::FixedRandom random_{0.5};  // no jitter
  common::BackoffPolicy policy_{std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 2.0, 0.2,
                                100};
  WatchMachine machine_{policy_, random_};
};

TEST_F(WatchMachineTest, StartsWithAListThenWatchesFromItsResourceVersion) {
  EXPECT_EQ(machine_.next().phase, WatchPhase::kList);
  machine_.listed("100");
  const auto step = machine_.next();
  EXPECT_EQ(step.phase, WatchPhase::kWatch);
  EXPECT_EQ(step.resourceVersion, "100");
}

TEST_F(WatchMachineTest, BookmarksMoveTheResourceVersionWithoutTouchingTheCache) {
  machine_.listed("100");
  const auto fed = feed(machine_, readStream("bookmark_stream.jsonl"));
  const std::vector<CacheAction> expected = {CacheAction::kUpsert, CacheAction::kNone,   CacheAction::kUpsert,
                                             CacheAction::kNone,   CacheAction::kDelete, CacheAction::kNone};
  EXPECT_EQ(fed.actions, expected);
  EXPECT_EQ(machine_.resourceVersion(), "190");
  // The server closing the stream (its timeoutSeconds) resumes from the last bookmark, no relist.
  machine_.streamEnded(Status::ok());
  EXPECT_EQ(machine_.next().phase, WatchPhase::kWatch);
  EXPECT_EQ(machine_.next().resourceVersion, "190");
  EXPECT_EQ(machine_.relists(), 0);
  EXPECT_EQ(machine_.backoffs(), 0);
}

TEST_F(WatchMachineTest, ErrorEvent410RelistsAndIgnoresTheRestOfTheStream) {
  machine_.listed("200");
  const auto fed = feed(machine_, readStream("error_410_stream.jsonl"));
  const std::vector<CacheAction> expected = {CacheAction::kUpsert, CacheAction::kNone, CacheAction::kNone};
  EXPECT_EQ(fed.actions, expected);
  EXPECT_EQ(machine_.next().phase, WatchPhase::kList);
  EXPECT_EQ(machine_.resourceVersion(), "");
  EXPECT_EQ(machine_.relists(), 1);
  machine_.streamEnded(Status::ok());  // the close that follows the ERROR changes nothing
  EXPECT_EQ(machine_.next().phase, WatchPhase::kList);
}

TEST_F(WatchMachineTest, HttpGoneOnTheWatchRequestRelists) {
  machine_.listed("200");
  machine_.streamEnded(Status(ErrorCode::kGone, "too old resource version"));
  EXPECT_EQ(machine_.next().phase, WatchPhase::kList);
  EXPECT_EQ(machine_.relists(), 1);
}

TEST_F(WatchMachineTest, ErrorEvent500BacksOffThenWatchesFromTheLastResourceVersion) {
  machine_.listed("300");
  feed(machine_, readStream("error_500_stream.jsonl"));
  auto step = machine_.next();
  EXPECT_EQ(step.phase, WatchPhase::kWait);
  EXPECT_EQ(step.delay, std::chrono::milliseconds(500));
  machine_.waited();
  step = machine_.next();
  EXPECT_EQ(step.phase, WatchPhase::kWatch);
  EXPECT_EQ(step.resourceVersion, "301");
}

TEST_F(WatchMachineTest, RepeatedThrottlingBacksOffExponentiallyUpToTheCap) {
  machine_.listed("1");
  std::vector<long long> delays;
  for (int i = 0; i < 8; ++i) {
    feed(machine_, readStream("error_429_stream.jsonl"));
    delays.push_back(machine_.next().delay.count());
    machine_.waited();
  }
  const std::vector<long long> expected = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
  EXPECT_EQ(delays, expected);
  // A good event resets the backoff.
  feed(machine_, readStream("bookmark_stream.jsonl"));
  machine_.streamEnded(Status(ErrorCode::kUnavailable, "connection reset"));
  EXPECT_EQ(machine_.next().delay.count(), 500);
}

TEST_F(WatchMachineTest, JitterSpreadsTheDelay) {
  common::FixedRandom low(0.0);
  WatchMachine machine(policy_, low);
  machine.listed("1");
  machine.streamEnded(Status(ErrorCode::kTooManyRequests, "slow down"));
  EXPECT_EQ(machine.next().delay.count(), 400);  // 500 * (1 - 0.2)
}

TEST_F(WatchMachineTest, FailedListBacksOffThenListsAgain) {
  machine_.listFailed(Status(ErrorCode::kUnavailable, "connection refused"));
  EXPECT_EQ(machine_.next().phase, WatchPhase::kWait);
  machine_.waited();
  EXPECT_EQ(machine_.next().phase, WatchPhase::kList);
}

TEST_F(WatchMachineTest, ForbiddenWatchBacksOffThenRelists) {
  machine_.listed("5");
  machine_.streamEnded(Status(ErrorCode::kPermissionDenied, "forbidden"));
  machine_.waited();
  EXPECT_EQ(machine_.next().phase, WatchPhase::kList);
}

TEST(ParseWatchLine, RejectsLinesThatAreNotEvents) {
  EXPECT_FALSE(parseWatchLine("not json").isOk());
  EXPECT_FALSE(parseWatchLine(R"({"type":"ADDED"})").isOk());
  EXPECT_FALSE(parseWatchLine(R"({"type":"RENAMED","object":{}})").isOk());
  EXPECT_TRUE(parseWatchLine(R"({"type":"BOOKMARK","object":{}})").isOk());
}

// The I/O loop against the scripted transport: list, watch with bookmarks, ERROR 410, relist.
TEST(Watcher, RelistsAfterGoneAndKeepsTheCacheExact) {
  testing::FakeTransport transport;
  transport.addResponse(200, R"({"kind":"ConsumerPipelineList","metadata":{"resourceVersion":"200"},
    "items":[{"metadata":{"name":"orders","namespace":"shop","resourceVersion":"150"}},
             {"metadata":{"name":"stale","namespace":"shop","resourceVersion":"151"}}]})");
  transport.addStream({readStream("error_410_stream.jsonl"), HttpResponse{200, ""}});
  transport.addResponse(200, R"({"kind":"ConsumerPipelineList","metadata":{"resourceVersion":"400"},
    "items":[{"metadata":{"name":"orders","namespace":"shop","resourceVersion":"390"}}]})");
  transport.addStream({readStream("bookmark_stream.jsonl"), HttpResponse{200, ""}});
  Client client(transport);
  ObjectCache cache;
  Cancellation cancel;
  transport.onStreamsExhausted([&cancel] { cancel.cancel(); });
  std::vector<std::string> seen;
  common::FixedRandom random(0.5);
  Watcher watcher(
      client, {resources::kConsumerPipelines, "", ""}, cache,
      [&seen](const nlohmann::json& o, bool deleted) {
        seen.push_back(std::string(deleted ? "-" : "+") + o["metadata"].value("name", ""));
      },
      random);
  int restarts = 0;
  watcher.onRestart([&restarts](const char*) { ++restarts; });
  watcher.run(cancel);

  ASSERT_GE(transport.requests.size(), 5u);
  EXPECT_EQ(testing::queryValue(transport.requests[1], "resourceVersion"), "200");
  EXPECT_EQ(testing::queryValue(transport.requests[1], "allowWatchBookmarks"), "true");
  EXPECT_EQ(testing::queryValue(transport.requests[1], "watch"), "true");
  EXPECT_GT(transport.requests[1].timeout,
            std::chrono::seconds(std::stoi(testing::queryValue(transport.requests[1], "timeoutSeconds"))));
  EXPECT_EQ(transport.requests[2].path, "/apis/sluice.dev/v1alpha1/consumerpipelines");  // the relist
  EXPECT_EQ(testing::queryValue(transport.requests[3], "resourceVersion"), "400");
  EXPECT_EQ(testing::queryValue(transport.requests[4], "resourceVersion"), "190");  // resumed after bookmark
  EXPECT_EQ(restarts, 1);
  // "stale" vanished in the relist; "orders" was deleted by the final stream.
  EXPECT_EQ(cache.size(), 0u);
  const std::vector<std::string> expected = {"+orders", "+stale",  "+orders", "+orders",
                                             "-stale",  "+orders", "+orders", "-orders"};
  EXPECT_EQ(seen, expected);
  EXPECT_TRUE(watcher.synced());
}

// Listed and watched objects alike reach the cache and the handler transformed, without managedFields.
TEST(Watcher, TransformsListedAndWatchedObjectsBeforeCachingThem) {
  testing::FakeTransport transport;
  transport.addResponse(200, R"({"kind":"DeploymentList","metadata":{"resourceVersion":"200"},
    "items":[{"metadata":{"name":"a","namespace":"shop","resourceVersion":"150","managedFields":[{}]},
              "spec":{"replicas":1,"template":{"spec":{}}}}]})");
  transport.addStream(
      {{R"({"type":"ADDED","object":{"metadata":{"name":"b","namespace":"shop","resourceVersion":"201",)"
        R"("managedFields":[{}]},"spec":{"replicas":2,"template":{"spec":{}}}}})"},
       HttpResponse{200, ""}});
  Client client(transport);
  ObjectCache cache;
  Cancellation cancel;
  transport.onStreamsExhausted([&cancel] { cancel.cancel(); });
  int handledWithTemplate = 0;
  common::FixedRandom random(0.5);
  WatcherOptions options;
  options.transform = [](nlohmann::json& o) { o["spec"].erase("template"); };
  Watcher watcher(
      client, {resources::kDeployments, "shop", ""}, cache,
      [&](const nlohmann::json& o, bool) { handledWithTemplate += o["spec"].contains("template"); }, random,
      options);
  watcher.run(cancel);

  ASSERT_EQ(cache.size(), 2u);
  for (const char* key : {"shop/a", "shop/b"}) {
    const auto object = cache.get(key);
    ASSERT_NE(object, nullptr) << key;
    EXPECT_FALSE(object->contains("/spec/template"_json_pointer)) << key;
    EXPECT_FALSE(object->contains("/metadata/managedFields"_json_pointer)) << key;
    EXPECT_TRUE(object->contains("/spec/replicas"_json_pointer)) << key;
  }
  EXPECT_EQ(handledWithTemplate, 0);
}

}  // namespace
}  // namespace sluice::kube

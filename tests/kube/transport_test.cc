#include "kube/transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace sluice::kube {
namespace {

struct SplitCase {
  std::string name;
  std::vector<std::string> chunks;  // as the stream delivers them
  std::vector<std::string> lines;   // what onLine must see, in order
};

std::vector<std::string> split(const std::vector<std::string>& chunks) {
  std::vector<std::string> seen;
  LineSplitter splitter([&](std::string_view line) { seen.emplace_back(line); });
  for (const auto& chunk : chunks) splitter.feed(chunk);
  splitter.finish();
  return seen;
}

TEST(LineSplitter, LinesComeOutWholeWhateverTheChunking) {
  const std::vector<SplitCase> cases = {
      {"one line per chunk", {"{\"a\":1}\n", "{\"b\":2}\n"}, {"{\"a\":1}", "{\"b\":2}"}},
      {"several lines in one chunk",
       {"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"},
       {"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}},
      {"a line across chunks", {"{\"a\"", ":1", "}\n{\"b\":2}\n"}, {"{\"a\":1}", "{\"b\":2}"}},
      {"byte by byte", {"a", "b", "\n", "c", "\n"}, {"ab", "c"}},
      {"the newline alone in the next chunk", {"ab", "\ncd\n"}, {"ab", "cd"}},
      {"CRLF", {"ab\r\n", "cd\r", "\n"}, {"ab", "cd"}},
      {"empty lines are skipped", {"\n\nab\n\n", "\r\n"}, {"ab"}},
      {"a last line without newline at the end", {"ab\ncd"}, {"ab", "cd"}},
      {"nothing", {}, {}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(split(c.chunks), c.lines) << c.name;
  }
}

TEST(LineSplitter, ALineIsHandedOverAsSoonAsItsNewlineArrives) {
  std::vector<std::string> seen;
  LineSplitter splitter([&](std::string_view line) { seen.emplace_back(line); });
  splitter.feed("{\"type\":\"ADDED\"}\n{\"type\":");
  EXPECT_EQ(seen, std::vector<std::string>{"{\"type\":\"ADDED\"}"});
  splitter.feed("\"MODIFIED\"}\n");
  EXPECT_EQ(seen, (std::vector<std::string>{"{\"type\":\"ADDED\"}", "{\"type\":\"MODIFIED\"}"}));
}

TEST(Cancellation, RemoveCallbackWaitsForTheCallbackAnotherThreadIsRunning) {
  // The transport's callback refers to a cancellation source on the watch thread's stack: once
  // removeCallback returns, the watch thread destroys it, so the callback must be over by then.
  Cancellation cancel;
  std::promise<void> entered;
  std::promise<void> release;
  std::atomic<bool> finished{false};
  const int id = cancel.onCancel([&] {
    entered.set_value();
    release.get_future().wait();
    finished = true;
  });
  std::thread canceller([&] { cancel.cancel(); });
  entered.get_future().wait();
  auto removed = std::async(std::launch::async, [&] {
    cancel.removeCallback(id);
    return finished.load();  // what the owner would see when it goes on to destroy
  });
  // Still running the callback: removeCallback must not have returned.
  EXPECT_EQ(removed.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release.set_value();
  EXPECT_TRUE(removed.get());
  canceller.join();
}

TEST(Cancellation, ACallbackRemovedBeforeCancelReachesItDoesNotRun) {
  Cancellation cancel;
  std::promise<void> entered;
  std::promise<void> release;
  std::atomic<bool> secondRan{false};
  cancel.onCancel([&] {
    entered.set_value();
    release.get_future().wait();
  });
  const int second = cancel.onCancel([&] { secondRan = true; });
  std::thread canceller([&] { cancel.cancel(); });
  entered.get_future().wait();
  cancel.removeCallback(second);  // the first is running, the second not yet: no wait
  release.set_value();
  canceller.join();
  EXPECT_FALSE(secondRan);
  EXPECT_TRUE(cancel.cancelled());
}

TEST(Cancellation, ACallbackMayRemoveItselfAndOnCancelAfterCancelRunsAtOnce) {
  Cancellation cancel;
  int id = 0;
  int runs = 0;
  id = cancel.onCancel([&] {
    ++runs;
    cancel.removeCallback(id);  // on the cancelling thread: must not wait for itself
  });
  cancel.cancel();
  EXPECT_EQ(runs, 1);
  bool late = false;
  EXPECT_EQ(cancel.onCancel([&] { late = true; }), 0);
  EXPECT_TRUE(late);
  cancel.removeCallback(0);
  EXPECT_FALSE(cancel.sleepFor(std::chrono::seconds(5)));  // cancelled: returns at once
}

}  // namespace
}  // namespace sluice::kube

#include "operator/kube/transport.h"

#include <gtest/gtest.h>

#include <string>
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
      {"several lines in one chunk", {"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"}, {"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}},
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

}  // namespace
}  // namespace sluice::kube

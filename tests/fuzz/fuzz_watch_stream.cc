// libFuzzer target: a Kubernetes watch stream as the API server sends it, cut into chunks wherever
// the network happens to cut it. LineSplitter must hand over the same lines whatever the chunking
// (checked against one feed of the whole stream), and every line goes through parseWatchLine and, if
// it decodes, WatchMachine::onEvent, as Watcher does.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/backoff.h"
#include "common/random.h"
#include "kube/transport.h"
#include "kube/watch.h"

namespace {

std::vector<std::string> splitAll(std::string_view stream, const std::vector<size_t>& cuts) {
  std::vector<std::string> lines;
  sluice::kube::LineSplitter splitter([&](std::string_view line) { lines.emplace_back(line); });
  size_t at = 0;
  for (size_t cut : cuts) {
    const size_t length = std::min(cut, stream.size() - at);
    splitter.feed(stream.substr(at, length));
    at += length;
  }
  splitter.feed(stream.substr(at));
  splitter.finish();
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  std::vector<size_t> cuts(provider.ConsumeIntegralInRange<size_t>(0, 16));
  for (size_t& cut : cuts) cut = provider.ConsumeIntegralInRange<size_t>(0, 64);
  const std::string stream = provider.ConsumeRemainingBytesAsString();

  const std::vector<std::string> chunked = splitAll(stream, cuts);
  if (chunked != splitAll(stream, {})) std::abort();  // the chunking changed the lines

  sluice::common::FixedRandom random(0.5);
  sluice::kube::WatchMachine machine(sluice::common::BackoffPolicy{}, random);
  machine.listed("1");
  for (const std::string& line : chunked) {
    auto event = sluice::kube::parseWatchLine(line);
    if (event.isOk()) (void)machine.onEvent(event.value());
  }
  return 0;
}

// libFuzzer target: a ConsumerPipeline manifest as YAML (what `sluice-worker --config` reads), through
// parsing, defaults and validation. Any input must end in a ParseOutcome, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/spec/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const sluice::spec::ParseOutcome outcome = sluice::spec::parsePipelineYaml(text);
  if (!outcome.ok()) (void)outcome.errorText();
  return 0;
}

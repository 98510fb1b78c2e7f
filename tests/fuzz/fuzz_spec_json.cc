// libFuzzer target: a ConsumerPipeline as the JSON the Kubernetes API returns (what the operator
// reads), through parsing, defaults and validation. Text that is not JSON is dropped (nlohmann's
// parser is not ours); any JSON value must end in a ParseOutcome, never a crash.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/spec/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;
  const sluice::spec::ParseOutcome outcome = sluice::spec::parsePipelineJson(object);
  if (!outcome.ok()) (void)outcome.errorText();
  return 0;
}

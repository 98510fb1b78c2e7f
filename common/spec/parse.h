#pragma once
// Parsing and validating ConsumerPipeline manifests. One pass collects every problem with its field
// path (and, for YAML, its line and column) so a user fixes them all at once.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/spec/pipeline.h"

namespace sluice::spec {

struct SpecError {
  std::string path;     // "spec.batch.maxMessages"; empty for document-level errors
  std::string message;  // complete sentence naming the path and the fix
  int line = 0;         // 1-based; 0 when unknown (JSON input)
  int column = 0;
  std::string toString() const;
};

struct ParseOutcome {
  ConsumerPipeline pipeline;
  std::vector<SpecError> errors;
  bool ok() const { return errors.empty(); }
  // All errors, one per line.
  std::string errorText() const;
};

// A full manifest (apiVersion, kind, metadata, spec) as YAML text.
ParseOutcome parsePipelineYaml(const std::string& text);
// The same from the JSON the Kubernetes API returns.
ParseOutcome parsePipelineJson(const nlohmann::json& object);
// Reads a file and parses it as YAML (JSON is accepted too).
ParseOutcome parsePipelineFile(const std::string& path);

// Convenience for callers that only need pass/fail: errors joined into one InvalidArgument.
common::Result<ConsumerPipeline> toResult(ParseOutcome outcome);

}  // namespace sluice::spec

#pragma once
// Builds manifests for spec tests: a valid base pipeline with one field replaced or removed.
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <string>

#include "common/spec/parse.h"

namespace sluice::spec::testing {

inline const char* kBaseManifest = R"(apiVersion: sluice.dev/v1alpha1
kind: ConsumerPipeline
metadata:
  name: orders
  namespace: shop
spec:
  source:
    kafka:
      bootstrapServers: kafka:9092
      topics: [orders]
  sink:
    http:
      url: http://ingest.shop/batch
)";

// Sets the dotted path (e.g. "spec.batch.maxMessages") to the YAML value; "~delete" removes it.
inline std::string withField(const std::string& path, const std::string& valueYaml,
                             const std::string& base = kBaseManifest) {
  YAML::Node root = YAML::Load(base);
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next.reset(chain.back()[parts[i]]);  // rebind: assigning to a Node would copy into it
    }
    chain.push_back(next);
  }
  if (valueYaml == "~delete") {
    chain.back().remove(parts.back());
  } else {
    chain.back()[parts.back()] = YAML::Load(valueYaml);
  }
  YAML::Emitter out;
  out << root;
  return out.c_str();
}

}  // namespace sluice::spec::testing

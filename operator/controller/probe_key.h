#pragma once
// ProbeKey: what a pipeline's lag probe is built from. The LagSampler keeps a pipeline's probe while
// its key stays equal and builds a new one (dropping the old sample) when the key changes, so every
// source setting that changes what the probe asks, or whom, is a field here.
#include <string>
#include <variant>
#include <vector>

#include "common/spec/pipeline.h"

namespace sluice::controller {

struct KafkaProbeKey {
  std::string connection;  // the admin pool's key: bootstrap servers and client properties
  std::string groupId;
  spec::StartFrom startFrom = spec::StartFrom::kEarliest;
  std::vector<std::string> topics;

  bool operator==(const KafkaProbeKey&) const = default;
};

struct NatsProbeKey {
  std::string connection;  // the connection pool's key: servers and credentials
  std::string stream;
  std::string consumer;
  std::string filterSubject;

  bool operator==(const NatsProbeKey&) const = default;
};

using ProbeKey = std::variant<KafkaProbeKey, NatsProbeKey>;

}  // namespace sluice::controller

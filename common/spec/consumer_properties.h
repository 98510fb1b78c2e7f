#pragma once
// SLUICE_KAFKA_CONSUMER_PROPERTIES: "name=value,name=value" librdkafka consumer settings the worker
// applies after its own, an escape hatch for tuning (session.timeout.ms, fetch sizes, debug). The
// settings Sluice's at-least-once delivery rests on are refused wherever the variable is read: in
// spec.worker.env by validation (kubectl apply, --check), and by the worker at start.
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace sluice::spec {

inline constexpr const char* kConsumerPropertiesEnv = "SLUICE_KAFKA_CONSUMER_PROPERTIES";

// Why `name` may not be overridden, or "" when it may. Sluice stores each offset only after the
// message is delivered (enable.auto.offset.store=false) and lets librdkafka commit what was stored
// (enable.auto.commit=true); the group and its cooperative assignment are the operator's to choose.
std::string deliveryGuaranteeConflict(const std::string& name);

// Parses `text`; errors name `field` (where the text came from) and the property to remove.
common::Result<std::vector<std::pair<std::string, std::string>>> parseConsumerProperties(
    const std::string& text, const std::string& field);

}  // namespace sluice::spec

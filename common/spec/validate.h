#pragma once
// Rules that span fields or check formats, run after the field-by-field parse. Each mirrors a CEL
// rule or pattern in the CRD where the API server can check it, so kubectl apply and
// `sluice-worker --config` reject the same manifests with the same words.
#include <vector>

#include "common/spec/parse.h"
#include "common/spec/pipeline.h"

namespace sluice::spec {

std::vector<SpecError> validatePipeline(const ConsumerPipeline& pipeline);

bool isValidKafkaTopic(const std::string& topic);
bool isValidNatsName(const std::string& name);  // stream and consumer names
bool isValidDnsLabel(const std::string& name);

}  // namespace sluice::spec

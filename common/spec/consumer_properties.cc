#include "common/spec/consumer_properties.h"

#include <algorithm>
#include <cctype>

#include "common/spec/limits.h"

namespace sluice::spec {
namespace {

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

std::string deliveryGuaranteeConflict(const std::string& name) {
  const std::string property = lowered(name);
  if (property == "enable.auto.offset.store")
    return "Sluice stores an offset only after its message is delivered (at-least-once)";
  if (property == "enable.auto.commit" || property == "auto.commit.enable" ||
      property == "offset.store.method")
    return "Sluice commits the offsets it stored after delivery through librdkafka's auto-commit";
  if (property == "group.id" || property == "group.instance.id")
    return "the group comes from spec.source.kafka.groupId (and the pod name), which the operator's lag "
           "probe "
           "reads";
  if (property == "partition.assignment.strategy")
    return "Sluice hands partitions over with the cooperative-sticky assignor";
  return "";
}

common::Result<std::vector<std::pair<std::string, std::string>>> parseConsumerProperties(
    const std::string& text, const std::string& field) {
  std::vector<std::pair<std::string, std::string>> props;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return common::invalidArgument(field + " must be name=value pairs separated by commas (got '" +
                                     excerpt(item) + "')");
    }
    const std::string name = item.substr(0, eq);
    if (const std::string why = deliveryGuaranteeConflict(name); !why.empty()) {
      return common::invalidArgument(field + " may not set " + excerpt(name) + ": " + why +
                                     "; remove it from " + kConsumerPropertiesEnv);
    }
    props.emplace_back(name, item.substr(eq + 1));
  }
  return props;
}

}  // namespace sluice::spec

#pragma once
// The two small value types the status computation and the autoscaling glue share: a condition
// to set in status.conditions, and an Event to record. Their own header so status.h can include
// autoscale.h without autoscale.h including status.h.
#include <string>

namespace sluice::controller {

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  std::string message;
};

struct EventSpec {
  std::string type;  // "Normal" | "Warning"
  std::string reason;
  std::string message;
};

}  // namespace sluice::controller

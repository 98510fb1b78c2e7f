#include "operator/run.h"

namespace sluice::op {

common::Status runOperator(const OperatorOptions&) {
  // Replaced by the controller (issue 5); until then the operator refuses to pretend.
  return common::Status(common::ErrorCode::kInternal, "the controller is not built yet");
}

}  // namespace sluice::op

#include "worker/run.h"

namespace sluice::worker {

common::Status runPipeline(const spec::ConsumerPipeline&, const RunOptions&) {
  // Replaced by the Kafka pipeline (issue 4); until then the worker refuses to pretend.
  return common::Status(common::ErrorCode::kInternal, "the data plane is not built yet");
}

}  // namespace sluice::worker

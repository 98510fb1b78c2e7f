#include "worker/nats_dead_letter.h"

#include <spdlog/spdlog.h>

#include <string>

namespace sluice::worker {

bool deadLetterOnArrival(DeadLetterer& deadLetter, const Message& message, uint64_t numDelivered) {
  const int earlier = static_cast<int>(numDelivered - 1);
  const std::string error =
      "delivered " + std::to_string(numDelivered) +
      " times by the server without being settled (the worker crashed, was killed or stopped "
      "before finishing it each time)";
  if (auto st = deadLetter.send(message, error, earlier); !st) {
    spdlog::error("dead-lettering {} on arrival failed, processing it instead: {}", placeOf(message),
                  st.toString());
    return false;
  }
  return true;
}

}  // namespace sluice::worker

// libFuzzer target: the reply subject of a JetStream message ($JS.ACK.<domain>.<hash>.<stream>.
// <consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>.<token>, or the older short form), which the
// NATS server (or anyone publishing to the pulled subject) controls. Any subject must end in
// metadata or nullopt.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "worker/nats_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view reply(reinterpret_cast<const char*>(data), size);
  (void)sluice::worker::parseAckSubject(reply);
  return 0;
}

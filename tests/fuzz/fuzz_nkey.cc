// libFuzzer target: an NKey seed file (spec.source.nats.auth.nkeySeedFile, mounted from a Secret):
// the seed found in it and the public key derived from it. Any content must give a key or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "worker/nkey.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  (void)sluice::worker::nkeyPublicKey(sluice::worker::nkeySeedIn(content));
  return 0;
}

// libFuzzer target: a kubeconfig file (--kubeconfig, $KUBECONFIG) through kube::parseKubeconfig. File
// references in it resolve against a directory that does not exist, so the target reads no files of
// this machine by relative path. Any text must give a config or an error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)sluice::kube::parseKubeconfig(text, "/nonexistent-sluice-fuzz");
  return 0;
}

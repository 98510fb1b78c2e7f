#pragma once
// The Transport over cpprestsdk (HTTPS with a CA, client certificates or a bearer token).
#include <memory>

#include "common/result.h"
#include "kube/config.h"
#include "kube/transport.h"

namespace sluice::kube {

// Validates the certificates in `config` (a bad PEM fails here, not on the first request).
common::Result<std::unique_ptr<Transport>> makeCpprestTransport(const KubeConfig& config);

}  // namespace sluice::kube

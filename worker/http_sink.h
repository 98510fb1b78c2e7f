#pragma once
#include <memory>

#include "worker/sink.h"

namespace sluice::worker {

// POSTs each batch to spec.sink.http.url (wire format in http_delivery.h). The request timeout is
// the smaller of sink.http.timeoutMs and processing.timeoutMs; a timeout is retryable.
common::Result<std::unique_ptr<Sink>> makeHttpSink(const spec::HttpSinkSpec& http, common::Millis timeout);

}  // namespace sluice::worker

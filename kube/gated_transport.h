#pragma once
// A Transport decorator that refuses every write (anything but GET) while `mayWrite` says no.
// The controller's client goes through it with mayWrite = the leader elector's leading(), so a
// replica that is not the leader cannot write, whatever its code paths do.
#include <functional>

#include "kube/transport.h"

namespace sluice::kube {

class GatedTransport final : public Transport {
 public:
  GatedTransport(Transport& inner, std::function<bool()> mayWrite)
      : inner_(inner), mayWrite_(std::move(mayWrite)) {}

  common::Result<HttpResponse> request(const HttpRequest& request) override {
    if (request.method != "GET" && !mayWrite_()) {
      return common::Status(common::ErrorCode::kCancelled,
                            request.method + " " + request.path + " refused: this replica is not the leader");
    }
    return inner_.request(request);
  }
  common::Result<HttpResponse> stream(const HttpRequest& request,
                                      const std::function<void(std::string_view)>& onLine,
                                      Cancellation& cancel) override {
    return inner_.stream(request, onLine, cancel);
  }

 private:
  Transport& inner_;
  std::function<bool()> mayWrite_;
};

}  // namespace sluice::kube

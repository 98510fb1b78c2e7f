#pragma once
// A typed Kubernetes client over the Transport seam: get, list with paging, server-side apply,
// status merge patch, create, replace, delete. Objects are nlohmann::json as the API returns them.
// Thread-safe when the Transport is.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "kube/resources.h"
#include "kube/transport.h"

namespace sluice::kube {

struct ClientOptions {
  std::string fieldManager = "sluice-operator";
  std::chrono::milliseconds requestTimeout{30000};
  int pageSize = 500;  // list limit per page; the continue token fetches the rest
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
};

struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resourceVersion;  // of the list, where a watch resumes
};

// Maps an HTTP answer to a Status: 2xx -> ok; otherwise the code from the HTTP status and the
// message from the metav1.Status body (404 NotFound, 409 Conflict/AlreadyExists, 410 Gone,
// 429 TooManyRequests, 5xx Unavailable, 403 PermissionDenied, 400/422 InvalidArgument).
common::Status statusFromResponse(const HttpResponse& response, const std::string& what);
common::ErrorCode errorCodeForHttp(int httpStatus, const std::string& reason);

class Client {
 public:
  Client(Transport& transport, ClientOptions options = {})
      : transport_(transport), options_(std::move(options)) {}

  common::Result<nlohmann::json> get(const ResourceType& type, const std::string& ns,
                                     const std::string& name);
  // Every page (limit/continue); a 410 on a continue token restarts the list from scratch once.
  common::Result<ObjectList> list(const ResourceType& type, const std::string& ns,
                                  const ListOptions& options = {});
  // Server-side apply (application/apply-patch+yaml, fieldManager, force=true).
  common::Result<nlohmann::json> apply(const ResourceType& type, const nlohmann::json& object);
  // JSON merge patch on /status.
  common::Result<nlohmann::json> patchStatus(const ResourceType& type, const std::string& ns,
                                             const std::string& name, const nlohmann::json& mergePatch);
  // JSON merge patch on the object itself.
  common::Result<nlohmann::json> patch(const ResourceType& type, const std::string& ns,
                                       const std::string& name, const nlohmann::json& mergePatch);
  common::Result<nlohmann::json> create(const ResourceType& type, const std::string& ns,
                                        const nlohmann::json& object);
  // PUT with the object's resourceVersion: Conflict when someone else wrote in between.
  common::Result<nlohmann::json> replace(const ResourceType& type, const nlohmann::json& object);
  // Background propagation: the garbage collector removes what the object owns.
  common::Status remove(const ResourceType& type, const std::string& ns, const std::string& name);

  Transport& transport() { return transport_; }
  const ClientOptions& options() const { return options_; }

 private:
  common::Result<nlohmann::json> call(HttpRequest request, const std::string& what);
  common::Result<ObjectList> listOnce(const ResourceType& type, const std::string& ns,
                                      const ListOptions& options);

  Transport& transport_;
  ClientOptions options_;
};

}  // namespace sluice::kube

#include "kube/client.h"

namespace sluice::kube {
namespace {

using common::ErrorCode;
using common::Result;
using common::Status;
using nlohmann::json;

std::string nameOf(const json& object) { return object.value("/metadata/name"_json_pointer, std::string()); }
std::string namespaceOf(const json& object) {
  return object.value("/metadata/namespace"_json_pointer, std::string());
}

}  // namespace

ErrorCode errorCodeForHttp(int httpStatus, const std::string& reason) {
  if (httpStatus >= 200 && httpStatus < 300) return ErrorCode::kOk;
  if (httpStatus >= 500) return ErrorCode::kUnavailable;
  switch (httpStatus) {
    case 400:
    case 422:
      return ErrorCode::kInvalidArgument;
    case 401:
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 408:
      return ErrorCode::kTimeout;
    case 409:
      return reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kConflict;
    case 410:
      return ErrorCode::kGone;
    case 429:
      return ErrorCode::kTooManyRequests;
    default:
      return ErrorCode::kInternal;
  }
}

Status statusFromResponse(const HttpResponse& response, const std::string& what) {
  if (response.status >= 200 && response.status < 300) return Status::ok();
  std::string reason;
  std::string message = response.body;
  const json body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.value("kind", "") == "Status") {
    reason = body.value("reason", "");
    message = body.value("message", message);
  }
  if (message.empty()) message = "HTTP " + std::to_string(response.status);
  return Status(errorCodeForHttp(response.status, reason), what + ": " + message);
}

Result<json> Client::call(HttpRequest request, const std::string& what) {
  if (request.timeout.count() == 0) request.timeout = options_.requestTimeout;
  auto response = transport_.request(request);
  if (!response) return response.status().withContext(what);
  if (auto st = statusFromResponse(*response, what); !st) return st;
  if (response->body.empty()) return json::object();
  json body = json::parse(response->body, nullptr, false);
  if (body.is_discarded()) return common::internalError(what + ": the API server answered with invalid JSON");
  return body;
}

Result<json> Client::get(const ResourceType& type, const std::string& ns, const std::string& name) {
  HttpRequest request{"GET", objectPath(type, ns, name), {}, "", "", options_.requestTimeout};
  return call(std::move(request), "get " + type.plural + " " + objectKey(ns, name));
}

Result<ObjectList> Client::listOnce(const ResourceType& type, const std::string& ns,
                                    const ListOptions& options) {
  ObjectList out;
  std::string continueToken;
  do {
    HttpRequest request{"GET", collectionPath(type, ns), {}, "", "", options_.requestTimeout};
    request.query.emplace_back("limit", std::to_string(options_.pageSize));
    if (!continueToken.empty()) request.query.emplace_back("continue", continueToken);
    if (!options.labelSelector.empty()) request.query.emplace_back("labelSelector", options.labelSelector);
    if (!options.fieldSelector.empty()) request.query.emplace_back("fieldSelector", options.fieldSelector);
    auto page = call(std::move(request), "list " + type.plural);
    if (!page) return page.status();
    for (auto& item : (*page)["items"]) {
      // Lists leave kind and apiVersion off the items; put them back so items look like gets.
      item["kind"] = type.kind;
      item["apiVersion"] = type.apiVersion();
      out.items.push_back(std::move(item));
    }
    out.resourceVersion = page->value("/metadata/resourceVersion"_json_pointer, std::string());
    continueToken = page->value("/metadata/continue"_json_pointer, std::string());
  } while (!continueToken.empty());
  return out;
}

Result<ObjectList> Client::list(const ResourceType& type, const std::string& ns, const ListOptions& options) {
  auto result = listOnce(type, ns, options);
  // A continue token expires (410) when paging takes longer than the compaction window.
  if (!result && result.status().code() == ErrorCode::kGone) return listOnce(type, ns, options);
  return result;
}

// fieldValidation=Ignore on apply: the server's default (Warn) parses every apply body a second
// time (a strict YAML decode), and that decode only finds duplicate keys, which a body dumped from a
// json object cannot have. Unknown fields are still rejected: apply types the body against the
// schema whatever the directive. The second decode was ~7 % of the API server's CPU in a burst of
// 500 new pipelines (bench/README.md, Operator section).
Result<json> Client::apply(const ResourceType& type, const json& object) {
  HttpRequest request{"PATCH",
                      objectPath(type, namespaceOf(object), nameOf(object)),
                      {},
                      object.dump(),
                      "application/apply-patch+yaml",
                      options_.requestTimeout};
  request.query = {{"fieldManager", options_.fieldManager}, {"force", "true"}, {"fieldValidation", "Ignore"}};
  return call(std::move(request),
              "apply " + type.plural + " " + objectKey(namespaceOf(object), nameOf(object)));
}

Result<json> Client::patchStatus(const ResourceType& type, const std::string& ns, const std::string& name,
                                 const json& mergePatch) {
  HttpRequest request{"PATCH",           objectPath(type, ns, name) + "/status", {},
                      mergePatch.dump(), "application/merge-patch+json",         options_.requestTimeout};
  request.query = {{"fieldManager", options_.fieldManager}};
  return call(std::move(request), "patch status of " + type.plural + " " + objectKey(ns, name));
}

Result<json> Client::patch(const ResourceType& type, const std::string& ns, const std::string& name,
                           const json& mergePatch) {
  HttpRequest request{"PATCH",           objectPath(type, ns, name),     {},
                      mergePatch.dump(), "application/merge-patch+json", options_.requestTimeout};
  request.query = {{"fieldManager", options_.fieldManager}};
  return call(std::move(request), "patch " + type.plural + " " + objectKey(ns, name));
}

Result<json> Client::create(const ResourceType& type, const std::string& ns, const json& object) {
  HttpRequest request{"POST",        collectionPath(type, ns), {},
                      object.dump(), "application/json",       options_.requestTimeout};
  request.query = {{"fieldManager", options_.fieldManager}};
  return call(std::move(request), "create " + type.plural + " in " + (ns.empty() ? "cluster" : ns));
}

Result<json> Client::replace(const ResourceType& type, const json& object) {
  HttpRequest request{"PUT",
                      objectPath(type, namespaceOf(object), nameOf(object)),
                      {},
                      object.dump(),
                      "application/json",
                      options_.requestTimeout};
  request.query = {{"fieldManager", options_.fieldManager}};
  return call(std::move(request),
              "replace " + type.plural + " " + objectKey(namespaceOf(object), nameOf(object)));
}

Status Client::remove(const ResourceType& type, const std::string& ns, const std::string& name) {
  const json options = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  HttpRequest request{"DELETE",       objectPath(type, ns, name), {},
                      options.dump(), "application/json",         options_.requestTimeout};
  auto result = call(std::move(request), "delete " + type.plural + " " + objectKey(ns, name));
  return result.status();
}

}  // namespace sluice::kube

#include "kube/watch.h"

#include <spdlog/spdlog.h>

#include <memory>

namespace sluice::kube {

using common::ErrorCode;
using common::Result;
using common::Status;
using nlohmann::json;

Result<WatchEvent> parseWatchLine(std::string_view line) {
  const json event = json::parse(line.begin(), line.end(), nullptr, false);
  if (!event.is_object() || !event.contains("type") || !event.contains("object")) {
    return common::internalError("watch stream line is not an event: " + std::string(line.substr(0, 200)));
  }
  const std::string type = event["type"].is_string() ? event["type"].get<std::string>() : "";
  WatchEvent out{WatchEventType::kError, event["object"]};
  if (type == "ADDED")
    out.type = WatchEventType::kAdded;
  else if (type == "MODIFIED")
    out.type = WatchEventType::kModified;
  else if (type == "DELETED")
    out.type = WatchEventType::kDeleted;
  else if (type == "BOOKMARK")
    out.type = WatchEventType::kBookmark;
  else if (type == "ERROR")
    out.type = WatchEventType::kError;
  else
    return common::internalError("watch event of unknown type '" + type + "'");
  return out;
}

WatchMachine::WatchMachine(common::BackoffPolicy policy, common::Random& random) : backoff_(policy, random) {}

WatchStep WatchMachine::next() const {
  switch (phase_) {
    case WatchPhase::kList:
      return {WatchPhase::kList, "", std::chrono::milliseconds(0)};
    case WatchPhase::kWatch:
      return {WatchPhase::kWatch, resourceVersion_, std::chrono::milliseconds(0)};
    case WatchPhase::kWait:
      return {WatchPhase::kWait, resourceVersion_, delay_};
  }
  return {WatchPhase::kList, "", std::chrono::milliseconds(0)};
}

void WatchMachine::listed(const std::string& resourceVersion) {
  resourceVersion_ = resourceVersion;
  failures_ = 0;
  phase_ = WatchPhase::kWatch;
}

void WatchMachine::listFailed(const Status&) { backOffThen(WatchPhase::kList); }

void WatchMachine::relist() {
  resourceVersion_.clear();
  phase_ = WatchPhase::kList;
  ++relists_;
}

void WatchMachine::backOffThen(WatchPhase after) {
  ++failures_;
  ++backoffs_;
  delay_ = backoff_.delayFor(failures_);
  afterWait_ = after;
  phase_ = WatchPhase::kWait;
}

CacheAction WatchMachine::onEvent(const WatchEvent& event) {
  if (phase_ != WatchPhase::kWatch) return CacheAction::kNone;
  const std::string rv = event.object.value("/metadata/resourceVersion"_json_pointer, std::string());
  switch (event.type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified:
      if (!rv.empty()) resourceVersion_ = rv;
      failures_ = 0;
      return CacheAction::kUpsert;
    case WatchEventType::kDeleted:
      if (!rv.empty()) resourceVersion_ = rv;
      failures_ = 0;
      return CacheAction::kDelete;
    case WatchEventType::kBookmark:
      if (!rv.empty()) resourceVersion_ = rv;
      return CacheAction::kNone;
    case WatchEventType::kError: {
      const int code = event.object.value("code", 0);
      if (code == 410) {
        relist();
      } else if (code == 429 || code >= 500) {
        backOffThen(WatchPhase::kWatch);
      } else {
        backOffThen(WatchPhase::kList);
      }
      return CacheAction::kNone;
    }
  }
  return CacheAction::kNone;
}

void WatchMachine::streamEnded(const Status& status) {
  if (phase_ != WatchPhase::kWatch) return;  // an ERROR event already decided
  switch (status.code()) {
    case ErrorCode::kOk:
      return;  // the server's timeoutSeconds: resume from the last resourceVersion
    case ErrorCode::kGone:
      relist();
      return;
    case ErrorCode::kCancelled:
      return;
    case ErrorCode::kTooManyRequests:
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
      backOffThen(WatchPhase::kWatch);
      return;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kInternal:
      backOffThen(WatchPhase::kList);
      return;
  }
}

void WatchMachine::waited() {
  phase_ = afterWait_;
  if (phase_ == WatchPhase::kList) resourceVersion_.clear();
}

Watcher::Watcher(Client& client, WatchTarget target, ObjectCache& cache, Handler handler,
                 common::Random& random, WatcherOptions options)
    : client_(client),
      target_(std::move(target)),
      cache_(cache),
      handler_(std::move(handler)),
      options_(options),
      machine_(options_.backoff, random) {}

void Watcher::run(Cancellation& cancel) {
  while (!cancel.cancelled()) {
    const WatchStep step = machine_.next();
    switch (step.phase) {
      case WatchPhase::kList:
        doList();
        break;
      case WatchPhase::kWatch:
        doWatch(step.resourceVersion, cancel);
        break;
      case WatchPhase::kWait:
        if (restartHook_) restartHook_("backoff");
        cancel.sleepFor(step.delay);
        machine_.waited();
        break;
    }
  }
}

void Watcher::doList() {
  ListOptions options;
  options.labelSelector = target_.labelSelector;
  auto list = client_.list(target_.type, target_.namespace_, options);
  if (!list) {
    spdlog::warn("listing {} failed, will retry: {}", target_.type.plural, list.status().toString());
    machine_.listFailed(list.status());
    return;
  }
  // managedFields are the bulk of a stored object and no reader here needs them (as
  // controller-runtime's TransformStripManagedFields): drop them before caching.
  for (auto& item : list->items) {
    item["metadata"].erase("managedFields");
    if (options_.transform) options_.transform(item);
  }
  std::vector<json> items = list->items;
  const auto gone = cache_.replaceAll(std::move(list->items));
  machine_.listed(list->resourceVersion);
  if (machine_.relists() > reportedRelists_) {
    reportedRelists_ = machine_.relists();
    if (restartHook_) restartHook_("relist");
  }
  for (const auto& item : items) handler_(item, false);
  for (const auto& key : gone) {
    const auto [ns, name] = splitKey(key);
    handler_(json{{"metadata", {{"namespace", ns}, {"name", name}}}}, true);
  }
  synced_.store(true);
}

void Watcher::doWatch(const std::string& resourceVersion, Cancellation& cancel) {
  HttpRequest request{
      "GET", collectionPath(target_.type, target_.namespace_),
      {},    "",
      "",    std::chrono::seconds(options_.serverTimeoutSeconds) + options_.clientTimeoutMargin};
  request.query = {{"watch", "true"},
                   {"allowWatchBookmarks", "true"},
                   {"resourceVersion", resourceVersion},
                   {"timeoutSeconds", std::to_string(options_.serverTimeoutSeconds)}};
  if (!target_.labelSelector.empty()) request.query.emplace_back("labelSelector", target_.labelSelector);
  // A stream of its own so an ERROR event can end it at once, whatever the server does next.
  auto stream = std::make_shared<Cancellation>();
  const int link = cancel.onCancel([stream] { stream->cancel(); });
  auto response = client_.transport().stream(
      request,
      [this, &stream](std::string_view line) {
        handleLine(line);
        if (machine_.next().phase != WatchPhase::kWatch) stream->cancel();
      },
      *stream);
  cancel.removeCallback(link);
  Status ended = response.status();
  if (response) ended = statusFromResponse(*response, "watch " + target_.type.plural);
  if (!ended && ended.code() != ErrorCode::kCancelled) {
    spdlog::info("watch of {} ended: {}", target_.type.plural, ended.toString());
  }
  machine_.streamEnded(ended);
}

void Watcher::handleLine(std::string_view line) {
  auto event = parseWatchLine(line);
  if (!event) {
    spdlog::warn("{}", event.status().toString());
    return;
  }
  if (event->type == WatchEventType::kError) {
    spdlog::info("watch of {} got an ERROR event: {}", target_.type.plural, event->object.dump());
  }
  switch (machine_.onEvent(*event)) {
    case CacheAction::kNone:
      return;
    case CacheAction::kUpsert:
      event->object["metadata"].erase("managedFields");
      if (options_.transform) options_.transform(event->object);
      event->object["kind"] = target_.type.kind;
      event->object["apiVersion"] = target_.type.apiVersion();
      cache_.upsert(event->object);
      handler_(event->object, false);
      return;
    case CacheAction::kDelete:
      cache_.erase(ObjectCache::keyOf(event->object));
      handler_(event->object, true);
      return;
  }
}

}  // namespace sluice::kube

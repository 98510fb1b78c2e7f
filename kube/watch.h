#pragma once
// List-then-watch for one resource type, split in two:
//  - WatchMachine: the pure decisions (what to do next, which resourceVersion to resume from,
//    when to relist, how long to back off), fed the events and outcomes; unit-tested with recorded
//    streams.
//  - Watcher: the thin I/O loop that asks the machine, talks to the API server and fills an
//    ObjectCache. One thread per Watcher (run() blocks until cancelled).
#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/backoff.h"
#include "common/random.h"
#include "common/result.h"
#include "kube/cache.h"
#include "kube/client.h"

namespace sluice::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  WatchEventType type;
  nlohmann::json object;
};

// One line of a watch stream ({"type":"ADDED","object":{...}}).
common::Result<WatchEvent> parseWatchLine(std::string_view line);

enum class WatchPhase { kList, kWatch, kWait };

struct WatchStep {
  WatchPhase phase;
  std::string resourceVersion;         // kWatch: resume from here
  std::chrono::milliseconds delay{0};  // kWait: how long
};

enum class CacheAction { kNone, kUpsert, kDelete };

class WatchMachine {
 public:
  WatchMachine(common::BackoffPolicy policy, common::Random& random);

  WatchStep next() const;
  void listed(const std::string& resourceVersion);
  void listFailed(const common::Status& status);
  // An event of the open watch. BOOKMARK only moves the resourceVersion; ERROR 410 (Gone) means
  // relist; ERROR 429/5xx means back off and watch again. Events after an ERROR are ignored.
  CacheAction onEvent(const WatchEvent& event);
  // The stream ended: ok = the server closed it (timeoutSeconds) -> watch again from the last
  // resourceVersion; Gone -> relist; TooManyRequests/Unavailable/Timeout -> back off, watch again.
  void streamEnded(const common::Status& status);
  void waited();

  const std::string& resourceVersion() const { return resourceVersion_; }
  int relists() const { return relists_; }
  int backoffs() const { return backoffs_; }

 private:
  void relist();
  void backOffThen(WatchPhase after);

  common::Backoff backoff_;
  WatchPhase phase_ = WatchPhase::kList;
  WatchPhase afterWait_ = WatchPhase::kList;
  std::string resourceVersion_;
  std::chrono::milliseconds delay_{0};
  int failures_ = 0;
  int relists_ = 0;
  int backoffs_ = 0;
};

struct WatchTarget {
  ResourceType type;
  std::string namespace_;  // empty = all namespaces
  std::string labelSelector;
};

struct WatcherOptions {
  int serverTimeoutSeconds = 300;                // timeoutSeconds sent to the server
  std::chrono::seconds clientTimeoutMargin{30};  // the client waits this much longer
  common::BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 2.0, 0.2,
                                1 << 30};
  // Applied to each listed or watched object before it is cached and handed to the handler, to
  // drop what no reader needs (as client-go's SetTransform); metadata.managedFields always go.
  std::function<void(nlohmann::json& object)> transform;
};

class Watcher {
 public:
  // Called for every change that reached the cache (deleted = the object is gone; for deletions
  // seen only through a relist, object holds just metadata.name/namespace).
  using Handler = std::function<void(const nlohmann::json& object, bool deleted)>;
  using RestartHook = std::function<void(const char* reason)>;

  Watcher(Client& client, WatchTarget target, ObjectCache& cache, Handler handler, common::Random& random,
          WatcherOptions options = {});

  void run(Cancellation& cancel);
  bool synced() const { return synced_.load(); }
  void onRestart(RestartHook hook) { restartHook_ = std::move(hook); }
  const WatchTarget& target() const { return target_; }

 private:
  void doList();
  void doWatch(const std::string& resourceVersion, Cancellation& cancel);
  void handleLine(std::string_view line);

  Client& client_;
  WatchTarget target_;
  ObjectCache& cache_;
  Handler handler_;
  WatcherOptions options_;
  WatchMachine machine_;
  RestartHook restartHook_;
  std::atomic<bool> synced_{false};
  int reportedRelists_ = 0;
};

}  // namespace sluice::kube

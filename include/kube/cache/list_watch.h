// ListerWatcher: where a reflector lists and watches. `ListWatchFromClient` makes one for any
// resource served by an API server; tests and custom sources implement it directly.
//
// Reads from: the resource client (client/rest_client.h). Feeds: the reflector.
// client-go: tools/cache/listwatch.go.
#ifndef KUBE_CACHE_LIST_WATCH_H_
#define KUBE_CACHE_LIST_WATCH_H_

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "kube/client/rest_client.h"
#include "kube/group_version.h"
#include "kube/object.h"
#include "kube/status.h"
#include "kube/watch/watch.h"

namespace kube {

// A watch started by `ListerWatcher::Watch`. Destroying it stops it.
class ActiveWatch {
 public:
  virtual ~ActiveWatch() = default;
  // Ends the watch. No callback runs after `Stop` returns (a running one is waited for), so it
  // must not be called from a callback. Idempotent.
  virtual void Stop() noexcept = 0;
};

struct WatchCallbacks {
  // The events of the stream, in order, in batches (never empty; the callee may move from them):
  // the HTTP source hands on every event one chunk of the stream completes, other sources what
  // they have. Runs on the source's I/O thread, one call at a time, and must not block (the
  // thread serves other streams, and `ActiveWatch::Stop` waits for a running call).
  std::function<void(std::vector<WatchEvent>&)> on_events;
  // Once, when the stream ends by itself: OK for a clean end (server timeout, EOF), otherwise
  // why (a decode error, a broken connection). Not called after `Stop()`. An ERROR event is
  // delivered through `on_events` and followed by `on_done` with that event's status.
  std::function<void(Status)> on_done;
};

class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;
  // One page of the list. Blocks. A source may end early with kCancelled once `stop` is
  // requested; the HTTP one (`ListWatchFromClient`) abandons its request at once, mid-body too.
  virtual Result<ObjectList> List(const ListOptions& options, std::stop_token stop) = 0;
  // The same page, with items handed to `on_items` in batches while it arrives (on the source's
  // I/O thread); the result holds the items not handed on. `on_items` may wait (the reflector's
  // waits while the informer's queue is full), never beyond `stop`. If the page then fails, the
  // batches handed on stand like the pages of a paginated list that failed halfway. The default
  // hands nothing on: it is `List`.
  virtual Result<ObjectList> ListInBatches(const ListOptions& options, std::stop_token stop,
                                           std::function<void(std::vector<ObjectPtr>)> on_items) {
    (void)on_items;
    return List(options, stop);
  }
  // Opens a watch. A source may report a failure to open here, or (as the HTTP one does) as
  // an ERROR event followed by `on_done`; the reflector treats both alike.
  virtual Result<std::unique_ptr<ActiveWatch>> Watch(const ListOptions& options,
                                                     WatchCallbacks callbacks) = 0;
};

// Adds list options (selectors, ...) to every list and watch (client-go's `WithTweakListOptions`;
// B39 in docs/behaviours.md).
using TweakListOptionsFunc = std::function<void(ListOptions&)>;

// A ListerWatcher for `gvr` in namespace `ns` ("" = all namespaces, or a cluster-scoped
// resource) through `client`.
std::shared_ptr<ListerWatcher> ListWatchFromClient(std::shared_ptr<HttpClient> client,
                                                   GroupVersionResource gvr, std::string ns,
                                                   TweakListOptionsFunc tweak = nullptr);

}  // namespace kube

#endif  // KUBE_CACHE_LIST_WATCH_H_

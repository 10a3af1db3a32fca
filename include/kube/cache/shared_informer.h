// [6] SharedIndexInformer: one list+watch of a resource, an indexed cache, and event handlers.
//
// Reads from: the reflector (through the delta FIFO).
// Feeds: registered handlers (each through its own unbounded, in-order buffer) and listers (the
// indexer).
// client-go: tools/cache/shared_informer.go, controller.go.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_CACHE_SHARED_INFORMER_H_
#define KUBE_CACHE_SHARED_INFORMER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "kube/cache/list_watch.h"
#include "kube/cache/reflector.h"
#include "kube/cache/store.h"
#include "kube/clock.h"
#include "kube/object.h"
#include "kube/object_key.h"
#include "kube/status.h"

namespace kube {

// What a delete handler receives (B61). Unlike client-go's `interface{}` that is either the object
// or a `DeletedFinalStateUnknown`, it cannot be mistaken for a live object by a type assertion
// gone wrong: `object()` is always the last state known, and `final_state_unknown()` says whether
// that state is the server's final one or only the cache's last (a deletion inferred by a relist).
class DeletedObject {
 public:
  DeletedObject(ObjectPtr object, bool final_state_unknown, std::string key)
      : object_(std::move(object)),
        final_state_unknown_(final_state_unknown),
        key_(std::move(key)) {}

  // The deleted object's last known state. Never null.
  const ObjectPtr& object() const { return object_; }
  // True when the deletion was inferred from a relist (the watch missed it); the object is then
  // the cache's last state, which may be older than the server's final one.
  bool final_state_unknown() const { return final_state_unknown_; }
  // `namespace/name` (B01).
  const std::string& key() const { return key_; }
  // client-go's shape, for code ported from Go.
  DeletedFinalStateUnknown AsTombstone() const { return {key_, object_}; }

 private:
  ObjectPtr object_;
  bool final_state_unknown_;
  std::string key_;
};

// Receives an informer's notifications. Each handler gets its notifications one at a time, in
// order, on a library worker thread (never two at once for one handler). A handler that throws is
// caught, logged and counted, and keeps receiving later notifications (client-go re-panics by
// default, B37). Handlers may block; other handlers and the cache do not wait for them (B32).
class ResourceEventHandler {
 public:
  virtual ~ResourceEventHandler() = default;
  // B28/B29: a new object; `is_in_initial_list` for the adds of the first list (and, for a
  // handler added after start, the adds of the objects already cached, B31).
  virtual void OnAdd(const ObjectPtr& obj, bool is_in_initial_list) {
    (void)obj;
    (void)is_in_initial_list;
  }
  // A change: `old_obj` and `new_obj` have different resourceVersions.
  virtual void OnUpdate(const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
    (void)old_obj;
    (void)new_obj;
  }
  virtual void OnDelete(const DeletedObject& obj) { (void)obj; }
  // An object of the cache snapshot the informer started from (`SnapshotOptions`), before the
  // resumed watch's changes: the cache held it when the snapshot was written, and the server may
  // have changed it since (the updates, deletes or a relist's corrections follow). The default
  // forwards to `OnAdd(obj, true)`; override it (or set `.snapshot_add`) to tell snapshot adds
  // from the adds of a list.
  virtual void OnSnapshotAdd(const ObjectPtr& obj) { OnAdd(obj, true); }
  // A resync, or a relisted object that did not change (B28/B34): client-go delivers these as
  // OnUpdate(old, new) with equal resourceVersions, and so does this default. Override to tell
  // them apart from real updates.
  virtual void OnResync(const ObjectPtr& obj) { OnUpdate(obj, obj); }
};

// A handler from functions; unset ones ignore their notification. `resync` unset falls back to
// `update(obj, obj)`, as in client-go; `snapshot_add` unset falls back to `add(obj, true)`.
struct ResourceEventHandlerFuncs {
  std::function<void(const ObjectPtr&, bool)> add;
  std::function<void(const ObjectPtr&, const ObjectPtr&)> update;
  std::function<void(const DeletedObject&)> del;
  std::function<void(const ObjectPtr&)> resync;
  std::function<void(const ObjectPtr&)> snapshot_add;
};
std::shared_ptr<ResourceEventHandler> MakeHandler(ResourceEventHandlerFuncs funcs);

// B62: passes notifications whose object satisfies `filter` to `handler`; an update becomes an
// add when only the new object passes and a delete when only the old one does.
std::shared_ptr<ResourceEventHandler> FilteringHandler(
    std::function<bool(const Object&)> filter, std::shared_ptr<ResourceEventHandler> handler);

struct HandlerOptions {
  // This handler's resync period; unset = the informer's default; 0 = never; below 1 s = 1 s
  // (B33).
  std::optional<std::chrono::milliseconds> resync_period;
  std::string name;  // for logs and metrics
};

// A handler's membership in an informer (B30). Thread-safe.
class ResourceEventHandlerRegistration {
 public:
  virtual ~ResourceEventHandlerRegistration() = default;
  // True once the informer has synced and this handler has returned from every initial-list
  // OnAdd (B30). Latches.
  virtual bool HasSynced() const = 0;
  // Blocks until `HasSynced()`, the informer stops, or `timeout` passes; returns `HasSynced()`.
  virtual bool WaitForSynced(std::chrono::milliseconds timeout) const = 0;
  // Notifications queued for this handler and not yet delivered.
  virtual size_t PendingNotifications() const = 0;
  // Handler calls that threw.
  virtual uint64_t HandlerErrors() const = 0;
};
using RegistrationPtr = std::shared_ptr<ResourceEventHandlerRegistration>;

// Applied to every object before it is queued and cached (B35), e.g. `DropManagedFields`. Must be
// pure and idempotent (B56); returning null keeps the object as it was.
using TransformFunc = std::function<ObjectPtr(ObjectPtr)>;

// Warm restarts (docs/informers.md, "Warm restarts from a snapshot"): the informer keeps its
// cache in a file and, when it starts again, loads it and resumes the watch from the version the
// file is consistent with instead of listing. A snapshot that cannot be used (missing, damaged,
// of another resource or server, or whose version the server no longer has) costs one warning
// and a normal list.
struct SnapshotOptions {
  // The file; "" = no snapshot. Written with mode 0600 (it may hold Secrets; docs/security.md),
  // atomically (a temporary file beside it, fsync, rename).
  std::string path;
  // While running, the cache is written at most this often, when it changed; 0 = only at `Stop`.
  // The informer never waits for a write: the cache is copied (shared pointers) under its lock,
  // then encoded and written on the snapshot's own thread.
  std::chrono::milliseconds interval{std::chrono::seconds(60)};
  // Who the cache came from: a snapshot recorded with another identity is refused. The factory
  // sets the server URL and the cluster's `kube-system` namespace UID when it can read it.
  std::string server_identity;
  // What the cache holds (resource, namespace, selectors); "" = the informer's `name`. A snapshot
  // of anything else is refused.
  std::string resource;
  // Deflate the file (zlib, fastest level): about 6x smaller for Pods, for about 3x the CPU to
  // write and 2x to load (docs/benchmarks.md, "Warm restarts"). Off by default: restart time and
  // the informer's CPU come first.
  bool compress = false;
};

struct SharedInformerOptions {
  // The default handler resync period and the resync check period (B33); 0 = never resync.
  std::chrono::milliseconds resync_period{0};
  Indexers indexers;
  std::string name;  // for logs, e.g. "apps/v1 deployments"
  ReflectorOptions reflector;
  std::shared_ptr<Clock> clock;  // default: Clock::Real()
  SnapshotOptions snapshot;      // warm restarts; off unless `snapshot.path` is set
};

// An informer's counters (`SharedIndexInformer::Stats()`). Delta counters count objects, not
// handler calls: an add delivered to three handlers counts once.
struct InformerStats {
  std::size_t objects_cached = 0;
  // Deltas applied to the cache, by outcome: an object added, updated (a real change), deleted
  // (a watch DELETED, or a deletion inferred by a relist), or re-delivered unchanged to the
  // handlers due for resync (a periodic resync, or an unchanged relist item; B28/B34).
  std::uint64_t adds = 0, updates = 0, deletes = 0, resyncs = 0;
  std::uint64_t lists = 0;    // successful lists (the first one included; B22 watch-lists too)
  std::uint64_t relists = 0;  // successful lists after the first (after 410s, errors)
  std::uint64_t watch_restarts = 0;        // watches opened after the first
  std::string last_sync_resource_version;  // `LastSyncResourceVersion()`
  // Beyond the metrics: the reflector's own counters.
  std::uint64_t watches = 0;             // watches opened (the first one included)
  std::uint64_t watch_events = 0;        // events received, bookmarks included
  std::uint64_t relists_after_gone = 0;  // rounds ended by 410 Gone (B17)
  // Relists from "" because the server answered a version older than one it had given (it
  // restarted with fresh storage or was restored; docs/informers.md).
  std::uint64_t relists_after_rv_regression = 0;
  std::uint64_t progress_timeouts = 0;  // watches restarted for making no progress
  std::uint64_t errors = 0;             // errors reported to the watch error handler (B20)
  std::uint64_t store_write_locks = 0;  // exclusive indexer locks taken (B55 batches)
  // Warm restarts (`SnapshotOptions`).
  bool started_from_snapshot = false;         // the cache was loaded from a snapshot
  std::size_t snapshot_objects_loaded = 0;    // objects it held
  std::uint64_t snapshot_version_probes = 0;  // one-item lists reading the current version
  std::uint64_t snapshots_written = 0;        // files written (at intervals and at `Stop`)
  std::uint64_t snapshot_write_errors = 0;    // writes that failed (logged; the old file stays)
  std::chrono::nanoseconds snapshot_write_cpu{0};  // CPU time spent encoding and writing
  struct Handler {
    std::string name;                         // `HandlerOptions::name`
    std::size_t queue_depth = 0;              // notifications buffered, not yet delivered
    std::chrono::nanoseconds lag{0};          // age of the oldest undelivered notification
    std::uint64_t delivered = 0, failed = 0;  // failed = handler threw (included in delivered)
  };
  std::vector<Handler> handlers;  // registered handlers, in registration order
};

// Thread-safe. Owns its threads' work: `Stop()` (and the destructor) stops the reflector, ends
// every handler's delivery and waits for running handler calls to return.
class SharedIndexInformer : public std::enable_shared_from_this<SharedIndexInformer> {
 public:
  static std::shared_ptr<SharedIndexInformer> Create(std::shared_ptr<ListerWatcher> lw,
                                                     SharedInformerOptions options);
  virtual ~SharedIndexInformer() = default;

  // B30/B31: adds a handler. After start it first receives OnAdd(obj, true) for every cached
  // object, then live notifications, with nothing missed or doubled. kCancelled once stopped.
  virtual Result<RegistrationPtr> AddEventHandler(std::shared_ptr<ResourceEventHandler> handler,
                                                  HandlerOptions options = {}) = 0;
  Result<RegistrationPtr> AddEventHandler(ResourceEventHandlerFuncs funcs,
                                          HandlerOptions options = {}) {
    return AddEventHandler(MakeHandler(std::move(funcs)), std::move(options));
  }
  // B30: stops delivery to the handler; notifications not yet started are dropped. Idempotent,
  // does not wait. kInvalidArgument for a registration of another informer.
  virtual Status RemoveEventHandler(const RegistrationPtr& registration) = 0;
  // As `RemoveEventHandler`, then waits until the handler's running call (if any) returns. Must
  // not be called from that handler.
  virtual Status ShutDownEventHandler(const RegistrationPtr& registration) = 0;

  // B35: before `Run` only (kFailedPrecondition-like kInvalidArgument after).
  virtual Status SetTransform(TransformFunc transform) = 0;
  // B20: receives every list/watch error (the loop keeps retrying). Before `Run` only.
  virtual Status SetWatchErrorHandler(std::function<void(const Status&)> handler) = 0;
  // B07: before or after `Run`; kCancelled once stopped; kAlreadyExists on a name conflict.
  virtual Status AddIndexers(const Indexers& indexers) = 0;

  // A read-only view of the cache the informer fills: the informer is its only writer, so the
  // view offers only the const queries (GetByKey, List, ByIndex, IndexKeys, ...). Add indexes
  // through `AddIndexers` above.
  virtual std::shared_ptr<const Indexer> GetIndexer() const = 0;
  std::shared_ptr<const Store> GetStore() const { return GetIndexer(); }

  // B36: starts list+watch in the background and returns. A second call logs and returns.
  virtual void Run() = 0;
  // Stops everything and waits for running handler calls. Idempotent; must not be called from a
  // handler of this informer (it would wait for itself). A list in progress is not cancelled:
  // Stop waits until its HTTP request returns (at most the request timeout, `RestConfig::timeout`,
  // per attempt).
  virtual void Stop() = 0;
  virtual bool IsStopped() const = 0;

  // B27/B36: true once the first list has been stored and its adds handed to handlers' queues.
  // After a warm start (`SnapshotOptions`): once the resumed watch has delivered an event or
  // bookmark at or past the version the server had when it resumed (or a relist ended). Latches.
  virtual bool HasSynced() const = 0;
  // Blocks until `HasSynced()`, stop, or `timeout`.
  virtual bool WaitForCacheSync(std::chrono::milliseconds timeout) const = 0;
  // Unlike client-go's `WaitForCacheSync`, also waits until every handler registered now has
  // *returned* from its initial-list OnAdd calls (each registration's `HasSynced`), so a controller
  // that starts workers afterwards never races its own handlers.
  virtual bool WaitForHandlersSync(std::chrono::milliseconds timeout) const = 0;
  // B36: the reflector's last synced resourceVersion; "" before the first list. It moves when a
  // list, watch event or bookmark is *received*, so it may be ahead of the cache.
  virtual std::string LastSyncResourceVersion() const = 0;

  // --- Read-your-writes (docs/informers.md, "Read-your-writes: WaitForResourceVersion") ---------
  // The resourceVersion the cache reflects: every change up to it has been applied to the indexer
  // (listers see it). It moves once a list, a watch event or a bookmark has been *applied*; ""
  // before the first list. After a relist from a server that went back in time it may go down.
  virtual std::string CacheResourceVersion() const = 0;
  // Blocks until the cache reflects `resource_version` or later (`CacheResourceVersion()` is a
  // number >= it), so that a lister read afterwards sees every change up to that version: call it
  // with the resourceVersion a write returned. Without waiting when the cache is there already.
  // Woken by the informer when it applies a list, an event or a bookmark (no polling); any number
  // of threads may wait at once, each woken only when its own version is reached. Errors:
  //   kInvalidArgument: `resource_version` is not an unsigned decimal number (an opaque version,
  //     which cannot be ordered; equal to `CacheResourceVersion()` is OK), or the server's own
  //     versions are not numbers;
  //   kDeadlineExceeded: not reached within `timeout`; the message names both versions;
  //   kCancelled: the informer stopped (or `stop` was requested) first.
  // Compare only versions of the resource this informer watches: the API orders them within one
  // resource type; across types it holds for one etcd (the embedded server, most clusters) but
  // is not promised. A quiet informer (no change it can see) moves on bookmarks only: about
  // every minute with kube-apiserver (docs/informers.md).
  virtual Status WaitForResourceVersion(std::string_view resource_version,
                                        std::chrono::milliseconds timeout) const = 0;
  virtual Status WaitForResourceVersion(std::string_view resource_version,
                                        std::chrono::milliseconds timeout,
                                        std::stop_token stop) const = 0;
  // A snapshot of the counters below, for metrics and tests. Cheap (no lock on the delta path;
  // one short lock per handler) and callable from any thread, handlers included.
  virtual InformerStats Stats() const = 0;
};

}  // namespace kube

#endif  // KUBE_CACHE_SHARED_INFORMER_H_

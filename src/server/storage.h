// Storage: the embedded server's objects, its resourceVersion counter, the event history and the
// watch fan-out.
//
// One global counter numbers every committed change (create, update, delete), so resourceVersions
// are strictly increasing decimal integers across all resources. Each change is appended to a
// bounded history (the "watch cache" window) used to resume watches, to list at an exact
// resourceVersion and to serve continue tokens: anything older than the window answers 410 Expired.
// The window is bounded both in events and in bytes (the objects its events hold), so a few large
// objects updated often cannot grow it without limit; the oldest events go first.
// Committing a change hands the event to every watcher of its resource without blocking: each
// watcher has a bounded queue, and a watcher that falls further behind than that is closed (its
// client re-watches from its last resourceVersion, as after any dropped stream).
//
// Objects are immutable `ObjectPtr`s: their JSON bytes are produced once per change and shared by
// every list answer and watch stream.
//
// Thread-safe. Mutations run under the write lock; callbacks passed in (mutations, list filters,
// watcher notifications) run under a lock and must not call back into Storage.
//
// Reads from: the registry (writes), the router (reads). Feeds: list answers, watch streams.
// kube-apiserver: storage/cacher (watch cache), storage/etcd3 (store).
#ifndef KUBE_SERVER_STORAGE_H_
#define KUBE_SERVER_STORAGE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "kube/group_version.h"
#include "kube/object.h"
#include "server/status_json.h"

namespace kube::server {

enum class EventType { kAdded, kModified, kDeleted };

// One committed change. Immutable once published, shared by the history and every watcher.
struct StoredEvent {
  uint64_t rv = 0;
  GroupVersionResource gvr;
  std::string key{};  // "ns/name" or "name"
  EventType type = EventType::kAdded;
  // ADDED/MODIFIED: the new state. DELETED: the last state, stamped with `rv`.
  ObjectPtr object;
  // The state before the change; null for ADDED.
  ObjectPtr previous;
  // What the history is charged for keeping this event: the memory of `object` and `previous`.
  size_t bytes = 0;

  // `previous` stamped with `rv`: what a watcher whose selector the object just left receives as
  // DELETED. Built once on first use and shared. Thread-safe.
  ObjectPtr PreviousAtRv() const;

 private:
  mutable std::once_flag once_;
  mutable ObjectPtr previous_at_rv_;
};
using EventPtr = std::shared_ptr<const StoredEvent>;

// The queue between Storage and one watch stream. Thread-safe.
class Watcher {
 public:
  enum class End {
    kNone,
    kDropped,          // fault injection or server shutdown: end the stream now
    kOverflow,         // the client fell more than the queue limit behind
    kResourceRemoved,  // its CRD was deleted
  };

  // `notify` is called (from the committing thread, under Storage's lock) when the queue becomes
  // non-empty or the watcher closes; it must only schedule work, e.g. post to an executor.
  Watcher(GroupVersionResource gvr, size_t limit, std::function<void()> notify);

  const GroupVersionResource& gvr() const { return gvr_; }

  // Producer side (Storage). Never blocks on the consumer.
  void Push(EventPtr e) KUBE_EXCLUDES(mu_);
  // Pushes without the limit (the replay of history when the watch starts).
  void PushUnbounded(EventPtr e) KUBE_EXCLUDES(mu_);
  // Ends the watcher; queued events are discarded. The first reason wins.
  void Close(End reason) KUBE_EXCLUDES(mu_);
  // Asks the stream to cut its next event in half and drop the connection (fault injection).
  void RequestCut() KUBE_EXCLUDES(mu_);

  // Consumer side (the stream). Takes up to `max` events; re-arms the notification.
  struct Batch {
    std::vector<EventPtr> events;
    End end = End::kNone;
    bool cut = false;
  };
  Batch Take(size_t max) KUBE_EXCLUDES(mu_);
  // Why the watcher ended (kNone while open), without taking anything: lets a stream whose write
  // is blocked by a client that does not read see the overflow and drop the connection.
  End end() const KUBE_EXCLUDES(mu_);

 private:
  // `force`: notify even when a notification is outstanding (the end of the watcher must reach a
  // stream that is blocked in a write and so has not taken the previous notification yet).
  void NotifyLocked(bool force = false) KUBE_REQUIRES(mu_);

  const GroupVersionResource gvr_;
  const size_t limit_;
  const std::function<void()> notify_;
  mutable internal::Mutex mu_;
  std::deque<EventPtr> queue_ KUBE_GUARDED_BY(mu_);
  End end_ KUBE_GUARDED_BY(mu_) = End::kNone;
  bool cut_ KUBE_GUARDED_BY(mu_) = false;
  // A notification is outstanding (not yet followed by `Take`): no need to send another.
  bool notified_ KUBE_GUARDED_BY(mu_) = false;
};

// A request waiting for the resourceVersion to reach `rv` (see `Storage::AwaitRv`).
struct RvWaiter {
  uint64_t rv = 0;
  std::function<void()> notify;
};

class Storage {
 public:
  struct Options {
    size_t history_limit = 10000;  // events kept for resume / exact lists / continue
    // Bytes the history's events may hold: each event is charged the memory of the states it
    // keeps (the new one and the previous one), so this bounds what the history keeps alive.
    size_t history_bytes_limit = size_t{128} << 20;
    size_t watch_queue_limit = 10000;  // events a watcher may lag before it is closed
  };
  explicit Storage(Options options);
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // The resourceVersion of the last committed change (0 before any).
  uint64_t CurrentRv() const KUBE_EXCLUDES(mu_);
  // Every change after this version is still in the history.
  uint64_t CompactedRv() const KUBE_EXCLUDES(mu_);
  // The bytes charged to the events now in the history (see `Options::history_bytes_limit`).
  size_t HistoryBytes() const KUBE_EXCLUDES(mu_);
  // Events now in the history.
  size_t HistorySize() const KUBE_EXCLUDES(mu_);

  // Registers `notify` to be called once the resourceVersion reaches `rv` (from the committing
  // thread, under the lock: it must only schedule work), or when `ReleaseRvWaiters` runs. Returns
  // null, registering nothing, when `rv` is reached already. The caller cancels the registration
  // with `CancelRvWait` when it stops waiting; a fired registration is already gone.
  std::shared_ptr<RvWaiter> AwaitRv(uint64_t rv, std::function<void()> notify) KUBE_EXCLUDES(mu_);
  void CancelRvWait(const std::shared_ptr<RvWaiter>& waiter) KUBE_EXCLUDES(mu_);
  // Fires and forgets every registration (server shutdown).
  void ReleaseRvWaiters() KUBE_EXCLUDES(mu_);
  // Registrations waiting now.
  size_t RvWaiterCount() const KUBE_EXCLUDES(mu_);

  // The current object at `key`, or null.
  ObjectPtr Get(const GroupVersionResource& gvr, std::string_view key) const KUBE_EXCLUDES(mu_);

  struct ListQuery {
    std::string ns{};                 // "" = every namespace
    std::optional<uint64_t> at_rv{};  // nullopt = now; else an exact snapshot
    std::string after_key{};          // resume after this key (continue token)
    // How many objects of the listing come at or before `after_key` at the snapshot (what the
    // earlier pages returned, carried in the continue token). With it, `remaining` is computed
    // from the collection's size instead of by walking the rest. nullopt with a non-empty
    // `after_key`: unknown (an inconsistent continuation), the rest is walked.
    std::optional<size_t> after_count{};
    size_t limit = 0;                             // 0 = no limit
    std::function<bool(const Object&)> filter{};  // null = everything
    bool count_remaining = false;  // fill `remaining`; ignored with a filter (as kube-apiserver)
  };
  struct ListPage {
    std::vector<ObjectPtr> items;  // key order
    uint64_t rv = 0;               // the snapshot version
    bool more = false;             // items remain after `last_key`
    std::string last_key{};
    // With `count_remaining`, no filter and `more`: how many objects follow `last_key` at the
    // snapshot, and how many come up to and including it (the next page's `after_count`).
    int64_t remaining = 0;
    std::optional<size_t> position{};
  };
  // Lists in key order at a snapshot. Errors: 410 Expired when `at_rv` is older than the history
  // window; 504 Too large resource version when `at_rv` is in the future.
  //
  // Cost: O(log n + page) for a page of the current state, plus O(changes since the snapshot)
  // for an older one; `remaining` is O(1) when `after_count` is known (or the list starts at the
  // beginning), else O(rest of the collection).
  ApiOr<ListPage> List(const GroupVersionResource& gvr, const ListQuery& q) const
      KUBE_EXCLUDES(mu_);

  // A write decided under the lock. `kNone` commits nothing (a no-op update, a dry run, a
  // pending deletion) and returns `object` as is.
  struct Change {
    enum class Op { kNone, kPut, kDelete };
    Op op = Op::kNone;
    // kPut: the new state, already carrying `next_rv` as its resourceVersion. kDelete: the last
    // state stamped with `next_rv` (or null: Storage stamps it).
    ObjectPtr object;
  };
  // Reads the object at `key` (null when absent) and commits what `fn` decides, atomically. `fn`
  // runs under the write lock; `next_rv` is the version the change gets if committed.
  using Mutation = std::function<ApiOr<Change>(const ObjectPtr& current, uint64_t next_rv)>;
  ApiOr<Change> Mutate(const GroupVersionResource& gvr, const std::string& key, const Mutation& fn)
      KUBE_EXCLUDES(mu_);

  // Deletes every object in namespace `ns` of every resource (a namespace was deleted).
  void RemoveNamespaceContents(std::string_view ns) KUBE_EXCLUDES(mu_);
  // Deletes every object of `gvr` and closes its watchers (its CRD was deleted).
  void RemoveResource(const GroupVersionResource& gvr) KUBE_EXCLUDES(mu_);

  struct WatchStart {
    std::shared_ptr<Watcher> watcher;
    std::vector<ObjectPtr> initial;  // from_rv == nullopt: every current object (key order)
    uint64_t rv = 0;                 // the version the stream starts after
  };
  // Registers a watcher of `gvr`. `from_rv` nullopt: the current objects of `ns` ("" = all) are
  // returned for synthetic ADDED events and changes after them follow. `from_rv` N: every change
  // after N is queued; 410 Expired when N is older than the window, 504 Too large resource
  // version when the server has not reached N (a watch never sends versions at or below its
  // start). Unwatch when done.
  ApiOr<WatchStart> Watch(const GroupVersionResource& gvr, std::string_view ns,
                          std::optional<uint64_t> from_rv, std::function<void()> notify)
      KUBE_EXCLUDES(mu_);
  void Unwatch(const std::shared_ptr<Watcher>& w) KUBE_EXCLUDES(mu_);

  // --- Faults and operations ----------------------------------------------------------------
  // Forgets the history: any resume or exact list before now gets 410.
  void Compact() KUBE_EXCLUDES(mu_);
  void CloseAllWatchers(Watcher::End reason) KUBE_EXCLUDES(mu_);
  void CutAllWatchers() KUBE_EXCLUDES(mu_);
  size_t WatcherCount() const KUBE_EXCLUDES(mu_);
  size_t ObjectCount() const KUBE_EXCLUDES(mu_);

 private:
  using ObjectMap = std::map<std::string, ObjectPtr, std::less<>>;

  // Per resource, how many objects each namespace holds ("" = cluster-scoped objects): lets a
  // list count its remaining items without walking them.
  using NamespaceCounts = std::map<std::string, size_t, std::less<>>;

  void CommitLocked(const GroupVersionResource& gvr, const std::string& key, EventType type,
                    ObjectPtr object, ObjectPtr previous, uint64_t rv) KUBE_REQUIRES(mu_);
  // Drops the oldest events while the history is over its count or byte limit.
  void TrimHistoryLocked() KUBE_REQUIRES(mu_);
  // Adds `delta` (+1 or -1) to the count of `key`'s namespace.
  void CountLocked(const GroupVersionResource& gvr, std::string_view key, int delta)
      KUBE_REQUIRES(mu_);
  // How many objects of `gvr` namespace `ns` holds now ("" = every namespace).
  size_t SizeLocked(const GroupVersionResource& gvr, std::string_view ns) const
      KUBE_REQUIRES_SHARED(mu_);

  const Options options_;
  mutable internal::SharedMutex mu_;
  uint64_t rv_ KUBE_GUARDED_BY(mu_) = 0;
  uint64_t compacted_rv_ KUBE_GUARDED_BY(mu_) = 0;
  std::unordered_map<GroupVersionResource, ObjectMap> objects_ KUBE_GUARDED_BY(mu_);
  std::unordered_map<GroupVersionResource, NamespaceCounts> counts_ KUBE_GUARDED_BY(mu_);
  std::deque<EventPtr> history_ KUBE_GUARDED_BY(mu_);
  size_t history_bytes_ KUBE_GUARDED_BY(mu_) = 0;
  std::multimap<uint64_t, std::shared_ptr<RvWaiter>> rv_waiters_ KUBE_GUARDED_BY(mu_);
  std::unordered_map<GroupVersionResource, std::vector<std::shared_ptr<Watcher>>> watchers_
      KUBE_GUARDED_BY(mu_);
};

// "ns/name", or "name" for cluster-scoped objects.
std::string StorageKey(std::string_view ns, std::string_view name);

}  // namespace kube::server

#endif  // KUBE_SERVER_STORAGE_H_

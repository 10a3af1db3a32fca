// [5] ThreadSafeStore: the in-memory, indexed object cache behind every informer.
//
// Reads from: the shared informer (Add/Update/Delete per delta, Replace on a relist, Bookmark).
// Feeds: listers (`List`, `ByIndex`), handlers and user code through `GetIndexer()`.
// client-go: tools/cache/thread_safe_store.go (threadSafeMap), store.go (cache, NewIndexer).
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_CACHE_THREAD_SAFE_STORE_H_
#define KUBE_CACHE_THREAD_SAFE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kube/cache/store.h"
#include "kube/labels.h"
#include "kube/object.h"
#include "kube/status.h"

namespace kube {

// One write of `ThreadSafeStore::Transaction` (client-go's `cache.Transaction`).
struct StoreTransaction {
  enum class Type { kAdd, kUpdate, kDelete };
  Type type;
  ObjectPtr object;  // for kDelete, the deleted object (its key and resource version are used)
};

// The `Indexer` every informer uses: objects filed under `MetaNamespaceKey` (B01), plus the
// secondary indexes named by `Indexers` (B04).
//
// Thread-safety: thread-safe. Reads take a shared lock and run concurrently; writes are
// exclusive and also serialised among themselves. Index entries change in the same critical
// section as the object they describe (B05), so no reader ever sees an object without its index
// entries or the reverse. `Replace` builds the new content without the lock and swaps it in, so
// readers wait only for the swap (B03). The store never calls user code under its lock except the
// `IndexFunc`s, which must be pure, thread-safe, must not throw and must not call back into the
// store.
//
// Ownership: objects are shared, never copied (B08). The store keeps an `ObjectPtr` to each
// object it is given and hands out that same pointer; `Object` is immutable by type, so sharing is
// safe and client-go's "do not mutate cached objects" rule holds by construction.
//
// Differences from client-go:
// - An `IndexFunc` error rejects the write and leaves the store unchanged (client-go panics,
//   B05); the caller gets the function's status with the key and index name added.
// - `LastStoreSyncResourceVersion()` is always tracked (client-go only under `AtomicFIFO`, B49).
//
// Label index: every store, whatever its `Indexers`, also files each object under each of its
// labels, per namespace (namespace, key, value -> objects), maintained in the same critical
// section as the object (B05), so label-selector queries with an `=`, `==` or `in` requirement
// examine only the objects that have one of the values asked for (`ListMatching`,
// `ListNamespaceMatching`). It reads the labels `Object` decoded once, never the JSON.
//
// Cost (for capacity planning; bench/cache_memory measures it): no key strings are stored; an
// object is filed under the key it spells, and hashed and compared through it. Per object that is
// one hash node (`ObjectPtr` + cached hash + link, 48 bytes with glibc) and a bucket, plus, per
// index value and per label it has, one 8-byte slot in that value's open-addressing set (at most
// 3/4 full; a value one object alone has needs no set of its own). Index values are stored once per
// distinct value. A label (namespace, key, value) costs one 64-byte node and a bucket, and stores
// no string: a label value unique to its object costs that object about 72 bytes. With the Pods of
// bench/cache_memory (two shared labels, one unique) the label index costs 104 bytes per Pod, 2.6%
// of its JSON. `ListKeys` and `IndexKeys` build the keys they return.
class ThreadSafeStore final : public Indexer {
 public:
  // An empty store with `indexers` (which may be empty: B06, a bare store has no namespace index).
  // Every function must be non-null (a null one makes every write fail with kInternal).
  static std::shared_ptr<ThreadSafeStore> Create(Indexers indexers = {});

  explicit ThreadSafeStore(Indexers indexers = {});
  ThreadSafeStore(const ThreadSafeStore&) = delete;
  ThreadSafeStore& operator=(const ThreadSafeStore&) = delete;
  ~ThreadSafeStore() override;

  // --- Store ------------------------------------------------------------------------------------
  // B02: store `obj` under its key, replacing any object there, and re-index it. Records
  // `obj->resource_version()` (B49). Errors: an `IndexFunc`'s error (the store is unchanged);
  // kInvalidArgument for a null `obj`. Blocks for the exclusive lock.
  Status Add(ObjectPtr obj) override;
  // Same as `Add` (client-go does not distinguish them either).
  Status Update(ObjectPtr obj) override;
  // B02: removes the object with `obj`'s key and its index entries; absent is not an error.
  // Records `obj.resource_version()` (B49), even when the key was absent. Blocks for the
  // exclusive lock.
  Status Delete(const Object& obj) override;
  // As `Delete`, but leaves the last resource version alone (there is no object to take it from).
  Status DeleteByKey(std::string_view key) override;

  // A consistent snapshot of every object (no defined order). Blocks for the shared lock.
  std::vector<ObjectPtr> List() const override;
  // A consistent snapshot of every key (no defined order).
  std::vector<std::string> ListKeys() const override;
  // The object under `obj`'s key, or null.
  ObjectPtr Get(const Object& obj) const override;
  // The object under `key`, or null. Does not allocate.
  ObjectPtr GetByKey(std::string_view key) const override;
  size_t Size() const override;

  // B03: swaps the whole content for `list` and rebuilds every index in one step; records
  // `resource_version` (B49). When `list` holds several objects with one key, the last wins.
  // The new content is built before the exclusive lock is taken and the old content is released
  // after it is dropped. Errors: an `IndexFunc`'s error or a null element; the store is then
  // unchanged. Blocks other writers for the whole call, readers only for the swap.
  Status Replace(std::vector<ObjectPtr> list, std::string resource_version) override;

  // --- Indexer ----------------------------------------------------------------------------------
  // B04. Unknown index -> kNotFound `Index with name X does not exist`. Shared lock.
  Result<std::vector<ObjectPtr>> ByIndex(std::string_view index_name,
                                         std::string_view value) const override;
  // B04: calls the index function on `obj` under the shared lock; its error is returned.
  Result<std::vector<ObjectPtr>> Index(std::string_view index_name,
                                       const Object& obj) const override;
  Result<std::vector<std::string>> IndexKeys(std::string_view index_name,
                                             std::string_view value) const override;
  std::vector<std::string> ListIndexFuncValues(std::string_view index_name) const override;
  // B07: adds the functions and indexes every stored object with them, all or nothing.
  // Errors: kAlreadyExists `indexer conflict: a, b` naming every clashing name; kInvalidArgument
  // for a null function; an `IndexFunc`'s error. The store is unchanged on error. Indexing the
  // stored objects happens under the shared lock only; readers wait just for the final insert.
  Status AddIndexers(const Indexers& indexers) override;
  // A copy of the index functions by name.
  Indexers GetIndexers() const override;

  // --- Beyond client-go's interfaces -----------------------------------------------------------
  // B55: applies `txns` in order as one transaction: index values are computed first, then every
  // write is applied under a single exclusive lock, so readers see all of them or none. An add or
  // update stores the object as `Add` does; a delete removes the object's key as `Delete` does.
  // A write whose `IndexFunc` fails (or whose object is null) is skipped and the others are
  // applied. Returns one status per write, in order. Records the last write's resource version.
  std::vector<Status> Transaction(std::vector<StoreTransaction> txns);
  // B49: records `resource_version` as the last write without touching any object (a watch
  // BOOKMARK). Exclusive lock.
  void Bookmark(std::string resource_version);
  // B49: the resource version of the last write: the object's on Add/Update/Delete, the list's
  // on Replace, the bookmark's on Bookmark. "" before the first write. Shared lock.
  std::string LastStoreSyncResourceVersion() const;

  // The objects whose labels match `selector`, filtered under the shared lock so that
  // non-matching objects are never copied out. `Everything()` returns `List()`; `Nothing()`
  // returns nothing without taking the lock. A selector with an `=`, `==` or `in` requirement is
  // answered from the label index (see below) without examining other objects; any other
  // selector scans every object. Used by `Lister`.
  std::vector<ObjectPtr> ListMatching(const LabelSelector& selector) const;
  // The objects in namespace `ns` whose labels match `selector`, under the shared lock. With an
  // `=`, `==` or `in` requirement the label index answers: of those requirements the one with
  // the fewest objects in `ns` is picked, only its objects are examined and the selector's other
  // requirements are checked on them; no index function is involved. Otherwise it is
  // `ByIndexMatching(kNamespaceIndex, ns, selector)`, with its kNotFound error when the store
  // has no namespace index. `Nothing()` returns an empty list at once. Used by `NamespaceLister`.
  Result<std::vector<ObjectPtr>> ListNamespaceMatching(std::string_view ns,
                                                       const LabelSelector& selector) const;
  // `ByIndex(index_name, value)` restricted to objects whose labels match `selector`, filtered
  // under the shared lock. Errors as `ByIndex`, except that `Nothing()` returns an empty list
  // at once, without looking for the index.
  Result<std::vector<ObjectPtr>> ByIndexMatching(std::string_view index_name,
                                                 std::string_view value,
                                                 const LabelSelector& selector) const;

  // How many times a writer has taken the exclusive lock readers wait for, since creation (B55:
  // an informer takes it once per batch of deltas). Never blocks.
  uint64_t WriteLocks() const;

 private:
  // The locks and the content, with their thread-safety annotations, live in the .cc so that this
  // installed header needs nothing from src/base. See there for the invariants and lock order.
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_CACHE_THREAD_SAFE_STORE_H_

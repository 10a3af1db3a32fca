// ThreadSafeStore: the indexed object cache (contract in include/kube/cache/thread_safe_store.h).
//
// Reads from: the shared informer's writes. Feeds: listers and `GetIndexer()` users.
// client-go: tools/cache/thread_safe_store.go.
#include "kube/cache/thread_safe_store.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "kube/object_key.h"

namespace kube {
namespace {

// Hashes `std::string` and `std::string_view` alike, so lookups by view build no string.
// Deliberately not `noexcept`: libstdc++ then stores each node's hash, so walking a bucket chain
// or growing the table never re-hashes a key string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// key -> object. The key string lives here and nowhere else.
using Items = std::unordered_map<std::string, ObjectPtr, StringHash, std::equal_to<>>;
// Index sets refer to entries of `Items` by address: an unordered_map's nodes never move (growth
// relinks them), and every entry leaves all index sets before it is erased. Updating an object
// keeps its entry, so its index sets stay valid as long as the values are unchanged.
using Entry = Items::value_type;
using EntrySet = std::unordered_set<const Entry*>;
// index value -> the entries that have it. Never holds an empty set (B05).
using ValueIndex = std::unordered_map<std::string, EntrySet, StringHash, std::equal_to<>>;

struct IndexData {
  IndexFunc fn;
  ValueIndex values;
};
// index name -> data. Ordered, so a writer's precomputed values line up with it (see `Values`).
using Indices = std::map<std::string, IndexData, std::less<>>;
// One object's values for every index, in index-name order.
using Values = std::vector<std::vector<std::string>>;

Status IndexNotFound(std::string_view index_name) {
  return NotFoundError("Index with name " + std::string(index_name) + " does not exist");
}

Result<std::vector<std::string>> CallIndexFunc(std::string_view index_name, const IndexFunc& fn,
                                               const Object& obj) {
  if (!fn) return InternalError("index function " + std::string(index_name) + " is null");
  Result<std::vector<std::string>> values = fn(obj);
  if (!values) {
    return values.error().WithContext("indexing \"" + MetaNamespaceKey(obj) + "\" for index " +
                                      std::string(index_name));
  }
  return values;
}

Result<Values> ComputeValues(const Indexers& indexers, const Object& obj) {
  Values out;
  out.reserve(indexers.size());
  for (const auto& [name, fn] : indexers) {
    Result<std::vector<std::string>> values = CallIndexFunc(name, fn, obj);
    if (!values) return values.error();
    out.push_back(*std::move(values));
  }
  return out;
}

void AddToSets(ValueIndex& index, const Entry* entry, std::vector<std::string> values) {
  for (std::string& v : values) index[std::move(v)].insert(entry);
}

void RemoveFromSet(ValueIndex& index, const Entry* entry, std::string_view value) {
  auto it = index.find(value);
  if (it == index.end()) return;
  it->second.erase(entry);
  if (it->second.empty()) index.erase(it);
}

bool Contains(const std::vector<std::string>& values, std::string_view v) {
  for (const std::string& x : values) {
    if (x == v) return true;
  }
  return false;
}

}  // namespace

// Locks. `write_mu_` serialises writers: a writer holds it while it prepares a change without
// `mu_` (computing index values, building a Replace's content, indexing for AddIndexers), so the
// content and the index functions cannot change under it. `mu_` guards what readers see; writers
// hold it exclusively only to apply a prepared change. Lock order: `write_mu_`, then `mu_`.
// Readers take only `mu_`, shared. Old objects are released after both locks are dropped.
class ThreadSafeStore::Impl {
 public:
  explicit Impl(Indexers indexers) : writer_indexers_(std::move(indexers)) {
    for (const auto& [name, fn] : writer_indexers_) indices_[name].fn = fn;
  }

  Status Put(ObjectPtr obj) KUBE_EXCLUDES(write_mu_, mu_) {
    if (!obj) return InvalidArgumentError("ThreadSafeStore: null object");
    std::string key = MetaNamespaceKey(*obj);
    std::string rv(obj->resource_version());
    ObjectPtr old;  // released after both locks
    internal::MutexLock w(write_mu_);
    Result<Values> values = ComputeValues(writer_indexers_, *obj);
    if (!values) return values.error();
    internal::WriterMutexLock l(mu_);
    CountWriteLock();
    auto [it, inserted] = items_.try_emplace(std::move(key));
    if (!inserted) old = std::move(it->second);
    it->second = std::move(obj);
    UpdateIndicesLocked(&*it, old.get(), &*values);
    last_rv_ = std::move(rv);
    return Status::Ok();
  }

  // `rv` is null for a delete that carries no object.
  Status Delete(std::string_view key, const std::string_view* rv) KUBE_EXCLUDES(write_mu_, mu_) {
    ObjectPtr old;  // released after both locks
    internal::MutexLock w(write_mu_);
    internal::WriterMutexLock l(mu_);
    CountWriteLock();
    if (rv != nullptr) last_rv_.assign(*rv);
    auto it = items_.find(key);
    if (it == items_.end()) return Status::Ok();
    old = std::move(it->second);
    UpdateIndicesLocked(&*it, old.get(), nullptr);
    items_.erase(it);
    return Status::Ok();
  }

  Status Replace(std::vector<ObjectPtr> list, std::string rv) KUBE_EXCLUDES(write_mu_, mu_) {
    // Built here without `mu_`; after the swap they hold the old content, which is released
    // once both locks are dropped (they are declared before the locks).
    Items items;
    Indices indices;
    internal::MutexLock w(write_mu_);
    items.reserve(list.size());
    for (ObjectPtr& obj : list) {
      if (!obj) return InvalidArgumentError("ThreadSafeStore::Replace: null object in list");
      std::string key = MetaNamespaceKey(*obj);
      items.insert_or_assign(std::move(key), std::move(obj));
    }
    for (const auto& [name, fn] : writer_indexers_) indices[name].fn = fn;
    for (const Entry& entry : items) {
      for (auto& [name, index] : indices) {
        Result<std::vector<std::string>> values = CallIndexFunc(name, index.fn, *entry.second);
        if (!values) return values.error();
        AddToSets(index.values, &entry, *std::move(values));
      }
    }
    {
      internal::WriterMutexLock l(mu_);
      CountWriteLock();
      items_.swap(items);
      indices_.swap(indices);
      last_rv_ = std::move(rv);
    }
    return Status::Ok();
  }

  Status AddIndexers(const Indexers& add) KUBE_EXCLUDES(write_mu_, mu_) {
    for (const auto& [name, fn] : add) {
      if (!fn) return InvalidArgumentError("AddIndexers: index function " + name + " is null");
    }
    Indices built;
    internal::MutexLock w(write_mu_);
    std::string conflicts;
    for (const auto& [name, fn] : add) {
      if (!writer_indexers_.contains(name)) continue;
      if (!conflicts.empty()) conflicts += ", ";
      conflicts += name;
    }
    if (!conflicts.empty()) return AlreadyExistsError("indexer conflict: " + conflicts);
    for (const auto& [name, fn] : add) built[name].fn = fn;
    {
      // Entries are only read here; holding `write_mu_` keeps them alive and unchanged until
      // `built` is merged below, so the pointers it collects stay valid.
      internal::ReaderMutexLock r(mu_);
      for (const Entry& entry : items_) {
        for (auto& [name, index] : built) {
          Result<std::vector<std::string>> values = CallIndexFunc(name, index.fn, *entry.second);
          if (!values) return values.error();
          AddToSets(index.values, &entry, *std::move(values));
        }
      }
    }
    {
      internal::WriterMutexLock l(mu_);
      CountWriteLock();
      indices_.merge(built);
    }
    writer_indexers_.insert(add.begin(), add.end());
    return Status::Ok();
  }

  void Bookmark(std::string rv) KUBE_EXCLUDES(write_mu_, mu_) {
    internal::MutexLock w(write_mu_);
    internal::WriterMutexLock l(mu_);
    CountWriteLock();
    last_rv_ = std::move(rv);
  }

  // B55: index values are computed under `write_mu_` only; every write is then applied under one
  // exclusive `mu_`, so readers see the batch all at once or not at all.
  std::vector<Status> Transaction(std::vector<StoreTransaction> txns)
      KUBE_EXCLUDES(write_mu_, mu_) {
    std::vector<Status> results(txns.size());
    std::vector<ObjectPtr> released;  // replaced and deleted objects, released after both locks
    std::vector<std::string> keys(txns.size());
    std::vector<Values> values(txns.size());
    internal::MutexLock w(write_mu_);
    for (size_t i = 0; i < txns.size(); ++i) {
      const StoreTransaction& t = txns[i];
      if (t.object == nullptr) {
        results[i] = InvalidArgumentError("ThreadSafeStore::Transaction: null object");
        continue;
      }
      keys[i] = MetaNamespaceKey(*t.object);
      if (t.type == StoreTransaction::Type::kDelete) continue;
      Result<Values> v = ComputeValues(writer_indexers_, *t.object);
      if (!v) {
        results[i] = v.error();
        continue;
      }
      values[i] = *std::move(v);
    }
    released.reserve(txns.size());
    internal::WriterMutexLock l(mu_);
    CountWriteLock();
    for (size_t i = 0; i < txns.size(); ++i) {
      if (!results[i].ok()) continue;
      StoreTransaction& t = txns[i];
      if (t.type == StoreTransaction::Type::kDelete) {
        last_rv_.assign(t.object->resource_version());
        auto it = items_.find(keys[i]);
        if (it == items_.end()) continue;
        UpdateIndicesLocked(&*it, it->second.get(), nullptr);
        released.push_back(std::move(it->second));
        items_.erase(it);
        continue;
      }
      last_rv_.assign(t.object->resource_version());
      auto [it, inserted] = items_.try_emplace(std::move(keys[i]));
      ObjectPtr old;
      if (!inserted) old = std::move(it->second);
      it->second = std::move(t.object);
      UpdateIndicesLocked(&*it, old.get(), &values[i]);
      if (old) released.push_back(std::move(old));
    }
    return results;
  }

  uint64_t WriteLocks() const { return write_locks_.load(std::memory_order_relaxed); }

  std::string LastStoreSyncResourceVersion() const KUBE_EXCLUDES(mu_) {
    internal::ReaderMutexLock r(mu_);
    return last_rv_;
  }

  // Every object, or those matching `selector` when it is non-null.
  std::vector<ObjectPtr> List(const LabelSelector* selector) const KUBE_EXCLUDES(mu_) {
    std::vector<ObjectPtr> out;
    internal::ReaderMutexLock r(mu_);
    if (selector == nullptr) out.reserve(items_.size());
    for (const auto& [key, obj] : items_) {
      if (selector == nullptr || selector->Matches(*obj)) out.push_back(obj);
    }
    return out;
  }

  std::vector<std::string> ListKeys() const KUBE_EXCLUDES(mu_) {
    std::vector<std::string> out;
    internal::ReaderMutexLock r(mu_);
    out.reserve(items_.size());
    for (const auto& [key, obj] : items_) out.push_back(key);
    return out;
  }

  ObjectPtr GetByKey(std::string_view key) const KUBE_EXCLUDES(mu_) {
    internal::ReaderMutexLock r(mu_);
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : it->second;
  }

  size_t Size() const KUBE_EXCLUDES(mu_) {
    internal::ReaderMutexLock r(mu_);
    return items_.size();
  }

  // Objects filed under `value`, or those of them matching `selector` when it is non-null.
  Result<std::vector<ObjectPtr>> ByIndex(std::string_view index_name, std::string_view value,
                                         const LabelSelector* selector) const KUBE_EXCLUDES(mu_) {
    std::vector<ObjectPtr> out;
    internal::ReaderMutexLock r(mu_);
    const IndexData* index = FindIndexLocked(index_name);
    if (index == nullptr) return IndexNotFound(index_name);
    auto it = index->values.find(value);
    if (it == index->values.end()) return out;
    if (selector == nullptr) out.reserve(it->second.size());
    for (const Entry* entry : it->second) {
      if (selector == nullptr || selector->Matches(*entry->second)) out.push_back(entry->second);
    }
    return out;
  }

  Result<std::vector<ObjectPtr>> Index(std::string_view index_name, const Object& obj) const
      KUBE_EXCLUDES(mu_) {
    std::vector<ObjectPtr> out;
    internal::ReaderMutexLock r(mu_);
    const IndexData* index = FindIndexLocked(index_name);
    if (index == nullptr) return IndexNotFound(index_name);
    Result<std::vector<std::string>> values = CallIndexFunc(index_name, index->fn, obj);
    if (!values) return values.error();
    if (values->size() == 1) {
      // The common case needs no deduplication.
      auto it = index->values.find((*values)[0]);
      if (it == index->values.end()) return out;
      out.reserve(it->second.size());
      for (const Entry* entry : it->second) out.push_back(entry->second);
      return out;
    }
    EntrySet seen;
    for (const std::string& v : *values) {
      auto it = index->values.find(v);
      if (it == index->values.end()) continue;
      for (const Entry* entry : it->second) {
        if (seen.insert(entry).second) out.push_back(entry->second);
      }
    }
    return out;
  }

  Result<std::vector<std::string>> IndexKeys(std::string_view index_name,
                                             std::string_view value) const KUBE_EXCLUDES(mu_) {
    std::vector<std::string> out;
    internal::ReaderMutexLock r(mu_);
    const IndexData* index = FindIndexLocked(index_name);
    if (index == nullptr) return IndexNotFound(index_name);
    auto it = index->values.find(value);
    if (it == index->values.end()) return out;
    out.reserve(it->second.size());
    for (const Entry* entry : it->second) out.push_back(entry->first);
    return out;
  }

  std::vector<std::string> ListIndexFuncValues(std::string_view index_name) const
      KUBE_EXCLUDES(mu_) {
    std::vector<std::string> out;
    internal::ReaderMutexLock r(mu_);
    const IndexData* index = FindIndexLocked(index_name);
    if (index == nullptr) return out;
    out.reserve(index->values.size());
    for (const auto& [value, entries] : index->values) out.push_back(value);
    return out;
  }

  Indexers GetIndexers() const KUBE_EXCLUDES(mu_) {
    Indexers out;
    internal::ReaderMutexLock r(mu_);
    for (const auto& [name, index] : indices_) out.emplace(name, index.fn);
    return out;
  }

 private:
  // Counts exclusive acquisitions of `mu_`, for `WriteLocks` (B55).
  void CountWriteLock() { write_locks_.fetch_add(1, std::memory_order_relaxed); }

  const IndexData* FindIndexLocked(std::string_view index_name) const KUBE_REQUIRES_SHARED(mu_) {
    auto it = indices_.find(index_name);
    return it == indices_.end() ? nullptr : &it->second;
  }

  // Moves `entry` from the values of `old` (null: it was not stored) to `new_values` (null: it
  // is being erased) in every index. Index values line up with `indices_` because both are
  // ordered by name and hold the same names (`writer_indexers_` mirrors `indices_`).
  void UpdateIndicesLocked(const Entry* entry, const Object* old, Values* new_values)
      KUBE_REQUIRES(mu_) {
    size_t i = 0;
    for (auto& [name, index] : indices_) {
      std::vector<std::string> next;
      if (new_values != nullptr) next = std::move((*new_values)[i]);
      ++i;
      if (old != nullptr) {
        Result<std::vector<std::string>> prev = CallIndexFunc(name, index.fn, *old);
        if (!prev) {
          // The function accepted `old` when it was stored, so it is not pure after all. Keep the
          // index exact anyway by dropping the entry from every set.
          for (auto it = index.values.begin(); it != index.values.end();) {
            it->second.erase(entry);
            it = it->second.empty() ? index.values.erase(it) : std::next(it);
          }
        } else if (*prev == next) {
          continue;  // An update that leaves the values alone touches no set.
        } else {
          for (const std::string& v : *prev) {
            if (!Contains(next, v)) RemoveFromSet(index.values, entry, v);
          }
        }
      }
      AddToSets(index.values, entry, std::move(next));
    }
  }

  internal::Mutex write_mu_;
  // The index functions as writers see them; always the same names and functions as `indices_`,
  // and changed only while holding both locks.
  Indexers writer_indexers_ KUBE_GUARDED_BY(write_mu_);

  mutable internal::SharedMutex mu_ KUBE_ACQUIRED_AFTER(write_mu_);
  Items items_ KUBE_GUARDED_BY(mu_);
  Indices indices_ KUBE_GUARDED_BY(mu_);
  std::string last_rv_ KUBE_GUARDED_BY(mu_);
  std::atomic<uint64_t> write_locks_{0};
};

std::shared_ptr<ThreadSafeStore> ThreadSafeStore::Create(Indexers indexers) {
  return std::make_shared<ThreadSafeStore>(std::move(indexers));
}

ThreadSafeStore::ThreadSafeStore(Indexers indexers)
    : impl_(std::make_unique<Impl>(std::move(indexers))) {}

ThreadSafeStore::~ThreadSafeStore() = default;

Status ThreadSafeStore::Add(ObjectPtr obj) { return impl_->Put(std::move(obj)); }

Status ThreadSafeStore::Update(ObjectPtr obj) { return impl_->Put(std::move(obj)); }

Status ThreadSafeStore::Delete(const Object& obj) {
  std::string_view rv = obj.resource_version();
  return impl_->Delete(MetaNamespaceKey(obj), &rv);
}

Status ThreadSafeStore::DeleteByKey(std::string_view key) { return impl_->Delete(key, nullptr); }

std::vector<ObjectPtr> ThreadSafeStore::List() const { return impl_->List(nullptr); }

std::vector<std::string> ThreadSafeStore::ListKeys() const { return impl_->ListKeys(); }

ObjectPtr ThreadSafeStore::Get(const Object& obj) const {
  return impl_->GetByKey(MetaNamespaceKey(obj));
}

ObjectPtr ThreadSafeStore::GetByKey(std::string_view key) const { return impl_->GetByKey(key); }

size_t ThreadSafeStore::Size() const { return impl_->Size(); }

Status ThreadSafeStore::Replace(std::vector<ObjectPtr> list, std::string resource_version) {
  return impl_->Replace(std::move(list), std::move(resource_version));
}

Status ThreadSafeStore::Resync() { return Status::Ok(); }

Result<std::vector<ObjectPtr>> ThreadSafeStore::ByIndex(std::string_view index_name,
                                                        std::string_view value) const {
  return impl_->ByIndex(index_name, value, nullptr);
}

Result<std::vector<ObjectPtr>> ThreadSafeStore::Index(std::string_view index_name,
                                                      const Object& obj) const {
  return impl_->Index(index_name, obj);
}

Result<std::vector<std::string>> ThreadSafeStore::IndexKeys(std::string_view index_name,
                                                            std::string_view value) const {
  return impl_->IndexKeys(index_name, value);
}

std::vector<std::string> ThreadSafeStore::ListIndexFuncValues(std::string_view index_name) const {
  return impl_->ListIndexFuncValues(index_name);
}

Status ThreadSafeStore::AddIndexers(const Indexers& indexers) {
  return impl_->AddIndexers(indexers);
}

Indexers ThreadSafeStore::GetIndexers() const { return impl_->GetIndexers(); }

std::vector<Status> ThreadSafeStore::Transaction(std::vector<StoreTransaction> txns) {
  return impl_->Transaction(std::move(txns));
}

uint64_t ThreadSafeStore::WriteLocks() const { return impl_->WriteLocks(); }

void ThreadSafeStore::Bookmark(std::string resource_version) {
  impl_->Bookmark(std::move(resource_version));
}

std::string ThreadSafeStore::LastStoreSyncResourceVersion() const {
  return impl_->LastStoreSyncResourceVersion();
}

std::vector<ObjectPtr> ThreadSafeStore::ListMatching(const LabelSelector& selector) const {
  if (selector.IsNothing()) return {};
  if (selector.Empty()) return impl_->List(nullptr);
  return impl_->List(&selector);
}

Result<std::vector<ObjectPtr>> ThreadSafeStore::ByIndexMatching(
    std::string_view index_name, std::string_view value, const LabelSelector& selector) const {
  if (selector.IsNothing()) return std::vector<ObjectPtr>{};
  return impl_->ByIndex(index_name, value, selector.Empty() ? nullptr : &selector);
}

}  // namespace kube

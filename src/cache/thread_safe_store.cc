// ThreadSafeStore: the indexed object cache (contract in include/kube/cache/thread_safe_store.h).
//
// Reads from: the shared informer's writes. Feeds: listers and `GetIndexer()` users.
// client-go: tools/cache/thread_safe_store.go.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#include "kube/cache/thread_safe_store.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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

// An object's key (B01) without building it: `ns/name`, or `name` alone, as up to three pieces
// read as one string. Keys are not stored (they would repeat, per object, bytes the
// object already holds); the store hashes and compares them through this view.
struct KeyText {
  std::string_view a, b, c;

  static KeyText Of(const Object& obj) {
    if (obj.ns().empty()) return {obj.name(), {}, {}};
    return {obj.ns(), "/", obj.name()};
  }
  static KeyText Of(std::string_view key) { return {key, {}, {}}; }

  size_t size() const { return a.size() + b.size() + c.size(); }
  char at(size_t i) const {
    if (i < a.size()) return a[i];
    i -= a.size();
    return i < b.size() ? b[i] : c[i - b.size()];
  }
  // The same hash as `std::hash<std::string_view>` of the whole key.
  size_t Hash() const {
    if (b.empty() && c.empty()) return std::hash<std::string_view>{}(a);
    char buf[256];
    const size_t n = size();
    if (n <= sizeof(buf)) {
      std::memcpy(buf, a.data(), a.size());
      std::memcpy(buf + a.size(), b.data(), b.size());
      std::memcpy(buf + a.size() + b.size(), c.data(), c.size());
      return std::hash<std::string_view>{}(std::string_view(buf, n));
    }
    std::string key;
    key.reserve(n);
    key.append(a).append(b).append(c);
    return std::hash<std::string_view>{}(key);
  }
  friend bool operator==(const KeyText& x, const KeyText& y) {
    const size_t n = x.size();
    if (n != y.size()) return false;
    for (size_t i = 0; i < n; ++i) {
      if (x.at(i) != y.at(i)) return false;
    }
    return true;
  }
};

// One stored object. The object's key is the entry's key; replacing the object with another of
// the same key (an update) leaves the hash valid, hence `mutable`.
struct Entry {
  mutable ObjectPtr obj;
};

// Not `noexcept`, so libstdc++ caches each node's hash: growing the table or walking a bucket
// chain never rebuilds a key.
struct EntryHash {
  using is_transparent = void;
  size_t operator()(const Entry& e) const { return KeyText::Of(*e.obj).Hash(); }
  size_t operator()(const KeyText& k) const { return k.Hash(); }
};
struct EntryEq {
  using is_transparent = void;
  static KeyText Key(const Entry& e) { return KeyText::Of(*e.obj); }
  static const KeyText& Key(const KeyText& k) { return k; }
  template <typename A, typename B>
  bool operator()(const A& x, const B& y) const {
    return Key(x) == Key(y);
  }
};

// The objects, by key. A node is the `ObjectPtr`, the cached hash and a link (48 bytes of heap
// per object with glibc), where a map from key strings held a node of 80 bytes plus, for keys
// over 15 bytes, the key string's own allocation.
using Items = std::unordered_set<Entry, EntryHash, EntryEq>;
// Index sets refer to entries of `Items` by address: an unordered_set's nodes never move (growth
// relinks them), and every entry leaves all index sets before it is erased. Updating an object
// keeps its entry, so its index sets stay valid as long as the values are unchanged.
//
// An index set is an open-addressing hash set of those addresses (linear probing, deletion by
// backward shift, so no tombstones): 8 bytes a slot, at most 3/4 full, where a node-based set
// costs a 32-byte node plus an 8-byte bucket per entry. Iteration order is
// unspecified, as for the lists it feeds.
class EntrySet {
 public:
  EntrySet() = default;
  explicit EntrySet(const Entry* e) : one_(e), size_(1) {}
  EntrySet(EntrySet&& o) noexcept
      : slots_(std::move(o.slots_)),
        one_(std::exchange(o.one_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        mask_(std::exchange(o.mask_, 0)) {}
  EntrySet& operator=(EntrySet&& o) noexcept {
    slots_ = std::move(o.slots_);
    one_ = std::exchange(o.one_, nullptr);
    size_ = std::exchange(o.size_, 0);
    mask_ = std::exchange(o.mask_, 0);
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // False if `e` was already there.
  bool insert(const Entry* e) {
    if (!slots_) {
      if (size_ == 0) {
        one_ = e;
        size_ = 1;
        return true;
      }
      if (one_ == e) return false;
    }
    if (4 * (size_ + 1) > 3 * Capacity()) Grow();
    size_t i = Home(e);
    while (slots_[i] != nullptr) {
      if (slots_[i] == e) return false;
      i = (i + 1) & mask_;
    }
    slots_[i] = e;
    ++size_;
    return true;
  }

  void erase(const Entry* e) {
    if (size_ == 0) return;
    if (!slots_) {
      if (one_ == e) {
        one_ = nullptr;
        size_ = 0;
      }
      return;
    }
    size_t i = Home(e);
    while (slots_[i] != e) {
      if (slots_[i] == nullptr) return;
      i = (i + 1) & mask_;
    }
    // Backward shift: move later members of the probe run into the hole when their home slot
    // allows it, so every member stays reachable from its home without tombstones.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j] != nullptr; j = (j + 1) & mask_) {
      const size_t home = Home(slots_[j]);
      // `slots_[j]` may fill the hole if its home is not in the cyclic range (hole, j].
      const bool home_in_range =
          hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!home_in_range) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = nullptr;
    --size_;
  }

  bool contains(const Entry* e) const {
    if (size_ == 0) return false;
    if (!slots_) return one_ == e;
    for (size_t i = Home(e); slots_[i] != nullptr; i = (i + 1) & mask_) {
      if (slots_[i] == e) return true;
    }
    return false;
  }

  // A member; the set must not be empty.
  const Entry* any() const {
    if (!slots_) return one_;
    size_t i = 0;
    while (slots_[i] == nullptr) ++i;
    return slots_[i];
  }

  // Calls `f(const Entry*)` for every member.
  template <typename F>
  void ForEach(F&& f) const {
    if (!slots_) {
      if (size_ != 0) f(one_);
      return;
    }
    for (size_t i = 0; i < Capacity(); ++i) {
      if (slots_[i] != nullptr) f(slots_[i]);
    }
  }

 private:
  size_t Capacity() const { return slots_ ? mask_ + 1 : 0; }
  size_t Home(const Entry* e) const {
    // Fibonacci hashing: the product's top bits (entries are aligned, so the address's low bits
    // carry little).
    const uint64_t h = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(e)) * 0x9E3779B97F4A7C15u;
    return static_cast<size_t>(h >> 32) & mask_;
  }
  void Grow() {
    const size_t old_cap = Capacity();
    const size_t cap = old_cap == 0 ? 4 : 2 * old_cap;
    std::unique_ptr<const Entry*[]> old = std::move(slots_);
    const Entry* one = std::exchange(one_, nullptr);
    slots_ = std::make_unique<const Entry*[]>(cap);  // value-initialized: all null
    mask_ = cap - 1;
    size_ = 0;
    if (one != nullptr) insert(one);
    for (size_t i = 0; i < old_cap; ++i) {
      if (old[i] != nullptr) insert(old[i]);
    }
  }

  // Until a second member arrives, the only member lives in `one_` and no table is allocated
  // (an index value or label value that one object has costs no allocation of its own).
  std::unique_ptr<const Entry*[]> slots_;
  const Entry* one_ = nullptr;
  size_t size_ = 0;
  size_t mask_ = 0;  // capacity - 1 (a power of two) once `slots_` is allocated
};
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

// The label index: for each namespace, label key and value, the entries in that namespace whose
// label has that value (a posting). A posting stores no strings: its namespace and value are read
// from any of its members' objects (every member has them), and its key points to the interned
// key. So a label value only one object has costs a hash node (64 bytes with glibc) and a bucket;
// a shared value costs each object one slot. Invariant: every member's current object has the
// posting's namespace and label value, so an object's postings are left before its entry takes
// an object with other labels, and joined after. Never holds an empty posting.
struct LabelTriple {
  std::string_view ns, key, value;
  friend bool operator==(const LabelTriple&, const LabelTriple&) = default;
};

struct Posting {
  const std::string* key;  // interned in `LabelIndex::keys`
  mutable EntrySet members;

  LabelTriple Triple() const {
    const Object& obj = *members.any()->obj;
    return {obj.ns(), *key, obj.labels().Get(*key).value_or(std::string_view())};
  }
};

// Not `noexcept`, so libstdc++ caches each node's hash: growing the table reads no object.
struct PostingHash {
  using is_transparent = void;
  size_t operator()(const LabelTriple& t) const {
    const std::hash<std::string_view> h;
    size_t x = h(t.ns);
    x = (x ^ h(t.key)) * 0x9E3779B97F4A7C15u;
    return (x ^ h(t.value)) * 0x9E3779B97F4A7C15u;
  }
  size_t operator()(const Posting& p) const { return (*this)(p.Triple()); }
};
struct PostingEq {
  using is_transparent = void;
  static LabelTriple Of(const Posting& p) { return p.Triple(); }
  static const LabelTriple& Of(const LabelTriple& t) { return t; }
  template <typename A, typename B>
  bool operator()(const A& x, const B& y) const {
    return Of(x) == Of(y);
  }
};
using LabelPostings = std::unordered_set<Posting, PostingHash, PostingEq>;
// namespace ("" for cluster-scoped objects) -> how many stored objects it holds; lets a query
// over every namespace visit each namespace's postings. Never holds a zero count.
using NamespaceCounts = std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>;

struct LabelIndex {
  LabelPostings postings;
  NamespaceCounts namespaces;
  // Every label key seen since this index was built (a `Replace` builds a new one); few.
  std::unordered_set<std::string, StringHash, std::equal_to<>> keys;
};

const EntrySet* FindPostings(const LabelPostings& postings, std::string_view ns,
                             std::string_view key, std::string_view value) {
  auto it = postings.find(LabelTriple{ns, key, value});
  return it == postings.end() ? nullptr : &it->members;
}

// Files `entry` under its object's labels.
void AddLabels(LabelIndex& index, const Entry* entry) {
  const Object& obj = *entry->obj;
  const std::string_view ns = obj.ns();
  for (const auto& [key, value] : obj.labels()) {
    auto it = index.postings.find(LabelTriple{ns, key, value});
    if (it != index.postings.end()) {
      it->members.insert(entry);
      continue;
    }
    auto k = index.keys.find(key);
    if (k == index.keys.end()) k = index.keys.emplace(key).first;
    index.postings.insert(Posting{&*k, EntrySet(entry)});
  }
  auto it = index.namespaces.find(ns);
  if (it == index.namespaces.end()) it = index.namespaces.emplace(std::string(ns), 0).first;
  ++it->second;
}

// Takes `entry` out of the postings of its object's labels (while it still holds that object).
void RemoveLabels(LabelIndex& index, const Entry* entry) {
  const Object& obj = *entry->obj;
  const std::string_view ns = obj.ns();
  for (const auto& [key, value] : obj.labels()) {
    auto it = index.postings.find(LabelTriple{ns, key, value});
    if (it == index.postings.end()) continue;
    it->members.erase(entry);
    if (it->members.empty()) index.postings.erase(it);
  }
  auto it = index.namespaces.find(ns);
  if (it != index.namespaces.end() && --it->second == 0) index.namespaces.erase(it);
}

bool SameLabels(const Object& a, const Object& b) {
  if (a.ns() != b.ns()) return false;
  StringMapView x = a.labels(), y = b.labels();
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

// Whether the label index can answer `r` exactly: the objects matching it are those in the
// postings of its values.
bool IsIndexable(const LabelRequirement& r) {
  return r.op() == LabelOperator::kEquals || r.op() == LabelOperator::kDoubleEquals ||
         r.op() == LabelOperator::kIn;
}

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
    std::string rv(obj->resource_version());
    ObjectPtr old;  // released after both locks
    internal::MutexLock w(write_mu_);
    Result<Values> values = ComputeValues(writer_indexers_, *obj);
    if (!values) return values.error();
    internal::WriterMutexLock l(mu_);
    CountWriteLock();
    const Entry* entry = PutLocked(std::move(obj), &old);
    UpdateIndicesLocked(entry, old.get(), &*values);
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
    auto it = items_.find(KeyText::Of(key));
    if (it == items_.end()) return Status::Ok();
    RemoveLabels(labels_, &*it);
    old = std::move(it->obj);
    UpdateIndicesLocked(&*it, old.get(), nullptr);
    items_.erase(it);
    return Status::Ok();
  }

  Status Replace(std::vector<ObjectPtr> list, std::string rv) KUBE_EXCLUDES(write_mu_, mu_) {
    // Built here without `mu_`; after the swap they hold the old content, which is released
    // once both locks are dropped (they are declared before the locks).
    Items items;
    Indices indices;
    LabelIndex labels;
    internal::MutexLock w(write_mu_);
    items.reserve(list.size());
    for (ObjectPtr& obj : list) {
      if (!obj) return InvalidArgumentError("ThreadSafeStore::Replace: null object in list");
      ObjectPtr replaced;  // a duplicate key in `list`: the last wins
      InsertOrAssign(items, std::move(obj), &replaced);
    }
    for (const auto& [name, fn] : writer_indexers_) indices[name].fn = fn;
    for (const Entry& entry : items) {
      for (auto& [name, index] : indices) {
        Result<std::vector<std::string>> values = CallIndexFunc(name, index.fn, *entry.obj);
        if (!values) return values.error();
        AddToSets(index.values, &entry, *std::move(values));
      }
      AddLabels(labels, &entry);
    }
    {
      internal::WriterMutexLock l(mu_);
      CountWriteLock();
      items_.swap(items);
      indices_.swap(indices);
      std::swap(labels_, labels);
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
          Result<std::vector<std::string>> values = CallIndexFunc(name, index.fn, *entry.obj);
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
    std::vector<Values> values(txns.size());
    internal::MutexLock w(write_mu_);
    for (size_t i = 0; i < txns.size(); ++i) {
      const StoreTransaction& t = txns[i];
      if (t.object == nullptr) {
        results[i] = InvalidArgumentError("ThreadSafeStore::Transaction: null object");
        continue;
      }
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
        auto it = items_.find(KeyText::Of(*t.object));
        if (it == items_.end()) continue;
        RemoveLabels(labels_, &*it);
        UpdateIndicesLocked(&*it, it->obj.get(), nullptr);
        released.push_back(std::move(it->obj));
        items_.erase(it);
        continue;
      }
      last_rv_.assign(t.object->resource_version());
      ObjectPtr old;
      const Entry* entry = PutLocked(std::move(t.object), &old);
      UpdateIndicesLocked(entry, old.get(), &values[i]);
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
    for (const Entry& entry : items_) {
      if (selector == nullptr || selector->Matches(*entry.obj)) out.push_back(entry.obj);
    }
    return out;
  }

  // The objects in namespace `*ns` (every namespace when `ns` is null) whose labels match
  // `selector`, from the label index; nullopt when `selector` has no `=`, `==` or `in`
  // requirement. The indexable requirement with the fewest candidates is picked; only its
  // candidates are examined, and the other requirements are checked on them.
  std::optional<std::vector<ObjectPtr>> ListByLabels(const std::string_view* ns,
                                                     const LabelSelector& selector) const
      KUBE_EXCLUDES(mu_) {
    const std::vector<LabelRequirement>& reqs = selector.requirements();
    if (std::none_of(reqs.begin(), reqs.end(), IsIndexable)) return std::nullopt;
    std::vector<ObjectPtr> out;
    internal::ReaderMutexLock r(mu_);
    const LabelRequirement* best = nullptr;
    size_t best_count = 0;
    for (const LabelRequirement& req : reqs) {
      if (!IsIndexable(req)) continue;
      size_t count = 0;
      ForEachPostings(labels_, ns, req, [&](const EntrySet& set) { count += set.size(); });
      if (count == 0) return out;  // no object can match
      if (best == nullptr || count < best_count) {
        best = &req;
        best_count = count;
      }
    }
    // With one requirement every candidate matches. Otherwise most may not: reserving for all
    // of them could cost more than it saves.
    const bool check = reqs.size() > 1;
    if (!check) out.reserve(best_count);
    ForEachPostings(labels_, ns, *best, [&](const EntrySet& set) {
      set.ForEach([&](const Entry* e) {
        if (!check || selector.Matches(*e->obj)) out.push_back(e->obj);
      });
    });
    return out;
  }

  std::vector<std::string> ListKeys() const KUBE_EXCLUDES(mu_) {
    std::vector<std::string> out;
    internal::ReaderMutexLock r(mu_);
    out.reserve(items_.size());
    for (const Entry& entry : items_) out.push_back(MetaNamespaceKey(*entry.obj));
    return out;
  }

  ObjectPtr GetByKey(std::string_view key) const KUBE_EXCLUDES(mu_) {
    internal::ReaderMutexLock r(mu_);
    auto it = items_.find(KeyText::Of(key));
    return it == items_.end() ? nullptr : it->obj;
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
    it->second.ForEach([&](const Entry* entry) {
      if (selector == nullptr || selector->Matches(*entry->obj)) out.push_back(entry->obj);
    });
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
      it->second.ForEach([&](const Entry* entry) { out.push_back(entry->obj); });
      return out;
    }
    EntrySet seen;
    for (const std::string& v : *values) {
      auto it = index->values.find(v);
      if (it == index->values.end()) continue;
      it->second.ForEach([&](const Entry* entry) {
        if (seen.insert(entry)) out.push_back(entry->obj);
      });
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
    it->second.ForEach([&](const Entry* entry) { out.push_back(MetaNamespaceKey(*entry->obj)); });
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
  // Files `obj` under its key in `items` (the store's, under `mu_`, or one being built): a new
  // entry, or the existing one with its object swapped and the old one moved to `*old`.
  static const Entry* InsertOrAssign(Items& items, ObjectPtr obj, ObjectPtr* old) {
    auto it = items.find(KeyText::Of(*obj));
    if (it != items.end()) {
      *old = std::exchange(it->obj, std::move(obj));
      return &*it;
    }
    return &*items.insert(Entry{std::move(obj)}).first;
  }

  // `InsertOrAssign` into the store, keeping the label index: an object whose namespace or labels
  // differ from the one it replaces leaves its postings before the swap and joins after it.
  const Entry* PutLocked(ObjectPtr obj, ObjectPtr* old) KUBE_REQUIRES(mu_) {
    auto it = items_.find(KeyText::Of(*obj));
    if (it == items_.end()) {
      const Entry* entry = &*items_.insert(Entry{std::move(obj)}).first;
      AddLabels(labels_, entry);
      return entry;
    }
    const bool same = SameLabels(*it->obj, *obj);
    if (!same) RemoveLabels(labels_, &*it);
    *old = std::exchange(it->obj, std::move(obj));
    if (!same) AddLabels(labels_, &*it);
    return &*it;
  }

  // Counts exclusive acquisitions of `mu_`, for `WriteLocks` (B55).
  void CountWriteLock() { write_locks_.fetch_add(1, std::memory_order_relaxed); }

  // Calls `f(const EntrySet&)` for the postings in `index` of each of `req`'s values in namespace
  // `*ns`, or in every namespace when `ns` is null. The sets are disjoint: an object has one value
  // per key. `index` is `labels_`, passed in so the analysis sees it read under the caller's lock.
  template <typename F>
  static void ForEachPostings(const LabelIndex& index, const std::string_view* ns,
                              const LabelRequirement& req, F&& f) {
    auto in_namespace = [&](std::string_view n) {
      for (const std::string& v : req.values()) {
        if (const EntrySet* set = FindPostings(index.postings, n, req.key(), v)) f(*set);
      }
    };
    if (ns != nullptr) {
      in_namespace(*ns);
      return;
    }
    for (const auto& [n, count] : index.namespaces) in_namespace(n);
  }

  const IndexData* FindIndexLocked(std::string_view index_name) const KUBE_REQUIRES_SHARED(mu_) {
    auto it = indices_.find(index_name);
    return it == indices_.end() ? nullptr : &it->second;
  }

  // Moves `entry` from the values of `old` (null: it was not stored) to `new_values` (null: it
  // is being erased) in every index.
  // Index values line up with `indices_` because both are ordered by name and hold the same names
  // (`writer_indexers_` mirrors `indices_`).
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
  LabelIndex labels_ KUBE_GUARDED_BY(mu_);
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
  if (std::optional<std::vector<ObjectPtr>> found = impl_->ListByLabels(nullptr, selector)) {
    return *std::move(found);
  }
  return impl_->List(&selector);
}

Result<std::vector<ObjectPtr>> ThreadSafeStore::ListNamespaceMatching(
    std::string_view ns, const LabelSelector& selector) const {
  if (selector.IsNothing()) return std::vector<ObjectPtr>{};
  if (std::optional<std::vector<ObjectPtr>> found = impl_->ListByLabels(&ns, selector)) {
    return *std::move(found);
  }
  return ByIndexMatching(kNamespaceIndex, ns, selector);
}

Result<std::vector<ObjectPtr>> ThreadSafeStore::ByIndexMatching(
    std::string_view index_name, std::string_view value, const LabelSelector& selector) const {
  if (selector.IsNothing()) return std::vector<ObjectPtr>{};
  return impl_->ByIndex(index_name, value, selector.Empty() ? nullptr : &selector);
}

}  // namespace kube

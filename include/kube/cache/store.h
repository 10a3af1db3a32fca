// [5] Store and Indexer: the informer's cache, as interfaces.
//
// Reads from: the shared informer, which applies each delta popped from the FIFO.
// Feeds: listers and handlers (through the informer), user code via `GetIndexer()` (a read-only
// view: `std::shared_ptr<const Indexer>`).
// client-go: tools/cache/store.go, tools/cache/index.go.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_CACHE_STORE_H_
#define KUBE_CACHE_STORE_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kube/object.h"
#include "kube/status.h"

namespace kube {

// Computes the index values of an object, e.g. its namespace. Must be pure and thread-safe: the
// store calls it under its write lock. An error rejects the write (client-go panics instead, B05).
using IndexFunc = std::function<Result<std::vector<std::string>>(const Object&)>;
// Index name -> function.
using Indexers = std::map<std::string, IndexFunc, std::less<>>;

// The namespace index every typed informer has (B06).
inline constexpr std::string_view kNamespaceIndex = "namespace";
// Index function: `{metadata.namespace}`.
Result<std::vector<std::string>> MetaNamespaceIndexFunc(const Object& obj);

// A key -> object map. Implementations are thread-safe.
class Store {
 public:
  virtual ~Store() = default;

  // B02: store `obj` under its key, replacing any object there.
  virtual Status Add(ObjectPtr obj) = 0;
  virtual Status Update(ObjectPtr obj) = 0;
  // B02: remove the object with `obj`'s key; absent is not an error.
  virtual Status Delete(const Object& obj) = 0;
  virtual Status DeleteByKey(std::string_view key) = 0;

  // A consistent snapshot of every object / key (no defined order).
  virtual std::vector<ObjectPtr> List() const = 0;
  virtual std::vector<std::string> ListKeys() const = 0;
  // The object stored under `obj`'s key / under `key`; null when absent.
  virtual ObjectPtr Get(const Object& obj) const = 0;
  virtual ObjectPtr GetByKey(std::string_view key) const = 0;
  virtual size_t Size() const = 0;

  // B03: swap the whole content for `list` at once and record `resource_version`.
  virtual Status Replace(std::vector<ObjectPtr> list, std::string resource_version) = 0;
};

// A Store with secondary indexes.
class Indexer : public Store {
 public:
  // B04: objects whose `index_name` values include `value`. Unknown index -> kNotFound
  // `Index with name X does not exist`.
  virtual Result<std::vector<ObjectPtr>> ByIndex(std::string_view index_name,
                                                 std::string_view value) const = 0;
  // B04: objects sharing any of `obj`'s values for `index_name`, deduplicated.
  virtual Result<std::vector<ObjectPtr>> Index(std::string_view index_name,
                                               const Object& obj) const = 0;
  // B04: keys of the objects `ByIndex` would return.
  virtual Result<std::vector<std::string>> IndexKeys(std::string_view index_name,
                                                     std::string_view value) const = 0;
  // B04: every value present in the index; an unknown name gives an empty list.
  virtual std::vector<std::string> ListIndexFuncValues(std::string_view index_name) const = 0;
  // B07: add index functions and index what is already stored. A name already present ->
  // kAlreadyExists `indexer conflict: X`.
  virtual Status AddIndexers(const Indexers& indexers) = 0;
  virtual Indexers GetIndexers() const = 0;
};

}  // namespace kube

#endif  // KUBE_CACHE_STORE_H_

// [7] Lister and NamespaceLister: read-only queries over an informer's indexer.
//
// Reads from: an `Indexer`, usually the `ThreadSafeStore` a shared informer fills.
// Feeds: controllers and user code (`factory->ForResource(gvr).GetLister()`), and the typed listers
// of informers/typed_informer.h, which wrap it.
// client-go: tools/cache/listers.go (GenericLister, GenericNamespaceLister) and the generated
// listers in listers/*.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_CACHE_LISTER_H_
#define KUBE_CACHE_LISTER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kube/cache/store.h"
#include "kube/labels.h"
#include "kube/object.h"
#include "kube/status.h"

namespace kube {

// What a lister serves, as its NotFound errors name it (B10). Generated client-go listers use the
// *singular* resource, unlike the server: `{"apps", "deployment"}` -> `deployment.apps`,
// `{"", "pod"}` -> `pod`.
struct ListerResource {
  std::string group;     // "" for the core group
  std::string resource;  // lowercase singular: "deployment"

  // "deployment.apps", or "pod" in the core group.
  std::string QualifiedName() const;
};

class NamespaceLister;

// Queries over every object of one resource in an indexer.
//
// Thread-safety: thread-safe and immutable; every method only reads the indexer, which is itself
// thread-safe. Ownership: shares the indexer; copying a lister is cheap (one shared pointer), so
// pass it by value. Objects returned are the indexer's own, shared and immutable (B08).
//
// The typed listers (`TypedLister<T>`, `TypedNamespaceLister<T>` in informers/typed_informer.h,
// e.g. `DeploymentLister`) are thin wrappers holding a `Lister` and converting each `ObjectPtr`
// into their typed view; nothing here depends on the kind.
//
// With a `ThreadSafeStore` the label filtering runs inside the store's read lock, so objects that
// do not match are never copied out, and selectors with an `=`, `==` or `in` requirement use its
// label index; any other `Indexer` works through its public interface.
class Lister {
 public:
  // `indexer` must be non-null.
  Lister(std::shared_ptr<const Indexer> indexer, ListerResource resource);

  // B09: every object whose labels match `selector`, in no defined order. `Everything()` (and any
  // selector without requirements) returns every object without evaluating labels; `Nothing()`
  // returns none without touching the indexer. Blocks only for the indexer's read lock.
  std::vector<ObjectPtr> List(const LabelSelector& selector) const;

  // B10: the namespaced object `ns`/`name`. Errors: kNotFound (HTTP 404, reason NotFound)
  // `<resource>[.<group>] "<name>" not found`; the message names the name only, not `ns`.
  Result<ObjectPtr> Get(std::string_view ns, std::string_view name) const;
  // B10: the cluster-scoped object `name` (key `name`). Errors as above.
  Result<ObjectPtr> Get(std::string_view name) const;

  // A lister restricted to namespace `ns` (cheap: no query is made here).
  NamespaceLister Namespace(std::string_view ns) const;

  const std::shared_ptr<const Indexer>& indexer() const;
  const ListerResource& resource() const;

 private:
  friend class NamespaceLister;
  struct Shared;
  std::shared_ptr<const Shared> shared_;
};

// Queries over one namespace. Thread-safety and ownership as `Lister`.
class NamespaceLister {
 public:
  // B09: objects in the namespace whose labels match `selector` (`Everything()`: all of them,
  // without evaluating labels; `Nothing()`: none). With a `ThreadSafeStore` and a selector that
  // has an `=`, `==` or `in` requirement, the store's label index answers
  // (`ThreadSafeStore::ListNamespaceMatching`). Otherwise it uses the indexer's
  // `kNamespaceIndex`; without that, it scans every object and logs a warning (once per `Lister`
  // it came from).
  std::vector<ObjectPtr> List(const LabelSelector& selector) const;
  // B10: the object `name` in this namespace. Errors: kNotFound as `Lister::Get`, naming only
  // `name`.
  Result<ObjectPtr> Get(std::string_view name) const;

  const std::string& ns() const { return ns_; }

 private:
  friend class Lister;
  NamespaceLister(std::shared_ptr<const Lister::Shared> shared, std::string ns);
  std::shared_ptr<const Lister::Shared> shared_;
  std::string ns_;
};

}  // namespace kube

#endif  // KUBE_CACHE_LISTER_H_

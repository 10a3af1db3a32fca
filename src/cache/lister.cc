// Lister and NamespaceLister (contract in include/kube/cache/lister.h).
//
// Reads from: an `Indexer`. Feeds: controllers and typed listers.
// client-go: tools/cache/listers.go.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#include "kube/cache/lister.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/logging.h"
#include "kube/cache/thread_safe_store.h"
#include "kube/object_key.h"

namespace kube {

struct Lister::Shared {
  std::shared_ptr<const Indexer> indexer;
  // `indexer` itself when it is a ThreadSafeStore (label filtering under its lock), else null.
  const ThreadSafeStore* store = nullptr;
  ListerResource resource;
  std::string qualified_name;
  // Set by the first namespace listing that found no namespace index (B09: warn once).
  mutable std::atomic<bool> warned_no_namespace_index{false};
};

namespace {

// Calls `f` with the key `ns/name` (or `name`), built on the stack when it fits: object names are
// at most 253 characters and namespaces 63, so a lookup almost never allocates.
template <typename F>
auto WithKey(std::string_view ns, std::string_view name, F&& f) {
  if (ns.empty()) return f(name);
  char buf[320];
  size_t size = ns.size() + 1 + name.size();
  if (size > sizeof buf) return f(std::string_view(MetaNamespaceKey(ns, name)));
  std::memcpy(buf, ns.data(), ns.size());
  buf[ns.size()] = '/';
  std::memcpy(buf + ns.size() + 1, name.data(), name.size());
  return f(std::string_view(buf, size));
}

Result<ObjectPtr> GetOrNotFound(const Indexer& indexer, const std::string& qualified_name,
                                std::string_view ns, std::string_view name) {
  ObjectPtr obj = WithKey(ns, name, [&](std::string_view key) { return indexer.GetByKey(key); });
  if (obj) return obj;
  // B10: the singular resource and the name only, as generated listers word it.
  std::string message = qualified_name;
  message.append(" \"").append(name).append("\" not found");
  return StatusFromHttp(404, "NotFound", std::move(message));
}

// Every object (or every matching object) of the indexer, for the paths with no index to use.
// `store` is `indexer` as a ThreadSafeStore, or null.
std::vector<ObjectPtr> ListAll(const Indexer& indexer, const ThreadSafeStore* store,
                               const LabelSelector& selector) {
  if (store != nullptr) return store->ListMatching(selector);
  std::vector<ObjectPtr> all = indexer.List();
  if (!selector.Empty()) {
    std::erase_if(all, [&](const ObjectPtr& obj) { return !selector.Matches(*obj); });
  }
  return all;
}

}  // namespace

std::string ListerResource::QualifiedName() const {
  return group.empty() ? resource : resource + "." + group;
}

Lister::Lister(std::shared_ptr<const Indexer> indexer, ListerResource resource) {
  auto shared = std::make_shared<Shared>();
  shared->store = dynamic_cast<const ThreadSafeStore*>(indexer.get());
  shared->indexer = std::move(indexer);
  shared->qualified_name = resource.QualifiedName();
  shared->resource = std::move(resource);
  shared_ = std::move(shared);
}

std::vector<ObjectPtr> Lister::List(const LabelSelector& selector) const {
  if (selector.IsNothing()) return {};
  return ListAll(*shared_->indexer, shared_->store, selector);
}

Result<ObjectPtr> Lister::Get(std::string_view ns, std::string_view name) const {
  return GetOrNotFound(*shared_->indexer, shared_->qualified_name, ns, name);
}

Result<ObjectPtr> Lister::Get(std::string_view name) const {
  return GetOrNotFound(*shared_->indexer, shared_->qualified_name, "", name);
}

NamespaceLister Lister::Namespace(std::string_view ns) const {
  return NamespaceLister(shared_, std::string(ns));
}

const std::shared_ptr<const Indexer>& Lister::indexer() const { return shared_->indexer; }

const ListerResource& Lister::resource() const { return shared_->resource; }

NamespaceLister::NamespaceLister(std::shared_ptr<const Lister::Shared> shared, std::string ns)
    : shared_(std::move(shared)), ns_(std::move(ns)) {}

std::vector<ObjectPtr> NamespaceLister::List(const LabelSelector& selector) const {
  if (selector.IsNothing()) return {};
  const Lister::Shared& shared = *shared_;
  Result<std::vector<ObjectPtr>> indexed = shared.store != nullptr
                                               ? shared.store->ListNamespaceMatching(ns_, selector)
                                               : shared.indexer->ByIndex(kNamespaceIndex, ns_);
  if (indexed) {
    if (shared.store == nullptr && !selector.Empty()) {
      std::erase_if(*indexed, [&](const ObjectPtr& obj) { return !selector.Matches(*obj); });
    }
    return *std::move(indexed);
  }
  // B09: no namespace index (the only way `ByIndex` fails): scan, and say so once.
  if (!shared.warned_no_namespace_index.exchange(true, std::memory_order_relaxed)) {
    KUBE_LOG(kWarning, "lister") << "lister for " << shared.qualified_name << " has no \""
                                 << kNamespaceIndex
                                 << "\" index; listing a namespace scans every object ("
                                 << indexed.error().message() << ")";
  }
  std::vector<ObjectPtr> all = ListAll(*shared.indexer, shared.store, selector);
  std::erase_if(all, [&](const ObjectPtr& obj) { return obj->ns() != ns_; });
  return all;
}

Result<ObjectPtr> NamespaceLister::Get(std::string_view name) const {
  return GetOrNotFound(*shared_->indexer, shared_->qualified_name, ns_, name);
}

}  // namespace kube

// Typed views, listers and informers over the shared, untyped cache: the machinery behind
// informers/typed.h. Each built-in kind (informers/core_v1.h, apps_v1.h, ...) is a thin view class
// plus a few aliases made from the templates here.
//
// Reads from: a `SharedIndexInformer` (usually the factory's one per resource) and its indexer.
// Feeds: user code, through typed listers and typed event handlers.
// client-go: the generated informers/<group>/<version>/*.go and listers/<group>/<version>/*.go,
// which this file replaces with templates instead of generated code.
//
// A typed view (`Deployment`, `Pod`, ...) holds the cache's own `ObjectPtr`: making one copies a
// shared pointer, never the object, and reading a typed field parses the field out of the object's
// JSON on demand. So views are cheap to create and pass around, but a field read in a hot loop
// should be read once and kept.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_INFORMERS_TYPED_INFORMER_H_
#define KUBE_INFORMERS_TYPED_INFORMER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/cache/lister.h"
#include "kube/cache/shared_informer.h"
#include "kube/group_version.h"
#include "kube/informers/factory.h"
#include "kube/labels.h"
#include "kube/object.h"
#include "kube/status.h"
#include "kube/string_map.h"

namespace kube {

// How a built-in kind is served. Every typed view has one as `static constexpr KindInfo kInfo`.
struct KindInfo {
  std::string_view group;     // "" for the core group
  std::string_view version;   // "v1"
  std::string_view resource;  // plural, as in URLs: "deployments"
  std::string_view singular;  // "deployment": what listers' NotFound errors name (B10)
  std::string_view kind;      // "Deployment"
  bool namespaced = true;

  GroupVersionResource gvr() const;
  // `{group, singular}`: generated client-go listers name the singular resource.
  ListerResource lister_resource() const;
  // What the factory needs to create the informer (its namespace scope, the kind it checks).
  ResourceScope scope() const;
};

// The base of every typed view: the object it wraps and its metadata.
//
// Thread-safe and immutable, like the `Object` it shares. The `string_view`s and
// `StringMapView`s returned point into the object and stay valid as long as any view or
// `ObjectPtr` of it lives.
class TypedObject {
 public:
  // `object` must be non-null. It is not checked to be of the view's kind.
  explicit TypedObject(ObjectPtr object) : object_(std::move(object)) {}

  // The shared, immutable object, for anything the typed accessors do not cover
  // (`object()->GetString("spec.template.spec.schedulerName")`).
  const ObjectPtr& object() const { return object_; }

  std::string_view api_version() const { return object_->api_version(); }
  std::string_view kind() const { return object_->kind(); }
  std::string_view name() const { return object_->name(); }
  std::string_view ns() const { return object_->ns(); }
  std::string_view generate_name() const { return object_->generate_name(); }
  std::string_view uid() const { return object_->uid(); }
  std::string_view resource_version() const { return object_->resource_version(); }
  int64_t generation() const { return object_->generation(); }
  StringMapView labels() const { return object_->labels(); }
  StringMapView annotations() const { return object_->annotations(); }
  std::span<const OwnerReference> owner_references() const { return object_->owner_references(); }
  std::span<const std::string_view> finalizers() const { return object_->finalizers(); }
  std::string_view creation_timestamp() const { return object_->creation_timestamp(); }
  std::string_view deletion_timestamp() const { return object_->deletion_timestamp(); }
  std::optional<std::chrono::system_clock::time_point> creation_time() const {
    return object_->creation_time();
  }
  std::optional<std::chrono::system_clock::time_point> deletion_time() const {
    return object_->deletion_time();
  }
  // `namespace/name`, or `name` for a cluster-scoped object (the cache key, B01).
  std::string key() const;

 protected:
  // Field readers for the typed accessors. A field that is absent, or holds another type than
  // expected, reads as `fallback` (the Kubernetes default the accessor documents): the server
  // validated the object, so a mismatch only comes from a foreign object.
  std::string StringOr(std::string_view path, std::string_view fallback = "") const;
  int64_t IntOr(std::string_view path, int64_t fallback = 0) const;
  std::optional<int64_t> OptionalInt(std::string_view path) const;
  bool BoolOr(std::string_view path, bool fallback = false) const;
  std::optional<bool> OptionalBool(std::string_view path) const;
  // A map of strings; empty when absent.
  StringMap StringMapAt(std::string_view path) const;
  // An array of strings; empty when absent.
  std::vector<std::string> StringListAt(std::string_view path) const;
  // The number of elements of the array at `path`; 0 when absent.
  size_t ArraySize(std::string_view path) const;
  // `StringOr(ItemPath(path, i, field))` for every element i of the array at `path`.
  std::vector<std::string> StringsOfArray(std::string_view path, std::string_view field) const;
  // `path[i].field` (`path[i]` when `field` is empty).
  static std::string ItemPath(std::string_view path, size_t i, std::string_view field = "");
  // The `status` of the condition whose `type` is `type` in the array at `path` ("True",
  // "False", "Unknown"), or "" when there is no such condition.
  std::string ConditionStatus(std::string_view path, std::string_view type) const;

 private:
  ObjectPtr object_;
};

// What a typed delete handler receives: the deleted object's last known state as a typed view,
// and whether that state is the server's final one (see `DeletedObject`).
template <typename T>
class TypedDeletedObject {
 public:
  explicit TypedDeletedObject(const DeletedObject& deleted)
      : object_(deleted.object()), deleted_(deleted) {}

  // The last known state. When `final_state_unknown()`, the cache's last state, which may be
  // older than the server's final one.
  const T& object() const { return object_; }
  bool final_state_unknown() const { return deleted_.final_state_unknown(); }
  const std::string& key() const { return deleted_.key(); }
  const DeletedObject& untyped() const { return deleted_; }

 private:
  T object_;
  DeletedObject deleted_;
};

// A handler from typed functions; unset ones ignore their notification. `resync` unset falls back
// to `update(obj, obj)`, as in client-go. Threading as `ResourceEventHandler`: calls come one at a
// time on a library worker thread; an exception is caught and counted.
template <typename T>
struct TypedHandlerFuncs {
  std::function<void(const T& obj, bool is_in_initial_list)> add;
  std::function<void(const T& old_obj, const T& new_obj)> update;
  std::function<void(const TypedDeletedObject<T>& obj)> del;
  std::function<void(const T& obj)> resync;
  // An object of the cache snapshot the informer started from; unset = `add(obj, true)`.
  std::function<void(const T& obj)> snapshot_add;
};

// The untyped handler functions that wrap `funcs`' typed ones.
template <typename T>
ResourceEventHandlerFuncs UntypedHandlerFuncs(TypedHandlerFuncs<T> funcs) {
  ResourceEventHandlerFuncs out;
  if (funcs.add) {
    out.add = [f = std::move(funcs.add)](const ObjectPtr& obj, bool initial) {
      f(T(obj), initial);
    };
  }
  if (funcs.update) {
    out.update = [f = std::move(funcs.update)](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
      f(T(old_obj), T(new_obj));
    };
  }
  if (funcs.del) {
    out.del = [f = std::move(funcs.del)](const DeletedObject& d) { f(TypedDeletedObject<T>(d)); };
  }
  if (funcs.resync) {
    out.resync = [f = std::move(funcs.resync)](const ObjectPtr& obj) { f(T(obj)); };
  }
  if (funcs.snapshot_add) {
    out.snapshot_add = [f = std::move(funcs.snapshot_add)](const ObjectPtr& obj) { f(T(obj)); };
  }
  return out;
}

namespace internal {
template <typename T>
std::vector<T> WrapAll(std::vector<ObjectPtr> objects) {
  std::vector<T> out;
  out.reserve(objects.size());
  for (ObjectPtr& obj : objects) out.emplace_back(std::move(obj));
  return out;
}
}  // namespace internal

// Queries over one namespace, as typed views (client-go's `<Kind>NamespaceLister`).
// Thread-safe, cheap to copy; see `NamespaceLister`.
template <typename T>
class TypedNamespaceLister {
 public:
  explicit TypedNamespaceLister(NamespaceLister lister) : lister_(std::move(lister)) {}

  // B09: the objects of this namespace whose labels match `selector`, in no defined order.
  std::vector<T> List(const LabelSelector& selector) const {
    return internal::WrapAll<T>(lister_.List(selector));
  }
  // B10: the object `name` of this namespace. Errors: kNotFound `<singular>[.<group>] "<name>" not
  // found` (`deployment.apps "web" not found`).
  Result<T> Get(std::string_view name) const {
    Result<ObjectPtr> obj = lister_.Get(name);
    if (!obj) return obj.error();
    return T(*std::move(obj));
  }

  const NamespaceLister& untyped() const { return lister_; }

 private:
  NamespaceLister lister_;
};

// Queries over every object of a kind, as typed views (client-go's `<Kind>Lister`). Namespaced
// kinds narrow to a namespace with `Namespace(ns)` (each kind's lister also spells it client-go's
// way, e.g. `Deployments(ns)`); cluster-scoped kinds have `Get(name)`.
// Thread-safe, cheap to copy (one shared pointer); see `Lister`.
template <typename T>
class TypedLister {
 public:
  explicit TypedLister(Lister lister) : lister_(std::move(lister)) {}

  // B09: every cached object whose labels match `selector`, in no defined order.
  std::vector<T> List(const LabelSelector& selector) const {
    return internal::WrapAll<T>(lister_.List(selector));
  }
  // B10, cluster-scoped kinds: the object `name`. Errors: kNotFound `<singular>[.<group>]
  // "<name>" not found` (`node "n1" not found`).
  Result<T> Get(std::string_view name) const requires(!T::kInfo.namespaced) {
    Result<ObjectPtr> obj = lister_.Get(name);
    if (!obj) return obj.error();
    return T(*std::move(obj));
  }
  // Namespaced kinds: a lister restricted to `ns` (cheap: no query is made here).
  TypedNamespaceLister<T> Namespace(std::string_view ns) const requires(T::kInfo.namespaced) {
    return TypedNamespaceLister<T>(lister_.Namespace(ns));
  }

  const Lister& untyped() const { return lister_; }

 private:
  Lister lister_;
};

// A typed informer (client-go's `<Kind>Informer`): the factory's shared informer for the kind and
// a typed lister over its cache. Cheap to copy; every copy, and every caller asking the factory
// for the same kind, shares one informer (B38).
template <typename T, typename L>
class TypedInformer {
 public:
  using object_type = T;
  using lister_type = L;

  // `informer` must be non-null and list objects of `T`'s kind.
  explicit TypedInformer(std::shared_ptr<SharedIndexInformer> informer)
      : informer_(std::move(informer)) {}

  // The shared informer: add untyped handlers, wait for sync, read stats.
  const std::shared_ptr<SharedIndexInformer>& Informer() const { return informer_; }
  // A lister over the informer's cache. Its results are empty until the informer has synced.
  L Lister() const {
    return L(::kube::Lister(informer_->GetIndexer(), T::kInfo.lister_resource()));
  }

  // `Informer()->AddEventHandler` with typed functions (see `SharedIndexInformer::AddEventHandler`
  // for errors and for what a handler added after start receives).
  Result<RegistrationPtr> AddEventHandler(TypedHandlerFuncs<T> funcs,
                                          HandlerOptions options = {}) const {
    return informer_->AddEventHandler(UntypedHandlerFuncs(std::move(funcs)), std::move(options));
  }
  bool HasSynced() const { return informer_->HasSynced(); }
  // Read-your-writes: blocks until the cache (and so `Lister()`) reflects `resource_version`,
  // the version one of your writes of this kind returned. Errors and limits as
  // `SharedIndexInformer::WaitForResourceVersion`.
  Status WaitForResourceVersion(std::string_view resource_version,
                                std::chrono::milliseconds timeout) const {
    return informer_->WaitForResourceVersion(resource_version, timeout);
  }
  Status WaitForResourceVersion(std::string_view resource_version,
                                std::chrono::milliseconds timeout, std::stop_token stop) const {
    return informer_->WaitForResourceVersion(resource_version, timeout, std::move(stop));
  }

 private:
  std::shared_ptr<SharedIndexInformer> informer_;
};

// The typed informer `I` (a `TypedInformer<T, L>`) for its kind, from `factory`: the factory's
// one informer for the resource, created on first request.
template <typename I>
I TypedInformerFor(SharedInformerFactory& factory) {
  using T = typename I::object_type;
  return I(factory.InformerFor(T::kInfo.gvr(), T::kInfo.scope()));
}

}  // namespace kube

// Declares the lister and informer types of a namespaced kind `Kind` whose plural is `Plural`:
// `KindNamespaceLister`, `KindLister` (with client-go's `Plural(ns)`) and `KindInformer`.
#define KUBE_TYPED_NAMESPACED_KIND(Kind, Plural)                                      \
  using Kind##NamespaceLister = ::kube::TypedNamespaceLister<Kind>;                   \
  class Kind##Lister : public ::kube::TypedLister<Kind> {                             \
   public:                                                                            \
    using TypedLister::TypedLister;                                                   \
    /* client-go's `lister.Plural(ns)`: the objects of namespace `ns`. */             \
    Kind##NamespaceLister Plural(std::string_view ns) const { return Namespace(ns); } \
  };                                                                                  \
  using Kind##Informer = ::kube::TypedInformer<Kind, Kind##Lister>

// Declares the lister and informer types of a cluster-scoped kind: `ListerName` and
// `KindInformer`.
#define KUBE_TYPED_CLUSTER_KIND(Kind, ListerName) \
  using ListerName = ::kube::TypedLister<Kind>;   \
  using Kind##Informer = ::kube::TypedInformer<Kind, ListerName>

#endif  // KUBE_INFORMERS_TYPED_INFORMER_H_

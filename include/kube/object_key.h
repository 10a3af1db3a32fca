// Object keys (`namespace/name`) and the `DeletedFinalStateUnknown` tombstone.
//
// Feeds: the delta FIFO and the indexer, which file every object under its key.
// client-go: tools/cache/store.go (MetaNamespaceKeyFunc), delta_fifo.go (DeletedFinalStateUnknown).
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_OBJECT_KEY_H_
#define KUBE_OBJECT_KEY_H_

#include <string>
#include <string_view>
#include <utility>

#include "kube/object.h"
#include "kube/status.h"

namespace kube {

// B01: `namespace/name`, or `name` when the namespace is empty.
std::string MetaNamespaceKey(const Object& obj);
std::string MetaNamespaceKey(std::string_view ns, std::string_view name);

struct NamespaceAndName {
  std::string ns;  // "" for a cluster-scoped key
  std::string name;
  friend bool operator==(const NamespaceAndName&, const NamespaceAndName&) = default;
};

// B01: the inverse of `MetaNamespaceKey`. One part -> ("", name); two -> (ns, name); more '/' ->
// kInvalidArgument `unexpected key format: "a/b/c"`.
Result<NamespaceAndName> SplitMetaNamespaceKey(std::string_view key);

// A deletion the informer inferred from a relist: the object vanished while the watch was down,
// so its final state is unknown. `obj` is the last state the cache knew, and may be null.
struct DeletedFinalStateUnknown {
  std::string key;
  ObjectPtr obj;
};

// The key of a tombstone is the key it carries (B01).
inline const std::string& DeletionHandlingMetaNamespaceKey(const DeletedFinalStateUnknown& d) {
  return d.key;
}

}  // namespace kube

#endif  // KUBE_OBJECT_KEY_H_

// The index functions every informer can use (declared in include/kube/cache/store.h).
//
// Feeds: the indexer (`ThreadSafeStore`) and the namespace lister, through `kNamespaceIndex`.
// client-go: tools/cache/index.go (MetaNamespaceIndexFunc).
#include "kube/cache/store.h"

#include <string>
#include <vector>

namespace kube {

// Cluster-scoped objects are filed under "" like client-go does, so `ByIndex(kNamespaceIndex, "")`
// finds them.
Result<std::vector<std::string>> MetaNamespaceIndexFunc(const Object& obj) {
  return std::vector<std::string>{std::string(obj.ns())};
}

}  // namespace kube

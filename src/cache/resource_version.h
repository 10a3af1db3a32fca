// Reading a resourceVersion as a number, for the few comparisons the cache makes (private).
//
// The API makes a resourceVersion an opaque string that clients hand back and compare for
// equality. kube-apiserver's are etcd revisions: unsigned decimal integers that grow with every
// write to the cluster, and from Kubernetes 1.35 the API documents them as ordered within one
// resource type. The reflector (to notice a server that went back in time) and the informer's
// `WaitForResourceVersion` compare two versions only when both parse here; docs/informers.md
// says where each comparison is made.
#ifndef KUBE_CACHE_RESOURCE_VERSION_H_
#define KUBE_CACHE_RESOURCE_VERSION_H_

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace kube::internal {

// `rv` as an unsigned decimal integer (digits only, at most 20, fitting 64 bits), or nullopt for
// anything else ("", "abc", "-1", "+1", " 1", "1.0").
inline std::optional<uint64_t> NumericResourceVersion(std::string_view rv) {
  if (rv.empty() || rv.size() > 20) return std::nullopt;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), n);
  if (ec != std::errc() || end != rv.data() + rv.size()) return std::nullopt;
  return n;
}

}  // namespace kube::internal

#endif  // KUBE_CACHE_RESOURCE_VERSION_H_

// Applying PATCH bodies to stored objects.
//
// Reads from: PATCH requests. Feeds: the storage's update path, which then validates, checks the
// resourceVersion precondition (a patch that sets metadata.resourceVersion is conditional) and
// stores the result.
#ifndef KUBE_SERVER_PATCH_H_
#define KUBE_SERVER_PATCH_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "kube/status.h"
#include "server/resource_info.h"

namespace kube::server {

enum class PatchType {
  kJsonPatch,            // application/json-patch+json (RFC 6902, all or nothing)
  kMergePatch,           // application/merge-patch+json (RFC 7386)
  kStrategicMergePatch,  // application/strategic-merge-patch+json
  kApplyPatch,           // application/apply-patch+yaml (server-side apply)
};

// From a Content-Type (parameters such as `; charset=utf-8` are ignored). kInvalidArgument
// with http 415 UnsupportedMediaType for anything else.
Result<PatchType> ParsePatchType(std::string_view content_type);

// Applies `body` to `original` and returns the patched object. Errors carry the HTTP code the
// server answers with: 400 BadRequest for a body that does not parse, 422 Invalid for a JSON
// patch op that fails (`test`, a missing path) and for JSON patch `copy` operations that together
// copy more than `max_copy_bytes` of JSON (kube-apiserver's `AccumulatedCopySizeLimit`; the
// server passes its request body limit), 415 for strategic merge on a custom resource, and for
// server-side apply, which `Registry::ApplyServerSide` does instead (here only the scale
// subresource reaches it; documented in docs/server.md). The result is at most about
// `original`, `body` and `max_copy_bytes` together; the registry refuses to store it when it is
// over the object limit.
// Strategic merge implements the merge keys of the built-in kinds (containers, initContainers,
// volumes, env, ports, ...) and the directives `$patch`, `$setElementOrder/...`, `$retainKeys`,
// `$deleteFromPrimitiveList/...`; approximations are listed in docs/server.md.
Result<nlohmann::json> ApplyPatch(PatchType type, const nlohmann::json& original,
                                  std::string_view body, const ResourceInfo& info,
                                  size_t max_copy_bytes = size_t{3} << 20);

}  // namespace kube::server

#endif  // KUBE_SERVER_PATCH_H_

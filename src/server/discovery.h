// Discovery and OpenAPI documents kubectl reads before it does anything else.
//
// Reads from: the ResourceCatalog. Feeds: the router (`/version`, `/api`, `/apis`, `/api/v1`,
// `/apis/G/V`, `/openapi/v3`, `/openapi/v3/...`).
#ifndef KUBE_SERVER_DISCOVERY_H_
#define KUBE_SERVER_DISCOVERY_H_

#include <string>
#include <string_view>

#include "kube/status.h"
#include "server/resource_info.h"

namespace kube::server {

// `GET /version`.
std::string VersionJson();
// `GET /api` (plain `APIVersions`) and `GET /apis` (plain `APIGroupList`).
std::string CoreApiVersionsJson(std::string_view server_address);
std::string ApiGroupListJson(const ResourceCatalog& catalog);
// `GET /api/v1`, `GET /apis/G/V`: an `APIResourceList` with subresources (`x/status`, `x/scale`).
// kNotFound when the catalog has no such group-version.
Result<std::string> ApiResourceListJson(const ResourceCatalog& catalog, const GroupVersion& gv);
// Aggregated discovery (`APIGroupDiscoveryList`, apidiscovery.k8s.io/v2) for `/api` (core=true)
// or `/apis` (core=false), served when the Accept header asks for it.
std::string AggregatedDiscoveryJson(const ResourceCatalog& catalog, bool core);
// The Content-Type that marks an aggregated answer.
inline constexpr std::string_view kAggregatedDiscoveryContentType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
// True when an Accept header asks for aggregated discovery v2.
bool AcceptsAggregatedDiscovery(std::string_view accept);

// `GET /openapi/v3`: the root index, one path per group-version.
std::string OpenApiV3RootJson(const ResourceCatalog& catalog);
// `GET /openapi/v3/api/v1`, `/openapi/v3/apis/G/V`: a minimal OpenAPI 3 document in which each
// kind's PATCH operation carries `x-kubernetes-group-version-kind` and a `fieldValidation` query
// parameter, so `kubectl create/apply` (with --validate=strict) trusts server-side validation.
// `gv_path` is the part after `/openapi/v3/`, e.g. "apis/apps/v1". kNotFound when unknown.
Result<std::string> OpenApiV3GroupVersionJson(const ResourceCatalog& catalog,
                                              std::string_view gv_path);

}  // namespace kube::server

#endif  // KUBE_SERVER_DISCOVERY_H_

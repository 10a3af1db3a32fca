// DiscoveryClient: what the server serves, and which resource a name such as "deploy" means.
//
// Reads from: an `HttpClient` (GET /version, /api, /apis, /api/v1, /apis/GROUP/VERSION).
// Feeds: `kinf get`, users resolving a kind or resource name to a `ResourceClient`.
// client-go: discovery/discovery_client.go (plain, unaggregated discovery) and
// restmapper/discovery.go + shortcut.go (the RESTMapper over it).
#ifndef KUBE_CLIENT_DISCOVERY_H_
#define KUBE_CLIENT_DISCOVERY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/group_version.h"
#include "kube/status.h"

namespace kube {

// `GET /version`.
struct VersionInfo {
  std::string major;
  std::string minor;
  std::string git_version;  // "v1.32.0"
  std::string platform;     // "linux/amd64"
};

// One group of `/apis` (or the core group from `/api`, whose name is "").
struct ApiGroup {
  std::string name;
  std::vector<std::string> versions;  // in the server's preference order
  std::string preferred_version;
};

// One entry of an APIResourceList.
struct ApiResource {
  std::string name;  // "deployments", or a subresource "deployments/status"
  std::string singular_name;
  bool namespaced = false;
  std::string kind;
  // The group and version the resource belongs to (for subresources such as `scale`, the
  // response kind's group and version when the server names them).
  std::string group;
  std::string version;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
};

// What a name resolves to.
struct ResourceMapping {
  GroupVersionResource resource;
  GroupVersionKind kind;
  bool namespaced = false;
};

// Thread-safe. Calls block on HTTP. `ResourceFor` caches what it fetched until `Invalidate`.
//
// Errors: those of `ResourceClient` (the server's Status, transport failures), kDataLoss when a
// discovery document does not decode.
class DiscoveryClient {
 public:
  explicit DiscoveryClient(std::shared_ptr<HttpClient> http);
  ~DiscoveryClient();
  DiscoveryClient(const DiscoveryClient&) = delete;
  DiscoveryClient& operator=(const DiscoveryClient&) = delete;

  Result<VersionInfo> ServerVersion() const;
  // The core group (from `/api`, when the server serves it) first, then `/apis` in its order.
  Result<std::vector<ApiGroup>> ServerGroups() const;
  // The resources of one group-version, subresources included.
  Result<std::vector<ApiResource>> ServerResourcesForGroupVersion(const GroupVersion& gv) const;

  // Resolves, like kubectl's argument: a plural ("deployments"), singular ("deployment"), short
  // name ("deploy") or kind ("Deployment", any case), optionally qualified by group
  // ("deployments.apps") or version and group ("deployments.v1.apps"). Without a version the
  // group's preferred version is used. When several groups serve the name, the core group wins,
  // then the server's group order (as kubectl's priority mapper does).
  // Errors: kNotFound "the server doesn't have a resource type \"x\"", plus discovery errors.
  Result<ResourceMapping> ResourceFor(std::string_view name);

  // Drops the cache, so the next `ResourceFor` asks the server again (new CRDs).
  void Invalidate();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_CLIENT_DISCOVERY_H_

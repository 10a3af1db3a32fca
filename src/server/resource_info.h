// ResourceInfo: what the embedded server knows of one servable resource, and the catalog of them.
//
// Reads from: the built-in table (resource_catalog.cc), `--resources FILE`, and
// CustomResourceDefinitions created at run time.
// Feeds: routing, discovery, tables, validation and patching in the server.
#ifndef KUBE_SERVER_RESOURCE_INFO_H_
#define KUBE_SERVER_RESOURCE_INFO_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "kube/group_version.h"
#include "kube/status.h"

namespace kube::server {

struct ResourceInfo {
  GroupVersionResource gvr;  // {"apps","v1","deployments"}
  std::string kind;          // "Deployment"
  std::string list_kind;     // "DeploymentList"
  std::string singular;      // "deployment"
  bool namespaced = true;
  std::vector<std::string> short_names;  // {"deploy"}
  std::vector<std::string> categories;   // {"all"}
  std::vector<std::string> verbs = {"create", "delete", "deletecollection", "get",
                                    "list",   "patch",  "update",           "watch"};
  bool has_status = false;  // a `status` subresource: main-resource writes ignore `status`
  bool has_scale = false;   // a `scale` subresource (autoscaling/v1 Scale over spec.replicas)
  // Kinds whose `spec` changes move metadata.generation (most with a spec do).
  bool tracks_generation = false;
  // Name validation: namespaces and services need a DNS-1123 label; most others a subdomain.
  enum class NameRule { kSubdomain, kLabel, kPathSegment } name_rule = NameRule::kSubdomain;
  // Field selectors supported besides metadata.name/metadata.namespace (e.g. "spec.nodeName").
  std::vector<std::string> field_labels;
  // Pods and a few kinds answer DELETE with the object; the rest with a Status (see protocol §3).
  bool delete_returns_object = false;
  // Custom resources: merge keys are unknown, so strategic merge patch answers 415.
  bool is_custom = false;
  // A create-only review kind (access_review.h): a POST is answered, nothing is stored.
  bool review = false;

  std::string api_version() const { return gvr.group_version().ToString(); }
  // "deployments.apps" / "pods": the name in NotFound messages.
  std::string group_resource() const { return gvr.GroupResource(); }
};

using ResourceInfoPtr = std::shared_ptr<const ResourceInfo>;

// Thread-safe registry of servable resources. Lookups are frequent (every request), additions
// rare (a CRD).
class ResourceCatalog {
 public:
  // The built-in kinds: core/v1 namespaces, pods, services, endpoints, configmaps, secrets,
  // nodes, events, serviceaccounts, resourcequotas; apps/v1 deployments, replicasets,
  // statefulsets, daemonsets; the create-only reviews of authentication.k8s.io/v1
  // (selfsubjectreviews, tokenreviews) and authorization.k8s.io/v1 (selfsubjectaccessreviews,
  // selfsubjectrulesreviews, subjectaccessreviews, localsubjectaccessreviews);
  // discovery.k8s.io/v1 endpointslices; batch/v1 jobs, cronjobs;
  // coordination.k8s.io/v1 leases; networking.k8s.io/v1 ingresses; policy/v1
  // poddisruptionbudgets; scheduling.k8s.io/v1 priorityclasses; rbac.authorization.k8s.io/v1
  // roles, rolebindings, clusterroles, clusterrolebindings; apiextensions.k8s.io/v1
  // customresourcedefinitions.
  static std::unique_ptr<ResourceCatalog> WithBuiltins();

  // Adds or replaces (same GVR) a resource.
  void Add(ResourceInfo info) KUBE_EXCLUDES(mu_);
  // Removes a resource (its CRD was deleted). No-op when absent.
  void Remove(const GroupVersionResource& gvr) KUBE_EXCLUDES(mu_);

  ResourceInfoPtr Find(const GroupVersionResource& gvr) const KUBE_EXCLUDES(mu_);
  // By group + version + (plural | singular | short name), as the server's router needs only
  // plural.
  ResourceInfoPtr FindByKind(const GroupVersionKind& gvk) const KUBE_EXCLUDES(mu_);
  std::vector<ResourceInfoPtr> All() const KUBE_EXCLUDES(mu_);
  // Group names with their versions, in preference order; "" is the core group.
  std::vector<GroupVersion> GroupVersions() const KUBE_EXCLUDES(mu_);

  // Parses a resources file (YAML or JSON list of ResourceInfo-shaped entries, see docs/server.md).
  Status LoadFile(const std::string& path);

 private:
  mutable internal::Mutex mu_;
  std::vector<ResourceInfoPtr> resources_ KUBE_GUARDED_BY(mu_);
};

}  // namespace kube::server

#endif  // KUBE_SERVER_RESOURCE_INFO_H_

// ResourceCatalog: the built-in resource table the embedded server serves, and the loader for
// `--resources FILE`.
//
// Reads from: the table below (facts checked against kube-apiserver 1.32's registries: scope,
// short names, categories, verbs, subresources, field-selector labels, which kinds answer DELETE
// with the object) and resources files. Feeds: routing, discovery, tables and patching.
//
// Resources file format (YAML or JSON; yaml-cpp reads both). The top level is either a list of
// entries or a map with a `resources:` list. Each entry:
//
//   - group: example.com          # "" or absent: the core group
//     version: v1                 # required
//     resource: widgets           # required: lowercase plural, the URL segment
//     kind: Widget                # required
//     listKind: WidgetList        # default: kind + "List"
//     singular: widget            # default: lowercase kind
//     namespaced: true            # default: true
//     shortNames: [wd]            # default: none
//     categories: [all]           # default: none
//     verbs: [get, list, watch]   # default: create delete deletecollection get list patch
//                                 #          update watch
//     status: true                # a `status` subresource; default false
//     scale: false                # a `scale` subresource over spec.replicas; default false
//     tracksGeneration: true      # spec changes move metadata.generation; default true
//     nameRule: subdomain         # subdomain | label | pathSegment; default subdomain
//     fieldLabels: [spec.color]   # field selectors beyond metadata.name/namespace
//     deleteReturnsObject: false  # DELETE answers with the object; default false
//     custom: true                # merge keys unknown, so strategic merge patch is 415;
//                                 # default true
//
// Unknown keys and values of the wrong type are errors (they are usually typos). An entry with the
// same group/version/resource as an existing one replaces it. A file is loaded all or nothing.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "server/resource_info.h"

namespace kube::server {
namespace {

using Verbs = std::vector<std::string>;

const Verbs& AllVerbs() {
  static const Verbs v = {"create", "delete", "deletecollection", "get",
                          "list",   "patch",  "update",           "watch"};
  return v;
}

// Builds one built-in entry; the optional fields are then set by the caller.
ResourceInfo Builtin(std::string group, std::string resource, std::string kind,
                     std::string singular, bool namespaced) {
  ResourceInfo r;
  r.gvr = {std::move(group), "v1", std::move(resource)};
  r.list_kind = kind + "List";
  r.kind = std::move(kind);
  r.singular = std::move(singular);
  r.namespaced = namespaced;
  return r;
}

std::vector<ResourceInfo> BuiltinTable() {
  std::vector<ResourceInfo> t;
  using NameRule = ResourceInfo::NameRule;

  // --- core/v1 ---------------------------------------------------------------------------------
  {
    ResourceInfo r = Builtin("", "namespaces", "Namespace", "namespace", false);
    r.short_names = {"ns"};
    // No deletecollection on namespaces (kube-apiserver lacks it).
    r.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
    r.has_status = true;
    r.name_rule = NameRule::kLabel;
    r.field_labels = {"status.phase"};
    r.delete_returns_object = true;
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "pods", "Pod", "pod", true);
    r.short_names = {"po"};
    r.categories = {"all"};
    r.has_status = true;
    r.field_labels = {
        "spec.nodeName",    "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase",       "status.podIP",       "status.nominatedNodeName"};
    r.delete_returns_object = true;
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "services", "Service", "service", true);
    r.short_names = {"svc"};
    r.categories = {"all"};
    r.has_status = true;
    r.name_rule = NameRule::kLabel;
    // 1.31+ selects Services by these two.
    r.field_labels = {"spec.clusterIP", "spec.type"};
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "endpoints", "Endpoints", "endpoints", true);
    r.short_names = {"ep"};
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "configmaps", "ConfigMap", "configmap", true);
    r.short_names = {"cm"};
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "secrets", "Secret", "secret", true);
    r.field_labels = {"type"};
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "nodes", "Node", "node", false);
    r.short_names = {"no"};
    r.has_status = true;
    r.field_labels = {"spec.unschedulable"};
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "events", "Event", "event", true);
    r.short_names = {"ev"};
    r.field_labels = {"involvedObject.kind",
                      "involvedObject.namespace",
                      "involvedObject.name",
                      "involvedObject.uid",
                      "involvedObject.apiVersion",
                      "involvedObject.resourceVersion",
                      "involvedObject.fieldPath",
                      "reason",
                      "reportingComponent",
                      "source",
                      "type"};
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("", "serviceaccounts", "ServiceAccount", "serviceaccount", true);
    r.short_names = {"sa"};
    r.delete_returns_object = true;
    t.push_back(std::move(r));
  }

  {
    ResourceInfo r = Builtin("", "resourcequotas", "ResourceQuota", "resourcequota", true);
    r.short_names = {"quota"};
    r.has_status = true;
    t.push_back(std::move(r));
  }

  // --- apps/v1 ---------------------------------------------------------------------------------
  for (auto [resource, kind, singular, short_name, scale] :
       {std::tuple{"deployments", "Deployment", "deployment", "deploy", true},
        std::tuple{"replicasets", "ReplicaSet", "replicaset", "rs", true},
        std::tuple{"statefulsets", "StatefulSet", "statefulset", "sts", true},
        std::tuple{"daemonsets", "DaemonSet", "daemonset", "ds", false}}) {
    ResourceInfo r = Builtin("apps", resource, kind, singular, true);
    r.short_names = {short_name};
    r.categories = {"all"};
    r.has_status = true;
    r.has_scale = scale;
    r.tracks_generation = true;
    if (r.gvr.resource == "replicasets") r.field_labels = {"status.replicas"};
    t.push_back(std::move(r));
  }

  // --- authentication.k8s.io/v1, authorization.k8s.io/v1 (create-only reviews) -----------------
  for (auto [group, resource, kind, namespaced] :
       {std::tuple{"authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", false},
        std::tuple{"authentication.k8s.io", "tokenreviews", "TokenReview", false},
        std::tuple{"authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview",
                   true},
        std::tuple{"authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
                   false},
        std::tuple{"authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
                   false},
        std::tuple{"authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", false}}) {
    std::string singular(resource);
    singular.pop_back();
    ResourceInfo r = Builtin(group, resource, kind, singular, namespaced);
    r.verbs = {"create"};
    r.review = true;
    t.push_back(std::move(r));
  }

  // --- batch/v1 --------------------------------------------------------------------------------
  {
    ResourceInfo r = Builtin("batch", "jobs", "Job", "job", true);
    r.categories = {"all"};
    r.has_status = true;
    r.tracks_generation = true;
    r.field_labels = {"status.successful"};
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("batch", "cronjobs", "CronJob", "cronjob", true);
    r.short_names = {"cj"};
    r.categories = {"all"};
    r.has_status = true;
    r.tracks_generation = true;
    t.push_back(std::move(r));
  }

  // --- discovery.k8s.io/v1, coordination.k8s.io/v1 ----------------------------------------------
  t.push_back(
      Builtin("discovery.k8s.io", "endpointslices", "EndpointSlice", "endpointslice", true));
  t.push_back(Builtin("coordination.k8s.io", "leases", "Lease", "lease", true));

  // --- networking.k8s.io/v1, policy/v1, scheduling.k8s.io/v1 -----------------------------------
  {
    ResourceInfo r = Builtin("networking.k8s.io", "ingresses", "Ingress", "ingress", true);
    r.short_names = {"ing"};
    r.has_status = true;
    r.tracks_generation = true;
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r = Builtin("policy", "poddisruptionbudgets", "PodDisruptionBudget",
                             "poddisruptionbudget", true);
    r.short_names = {"pdb"};
    r.has_status = true;
    r.tracks_generation = true;
    t.push_back(std::move(r));
  }
  {
    ResourceInfo r =
        Builtin("scheduling.k8s.io", "priorityclasses", "PriorityClass", "priorityclass", false);
    r.short_names = {"pc"};
    t.push_back(std::move(r));
  }

  // --- rbac.authorization.k8s.io/v1 ------------------------------------------------------------
  for (auto [resource, kind, singular, namespaced] :
       {std::tuple{"roles", "Role", "role", true},
        std::tuple{"rolebindings", "RoleBinding", "rolebinding", true},
        std::tuple{"clusterroles", "ClusterRole", "clusterrole", false},
        std::tuple{"clusterrolebindings", "ClusterRoleBinding", "clusterrolebinding", false}}) {
    ResourceInfo r = Builtin("rbac.authorization.k8s.io", resource, kind, singular, namespaced);
    r.name_rule = ResourceInfo::NameRule::kPathSegment;
    t.push_back(std::move(r));
  }

  // --- apiextensions.k8s.io/v1 -----------------------------------------------------------------
  {
    ResourceInfo r = Builtin("apiextensions.k8s.io", "customresourcedefinitions",
                             "CustomResourceDefinition", "customresourcedefinition", false);
    r.short_names = {"crd", "crds"};
    r.categories = {"api-extensions"};
    r.has_status = true;
    r.tracks_generation = true;
    t.push_back(std::move(r));
  }
  for (ResourceInfo& r : t) {
    if (r.verbs.empty()) r.verbs = AllVerbs();
  }
  return t;
}

// Kubernetes' version priority: GA before beta before alpha, higher numbers first; anything that
// does not look like `v<N>[alpha|beta<M>]` sorts after, alphabetically.
struct VersionRank {
  int tier;   // 0 GA, 1 beta, 2 alpha, 3 other
  int major;  // larger first
  int minor;  // larger first
  std::string text;

  static VersionRank Of(const std::string& v) {
    VersionRank r{3, 0, 0, v};
    if (v.size() < 2 || v[0] != 'v' || !std::isdigit(static_cast<unsigned char>(v[1]))) return r;
    size_t i = 1;
    int major = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && major < 100000) {
      major = major * 10 + (v[i++] - '0');
    }
    if (i == v.size()) return {0, major, 0, v};
    std::string_view rest(v);
    rest.remove_prefix(i);
    int tier = 3;
    if (rest.starts_with("beta")) {
      tier = 1;
      rest.remove_prefix(4);
    } else if (rest.starts_with("alpha")) {
      tier = 2;
      rest.remove_prefix(5);
    } else {
      return r;
    }
    if (rest.empty()) return r;
    int minor = 0;
    for (char c : rest) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || minor > 100000) return r;
      minor = minor * 10 + (c - '0');
    }
    return {tier, major, minor, v};
  }
  bool operator<(const VersionRank& o) const {
    if (tier != o.tier) return tier < o.tier;
    if (major != o.major) return major > o.major;
    if (minor != o.minor) return minor > o.minor;
    return text < o.text;
  }
};

// --- resources file parsing ---------------------------------------------------------------------

Result<std::string> ScalarField(const YAML::Node& n, const char* key) {
  if (!n.IsScalar()) return InvalidArgumentError(std::string(key) + ": want a string");
  return n.as<std::string>();
}

Result<bool> BoolField(const YAML::Node& n, const char* key) {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
    return InvalidArgumentError(std::string(key) + ": want true or false");
  }
  return b;
}

Result<std::vector<std::string>> ListField(const YAML::Node& n, const char* key) {
  if (n.IsNull()) return std::vector<std::string>{};
  if (!n.IsSequence()) return InvalidArgumentError(std::string(key) + ": want a list of strings");
  std::vector<std::string> out;
  for (const YAML::Node& e : n) {
    if (!e.IsScalar()) return InvalidArgumentError(std::string(key) + ": want a list of strings");
    out.push_back(e.as<std::string>());
  }
  return out;
}

Result<ResourceInfo> ParseEntry(const YAML::Node& e) {
  if (!e.IsMap()) return InvalidArgumentError("want a map");
  ResourceInfo r;
  r.is_custom = true;
  r.tracks_generation = true;
  bool has_list_kind = false, has_singular = false;
  for (const auto& kv : e) {
    if (!kv.first.IsScalar()) return InvalidArgumentError("keys must be strings");
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    auto str = [&](std::string& out) -> Status {
      Result<std::string> s = ScalarField(v, key.c_str());
      if (!s) return s.error();
      out = *std::move(s);
      return Status::Ok();
    };
    auto flag = [&](bool& out) -> Status {
      Result<bool> b = BoolField(v, key.c_str());
      if (!b) return b.error();
      out = *b;
      return Status::Ok();
    };
    auto list = [&](std::vector<std::string>& out) -> Status {
      Result<std::vector<std::string>> l = ListField(v, key.c_str());
      if (!l) return l.error();
      out = *std::move(l);
      return Status::Ok();
    };
    Status s;
    if (key == "group") {
      s = v.IsNull() ? Status::Ok() : str(r.gvr.group);
    } else if (key == "version") {
      s = str(r.gvr.version);
    } else if (key == "resource") {
      s = str(r.gvr.resource);
    } else if (key == "kind") {
      s = str(r.kind);
    } else if (key == "listKind") {
      s = str(r.list_kind);
      has_list_kind = true;
    } else if (key == "singular") {
      s = str(r.singular);
      has_singular = true;
    } else if (key == "namespaced") {
      s = flag(r.namespaced);
    } else if (key == "shortNames") {
      s = list(r.short_names);
    } else if (key == "categories") {
      s = list(r.categories);
    } else if (key == "verbs") {
      s = list(r.verbs);
    } else if (key == "status") {
      s = flag(r.has_status);
    } else if (key == "scale") {
      s = flag(r.has_scale);
    } else if (key == "tracksGeneration") {
      s = flag(r.tracks_generation);
    } else if (key == "fieldLabels") {
      s = list(r.field_labels);
    } else if (key == "deleteReturnsObject") {
      s = flag(r.delete_returns_object);
    } else if (key == "custom") {
      s = flag(r.is_custom);
    } else if (key == "nameRule") {
      std::string rule;
      s = str(rule);
      if (s.ok()) {
        if (rule == "subdomain") {
          r.name_rule = ResourceInfo::NameRule::kSubdomain;
        } else if (rule == "label") {
          r.name_rule = ResourceInfo::NameRule::kLabel;
        } else if (rule == "pathSegment") {
          r.name_rule = ResourceInfo::NameRule::kPathSegment;
        } else {
          s = InvalidArgumentError("nameRule: want subdomain, label or pathSegment, got \"" + rule +
                                   "\"");
        }
      }
    } else {
      s = InvalidArgumentError("unknown key \"" + key + "\"");
    }
    if (!s.ok()) return s;
  }
  if (r.gvr.version.empty()) return InvalidArgumentError("missing \"version\"");
  if (r.gvr.resource.empty()) return InvalidArgumentError("missing \"resource\"");
  if (r.kind.empty()) return InvalidArgumentError("missing \"kind\"");
  if (r.gvr.resource != internal::AsciiLower(r.gvr.resource) ||
      r.gvr.resource.find('/') != std::string::npos) {
    return InvalidArgumentError("resource \"" + r.gvr.resource +
                                "\" must be lowercase without '/'");
  }
  if (!has_list_kind) r.list_kind = r.kind + "List";
  if (!has_singular) r.singular = internal::AsciiLower(r.kind);
  return r;
}

}  // namespace

std::unique_ptr<ResourceCatalog> ResourceCatalog::WithBuiltins() {
  auto catalog = std::make_unique<ResourceCatalog>();
  for (ResourceInfo& r : BuiltinTable()) catalog->Add(std::move(r));
  return catalog;
}

void ResourceCatalog::Add(ResourceInfo info) {
  auto ptr = std::make_shared<const ResourceInfo>(std::move(info));
  internal::MutexLock lock(mu_);
  for (ResourceInfoPtr& r : resources_) {
    if (r->gvr == ptr->gvr) {
      r = std::move(ptr);
      return;
    }
  }
  resources_.push_back(std::move(ptr));
}

void ResourceCatalog::Remove(const GroupVersionResource& gvr) {
  internal::MutexLock lock(mu_);
  std::erase_if(resources_, [&](const ResourceInfoPtr& r) { return r->gvr == gvr; });
}

ResourceInfoPtr ResourceCatalog::Find(const GroupVersionResource& gvr) const {
  internal::MutexLock lock(mu_);
  for (const ResourceInfoPtr& r : resources_) {
    if (r->gvr == gvr) return r;
  }
  return nullptr;
}

ResourceInfoPtr ResourceCatalog::FindByKind(const GroupVersionKind& gvk) const {
  internal::MutexLock lock(mu_);
  for (const ResourceInfoPtr& r : resources_) {
    if (r->gvr.group == gvk.group && r->gvr.version == gvk.version && r->kind == gvk.kind) {
      return r;
    }
  }
  return nullptr;
}

std::vector<ResourceInfoPtr> ResourceCatalog::All() const {
  internal::MutexLock lock(mu_);
  return resources_;
}

std::vector<GroupVersion> ResourceCatalog::GroupVersions() const {
  // Groups in order of first appearance (the core group first when present), versions within
  // a group by Kubernetes' version priority.
  std::vector<std::string> groups;
  std::map<std::string, std::set<VersionRank>> versions;
  {
    internal::MutexLock lock(mu_);
    for (const ResourceInfoPtr& r : resources_) {
      if (std::find(groups.begin(), groups.end(), r->gvr.group) == groups.end()) {
        groups.push_back(r->gvr.group);
      }
      versions[r->gvr.group].insert(VersionRank::Of(r->gvr.version));
    }
  }
  std::stable_partition(groups.begin(), groups.end(),
                        [](const std::string& g) { return g.empty(); });
  std::vector<GroupVersion> out;
  for (const std::string& g : groups) {
    for (const VersionRank& v : versions[g]) out.push_back({g, v.text});
  }
  return out;
}

Status ResourceCatalog::LoadFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFoundError("resources file " + path + ": cannot open");
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("resources file " + path + ": " + e.what());
  }
  std::vector<ResourceInfo> parsed;
  try {
    YAML::Node list = root;
    if (root.IsMap()) {
      if (root.size() != 1 || !root["resources"]) {
        return InvalidArgumentError("resources file " + path +
                                    ": want a list, or a map with only \"resources\"");
      }
      list = root["resources"];
    }
    if (list.IsNull()) return Status::Ok();
    if (!list.IsSequence()) {
      return InvalidArgumentError("resources file " + path + ": want a list of resources");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      Result<ResourceInfo> r = ParseEntry(list[i]);
      if (!r) {
        return r.error().WithContext("resources file " + path + ": resources[" + std::to_string(i) +
                                     "]");
      }
      parsed.push_back(*std::move(r));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("resources file " + path + ": " + e.what());
  }
  for (ResourceInfo& r : parsed) Add(std::move(r));
  return Status::Ok();
}

}  // namespace kube::server

// Discovery (`/version`, `/api`, `/apis`, per-group-version resource lists, aggregated v2) and
// the minimal OpenAPI v3 documents kubectl reads before it acts.
//
// Reads from: the ResourceCatalog. Feeds: the router.
// client-go discovery_client.go,
// openapi3/root.go, cli-runtime query_param_verifier_v3.go and kubectl apply/patcher.go are the
// consumers whose expectations shape these documents.
#include "server/discovery.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/strings.h"

namespace kube::server {
namespace {

using internal::kOptionalWhitespace;
using internal::Trim;

using json = nlohmann::json;

const std::vector<std::string>& SubresourceVerbs() {
  static const std::vector<std::string> v = {"get", "patch", "update"};
  return v;
}

std::vector<ResourceInfoPtr> ResourcesOf(const ResourceCatalog& catalog, const GroupVersion& gv) {
  std::vector<ResourceInfoPtr> out;
  for (ResourceInfoPtr& r : catalog.All()) {
    if (r->gvr.group == gv.group && r->gvr.version == gv.version) out.push_back(std::move(r));
  }
  return out;
}

bool HasGroupVersion(const ResourceCatalog& catalog, const GroupVersion& gv) {
  for (const GroupVersion& g : catalog.GroupVersions()) {
    if (g == gv) return true;
  }
  return false;
}

json GroupVersionForDiscovery(const GroupVersion& gv) {
  return {{"groupVersion", gv.ToString()}, {"version", gv.version}};
}

// Groups other than the core one, each with its versions in preference order.
std::vector<std::pair<std::string, std::vector<std::string>>> NamedGroups(
    const ResourceCatalog& catalog) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const GroupVersion& gv : catalog.GroupVersions()) {
    if (gv.group.empty()) continue;
    if (groups.empty() || groups.back().first != gv.group) groups.push_back({gv.group, {}});
    groups.back().second.push_back(gv.version);
  }
  return groups;
}

// The `application/json` media type and its parameters, from one entry of an Accept header.
struct MediaType {
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;

  std::string Param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return v;
    }
    return "";
  }
};

std::vector<MediaType> ParseAccept(std::string_view accept) {
  std::vector<MediaType> out;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string_view entry = accept.substr(pos, comma - pos);
    MediaType m;
    size_t p = 0;
    bool first = true;
    while (p <= entry.size()) {
      size_t semi = entry.find(';', p);
      if (semi == std::string_view::npos) semi = entry.size();
      std::string part(Trim(entry.substr(p, semi - p), kOptionalWhitespace));
      if (first) {
        m.type = part;
        first = false;
      } else if (size_t eq = part.find('='); eq != std::string::npos) {
        m.params.emplace_back(Trim(std::string_view(part).substr(0, eq), kOptionalWhitespace),
                              Trim(std::string_view(part).substr(eq + 1), kOptionalWhitespace));
      }
      p = semi + 1;
    }
    out.push_back(std::move(m));
    pos = comma + 1;
  }
  return out;
}

json GvkJson(std::string_view group, std::string_view version, std::string_view kind) {
  return {{"group", group}, {"version", version}, {"kind", kind}};
}

// FNV-1a, 64 bits, in hex: a content hash for `serverRelativeURL`, so that kubectl's OpenAPI
// cache (keyed by URL) notices when a CRD changes a group-version's document.
std::string ContentHash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(h));
  return buf;
}

std::string GvPath(const GroupVersion& gv) {
  return gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
}

json QueryParam(std::string_view name, std::string_view description) {
  return {{"name", name},
          {"in", "query"},
          {"description", description},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

json PathParam(std::string_view name, std::string_view description) {
  return {{"name", name},
          {"in", "path"},
          {"required", true},
          {"description", description},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

json WriteParams(bool patch) {
  json p = json::array();
  p.push_back(QueryParam("dryRun", "When present, changes are not persisted (only All)."));
  p.push_back(QueryParam("fieldManager", "Name of the actor making the change."));
  // The parameter kubectl's --validate=strict looks for on each kind's PATCH operation.
  p.push_back(QueryParam("fieldValidation",
                         "How to treat unknown or duplicate fields: Ignore, Warn or Strict."));
  if (patch) p.push_back(QueryParam("force", "Server-side apply only; not supported here."));
  return p;
}

json JsonBody() {
  return {{"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
}

json PatchBody(bool strategic) {
  json content = json::object();
  content["application/json-patch+json"] = {{"schema", {{"type", "object"}}}};
  content["application/merge-patch+json"] = {{"schema", {{"type", "object"}}}};
  // Built-in kinds list strategic merge; kubectl then computes its apply patch from its compiled-in
  // types (our documents carry no schemas with merge keys).
  if (strategic)
    content["application/strategic-merge-patch+json"] = {{"schema", {{"type", "object"}}}};
  return {{"content", content}};
}

json Responses() {
  return {{"200", {{"description", "OK"}}}, {"401", {{"description", "Unauthorized"}}}};
}

json Operation(std::string_view action, const json& gvk, std::string_view id) {
  return {{"operationId", id},
          {"x-kubernetes-action", action},
          {"x-kubernetes-group-version-kind", gvk},
          {"responses", Responses()}};
}

// Paths for one resource: collection, item, and the `status` / `scale` subresources.
void AddResourcePaths(const ResourceInfo& r, json& paths) {
  const std::string prefix = "/" + GvPath(r.gvr.group_version());
  const std::string scope = r.namespaced ? "/namespaces/{namespace}" : "";
  const std::string collection = prefix + scope + "/" + r.gvr.resource;
  const std::string item = collection + "/{name}";
  const json gvk = GvkJson(r.gvr.group, r.gvr.version, r.kind);
  auto has = [&](std::string_view verb) {
    return std::find(r.verbs.begin(), r.verbs.end(), verb) != r.verbs.end();
  };
  json common = json::array();
  if (r.namespaced) common.push_back(PathParam("namespace", "object name and auth scope"));

  json coll = json::object();
  if (has("list")) coll["get"] = Operation("list", gvk, "list" + r.kind);
  if (has("create")) {
    json op = Operation("post", gvk, "create" + r.kind);
    op["parameters"] = WriteParams(false);
    op["requestBody"] = JsonBody();
    coll["post"] = op;
  }
  if (has("deletecollection")) {
    coll["delete"] = Operation("deletecollection", gvk, "deletecollection" + r.kind);
  }
  if (!coll.empty()) {
    coll["parameters"] = common;
    paths[collection] = coll;
  }

  json item_params = common;
  item_params.push_back(PathParam("name", "name of the object"));
  auto item_ops = [&](const json& op_gvk, std::string_view suffix, bool strategic) {
    json p = json::object();
    std::string name = r.kind + std::string(suffix);
    if (has("get")) p["get"] = Operation("get", op_gvk, "read" + name);
    if (has("update")) {
      json op = Operation("put", op_gvk, "replace" + name);
      op["parameters"] = WriteParams(false);
      op["requestBody"] = JsonBody();
      p["put"] = op;
    }
    if (has("patch")) {
      json op = Operation("patch", op_gvk, "patch" + name);
      op["parameters"] = WriteParams(true);
      op["requestBody"] = PatchBody(strategic);
      p["patch"] = op;
    }
    p["parameters"] = item_params;
    return p;
  };
  json main = item_ops(gvk, "", !r.is_custom);
  if (has("delete")) main["delete"] = Operation("delete", gvk, "delete" + r.kind);
  paths[item] = main;
  if (r.has_status) paths[item + "/status"] = item_ops(gvk, "Status", !r.is_custom);
  if (r.has_scale) {
    paths[item + "/scale"] = item_ops(GvkJson("autoscaling", "v1", "Scale"), "Scale", true);
  }
}

}  // namespace

std::string VersionJson() {
#if defined(__x86_64__)
  constexpr const char* kArch = "amd64";
#elif defined(__aarch64__)
  constexpr const char* kArch = "arm64";
#else
  constexpr const char* kArch = "unknown";
#endif
  // kubectl compares major/minor with its own for the version-skew warning; we claim the
  // release whose API behaviour the server follows.
  json v = {{"major", "1"},
            {"minor", "32"},
            {"gitVersion", "v1.32.0"},
            {"gitCommit", "kube-informer"},
            {"gitTreeState", "clean"},
            {"buildDate", "2024-12-11T00:00:00Z"},
            {"goVersion", "none (kube-informer embedded server, C++)"},
            {"compiler", "gcc"},
            {"platform", std::string("linux/") + kArch}};
  return v.dump();
}

std::string CoreApiVersionsJson(std::string_view server_address) {
  json v = {{"kind", "APIVersions"},
            {"versions", {"v1"}},
            {"serverAddressByClientCIDRs",
             {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
  return v.dump();
}

std::string ApiGroupListJson(const ResourceCatalog& catalog) {
  json groups = json::array();
  for (const auto& [group, versions] : NamedGroups(catalog)) {
    json vs = json::array();
    for (const std::string& v : versions) vs.push_back(GroupVersionForDiscovery({group, v}));
    groups.push_back({{"name", group},
                      {"versions", vs},
                      {"preferredVersion", GroupVersionForDiscovery({group, versions.front()})}});
  }
  json list = {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
  return list.dump();
}

Result<std::string> ApiResourceListJson(const ResourceCatalog& catalog, const GroupVersion& gv) {
  std::vector<ResourceInfoPtr> resources = ResourcesOf(catalog, gv);
  if (resources.empty()) {
    return StatusFromHttp(
        404, "NotFound",
        "the server could not find the requested resource (" + gv.ToString() + ")");
  }
  json list = json::array();
  for (const ResourceInfoPtr& r : resources) {
    json e = {{"name", r->gvr.resource},
              {"singularName", r->singular},
              {"namespaced", r->namespaced},
              {"kind", r->kind},
              {"verbs", r->verbs}};
    if (!r->short_names.empty()) e["shortNames"] = r->short_names;
    if (!r->categories.empty()) e["categories"] = r->categories;
    list.push_back(std::move(e));
    if (r->has_scale) {
      list.push_back({{"name", r->gvr.resource + "/scale"},
                      {"singularName", ""},
                      {"namespaced", r->namespaced},
                      {"group", "autoscaling"},
                      {"version", "v1"},
                      {"kind", "Scale"},
                      {"verbs", SubresourceVerbs()}});
    }
    if (r->has_status) {
      list.push_back({{"name", r->gvr.resource + "/status"},
                      {"singularName", ""},
                      {"namespaced", r->namespaced},
                      {"kind", r->kind},
                      {"verbs", SubresourceVerbs()}});
    }
  }
  json doc = {{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", gv.ToString()},
              {"resources", list}};
  return doc.dump();
}

std::string AggregatedDiscoveryJson(const ResourceCatalog& catalog, bool core) {
  // One item per group; within it one entry per version, in preference order.
  json items = json::array();
  std::string current_group;
  bool have_group = false;
  for (const GroupVersion& gv : catalog.GroupVersions()) {
    if (gv.group.empty() != core) continue;
    if (!have_group || gv.group != current_group) {
      json meta = json::object();
      meta["name"] = gv.group;
      meta["creationTimestamp"] = nullptr;
      items.push_back({{"metadata", meta}, {"versions", json::array()}});
      current_group = gv.group;
      have_group = true;
    }
    json resources = json::array();
    for (const ResourceInfoPtr& r : ResourcesOf(catalog, gv)) {
      json e = {{"resource", r->gvr.resource},
                {"responseKind", GvkJson(r->gvr.group, r->gvr.version, r->kind)},
                {"scope", r->namespaced ? "Namespaced" : "Cluster"},
                {"singularResource", r->singular},
                {"verbs", r->verbs}};
      if (!r->short_names.empty()) e["shortNames"] = r->short_names;
      if (!r->categories.empty()) e["categories"] = r->categories;
      json subs = json::array();
      if (r->has_scale) {
        subs.push_back({{"subresource", "scale"},
                        {"responseKind", GvkJson("autoscaling", "v1", "Scale")},
                        {"verbs", SubresourceVerbs()}});
      }
      if (r->has_status) {
        subs.push_back({{"subresource", "status"},
                        {"responseKind", GvkJson(r->gvr.group, r->gvr.version, r->kind)},
                        {"verbs", SubresourceVerbs()}});
      }
      if (!subs.empty()) e["subresources"] = subs;
      resources.push_back(std::move(e));
    }
    items.back()["versions"].push_back(
        {{"version", gv.version}, {"resources", resources}, {"freshness", "Current"}});
  }
  json doc = {{"kind", "APIGroupDiscoveryList"},
              {"apiVersion", "apidiscovery.k8s.io/v2"},
              {"metadata", json::object()},
              {"items", items}};
  return doc.dump();
}

bool AcceptsAggregatedDiscovery(std::string_view accept) {
  for (const MediaType& m : ParseAccept(accept)) {
    if (m.type == "application/json" && m.Param("g") == "apidiscovery.k8s.io" &&
        m.Param("v") == "v2" && m.Param("as") == "APIGroupDiscoveryList") {
      return true;
    }
  }
  return false;
}

std::string OpenApiV3RootJson(const ResourceCatalog& catalog) {
  json paths = json::object();
  for (const GroupVersion& gv : catalog.GroupVersions()) {
    const std::string path = GvPath(gv);
    Result<std::string> doc = OpenApiV3GroupVersionJson(catalog, path);
    if (!doc) continue;  // removed concurrently
    paths[path] = {{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + ContentHash(*doc)}};
  }
  return json{{"paths", paths}}.dump();
}

Result<std::string> OpenApiV3GroupVersionJson(const ResourceCatalog& catalog,
                                              std::string_view gv_path) {
  // "api/v1" or "apis/GROUP/VERSION"; a trailing query string (the hash) is the caller's.
  GroupVersion gv;
  if (gv_path.starts_with("api/")) {
    gv.version = std::string(gv_path.substr(4));
  } else if (gv_path.starts_with("apis/")) {
    std::string_view rest = gv_path.substr(5);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      return StatusFromHttp(404, "NotFound", "no OpenAPI document at " + std::string(gv_path));
    }
    gv.group = std::string(rest.substr(0, slash));
    gv.version = std::string(rest.substr(slash + 1));
  }
  if (gv.version.empty() || gv.version.find('/') != std::string::npos ||
      !HasGroupVersion(catalog, gv)) {
    return StatusFromHttp(404, "NotFound", "no OpenAPI document at " + std::string(gv_path));
  }
  json paths = json::object();
  for (const ResourceInfoPtr& r : ResourcesOf(catalog, gv)) AddResourcePaths(*r, paths);
  json doc = {{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              // Present but without kind schemas: kubectl apply then finds no OpenAPI schema for
              // the kind and falls back to its compiled-in types, silently.
              {"components", {{"schemas", json::object()}}}};
  return doc.dump();
}

}  // namespace kube::server

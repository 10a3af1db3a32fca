// DiscoveryClient: plain discovery documents and the name-to-resource mapping over them.
//
// Reads from: HttpClient. Feeds: users and `kinf`.
// client-go: discovery/discovery_client.go, restmapper/{discovery.go,shortcut.go}.
#include "kube/client/discovery.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>

#include "base/mutex.h"
#include "base/strings.h"
#include "base/thread_annotations.h"
#include "kube/client/rest_client.h"

namespace kube {
namespace {

using internal::Mutex;
using internal::MutexLock;

Result<std::string> GetBody(HttpClient& http, const std::string& path) {
  HttpRequest req;
  req.path = path;
  Result<HttpResponse> resp = http.Do(req);
  if (!resp) return resp.error();
  if (resp->status < 200 || resp->status >= 300) {
    return StatusFromResponse(*resp, "GET " + path);
  }
  return std::move(resp->body);
}

Status Malformed(const std::string& path, std::string_view what) {
  return DataLossError("decoding discovery document " + path + ": " + std::string(what));
}

std::string Str(simdjson::dom::element e, std::string_view key) {
  std::string_view v;
  if (e[key].get(v) == simdjson::SUCCESS) return std::string(v);
  return "";
}

std::vector<std::string> StrList(simdjson::dom::element e, std::string_view key) {
  std::vector<std::string> out;
  simdjson::dom::array a;
  if (e[key].get(a) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element x : a) {
    std::string_view v;
    if (x.get(v) == simdjson::SUCCESS) out.emplace_back(v);
  }
  return out;
}

}  // namespace

struct DiscoveryClient::Impl {
  std::shared_ptr<HttpClient> http;
  Mutex mu;
  // Cached for ResourceFor.
  std::optional<std::vector<ApiGroup>> groups KUBE_GUARDED_BY(mu);
  std::map<GroupVersion, std::vector<ApiResource>> resources KUBE_GUARDED_BY(mu);
};

DiscoveryClient::DiscoveryClient(std::shared_ptr<HttpClient> http) : impl_(new Impl) {
  impl_->http = std::move(http);
}
DiscoveryClient::~DiscoveryClient() = default;

Result<VersionInfo> DiscoveryClient::ServerVersion() const {
  const std::string path = "/version";
  Result<std::string> body = GetBody(*impl_->http, path);
  if (!body) return body.error();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Malformed(path, "not a JSON object");
  }
  return VersionInfo{Str(doc, "major"), Str(doc, "minor"), Str(doc, "gitVersion"),
                     Str(doc, "platform")};
}

Result<std::vector<ApiGroup>> DiscoveryClient::ServerGroups() const {
  std::vector<ApiGroup> groups;
  simdjson::dom::parser parser;
  // The core group: `/api` lists its versions. A server without it answers 404; that is fine.
  {
    const std::string path = "/api";
    Result<std::string> body = GetBody(*impl_->http, path);
    if (body) {
      simdjson::dom::element doc;
      if (parser.parse(*body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
        return Malformed(path, "not a JSON object");
      }
      ApiGroup core;
      core.versions = StrList(doc, "versions");
      if (!core.versions.empty()) {
        core.preferred_version = core.versions.front();
        groups.push_back(std::move(core));
      }
    } else if (!IsNotFound(body.error())) {
      return body.error();
    }
  }
  const std::string path = "/apis";
  Result<std::string> body = GetBody(*impl_->http, path);
  if (!body) return body.error();
  simdjson::dom::element doc;
  simdjson::dom::array list;
  if (parser.parse(*body).get(doc) != simdjson::SUCCESS ||
      doc["groups"].get(list) != simdjson::SUCCESS) {
    return Malformed(path, "no \"groups\" array");
  }
  for (simdjson::dom::element g : list) {
    ApiGroup group;
    group.name = Str(g, "name");
    simdjson::dom::array versions;
    if (g["versions"].get(versions) == simdjson::SUCCESS) {
      for (simdjson::dom::element v : versions) group.versions.push_back(Str(v, "version"));
    }
    simdjson::dom::element preferred;
    if (g["preferredVersion"].get(preferred) == simdjson::SUCCESS) {
      group.preferred_version = Str(preferred, "version");
    }
    if (group.preferred_version.empty() && !group.versions.empty()) {
      group.preferred_version = group.versions.front();
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

Result<std::vector<ApiResource>> DiscoveryClient::ServerResourcesForGroupVersion(
    const GroupVersion& gv) const {
  const std::string path = gv.ApiPrefix();
  Result<std::string> body = GetBody(*impl_->http, path);
  if (!body) return body.error();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array list;
  if (parser.parse(*body).get(doc) != simdjson::SUCCESS ||
      doc["resources"].get(list) != simdjson::SUCCESS) {
    return Malformed(path, "no \"resources\" array");
  }
  std::vector<ApiResource> out;
  for (simdjson::dom::element r : list) {
    ApiResource res;
    res.name = Str(r, "name");
    res.singular_name = Str(r, "singularName");
    bool namespaced = false;
    if (r["namespaced"].get(namespaced) == simdjson::SUCCESS) res.namespaced = namespaced;
    res.kind = Str(r, "kind");
    res.group = Str(r, "group");
    res.version = Str(r, "version");
    if (res.version.empty()) {
      res.group = gv.group;
      res.version = gv.version;
    }
    res.verbs = StrList(r, "verbs");
    res.short_names = StrList(r, "shortNames");
    res.categories = StrList(r, "categories");
    out.push_back(std::move(res));
  }
  return out;
}

void DiscoveryClient::Invalidate() {
  MutexLock l(impl_->mu);
  impl_->groups.reset();
  impl_->resources.clear();
}

Result<ResourceMapping> DiscoveryClient::ResourceFor(std::string_view name) {
  // "deployments.v1.apps" -> token "deployments", qualifier "v1.apps".
  std::string_view token = name;
  std::string_view qualifier;
  if (size_t dot = name.find('.'); dot != std::string_view::npos) {
    token = name.substr(0, dot);
    qualifier = name.substr(dot + 1);
  }
  if (token.empty()) return InvalidArgumentError("empty resource name");
  const std::string lower = internal::AsciiLower(token);

  std::vector<ApiGroup> groups;
  {
    MutexLock l(impl_->mu);
    if (impl_->groups) groups = *impl_->groups;
  }
  if (groups.empty()) {
    Result<std::vector<ApiGroup>> fetched = ServerGroups();
    if (!fetched) return fetched.error();
    groups = *fetched;
    MutexLock l(impl_->mu);
    impl_->groups = groups;
  }

  // The group-versions to search, in priority order, given the qualifier.
  std::vector<GroupVersion> candidates;
  for (const ApiGroup& g : groups) {
    if (qualifier.empty()) {
      candidates.push_back({g.name, g.preferred_version});
      continue;
    }
    if (qualifier == g.name) {
      candidates.push_back({g.name, g.preferred_version});
      continue;
    }
    // "v1.apps", or "v1" alone for the core group.
    for (const std::string& v : g.versions) {
      if (qualifier == (g.name.empty() ? v : v + "." + g.name)) candidates.push_back({g.name, v});
    }
  }

  for (const GroupVersion& gv : candidates) {
    std::vector<ApiResource> resources;
    bool cached = false;
    {
      MutexLock l(impl_->mu);
      if (auto it = impl_->resources.find(gv); it != impl_->resources.end()) {
        resources = it->second;
        cached = true;
      }
    }
    if (!cached) {
      Result<std::vector<ApiResource>> fetched = ServerResourcesForGroupVersion(gv);
      if (!fetched) return fetched.error();
      resources = *fetched;
      MutexLock l(impl_->mu);
      impl_->resources[gv] = resources;
    }
    for (const ApiResource& r : resources) {
      if (r.name.find('/') != std::string::npos) continue;  // subresources are not arguments
      bool match =
          r.name == lower || r.singular_name == lower || internal::AsciiLower(r.kind) == lower ||
          std::find(r.short_names.begin(), r.short_names.end(), lower) != r.short_names.end();
      if (!match) continue;
      return ResourceMapping{
          {gv.group, gv.version, r.name}, {gv.group, gv.version, r.kind}, r.namespaced};
    }
  }
  return NotFoundError("the server doesn't have a resource type \"" + std::string(name) + "\"");
}

}  // namespace kube

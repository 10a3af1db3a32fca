// OpenAPI v3 documents: embedded built-in ones and CRD-built ones; see openapi.h.
//
// Reads from: the router and server-side apply. Feeds: kubectl (explain, validation).
#include "server/openapi.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <utility>

#include "base/mutex.h"
#include "server/discovery.h"
#include "server/embedded_file.h"
#include "server/object_json.h"

namespace kube::server {
namespace {

using nlohmann::json;

const GroupVersionResource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions"};

// The metadata schemas a CRD document carries, copied from the core document.
constexpr const char* kMetaSchemas[] = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
};

constexpr std::string_view kApiVersionDoc =
    "APIVersion defines the versioned schema of this representation of an object. Servers should "
    "convert recognized schemas to the latest internal value, and may reject unrecognized values. "
    "More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#resources";
constexpr std::string_view kKindDoc =
    "Kind is a string value representing the REST resource this object represents. Servers may "
    "infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#types-kinds";
constexpr std::string_view kMetadataDoc =
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
constexpr std::string_view kListMetadataDoc =
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#types-kinds";

std::string Sha512Hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha512(), nullptr);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

// gzip -> bytes; nullopt when the data is not a whole gzip stream.
std::optional<std::string> Gunzip(const unsigned char* data, size_t size) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  zs.next_in = const_cast<unsigned char*>(data);
  zs.avail_in = static_cast<uInt>(size);
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<unsigned char*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

struct Cache {
  internal::Mutex mu;
  std::map<std::string, std::shared_ptr<const OpenApiDocument>, std::less<>> docs
      KUBE_GUARDED_BY(mu);
  std::map<std::string, std::shared_ptr<const json>, std::less<>> parsed KUBE_GUARDED_BY(mu);
  // "api/v1|Pod" -> the kind's schema in the parsed document (null: none).
  std::map<std::string, const json*, std::less<>> roots KUBE_GUARDED_BY(mu);
};

Cache& TheCache() {
  static Cache* cache = new Cache;  // never destroyed: used by server threads until exit
  return *cache;
}

std::string FileNameOf(std::string_view path) {
  std::string name;
  for (char c : path) {
    if (c == '/') {
      name += "__";
    } else {
      name += c;
    }
  }
  return name + ".json.gz";
}

std::string GvPathOf(const GroupVersion& gv) {
  return gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
}

// "wire.example.com" -> "com.example.wire", as CRD schema names spell the group.
std::string ReversedGroup(std::string_view group) {
  std::string out;
  while (!group.empty()) {
    size_t dot = group.rfind('.');
    std::string_view part = dot == std::string_view::npos ? group : group.substr(dot + 1);
    if (!out.empty()) out += '.';
    out += part;
    group = dot == std::string_view::npos ? std::string_view() : group.substr(0, dot);
  }
  return out;
}

json StringProp(std::string_view doc) { return {{"description", doc}, {"type", "string"}}; }

json RefProp(std::string_view doc, std::string_view schema) {
  return {{"description", doc},
          {"allOf", json::array({{{"$ref", "#/components/schemas/" + std::string(schema)}}})}};
}

// The custom resources' document of `gv`, or nullopt when no stored CRD serves it. Without a
// catalog it has no paths (enough for its schemas).
std::optional<json> CrdDocument(const ResourceCatalog* catalog, const Storage& storage,
                                const GroupVersion& gv) {
  ApiOr<Storage::ListPage> crds = storage.List(kCrds, {});
  if (!crds.ok()) return std::nullopt;
  json schemas = json::object();
  for (const ObjectPtr& obj : crds->items) {
    json crd = ToJson(*obj);
    const json spec = crd.value("spec", json::object());
    if (!spec.is_object() || StringAt(spec, "group") != gv.group) continue;
    const json names = spec.value("names", json::object());
    std::string kind = StringAt(names, "kind");
    std::string list_kind = StringAt(names, "listKind");
    if (list_kind.empty()) list_kind = kind + "List";
    for (const json& v : spec.value("versions", json::array())) {
      if (!v.is_object() || StringAt(v, "name") != gv.version || !v.value("served", false)) {
        continue;
      }
      json s = json::object();
      if (auto sc = v.find("schema"); sc != v.end() && sc->is_object()) {
        s = sc->value("openAPIV3Schema", json::object());
      }
      if (!s.is_object()) s = json::object();
      if (!s.contains("type")) s["type"] = "object";
      json& props = s["properties"];
      if (!props.is_object()) props = json::object();
      props["apiVersion"] = StringProp(kApiVersionDoc);
      props["kind"] = StringProp(kKindDoc);
      props["metadata"] = RefProp(kMetadataDoc, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
      s["x-kubernetes-group-version-kind"] =
          json::array({{{"group", gv.group}, {"kind", kind}, {"version", gv.version}}});
      std::string name = ReversedGroup(gv.group) + "." + gv.version + "." + kind;
      json list = {
          {"description", list_kind + " is a list of " + kind},
          {"type", "object"},
          {"required", json::array({"items"})},
          {"properties",
           {{"apiVersion", StringProp(kApiVersionDoc)},
            {"items",
             {{"description", "List of " + StringAt(names, "plural") +
                                  ". More info: https://git.k8s.io/community/contributors/devel/"
                                  "sig-architecture/api-conventions.md"},
              {"type", "array"},
              {"items", {{"$ref", "#/components/schemas/" + name}}}}},
            {"kind", StringProp(kKindDoc)},
            {"metadata",
             RefProp(kListMetadataDoc, "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")}}},
          {"x-kubernetes-group-version-kind",
           json::array({{{"group", gv.group}, {"kind", list_kind}, {"version", gv.version}}})}};
      schemas[name] = std::move(s);
      schemas[name + "List"] = std::move(list);
    }
  }
  if (schemas.empty()) return std::nullopt;
  if (std::shared_ptr<const json> core = BuiltInOpenApiJson("api/v1")) {
    const json& defs = (*core)["components"]["schemas"];
    for (const char* m : kMetaSchemas) {
      if (auto it = defs.find(m); it != defs.end()) schemas[m] = *it;
    }
  }
  json doc = {{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes CRD Swagger"}, {"version", "v0.1.0"}}}};
  json paths = json::object();
  Result<std::string> minimal =
      catalog ? OpenApiV3GroupVersionJson(*catalog, GvPathOf(gv)) : Result<std::string>("");
  if (catalog && minimal) {
    json m = json::parse(*minimal, nullptr, false);
    if (m.is_object() && m.contains("paths")) paths = std::move(m["paths"]);
  }
  doc["paths"] = std::move(paths);
  doc["components"] = {{"schemas", std::move(schemas)}};
  return doc;
}

// The document served at `path` (without "/openapi/v3/"), or null.
std::shared_ptr<const OpenApiDocument> DocumentAt(std::string_view path,
                                                  const ResourceCatalog& catalog,
                                                  const Storage& storage) {
  GroupVersion gv;
  bool is_gv = false;
  if (path.starts_with("api/")) {
    gv.version = std::string(path.substr(4));
    is_gv = true;
  } else if (path.starts_with("apis/")) {
    std::string_view rest = path.substr(5);
    size_t slash = rest.find('/');
    if (slash != std::string_view::npos) {
      gv.group = std::string(rest.substr(0, slash));
      gv.version = std::string(rest.substr(slash + 1));
      is_gv = true;
    }
  }
  if (!is_gv) {
    if (path == "api" || path == "apis" || path == "version") return BuiltInOpenApiDocument(path);
    return nullptr;
  }
  if (gv.version.empty() || gv.version.find('/') != std::string::npos) return nullptr;
  bool served = false;
  for (const GroupVersion& g : catalog.GroupVersions()) served = served || g == gv;
  if (!served) return nullptr;
  if (auto doc = BuiltInOpenApiDocument(path)) return doc;
  std::string text;
  if (std::optional<json> crd = CrdDocument(&catalog, storage, gv)) {
    text = crd->dump();
  } else {
    Result<std::string> minimal = OpenApiV3GroupVersionJson(catalog, path);
    if (!minimal) return nullptr;
    text = std::move(minimal).value();
  }
  auto doc = std::make_shared<OpenApiDocument>();
  doc->hash = Sha512Hex(text);
  doc->json = std::move(text);
  return doc;
}

std::string HttpDate(std::chrono::system_clock::time_point t, const char* zone) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S ", &tm);
  return std::string(buf) + zone;
}

}  // namespace

std::shared_ptr<const OpenApiDocument> BuiltInOpenApiDocument(std::string_view path) {
  Cache& cache = TheCache();
  {
    internal::MutexLock lock(cache.mu);
    if (auto it = cache.docs.find(path); it != cache.docs.end()) return it->second;
  }
  const std::string file = FileNameOf(path);
  for (size_t i = 0; i < kOpenApiFiles_count; ++i) {
    if (file != kOpenApiFiles[i].name) continue;
    std::optional<std::string> text = Gunzip(kOpenApiFiles[i].data, kOpenApiFiles[i].size);
    if (!text) return nullptr;
    auto doc = std::make_shared<OpenApiDocument>();
    doc->hash = Sha512Hex(*text);
    doc->json = std::move(*text);
    internal::MutexLock lock(cache.mu);
    return cache.docs.emplace(std::string(path), std::move(doc)).first->second;
  }
  return nullptr;
}

std::shared_ptr<const json> BuiltInOpenApiJson(std::string_view path) {
  Cache& cache = TheCache();
  {
    internal::MutexLock lock(cache.mu);
    if (auto it = cache.parsed.find(path); it != cache.parsed.end()) return it->second;
  }
  std::shared_ptr<const OpenApiDocument> doc = BuiltInOpenApiDocument(path);
  if (!doc) return nullptr;
  auto parsed = std::make_shared<const json>(json::parse(doc->json, nullptr, false));
  if (parsed->is_discarded()) return nullptr;
  internal::MutexLock lock(cache.mu);
  return cache.parsed.emplace(std::string(path), std::move(parsed)).first->second;
}

// The schema in `doc` whose x-kubernetes-group-version-kind names `info`'s kind.
static std::optional<KindSchema> FindKind(const std::shared_ptr<const json>& doc,
                                          const ResourceInfo& info);

std::optional<KindSchema> SchemaOfKind(const ResourceInfo& info, const Storage& storage) {
  const GroupVersion gv{info.gvr.group, info.gvr.version};
  std::shared_ptr<const json> doc;
  if (info.is_custom) {
    // The CRD document needs the catalog only for its paths, which a schema does not use.
    std::optional<json> built = CrdDocument(nullptr, storage, gv);
    if (!built) return std::nullopt;
    doc = std::make_shared<const json>(std::move(*built));
  } else {
    doc = BuiltInOpenApiJson(GvPathOf(gv));
    if (!doc) return std::nullopt;
    // The built-in documents never change: remember where each kind's schema is.
    const std::string key = GvPathOf(gv) + "|" + info.kind;
    Cache& cache = TheCache();
    {
      internal::MutexLock lock(cache.mu);
      if (auto it = cache.roots.find(key); it != cache.roots.end()) {
        if (!it->second) return std::nullopt;
        return KindSchema{doc, it->second};
      }
    }
    std::optional<KindSchema> found = FindKind(doc, info);
    internal::MutexLock lock(cache.mu);
    cache.roots[key] = found ? found->root : nullptr;
    return found;
  }
  return FindKind(doc, info);
}

static std::optional<KindSchema> FindKind(const std::shared_ptr<const json>& doc,
                                          const ResourceInfo& info) {
  if (!doc) return std::nullopt;
  auto comps = doc->find("components");
  if (comps == doc->end() || !comps->contains("schemas")) return std::nullopt;
  for (const auto& [name, schema] : (*comps)["schemas"].items()) {
    auto gvks = schema.find("x-kubernetes-group-version-kind");
    if (gvks == schema.end() || !gvks->is_array()) continue;
    for (const json& g : *gvks) {
      if (StringAt(g, "group") == info.gvr.group && StringAt(g, "version") == info.gvr.version &&
          StringAt(g, "kind") == info.kind) {
        return KindSchema{doc, &schema};
      }
    }
  }
  return std::nullopt;
}

std::optional<HttpResponse> ServeOpenApi(const HttpRequest& req, const ResourceCatalog& catalog,
                                         const Storage& storage) {
  std::string_view path = req.path;
  if (!path.starts_with("/openapi/v3")) return std::nullopt;
  HttpResponse r;
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    json paths = json::object();
    std::vector<std::string> names = {"api", "apis", "version"};
    for (const GroupVersion& gv : catalog.GroupVersions()) names.push_back(GvPathOf(gv));
    for (const std::string& p : names) {
      std::shared_ptr<const OpenApiDocument> doc = DocumentAt(p, catalog, storage);
      if (!doc) continue;
      paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p + "?hash=" + doc->hash}};
    }
    r.body = json{{"paths", std::move(paths)}}.dump();
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Cache-Control", "no-cache, private");
    return r;
  }
  if (!path.starts_with("/openapi/v3/")) return std::nullopt;
  std::string_view sub = path.substr(12);
  std::shared_ptr<const OpenApiDocument> doc = DocumentAt(sub, catalog, storage);
  if (!doc) {
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    return r;
  }
  auto hash = req.query.find("hash");
  if (hash != req.query.end() && hash->second != doc->hash) {
    r.status = 301;
    r.content_type = "text/html; charset=utf-8";
    r.headers.emplace_back("Location", "/openapi/v3/" + std::string(sub) + "?hash=" + doc->hash);
    r.headers.emplace_back("Cache-Control", "no-cache, private");
    return r;
  }
  r.body = doc->json;
  r.headers.emplace_back("Etag", "\"" + doc->hash + "\"");
  r.headers.emplace_back("Vary", "Accept");
  if (hash != req.query.end()) {
    r.headers.emplace_back("Cache-Control", "public, immutable");
    r.headers.emplace_back(
        "Expires",
        HttpDate(std::chrono::system_clock::now() + std::chrono::hours(24 * 365), "UTC"));
  } else {
    r.headers.emplace_back("Cache-Control", "no-cache, private");
  }
  return r;
}

}  // namespace kube::server

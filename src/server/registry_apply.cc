// Registry::ApplyServerSide: server-side apply over the registry's write path; see registry.h.
//
// Reads from: the router (PATCH with application/apply-patch+yaml). Feeds: Registry::Write and
// Registry::Create.
// kube-apiserver: endpoints/handlers/patch.go (applyPatcher), managedfields.
#include <nlohmann/json.hpp>

#include "server/decode_checks.h"
#include "server/managed_fields.h"
#include "server/object_json.h"
#include "server/openapi.h"
#include "server/registry.h"
#include "server/seed.h"

namespace kube::server {

using nlohmann::json;

ApiOr<ObjectPtr> Registry::ApplyServerSide(const ResourceInfo& info, std::string_view ns,
                                           std::string_view name, std::string_view body,
                                           Subresource sub, const WriteOptions& opts,
                                           bool* created) {
  *created = false;
  if (opts.field_manager.empty()) {
    return Invalid("PatchOptions", "meta.k8s.io", "",
                   {RequiredCause("fieldManager", "is required for apply patch")});
  }
  if (sub == Subresource::kScale) {
    return UnsupportedMediaType("server-side apply of the scale subresource is not supported");
  }
  // YAML is a superset of JSON: one parser reads both bodies.
  Result<json> parsed = YamlToJson(body, max_object_bytes_);
  if (!parsed) return BadRequest("error decoding YAML: " + parsed.error().message());
  json applied = std::move(parsed).value();
  if (!applied.is_object()) return BadRequest("error decoding YAML: the body is not an object");
  if (JsonDepth(applied) > kMaxJsonDepth) return BadRequest(std::string(kExceededMaxDepth));
  if (auto err = KindTypeError(applied)) return BadRequest(*err);
  if (auto err = MetadataTypeError(applied, info.kind)) {
    return BadRequest(CannotBeHandled(applied, info.kind, info.gvr.version, *err));
  }
  NormalizeMetadataNulls(applied);
  std::string api_version = StringAt(applied, "apiVersion");
  std::string kind = StringAt(applied, "kind");
  if (api_version.empty() || kind.empty()) {
    return BadRequest("apiVersion and kind must be set in an applied configuration");
  }
  if (api_version != info.api_version() || kind != info.kind) {
    return BadRequest("the API version in the data (" + api_version +
                      ") does not match the expected API version (" + info.api_version() + ")");
  }
  json& meta = applied["metadata"];
  if (!meta.is_object()) meta = json::object();
  std::string body_name = StringAt(meta, "name");
  if (!body_name.empty() && body_name != name) {
    return BadRequest("the name of the object (" + body_name +
                      ") does not match the name on the URL (" + std::string(name) + ")");
  }
  meta["name"] = std::string(name);
  std::string body_ns = StringAt(meta, "namespace");
  if (info.namespaced && !body_ns.empty() && body_ns != ns) {
    return BadRequest(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  if (info.namespaced) meta["namespace"] = std::string(ns);

  std::optional<KindSchema> schema = SchemaOfKind(info, storage_);
  const KindSchema* s = schema ? &*schema : nullptr;
  const FieldManager who{opts.field_manager, info.api_version(),
                         sub == Subresource::kStatus ? "status" : "", Rfc3339Now()};
  // The merged object carries its managedFields: the write below must not record them again.
  WriteOptions inner = opts;
  inner.field_manager.clear();
  // An object created or deleted between the attempts is applied to again.
  for (int attempt = 0;; ++attempt) {
    ApiOr<ObjectPtr> updated = Write(
        info, ns, name,
        [&](const json& current) -> ApiOr<json> {
          return ServerSideApply(s, &current, applied, who, opts.force, info.has_status);
        },
        sub, inner);
    if (updated.ok() || updated.error().code != 404 || attempt == 2) return updated;
    if (sub == Subresource::kStatus) return updated;  // a status needs its object
    ApiOr<json> obj = ServerSideApply(s, nullptr, applied, who, opts.force, info.has_status);
    if (!obj.ok()) return obj.error();
    if (auto m = obj->find("metadata"); m != obj->end() && m->is_object()) {
      m->erase("resourceVersion");
    }
    ApiOr<ObjectPtr> made = Create(info, ns, std::move(obj).value(), inner);
    if (made.ok()) *created = true;
    if (made.ok() || made.error().reason != "AlreadyExists") return made;
  }
}

}  // namespace kube::server

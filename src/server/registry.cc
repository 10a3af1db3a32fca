// Registry: create/update/patch/delete semantics over Storage; see registry.h.
//
// Reads from: the router and in-process helpers. Feeds: Storage.
#include "server/registry.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/strings.h"
#include "kube/labels.h"
#include "server/decode_checks.h"
#include "server/managed_fields.h"
#include "server/object_json.h"
#include "server/openapi.h"

namespace kube::server {
namespace {

using nlohmann::json;

const GroupVersionResource kNamespaces{"", "v1", "namespaces"};
const GroupVersionResource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions"};

json& Meta(json& obj) {
  json& m = obj["metadata"];
  if (!m.is_object()) m = json::object();
  return m;
}

const json& MetaOf(const json& obj) {
  static const json kEmpty = json::object();
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::optional<StatusCause> NameCause(const ResourceInfo& info, const std::string& name) {
  Status s;
  switch (info.name_rule) {
    case ResourceInfo::NameRule::kLabel:
      s = ValidateDns1123Label(name);
      break;
    case ResourceInfo::NameRule::kSubdomain:
      s = ValidateDns1123Subdomain(name);
      break;
    case ResourceInfo::NameRule::kPathSegment:
      if (name == "." || name == "..") {
        s = InvalidArgumentError("may not be '" + name + "'");
      } else if (name.find_first_of("/%") != std::string::npos) {
        s = InvalidArgumentError("may not contain '/' or '%'");
      }
      break;
  }
  if (s.ok()) return std::nullopt;
  return InvalidValueCause("metadata.name", name, s.message());
}

// The messages of a validation Status, one per problem (the helpers join them with "; ").
std::vector<std::string> Problems(const Status& s) {
  std::vector<std::string> out;
  if (s.ok()) return out;
  std::string_view m = s.message();
  for (size_t at = 0;;) {
    size_t next = m.find("; ", at);
    out.emplace_back(m.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) break;
    at = next + 2;
  }
  return out;
}

// kube-apiserver's limit on all of an object's annotations, keys and values together.
constexpr size_t kTotalAnnotationSizeLimit = 256 * 1024;

// apimachinery's ObjectMeta validation of labels and annotations: one cause per problem, on the
// field `metadata.labels` / `metadata.annotations` with the bad key or value.
void MetadataCauses(const json& meta, std::vector<StatusCause>* causes) {
  if (auto labels = meta.find("labels"); labels != meta.end() && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) {
      for (const std::string& p : Problems(ValidateLabelKey(k))) {
        causes->push_back(InvalidValueCause("metadata.labels", k, p));
      }
      if (!v.is_string()) continue;
      const std::string& value = v.get_ref<const std::string&>();
      for (const std::string& p : Problems(ValidateLabelValue(value))) {
        causes->push_back(InvalidValueCause("metadata.labels", value, p));
      }
    }
  }
  if (auto ann = meta.find("annotations"); ann != meta.end() && ann->is_object()) {
    size_t total = 0;
    for (const auto& [k, v] : ann->items()) {
      std::string lower = internal::AsciiLower(k);  // keys are qualified names, case aside
      for (const std::string& p : Problems(ValidateLabelKey(lower))) {
        causes->push_back(InvalidValueCause("metadata.annotations", k, p));
      }
      total += k.size() + (v.is_string() ? v.get_ref<const std::string&>().size() : 0);
    }
    if (total > kTotalAnnotationSizeLimit) {
      causes->push_back(
          {"FieldValueTooLong",
           "Too long: may not be more than " + std::to_string(kTotalAnnotationSizeLimit) + " bytes",
           "metadata.annotations"});
    }
  }
}

// 400 in kube-apiserver's words when a body's `metadata` does not decode (a number for
// `resourceVersion` would otherwise be read as "no precondition"); `null`s are then dropped.
std::optional<ApiError> DecodeMetadata(json& body, const ResourceInfo& info) {
  if (auto err = MetadataTypeError(body, info.kind)) {
    return BadRequest(CannotBeHandled(body, info.kind, info.gvr.version, *err));
  }
  NormalizeMetadataNulls(body);
  return std::nullopt;
}

// kube-apiserver's answer when a patched object does not decode: 422 on the field `patch`,
// quoting the patched object.
std::optional<ApiError> DecodePatched(json& patched, std::string_view go_kind) {
  if (JsonDepth(patched) > kMaxJsonDepth) {
    return Invalid("", "", "", {{"FieldValueInvalid", std::string(kExceededMaxDepth), "patch"}});
  }
  std::optional<std::string> err = KindTypeError(patched);
  if (!err) err = MetadataTypeError(patched, go_kind);
  if (err) return Invalid("", "", "", {InvalidValueCause("patch", Dump(patched), *err)});
  NormalizeMetadataNulls(patched);
  return std::nullopt;
}

// Whether `a` and `b` differ outside metadata, status, apiVersion and kind (their "spec" part,
// which decides `generation`). Walks both objects' members in key order without copying them.
bool SpecDiffers(const json& a, const json& b) {
  if (!a.is_object() || !b.is_object()) return a != b;
  auto skip = [](const std::string& k) {
    return k == "metadata" || k == "status" || k == "apiVersion" || k == "kind";
  };
  auto ia = a.begin();
  auto ib = b.begin();
  while (true) {
    while (ia != a.end() && skip(ia.key())) ++ia;
    while (ib != b.end() && skip(ib.key())) ++ib;
    if (ia == a.end() || ib == b.end()) return (ia == a.end()) != (ib == b.end());
    if (ia.key() != ib.key() || ia.value() != ib.value()) return true;
    ++ia;
    ++ib;
  }
}

bool IsCrd(const ResourceInfo& info) { return info.gvr == kCrds; }
bool IsNamespace(const ResourceInfo& info) { return info.gvr == kNamespaces; }

std::vector<std::string> StringList(const json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// `matchLabels`/`matchExpressions` as the `labelSelector=` text a Scale reports.
std::string SelectorText(const json& sel) {
  if (!sel.is_object()) return "";
  std::vector<std::string> parts;
  if (auto ml = sel.find("matchLabels"); ml != sel.end() && ml->is_object()) {
    for (auto it = ml->begin(); it != ml->end(); ++it) {
      if (it->is_string()) parts.push_back(it.key() + "=" + it->get<std::string>());
    }
  }
  if (auto me = sel.find("matchExpressions"); me != sel.end() && me->is_array()) {
    for (const auto& e : *me) {
      std::string key = StringAt(e, "key"), op = StringAt(e, "operator");
      std::vector<std::string> values = StringList(e.value("values", json::array()));
      std::string list;
      for (size_t i = 0; i < values.size(); ++i) list += (i ? "," : "") + values[i];
      if (op == "In") parts.push_back(key + " in (" + list + ")");
      if (op == "NotIn") parts.push_back(key + " notin (" + list + ")");
      if (op == "Exists") parts.push_back(key);
      if (op == "DoesNotExist") parts.push_back("!" + key);
    }
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
  return out;
}

json ScaleOf(const json& obj) {
  const json& m = MetaOf(obj);
  json meta = json::object();
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (m.contains(k)) meta[k] = m[k];
  }
  int64_t replicas = 1;
  if (auto s = obj.find("spec"); s != obj.end() && s->is_object()) {
    if (auto r = s->find("replicas"); r != s->end() && r->is_number_integer()) {
      replicas = r->get<int64_t>();
    }
  }
  int64_t status_replicas = 0;
  if (auto s = obj.find("status"); s != obj.end() && s->is_object()) {
    if (auto r = s->find("replicas"); r != s->end() && r->is_number_integer()) {
      status_replicas = r->get<int64_t>();
    }
  }
  json status = {{"replicas", status_replicas}};
  if (auto s = obj.find("spec"); s != obj.end() && s->is_object() && s->contains("selector")) {
    std::string sel = SelectorText((*s)["selector"]);
    if (!sel.empty()) status["selector"] = sel;
  }
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", meta},
          {"spec", {{"replicas", replicas}}},
          {"status", status}};
}

// Reads `spec.replicas` of a Scale body: 422 when absent, not an integer, or negative.
ApiOr<int64_t> ScaleReplicas(const json& scale, std::string_view name) {
  auto spec = scale.find("spec");
  if (spec == scale.end() || !spec->is_object() || !spec->contains("replicas") ||
      !(*spec)["replicas"].is_number_integer()) {
    return Invalid("Scale", "autoscaling", name,
                   {RequiredCause("spec.replicas", "must be an integer")});
  }
  int64_t n = (*spec)["replicas"].get<int64_t>();
  if (n < 0) {
    return Invalid("Scale", "autoscaling", name,
                   {InvalidValueCause("spec.replicas", std::to_string(n),
                                      "must be greater than or equal to 0")});
  }
  return n;
}

}  // namespace

std::vector<ResourceInfo> ResourcesOfCrd(const json& crd) {
  std::vector<ResourceInfo> out;
  auto spec_it = crd.find("spec");
  if (spec_it == crd.end() || !spec_it->is_object()) return out;
  const json& spec = *spec_it;
  const json names = spec.value("names", json::object());
  std::string group = StringAt(spec, "group");
  std::string plural = StringAt(names, "plural");
  std::string kind = StringAt(names, "kind");
  if (group.empty() || plural.empty() || kind.empty()) return out;
  for (const auto& v : spec.value("versions", json::array())) {
    if (!v.is_object() || !v.value("served", false)) continue;
    ResourceInfo info;
    info.gvr = {group, StringAt(v, "name"), plural};
    if (info.gvr.version.empty()) continue;
    info.kind = kind;
    info.list_kind = StringAt(names, "listKind");
    if (info.list_kind.empty()) info.list_kind = kind + "List";
    info.singular = StringAt(names, "singular");
    if (info.singular.empty()) {
      info.singular = internal::AsciiLower(kind);
    }
    info.namespaced = StringAt(spec, "scope") != "Cluster";
    info.short_names = StringList(names.value("shortNames", json::array()));
    info.categories = StringList(names.value("categories", json::array()));
    json sub = v.value("subresources", json::object());
    info.has_status = sub.is_object() && sub.contains("status");
    info.has_scale = sub.is_object() && sub.contains("scale");
    info.tracks_generation = true;
    info.is_custom = true;
    out.push_back(std::move(info));
  }
  return out;
}

Registry::Registry(Storage& storage, ResourceCatalog& catalog)
    : storage_(storage), catalog_(catalog) {}

ApiOr<ObjectPtr> Registry::ToStoredObject(const json& obj) const {
  ApiOr<ObjectPtr> o = ToObject(obj);
  if (o.ok() && (*o)->json().size() > max_object_bytes_) {
    return RequestEntityTooLarge("Request entity too large: limit is " +
                                 std::to_string(max_object_bytes_) + " (the resulting object is " +
                                 std::to_string((*o)->json().size()) + " bytes)");
  }
  return o;
}

void Registry::CreateDefaultNamespaces() {
  ResourceInfoPtr info = catalog_.Find(kNamespaces);
  if (!info) return;
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    json obj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
    (void)Create(*info, "", std::move(obj));
  }
}

std::optional<ApiError> Registry::CheckNamespace(const ResourceInfo& info, std::string_view ns) {
  if (!info.namespaced) return std::nullopt;
  if (ns.empty()) return PathNotFound();
  if (!storage_.Get(kNamespaces, ns)) return NamespaceNotFound(ns);
  return std::nullopt;
}

ApiOr<ObjectPtr> Registry::Get(const ResourceInfo& info, std::string_view ns,
                               std::string_view name) {
  ObjectPtr obj = storage_.Get(info.gvr, StorageKey(info.namespaced ? ns : "", name));
  if (!obj) return NotFound(info, name);
  return obj;
}

std::optional<ApiError> CheckDeletePreconditions(const ResourceInfo& info, std::string_view name,
                                                 const DeleteOptions& opts, const Object& current) {
  if (opts.precondition_uid && *opts.precondition_uid != current.uid()) {
    return Conflict(info, name,
                    "Precondition failed: UID in precondition: " + *opts.precondition_uid +
                        ", UID in object meta: " + std::string(current.uid()));
  }
  if (opts.precondition_rv && *opts.precondition_rv != current.resource_version()) {
    return Conflict(
        info, name,
        "Precondition failed: ResourceVersion in precondition: " + *opts.precondition_rv +
            ", ResourceVersion in object meta: " + std::string(current.resource_version()));
  }
  return std::nullopt;
}

std::optional<ApiError> CheckTypeMeta(const json& body, const ResourceInfo& info) {
  std::string api_version = StringAt(body, "apiVersion");
  std::string kind = StringAt(body, "kind");
  if (!api_version.empty() && api_version != info.api_version()) {
    return BadRequest("the API version in the data (" + api_version +
                      ") does not match the expected API version (" + info.api_version() + ")");
  }
  if (!kind.empty() && kind != info.kind) {
    return BadRequest("the kind in the data (" + kind + ") does not match the expected kind (" +
                      info.kind + ")");
  }
  return std::nullopt;
}

ApiOr<json> Registry::PrepareCreate(const ResourceInfo& info, std::string_view ns, json obj) {
  if (auto err = DecodeMetadata(obj, info)) return *err;
  if (auto err = CheckTypeMeta(obj, info)) return *err;
  obj["apiVersion"] = info.api_version();
  obj["kind"] = info.kind;
  json& meta = Meta(obj);
  std::string body_ns = StringAt(meta, "namespace");
  if (info.namespaced) {
    if (!body_ns.empty() && !ns.empty() && body_ns != ns) {
      return BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    if (ns.empty()) ns = body_ns;
    if (ns.empty()) ns = "default";
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  std::string name = StringAt(meta, "name");
  // NamespaceLifecycle admission runs before validation and name generation.
  if (auto err = AdmitCreate(info, info.namespaced ? ns : "",
                             name.empty() ? StringAt(meta, "generateName") : name)) {
    return *err;
  }
  if (name.empty()) {
    std::string generate = StringAt(meta, "generateName");
    if (generate.empty()) {
      return Invalid(info.kind, info.gvr.group, "",
                     {RequiredCause("metadata.name", "name or generateName is required")});
    }
    // kube-apiserver keeps the name within 63 characters: 58 of the prefix, 5 random.
    name = generate.substr(0, 58) + RandomSuffix(5);
    meta["name"] = name;
  }
  std::vector<StatusCause> causes;
  if (auto cause = NameCause(info, name)) causes.push_back(*std::move(cause));
  MetadataCauses(meta, &causes);
  if (!causes.empty()) return Invalid(info.kind, info.gvr.group, name, std::move(causes));
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = Rfc3339Now();
  for (const char* k : {"deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion",
                        "selfLink", "generation"}) {
    meta.erase(k);
  }
  if (info.tracks_generation) meta["generation"] = 1;
  if (IsNamespace(info)) {
    // The label every namespace carries (kube-apiserver's namespace strategy sets it).
    meta["labels"]["kubernetes.io/metadata.name"] = name;
    if (!obj["spec"].is_object()) obj["spec"] = json::object();
    if (!obj["spec"].contains("finalizers")) obj["spec"]["finalizers"] = {"kubernetes"};
    if (!obj["status"].is_object()) obj["status"] = json::object();
    obj["status"]["phase"] = "Active";
  }
  if (IsCrd(info)) {
    std::vector<ResourceInfo> defined = ResourcesOfCrd(obj);
    if (defined.empty()) {
      return Invalid(info.kind, info.gvr.group, name,
                     {RequiredCause("spec",
                                    "group, names.plural, names.kind and at least one "
                                    "served version are required")});
    }
    std::string expected = defined[0].gvr.resource + "." + defined[0].gvr.group;
    if (name != expected) {
      return Invalid(
          info.kind, info.gvr.group, name,
          {InvalidValueCause("metadata.name", name, "must be spec.names.plural+\".\"+spec.group")});
    }
    std::string now = Rfc3339Now();
    json& spec = obj["spec"];
    std::string stored;
    for (const auto& v : spec.value("versions", json::array())) {
      if (v.value("storage", false)) stored = StringAt(v, "name");
    }
    obj["status"] = {{"conditions",
                      {{{"type", "NamesAccepted"},
                        {"status", "True"},
                        {"reason", "NoConflicts"},
                        {"message", "no conflicts found"},
                        {"lastTransitionTime", now}},
                       {{"type", "Established"},
                        {"status", "True"},
                        {"reason", "InitialNamesAccepted"},
                        {"message", "the initial names have been accepted"},
                        {"lastTransitionTime", now}}}},
                     {"acceptedNames", spec.value("names", json::object())},
                     {"storedVersions", stored.empty() ? json::array() : json::array({stored})}};
  }
  return obj;
}

ApiOr<ObjectPtr> Registry::Create(const ResourceInfo& info, std::string_view ns, json body,
                                  const WriteOptions& opts) {
  ApiOr<json> prepared = PrepareCreate(info, info.namespaced ? ns : "", std::move(body));
  if (!prepared.ok()) return prepared.error();
  json obj = std::move(prepared).value();
  std::string name = StringAt(obj["metadata"], "name");
  std::string obj_ns = StringAt(obj["metadata"], "namespace");
  if (auto err = CheckNamespace(info, obj_ns)) return *err;
  if (!opts.field_manager.empty()) {
    std::optional<KindSchema> schema = SchemaOfKind(info, storage_);
    RecordUpdate(schema ? &*schema : nullptr, nullptr, &obj,
                 {opts.field_manager, info.api_version(), "", Rfc3339Now()}, info.has_status);
  }
  auto change = storage_.Mutate(
      info.gvr, StorageKey(obj_ns, name),
      [&](const ObjectPtr& current, uint64_t next_rv) -> ApiOr<Storage::Change> {
        if (current) return AlreadyExists(info, name);
        if (!opts.dry_run) obj["metadata"]["resourceVersion"] = std::to_string(next_rv);
        ApiOr<ObjectPtr> o = ToStoredObject(obj);
        if (!o.ok()) return o.error();
        return Storage::Change{
            opts.dry_run ? Storage::Change::Op::kNone : Storage::Change::Op::kPut, *o};
      });
  if (!change.ok()) return change.error();
  if (change->op == Storage::Change::Op::kPut && IsCrd(info)) OnCrdStored(*change->object);
  return change->object;
}

ApiOr<Storage::Change> Registry::DecideUpdate(const ResourceInfo& info, const ObjectPtr& current,
                                              const json& cur, json desired, Subresource sub,
                                              uint64_t next_rv, const WriteOptions& opts,
                                              const std::optional<KindSchema>& schema) {
  const bool dry_run = opts.dry_run;
  const std::string name(current->name());
  const json& cur_meta = MetaOf(cur);
  std::string want_rv = StringAt(MetaOf(desired), "resourceVersion");
  if (!want_rv.empty() && want_rv != current->resource_version()) {
    return Conflict(info, name, kObjectModified);
  }
  json result;
  if (sub == Subresource::kStatus) {
    result = cur;
    if (desired.contains("status")) {
      result["status"] = desired["status"];
    } else {
      result.erase("status");
    }
    // An untracked write (server-side apply, which decided the ownership itself) keeps the
    // managedFields it carries.
    const json& desired_meta = MetaOf(desired);
    if (auto mf = desired_meta.find("managedFields");
        opts.field_manager.empty() && mf != desired_meta.end()) {
      Meta(result)["managedFields"] = *mf;
    }
  } else {
    result = std::move(desired);
    result["apiVersion"] = cur["apiVersion"];
    result["kind"] = cur["kind"];
    json& meta = Meta(result);
    for (const char* k : {"name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"}) {
      if (cur_meta.contains(k)) {
        meta[k] = cur_meta[k];
      } else {
        meta.erase(k);
      }
    }
    if (info.has_status) {
      if (cur.contains("status")) {
        result["status"] = cur["status"];
      } else {
        result.erase("status");
      }
    }
    if (cur_meta.contains("deletionTimestamp")) {
      std::vector<std::string> before = StringList(cur_meta.value("finalizers", json::array()));
      for (const auto& f : StringList(meta.value("finalizers", json::array()))) {
        if (std::find(before.begin(), before.end(), f) == before.end()) {
          return Invalid(info.kind, info.gvr.group, name,
                         {ForbiddenCause("metadata.finalizers",
                                         "no new finalizers can be added if the object is being "
                                         "deleted, found new finalizers []string{\"" +
                                             f + "\"}")});
        }
      }
    }
    if (IsNamespace(info)) meta["labels"]["kubernetes.io/metadata.name"] = name;
    std::vector<StatusCause> causes;
    MetadataCauses(meta, &causes);
    if (!causes.empty()) return Invalid(info.kind, info.gvr.group, name, std::move(causes));
    if (info.tracks_generation && SpecDiffers(result, cur)) {
      meta["generation"] = cur_meta.value("generation", int64_t{0}) + 1;
    }
  }
  if (!opts.field_manager.empty()) {
    RecordUpdate(schema ? &*schema : nullptr, &cur, &result,
                 {opts.field_manager, info.api_version(),
                  sub == Subresource::kStatus ? "status" : "", Rfc3339Now()},
                 info.has_status);
  }
  json& meta = Meta(result);
  meta["resourceVersion"] = cur_meta.value("resourceVersion", "");
  if (result == cur) return Storage::Change{Storage::Change::Op::kNone, current};
  if (!dry_run) meta["resourceVersion"] = std::to_string(next_rv);
  ApiOr<ObjectPtr> obj = ToStoredObject(result);
  if (!obj.ok()) return obj.error();
  if (dry_run) return Storage::Change{Storage::Change::Op::kNone, *obj};
  // The last finalizer of an object being deleted is gone: the deletion completes.
  if (meta.contains("deletionTimestamp") &&
      StringList(meta.value("finalizers", json::array())).empty() &&
      (!IsNamespace(info) || !result.contains("spec") || !result["spec"].is_object() ||
       StringList(result["spec"].value("finalizers", json::array())).empty())) {
    return Storage::Change{Storage::Change::Op::kDelete, *obj};
  }
  return Storage::Change{Storage::Change::Op::kPut, *obj};
}

ApiOr<ObjectPtr> Registry::Write(const ResourceInfo& info, std::string_view ns,
                                 std::string_view name,
                                 const std::function<ApiOr<json>(const json&)>& edit,
                                 Subresource sub, const WriteOptions& opts) {
  bool deleted = false;
  // Read before the storage lock, which `SchemaOfKind` takes to find a CRD.
  std::optional<KindSchema> schema;
  if (!opts.field_manager.empty()) schema = SchemaOfKind(info, storage_);
  auto change =
      storage_.Mutate(info.gvr, StorageKey(info.namespaced ? ns : "", name),
                      [&](const ObjectPtr& current, uint64_t next_rv) -> ApiOr<Storage::Change> {
                        if (!current) return NotFound(info, name);
                        // Decoded once: the edit and the decision both read it.
                        const json cur = ToJson(*current);
                        ApiOr<json> desired = edit(cur);
                        if (!desired.ok()) return desired.error();
                        if (!desired->is_object())
                          return BadRequest("the result is not a JSON object");
                        // Every edit is bounded before it runs (decode_checks.h); this keeps
                        // the recursive compare and dump below safe whatever an edit does.
                        if (JsonDepth(*desired) > kMaxJsonDepth) {
                          return BadRequest(std::string(kExceededMaxDepth));
                        }
                        auto c = DecideUpdate(info, current, cur, std::move(desired).value(), sub,
                                              next_rv, opts, schema);
                        if (c.ok()) deleted = c->op == Storage::Change::Op::kDelete;
                        return c;
                      });
  if (!change.ok()) return change.error();
  if (deleted) {
    AfterDelete(info, change->object);
  } else if (change->op == Storage::Change::Op::kPut && IsCrd(info)) {
    OnCrdStored(*change->object);
  }
  return change->object;
}

ApiOr<ObjectPtr> Registry::Update(const ResourceInfo& info, std::string_view ns,
                                  std::string_view name, json&& body, Subresource sub,
                                  const WriteOptions& opts) {
  if (auto err = DecodeMetadata(body, info)) return *err;
  const json& meta = MetaOf(body);
  std::string body_name = StringAt(meta, "name");
  if (!body_name.empty() && body_name != name) {
    return BadRequest("the name of the object (" + body_name +
                      ") does not match the name on the URL (" + std::string(name) + ")");
  }
  std::string body_ns = StringAt(meta, "namespace");
  if (info.namespaced && !body_ns.empty() && body_ns != ns) {
    return BadRequest(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  std::string api_version = StringAt(body, "apiVersion");
  if (!api_version.empty() && api_version != info.api_version()) {
    return BadRequest("the API version in the data (" + api_version +
                      ") does not match the expected API version (" + info.api_version() + ")");
  }
  // `Write` calls the edit at most once, and only when the object exists: `body` is left
  // untouched on 404 (`Apply` then creates from it).
  return Write(
      info, ns, name, [&](const json&) -> ApiOr<json> { return std::move(body); }, sub, opts);
}

ApiOr<ObjectPtr> Registry::Patch(const ResourceInfo& info, std::string_view ns,
                                 std::string_view name, PatchType type, std::string_view body,
                                 Subresource sub, const WriteOptions& opts) {
  return Write(
      info, ns, name,
      [&](const json& current) -> ApiOr<json> {
        Result<json> patched = ApplyPatch(type, current, body, info, max_object_bytes_);
        if (!patched) return FromStatus(patched.error());
        if (auto err = DecodePatched(*patched, info.kind)) return *err;
        return std::move(patched).value();
      },
      sub, opts);
}

ApiOr<ObjectPtr> Registry::Apply(const ResourceInfo& info, json body) {
  json& meta = Meta(body);
  std::string ns = info.namespaced ? StringAt(meta, "namespace") : "";
  if (info.namespaced && ns.empty()) ns = "default";
  std::string name = StringAt(meta, "name");
  if (name.empty()) return Create(info, ns, std::move(body));
  if (storage_.Get(info.gvr, StorageKey(ns, name))) {
    meta.erase("resourceVersion");
    ApiOr<ObjectPtr> updated = Update(info, ns, name, std::move(body), Subresource::kNone);
    if (updated.ok() || updated.error().code != 404) return updated;
  }
  return Create(info, ns, std::move(body));
}

ApiOr<json> Registry::GetScale(const ResourceInfo& info, std::string_view ns,
                               std::string_view name) {
  ApiOr<ObjectPtr> obj = Get(info, ns, name);
  if (!obj.ok()) return obj.error();
  return ScaleOf(ToJson(**obj));
}

ApiOr<json> Registry::UpdateScale(const ResourceInfo& info, std::string_view ns,
                                  std::string_view name, json scale, const WriteOptions& opts) {
  if (auto err = MetadataTypeError(scale, "Scale")) {
    return BadRequest(CannotBeHandled(scale, "Scale", "v1", *err));
  }
  ApiOr<int64_t> replicas = ScaleReplicas(scale, name);
  if (!replicas.ok()) return replicas.error();
  std::string want_rv = StringAt(MetaOf(scale), "resourceVersion");
  ApiOr<ObjectPtr> obj = Write(
      info, ns, name,
      [&](const json& current) -> ApiOr<json> {
        json out = current;
        if (!out["spec"].is_object()) out["spec"] = json::object();
        out["spec"]["replicas"] = *replicas;
        Meta(out)["resourceVersion"] = want_rv;
        return out;
      },
      Subresource::kNone, opts);
  if (!obj.ok()) return obj.error();
  return ScaleOf(ToJson(**obj));
}

ApiOr<json> Registry::PatchScale(const ResourceInfo& info, std::string_view ns,
                                 std::string_view name, PatchType type, std::string_view body,
                                 const WriteOptions& opts) {
  ApiOr<ObjectPtr> obj = Write(
      info, ns, name,
      [&](const json& current) -> ApiOr<json> {
        json scale = ScaleOf(current);
        Result<json> patched = ApplyPatch(type, scale, body, info, max_object_bytes_);
        if (!patched) return FromStatus(patched.error());
        if (auto err = DecodePatched(*patched, "Scale")) return *err;
        ApiOr<int64_t> replicas = ScaleReplicas(*patched, name);
        if (!replicas.ok()) return replicas.error();
        json out = current;
        if (!out["spec"].is_object()) out["spec"] = json::object();
        out["spec"]["replicas"] = *replicas;
        Meta(out)["resourceVersion"] = StringAt(MetaOf(*patched), "resourceVersion");
        return out;
      },
      Subresource::kNone, opts);
  if (!obj.ok()) return obj.error();
  return ScaleOf(ToJson(**obj));
}

ApiOr<DeleteResult> Registry::Delete(const ResourceInfo& info, std::string_view ns,
                                     std::string_view name, const DeleteOptions& opts) {
  if (IsNamespace(info)) return DeleteNamespace(info, name, opts);
  return DeleteStored(info, ns, name, opts);
}

ApiOr<DeleteResult> Registry::DeleteStored(const ResourceInfo& info, std::string_view ns,
                                           std::string_view name, const DeleteOptions& opts) {
  bool pending = false;
  auto change =
      storage_.Mutate(info.gvr, StorageKey(info.namespaced ? ns : "", name),
                      [&](const ObjectPtr& current, uint64_t next_rv) -> ApiOr<Storage::Change> {
                        if (!current) return NotFound(info, name);
                        if (auto err = CheckDeletePreconditions(info, name, opts, *current))
                          return *err;
                        if (!current->finalizers().empty()) {
                          pending = true;
                          if (!current->deletion_timestamp().empty() || opts.dry_run) {
                            return Storage::Change{Storage::Change::Op::kNone, current};
                          }
                          json obj = ToJson(*current);
                          json& meta = Meta(obj);
                          meta["deletionTimestamp"] = Rfc3339Now();
                          meta["deletionGracePeriodSeconds"] = 0;
                          if (meta.value("generation", int64_t{0}) > 0) {
                            meta["generation"] = meta["generation"].get<int64_t>() + 1;
                          }
                          meta["resourceVersion"] = std::to_string(next_rv);
                          ApiOr<ObjectPtr> o = ToObject(obj);
                          if (!o.ok()) return o.error();
                          return Storage::Change{Storage::Change::Op::kPut, *o};
                        }
                        if (opts.dry_run)
                          return Storage::Change{Storage::Change::Op::kNone, current};
                        return Storage::Change{Storage::Change::Op::kDelete, nullptr};
                      });
  if (!change.ok()) return change.error();
  if (change->op == Storage::Change::Op::kDelete) AfterDelete(info, change->object);
  return DeleteResult{change->object, pending};
}

ApiOr<std::vector<ObjectPtr>> Registry::DeleteCollection(
    const ResourceInfo& info, std::string_view ns, const std::function<bool(const Object&)>& filter,
    const DeleteOptions& opts) {
  Storage::ListQuery q;
  q.ns = info.namespaced ? std::string(ns) : "";
  q.filter = filter;
  ApiOr<Storage::ListPage> page = storage_.List(info.gvr, q);
  if (!page.ok()) return page.error();
  std::vector<ObjectPtr> out;
  for (const ObjectPtr& obj : page->items) {
    ApiOr<DeleteResult> r = Delete(info, obj->ns(), obj->name(), opts);
    if (r.ok()) {
      out.push_back(r->object);
    } else if (r.error().code != 404) {  // deleted meanwhile: fine
      return r.error();
    }
  }
  return out;
}

void Registry::AfterDelete(const ResourceInfo& info, const ObjectPtr& deleted) {
  if (!deleted) return;
  if (IsNamespace(info)) storage_.RemoveNamespaceContents(deleted->name());
  // The last of a terminating namespace's contents may just have gone.
  if (info.namespaced) SyncNamespace(deleted->ns());
  if (IsCrd(info)) OnCrdDeleted(*deleted);
}

void Registry::OnCrdStored(const Object& crd) {
  for (ResourceInfo& info : ResourcesOfCrd(ToJson(crd))) catalog_.Add(std::move(info));
}

void Registry::OnCrdDeleted(const Object& crd) {
  for (const ResourceInfo& info : ResourcesOfCrd(ToJson(crd))) {
    storage_.RemoveResource(info.gvr);
    catalog_.Remove(info.gvr);
  }
}

}  // namespace kube::server

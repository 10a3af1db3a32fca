// PATCH bodies applied to stored objects: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and
// strategic merge patch for the built-in kinds.
//
// Reads from: PATCH requests. Feeds: the storage's update path.
// The strategic merge semantics follow
// apimachinery's `util/strategicpatch` (facts only; the code is ours):
//   - maps merge recursively; `null` deletes a key;
//   - lists named in the merge-key table below merge element by element on their key (new
//     elements go before the server-only ones unless an order is given); primitive lists with
//     the merge strategy (`finalizers`, `podCIDRs`) become a union; every other list is replaced;
//   - `$patch: replace|delete|merge` on a map, `{"$patch": "replace"}` and
//     `{"$patch": "delete", <key>: v}` elements in a merge list, `$retainKeys`,
//     `$deleteFromPrimitiveList/<list>` and `$setElementOrder/<list>` are honoured.
// Approximations (documented for docs/server.md): the merge-key table covers the kinds the server
// ships (core/v1, apps/v1, batch/v1 pod templates, services, nodes, service accounts, status
// conditions), not every API type; `$retainKeys` is honoured wherever it appears; malformed
// directives answer 400 where kube-apiserver sometimes answers 500.
#include "server/patch.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "server/decode_checks.h"

namespace kube::server {
namespace {

using json = nlohmann::json;

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kDeletePrefix = "$deleteFromPrimitiveList/";
constexpr std::string_view kOrderPrefix = "$setElementOrder/";

Status BadRequest(std::string message) {
  return StatusFromHttp(400, "BadRequest", std::move(message));
}
Status Unprocessable(std::string message) {
  return StatusFromHttp(422, "Invalid", std::move(message));
}
Status UnsupportedMediaType(std::string message) {
  return StatusFromHttp(415, "UnsupportedMediaType", std::move(message));
}
Status RequestEntityTooLarge(std::string message) {
  return StatusFromHttp(413, "RequestEntityTooLarge", std::move(message));
}

// ---------------------------------------------------------------------------------------------
// The merge-key table: a tiny schema of the built-in types, enough to know how each list merges.
// ---------------------------------------------------------------------------------------------

struct TypeNode;

// How a field of a map type merges.
struct FieldInfo {
  enum class ListKind { kAtomic, kMergeByKey, kMergePrimitive };
  const TypeNode* type = nullptr;  // the field's map type, or the element type of a list
  ListKind list = ListKind::kAtomic;
  std::string merge_key;
};

struct TypeNode {
  std::map<std::string, FieldInfo, std::less<>> fields;

  const FieldInfo* Find(std::string_view name) const {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  }
};

FieldInfo Map(const TypeNode* t) { return {t, FieldInfo::ListKind::kAtomic, ""}; }
FieldInfo KeyedList(const TypeNode* element, std::string key) {
  return {element, FieldInfo::ListKind::kMergeByKey, std::move(key)};
}
FieldInfo PrimitiveSet() { return {nullptr, FieldInfo::ListKind::kMergePrimitive, ""}; }

// The roots, by kind. Built once; never destroyed (static storage, read-only after).
struct Schemas {
  TypeNode object_meta, container, pod_spec, pod_template, pod_status, conditions_status;
  TypeNode deployment_spec, workload_spec, job_template, cronjob_spec, service_spec, node_spec,
      node_status;
  TypeNode empty;
  std::map<std::string, TypeNode, std::less<>> roots;

  Schemas() {
    object_meta.fields = {{"finalizers", PrimitiveSet()},
                          {"ownerReferences", KeyedList(&empty, "uid")}};
    container.fields = {{"ports", KeyedList(&empty, "containerPort")},
                        {"env", KeyedList(&empty, "name")},
                        {"volumeMounts", KeyedList(&empty, "mountPath")},
                        {"volumeDevices", KeyedList(&empty, "devicePath")}};
    pod_spec.fields = {{"containers", KeyedList(&container, "name")},
                       {"initContainers", KeyedList(&container, "name")},
                       {"ephemeralContainers", KeyedList(&container, "name")},
                       {"volumes", KeyedList(&empty, "name")},
                       {"imagePullSecrets", KeyedList(&empty, "name")},
                       {"hostAliases", KeyedList(&empty, "ip")},
                       {"topologySpreadConstraints", KeyedList(&empty, "topologyKey")},
                       {"schedulingGates", KeyedList(&empty, "name")},
                       {"resourceClaims", KeyedList(&empty, "name")}};
    pod_template.fields = {{"metadata", Map(&object_meta)}, {"spec", Map(&pod_spec)}};
    conditions_status.fields = {{"conditions", KeyedList(&empty, "type")}};
    pod_status.fields = {{"conditions", KeyedList(&empty, "type")},
                         {"podIPs", KeyedList(&empty, "ip")},
                         {"hostIPs", KeyedList(&empty, "ip")}};
    deployment_spec.fields = {{"template", Map(&pod_template)}};
    workload_spec.fields = {{"template", Map(&pod_template)}};
    job_template.fields = {{"metadata", Map(&object_meta)}, {"spec", Map(&workload_spec)}};
    cronjob_spec.fields = {{"jobTemplate", Map(&job_template)}};
    service_spec.fields = {{"ports", KeyedList(&empty, "port")}};
    node_spec.fields = {{"podCIDRs", PrimitiveSet()}};
    node_status.fields = {{"conditions", KeyedList(&empty, "type")},
                          {"addresses", KeyedList(&empty, "type")}};

    auto root = [&](const char* kind, const TypeNode* spec, const TypeNode* status) {
      TypeNode& r = roots[kind];
      r.fields["metadata"] = Map(&object_meta);
      if (spec != nullptr) r.fields["spec"] = Map(spec);
      if (status != nullptr) r.fields["status"] = Map(status);
      return &r;
    };
    root("Pod", &pod_spec, &pod_status);
    root("PodTemplate", nullptr, nullptr)->fields["template"] = Map(&pod_template);
    root("Deployment", &deployment_spec, &conditions_status);
    root("ReplicaSet", &workload_spec, &conditions_status);
    root("StatefulSet", &workload_spec, &conditions_status);
    root("DaemonSet", &workload_spec, &conditions_status);
    root("ReplicationController", &workload_spec, &conditions_status);
    root("Job", &workload_spec, &conditions_status);
    root("CronJob", &cronjob_spec, nullptr);
    root("Service", &service_spec, &conditions_status);
    root("Node", &node_spec, &node_status);
    root("Namespace", nullptr, &conditions_status);
    // Any other built-in kind still gets ObjectMeta's lists.
    root("__default", nullptr, nullptr);
    TypeNode* sa = root("ServiceAccount", nullptr, nullptr);
    sa->fields["secrets"] = KeyedList(&empty, "name");
    sa->fields["imagePullSecrets"] = KeyedList(&empty, "name");
  }
};

const TypeNode* RootSchema(std::string_view kind) {
  static const Schemas* schemas = new Schemas();
  auto it = schemas->roots.find(kind);
  return it != schemas->roots.end() ? &it->second : &schemas->roots.find("__default")->second;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge.
// ---------------------------------------------------------------------------------------------

bool IsDirective(std::string_view key) { return !key.empty() && key[0] == '$'; }

// The merge-key value of a list element, or nullptr when it has none.
const json* KeyOf(const json& element, const std::string& merge_key) {
  if (!element.is_object()) return nullptr;
  auto it = element.find(merge_key);
  return it == element.end() ? nullptr : &*it;
}

// Position of `item` in `list`: by merge key for lists of maps, by value otherwise; -1 if absent.
long IndexIn(const json& list, const json& item, const std::string& merge_key) {
  if (merge_key.empty()) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i] == item) return static_cast<long>(i);
    }
    return -1;
  }
  const json* k = KeyOf(item, merge_key);
  if (k == nullptr) return -1;
  for (size_t i = 0; i < list.size(); ++i) {
    const json* other = KeyOf(list[i], merge_key);
    if (other != nullptr && *other == *k) return static_cast<long>(i);
  }
  return -1;
}

// Sorts `items` by their position in `order`; items `order` lacks keep their relative order,
// after the others.
std::vector<json> SortByOrder(std::vector<json> items, const json& order,
                              const std::string& merge_key) {
  std::stable_sort(items.begin(), items.end(), [&](const json& a, const json& b) {
    long ia = IndexIn(order, a, merge_key), ib = IndexIn(order, b, merge_key);
    if (ia < 0) return false;
    if (ib < 0) return true;
    return ia < ib;
  });
  return items;
}

// Interleaves server-only items (`left`) with patch items (`right`): both keep their relative
// order; a server-only item goes first only when both sit in `server_order` and it comes earlier
// there. New patch items (absent from the server's list) therefore lead.
json MergeSorted(const std::vector<json>& left, const std::vector<json>& right,
                 const json& server_order, const std::string& merge_key) {
  json out = json::array();
  size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (j >= right.size()) {
      out.push_back(left[i++]);
    } else if (i >= left.size()) {
      out.push_back(right[j++]);
    } else {
      long li = IndexIn(server_order, left[i], merge_key);
      long ri = IndexIn(server_order, right[j], merge_key);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(left[i++]);
      } else {
        out.push_back(right[j++]);
      }
    }
  }
  return out;
}

// Orders `merged`: items named in `patch_order` follow it, the rest follow `server_order`, and the
// two are interleaved by their positions in `server_order`.
json NormalizeOrder(const json& merged, const json& patch_order, const json& server_order,
                    const std::string& merge_key) {
  std::vector<json> patch_items, server_only;
  for (const json& e : merged) {
    (IndexIn(patch_order, e, merge_key) >= 0 ? patch_items : server_only).push_back(e);
  }
  return MergeSorted(SortByOrder(std::move(server_only), server_order, merge_key),
                     SortByOrder(std::move(patch_items), patch_order, merge_key), server_order,
                     merge_key);
}

class StrategicMerger {
 public:
  // The merged map, or nullopt when the patch deletes the whole map (`$patch: delete`).
  Result<std::optional<json>> MergeMap(json original, json patch, const TypeNode* schema);

 private:
  Result<std::optional<json>> Fresh(const json& patch, const FieldInfo* field);
  Result<json> MergeList(const json& original, const json& patch, const FieldInfo* field,
                         const json* order);
  Result<json> ApplyOrder(const json& merged, const json& order, const json& original,
                          const FieldInfo& field);
};

// A patch value that lands where the original has nothing: directives still apply (against an
// empty value) so that they are never stored.
Result<std::optional<json>> StrategicMerger::Fresh(const json& patch, const FieldInfo* field) {
  if (patch.is_object()) return MergeMap(json::object(), patch, field ? field->type : nullptr);
  if (patch.is_array()) {
    Result<json> list = MergeList(json::array(), patch, field, nullptr);
    if (!list) return list.error();
    return std::optional<json>(*std::move(list));
  }
  return std::optional<json>(patch);
}

Result<json> StrategicMerger::ApplyOrder(const json& merged, const json& order,
                                         const json& original, const FieldInfo& field) {
  const std::string& key = field.merge_key;
  if (!key.empty()) {
    for (const json& e : order) {
      if (KeyOf(e, key) == nullptr) {
        return BadRequest("$setElementOrder entry " + e.dump() +
                          " does not contain the merge key " + key);
      }
    }
  }
  return NormalizeOrder(merged, order, original.is_array() ? original : json::array(), key);
}

Result<json> StrategicMerger::MergeList(const json& original, const json& patch,
                                        const FieldInfo* field, const json* order) {
  using ListKind = FieldInfo::ListKind;
  if (field == nullptr || field->list == ListKind::kAtomic) {
    // Replaced wholesale; map elements are cleaned of directives.
    json out = json::array();
    for (const json& e : patch) {
      if (!e.is_object()) {
        out.push_back(e);
        continue;
      }
      Result<std::optional<json>> m =
          MergeMap(json::object(), e, field != nullptr ? field->type : nullptr);
      if (!m) return m.error();
      if (*m) out.push_back(**std::move(m));
    }
    return out;
  }

  json merged;
  json server_order = original;
  if (field->list == ListKind::kMergePrimitive) {
    merged = json::array();
    for (const json* list : {&original, &patch}) {
      for (const json& e : *list) {
        if (e.is_object() || e.is_array()) {
          return BadRequest("a list of primitives may not contain " + e.dump());
        }
        if (IndexIn(merged, e, "") < 0) merged.push_back(e);
      }
    }
    merged = NormalizeOrder(merged, patch, server_order, "");
  } else {
    const std::string& key = field->merge_key;
    json base = original;
    json elements = json::array();
    bool replace = false;
    for (const json& e : patch) {
      if (!e.is_object()) {
        return BadRequest("list " + key + "-keyed element " + e.dump() + " is not a map");
      }
      auto directive = e.find(kPatchDirective);
      if (directive == e.end()) {
        if (KeyOf(e, key) == nullptr) {
          return BadRequest("map: " + e.dump() + " does not contain declared merge key: " + key);
        }
        elements.push_back(e);
        continue;
      }
      if (*directive == "delete") {
        const json* k = KeyOf(e, key);
        if (k == nullptr) {
          return BadRequest("map: " + e.dump() + " does not contain declared merge key: " + key);
        }
        json kept = json::array();
        for (const json& o : base) {
          const json* ok = KeyOf(o, key);
          if (ok == nullptr || *ok != *k) kept.push_back(o);
        }
        base = std::move(kept);
      } else if (*directive == "replace") {
        replace = true;
      } else if (*directive == "merge") {
        return BadRequest("merging lists cannot yet be specified in the patch");
      } else {
        return BadRequest("Unknown patch type: " + directive->dump() + " in map: " + e.dump());
      }
    }
    if (replace) {
      json out = json::array();
      for (const json& e : elements) {
        Result<std::optional<json>> m = MergeMap(json::object(), e, field->type);
        if (!m) return m.error();
        if (*m) out.push_back(**std::move(m));
      }
      merged = std::move(out);
      server_order = merged;
    } else {
      server_order = base;
      merged = base;
      for (const json& e : elements) {
        long at = IndexIn(merged, e, key);
        Result<std::optional<json>> m =
            MergeMap(at >= 0 ? merged[static_cast<size_t>(at)] : json::object(), e, field->type);
        if (!m) return m.error();
        if (!*m) continue;
        if (at >= 0) {
          merged[static_cast<size_t>(at)] = **std::move(m);
        } else {
          merged.push_back(**std::move(m));
        }
      }
      merged = NormalizeOrder(merged, elements, server_order, key);
    }
  }

  if (order == nullptr) return merged;
  // The patch's items must appear in `$setElementOrder` in the same relative order.
  size_t at = 0;
  for (const json& e : patch) {
    if (e.is_object() && e.contains(kPatchDirective)) continue;
    while (at < order->size() && IndexIn(json::array({(*order)[at]}), e, field->merge_key) < 0) {
      ++at;
    }
    if (at == order->size()) {
      return BadRequest("the order in the patch list " + patch.dump() +
                        " does not match the $setElementOrder list " + order->dump());
    }
    ++at;
  }
  return ApplyOrder(merged, *order, original, *field);
}

Result<std::optional<json>> StrategicMerger::MergeMap(json original, json patch,
                                                      const TypeNode* schema) {
  if (auto d = patch.find(kPatchDirective); d != patch.end()) {
    json directive = *d;
    patch.erase(d);
    if (directive == "delete") return std::optional<json>();
    if (directive == "replace") return MergeMap(json::object(), std::move(patch), schema);
    if (directive != "merge") {
      return BadRequest("Unknown patch type: " + directive.dump() + " in map: " + patch.dump());
    }
  }
  if (!original.is_object()) original = json::object();

  if (auto r = patch.find(kRetainKeys); r != patch.end()) {
    if (!r->is_array()) return BadRequest("invalid patch format of retainKeys");
    std::vector<std::string> keep;
    for (const json& k : *r) {
      if (!k.is_string()) return BadRequest("invalid patch format of retainKeys");
      keep.push_back(k.get<std::string>());
    }
    patch.erase(r);
    auto kept = [&](const std::string& k) {
      return std::find(keep.begin(), keep.end(), k) != keep.end();
    };
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null() || IsDirective(k)) continue;
      if (!kept(k)) return Unprocessable("patch content doesn't match retainKeys list");
    }
    for (auto it = original.begin(); it != original.end();) {
      it = kept(it.key()) ? std::next(it) : original.erase(it);
    }
  }

  // Directives naming a list: deletions from primitive lists now, element orders after merging.
  std::map<std::string, json> orders;
  for (auto it = patch.begin(); it != patch.end();) {
    const std::string& k = it.key();
    if (k.starts_with(kDeletePrefix)) {
      if (!it->is_array()) return BadRequest("invalid patch format of primitive list");
      std::string list = k.substr(kDeletePrefix.size());
      if (auto o = original.find(list); o != original.end() && o->is_array()) {
        json kept = json::array();
        for (const json& e : *o) {
          if (IndexIn(*it, e, "") < 0) kept.push_back(e);
        }
        *o = std::move(kept);
      }
      it = patch.erase(it);
    } else if (k.starts_with(kOrderPrefix)) {
      if (!it->is_array()) return BadRequest("invalid patch format of setElementOrder list");
      orders[k.substr(kOrderPrefix.size())] = *it;
      it = patch.erase(it);
    } else if (IsDirective(k)) {
      return BadRequest("unknown strategic merge patch directive \"" + k + "\"");
    } else {
      ++it;
    }
  }

  for (auto& [k, v] : patch.items()) {
    const FieldInfo* field = schema != nullptr ? schema->Find(k) : nullptr;
    auto o = original.find(k);
    if (v.is_null()) {
      if (o != original.end()) original.erase(o);
      continue;
    }
    auto order = orders.find(k);
    const json* order_list = order == orders.end() ? nullptr : &order->second;
    if (o == original.end()) {
      Result<std::optional<json>> f = Fresh(v, field);
      if (!f) return f.error();
      if (!*f) continue;
      if (order_list != nullptr && f->value().is_array() && field != nullptr &&
          field->list != FieldInfo::ListKind::kAtomic) {
        Result<json> ordered = ApplyOrder(**f, *order_list, json::array(), *field);
        if (!ordered) return ordered.error();
        original[k] = *std::move(ordered);
      } else {
        original[k] = **std::move(f);
      }
    } else if (o->is_object() && v.is_object()) {
      Result<std::optional<json>> m =
          MergeMap(std::move(*o), std::move(v), field ? field->type : nullptr);
      if (!m) return m.error();
      if (*m) {
        original[k] = **std::move(m);
      } else {
        original.erase(k);
      }
    } else if (o->is_array() && v.is_array()) {
      Result<json> l = MergeList(*o, v, field, order_list);
      if (!l) return l.error();
      original[k] = *std::move(l);
    } else {
      Result<std::optional<json>> f = Fresh(v, field);
      if (!f) return f.error();
      if (*f) {
        original[k] = **std::move(f);
      } else {
        original.erase(k);
      }
    }
    if (order != orders.end()) orders.erase(order);
  }

  // Orders for lists the patch did not touch: reorder what the server has.
  for (const auto& [k, order] : orders) {
    const FieldInfo* field = schema != nullptr ? schema->Find(k) : nullptr;
    auto o = original.find(k);
    if (o == original.end() || !o->is_array() || field == nullptr ||
        field->list == FieldInfo::ListKind::kAtomic) {
      continue;
    }
    Result<json> ordered = ApplyOrder(*o, order, *o, *field);
    if (!ordered) return ordered.error();
    *o = *std::move(ordered);
  }
  return std::optional<json>(std::move(original));
}

// Strips nlohmann's "[json.exception.type.N] " prefix.
std::string ExceptionText(const std::exception& e) {
  std::string_view w = e.what();
  if (w.starts_with("[json.exception.")) {
    size_t close = w.find("] ");
    if (close != std::string_view::npos) w.remove_prefix(close + 2);
  }
  return std::string(w);
}

Result<json> ParseBody(std::string_view body, std::string_view what) {
  // Before the parse (decode_checks.h): kube-apiserver answers a merge patch Go cannot decode
  // with "Invalid JSON Patch", the other two with the decoder's error.
  if (auto err = ScanJsonText(body)) {
    if (*err == kExceededMaxDepth && what == "merge patch") return BadRequest("Invalid JSON Patch");
    return BadRequest(*std::move(err));
  }
  json patch = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (patch.is_discarded()) {
    return BadRequest("the body of the request (" + std::string(what) + ") is not valid JSON");
  }
  return patch;
}

// The number of reference tokens of a JSON pointer ("/a/b": 2).
size_t PointerDepth(const json& pointer) {
  if (!pointer.is_string()) return 0;
  const std::string& p = pointer.get_ref<const std::string&>();
  return static_cast<size_t>(std::count(p.begin(), p.end(), '/'));
}

// Whether applying `ops` could nest `original` deeper than `kMaxJsonDepth`, bounded before
// anything is applied: a value added at a path of k tokens reaches k plus its own depth, and a
// copy or move can deepen the document by at most how much deeper its target is than its source
// (`copy /a -> /a/b/c` repeated doubles it). Applying stays within a few thousand levels, so
// nlohmann's recursive copies and the dump that follows never meet a deep document.
bool DeeperThanTheLimit(const json& original, const json& ops) {
  size_t depth = JsonDepth(original);
  for (const json& op : ops) {
    auto kind = op.find("op");
    if (kind == op.end() || !kind->is_string()) continue;  // refused when applied
    const size_t to = PointerDepth(op.value("path", json()));
    if (*kind == "add" || *kind == "replace") {
      auto value = op.find("value");
      if (value != op.end()) depth = std::max(depth, to + JsonDepth(*value));
    } else if (*kind == "copy" || *kind == "move") {
      const size_t from = PointerDepth(op.value("from", json()));
      if (to > from) depth += to - from;
    }
    if (depth > kMaxJsonDepth) return true;
  }
  return false;
}

// An upper bound of `v.dump().size()`, exact enough for a budget, that stops counting once it
// passes `cap` (so measuring a huge value costs no more than `cap` allows).
size_t JsonBytesAtMost(const json& v, size_t cap) {
  switch (v.type()) {
    case json::value_t::object: {
      size_t n = 2;
      for (auto it = v.begin(); it != v.end() && n <= cap; ++it) {
        n += it.key().size() + 4 + JsonBytesAtMost(it.value(), cap - std::min(n, cap));
      }
      return n;
    }
    case json::value_t::array: {
      size_t n = 2;
      for (auto it = v.begin(); it != v.end() && n <= cap; ++it) {
        n += 1 + JsonBytesAtMost(*it, cap - std::min(n, cap));
      }
      return n;
    }
    case json::value_t::string: {
      // Escapes take at most six bytes (\u00XX) for a control character, two for `"` and `\`.
      size_t n = 2;
      for (char c : v.get_ref<const std::string&>()) {
        unsigned char u = static_cast<unsigned char>(c);
        n += u < 0x20 ? 6 : (u == '"' || u == '\\') ? 2 : 1;
      }
      return n;
    }
    default:
      return v.dump().size();
  }
}

// Applies the operations one at a time to one working copy (all or nothing: the copy is dropped
// on a failure). Every `copy` adds the size of what it copies to a running total that may not
// pass `max_copy_bytes`, as kube-apiserver bounds JSON patches (`AccumulatedCopySizeLimit`, set
// to its request body limit): a few dozen copies of the object into itself would otherwise double
// it each time. The total is counted before each copy is made. The other operations add at most
// the body's own values, so the result is at most the original, the body and the copy budget.
Result<json> ApplyJsonPatch(const json& original, std::string_view body, size_t max_copy_bytes) {
  Result<json> ops = ParseBody(body, "json patch");
  if (!ops) return ops.error();
  if (!ops->is_array())
    return BadRequest("json patch: the body must be a JSON array of operations");
  // kube-apiserver's bound on the work one patch may ask for.
  constexpr size_t kMaxJsonPatchOperations = 10000;
  if (ops->size() > kMaxJsonPatchOperations) {
    return RequestEntityTooLarge("The allowed maximum operations in a JSON patch is " +
                                 std::to_string(kMaxJsonPatchOperations) + ", got " +
                                 std::to_string(ops->size()));
  }
  for (const json& op : *ops) {
    if (!op.is_object()) return BadRequest("json patch: every operation must be a JSON object");
  }
  if (DeeperThanTheLimit(original, *ops)) {
    return Unprocessable(
        "json patch: exceeded max depth: the patched object would nest deeper "
        "than " +
        std::to_string(kMaxJsonDepth) + " levels");
  }
  json result = original;
  size_t copied = 0;
  try {
    for (json& op : *ops) {
      auto kind = op.find("op");
      auto from = op.find("from");
      if (kind != op.end() && *kind == "copy" && from != op.end() && from->is_string()) {
        json::json_pointer source(from->get<std::string>());
        if (result.contains(source)) {
          copied += JsonBytesAtMost(result.at(source), max_copy_bytes - copied);
          if (copied > max_copy_bytes) {
            return Unprocessable(
                "json patch: unable to copy: the accumulated size of the values copied exceeds "
                "the limit of " +
                std::to_string(max_copy_bytes) + " bytes");
          }
        }
      }
      json single = json::array();
      single.push_back(std::move(op));
      result.patch_inplace(single);
    }
    return result;
  } catch (const json::other_error& e) {
    // 501: a `test` operation found another value.
    if (e.id == 501) return Unprocessable("json patch: test operation failed: " + ExceptionText(e));
    return Unprocessable("json patch: " + ExceptionText(e));
  } catch (const std::exception& e) {
    return Unprocessable("json patch: " + ExceptionText(e));
  }
}

}  // namespace

Result<PatchType> ParsePatchType(std::string_view content_type) {
  const std::string m = internal::AsciiLower(internal::Trim(
      content_type.substr(0, content_type.find(';')), internal::kOptionalWhitespace));
  if (m == "application/json-patch+json") return PatchType::kJsonPatch;
  if (m == "application/merge-patch+json") return PatchType::kMergePatch;
  if (m == "application/strategic-merge-patch+json") return PatchType::kStrategicMergePatch;
  if (m == "application/apply-patch+yaml") return PatchType::kApplyPatch;
  return UnsupportedMediaType(
      "the body of the request was in an unknown format - accepted media types include: "
      "application/json-patch+json, application/merge-patch+json, "
      "application/strategic-merge-patch+json");
}

Result<nlohmann::json> ApplyPatch(PatchType type, const nlohmann::json& original,
                                  std::string_view body, const ResourceInfo& info,
                                  size_t max_copy_bytes) {
  switch (type) {
    case PatchType::kJsonPatch:
      return ApplyJsonPatch(original, body, max_copy_bytes);
    case PatchType::kMergePatch: {
      Result<json> patch = ParseBody(body, "merge patch");
      if (!patch) return patch.error();
      if (!patch->is_object()) return BadRequest("merge patch: the body must be a JSON object");
      json result = original;
      result.merge_patch(*patch);
      return result;
    }
    case PatchType::kStrategicMergePatch: {
      if (info.is_custom) {
        return UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json (strategic merge patch "
            "is not supported for custom resources)");
      }
      Result<json> patch = ParseBody(body, "strategic merge patch");
      if (!patch) return patch.error();
      if (!patch->is_object()) {
        return BadRequest("strategic merge patch: the body must be a JSON object");
      }
      try {
        StrategicMerger merger;
        Result<std::optional<json>> merged =
            merger.MergeMap(original, *std::move(patch), RootSchema(info.kind));
        if (!merged) return merged.error();
        // `$patch: delete` at the top would delete the object itself: not a patch.
        if (!*merged) return BadRequest("strategic merge patch: $patch: delete on the object");
        return **std::move(merged);
      } catch (const std::exception& e) {
        return BadRequest("strategic merge patch: " + ExceptionText(e));
      }
    }
    case PatchType::kApplyPatch:
      // Objects and their status are applied by Registry::ApplyServerSide; what reaches here is
      // an apply to the scale subresource.
      return UnsupportedMediaType(
          "server-side apply (application/apply-patch+yaml) of the scale subresource is not "
          "supported by this server; use a merge, JSON or strategic merge patch");
  }
  return InternalError("unknown patch type");
}

}  // namespace kube::server

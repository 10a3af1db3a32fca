// Field ownership and server-side apply; see managed_fields.h.
//
// Reads from: the registry. Feeds: `metadata.managedFields` of stored objects.
#include "server/managed_fields.h"

#include <algorithm>
#include <utility>

#include "server/object_json.h"
#include "server/schema_type.h"

namespace kube::server {
namespace {

using nlohmann::json;

// One value is one field: a scalar, null, or an atomic list, map or struct.
bool Atomic(const SchemaType& t, const json& v) {
  if (!v.is_object() && !v.is_array()) return true;
  SchemaType::Kind k = t.kind();
  if (v.is_object())
    return k == SchemaType::Kind::kList || k == SchemaType::Kind::kScalar || t.atomic();
  return k != SchemaType::Kind::kList || t.list_type() == "atomic";
}

// What an applied value's field set records as one member: atomic values and empty containers.
bool Leaf(const SchemaType& t, const json& v) {
  return Atomic(t, v) || ((v.is_object() || v.is_array()) && v.empty());
}

// The path element naming `item` (at `index`) in a list of type `t`.
std::string ElementKey(const SchemaType& t, const json& item, size_t index) {
  if (t.list_type() == "set") return "v:" + Dump(item);
  if (item.is_object()) {
    json key = json::object();
    SchemaType items = t.Items();
    for (const std::string& k : t.keys()) {
      if (auto it = item.find(k); it != item.end()) {
        key[k] = *it;
      } else if (std::optional<json> d = items.Field(k).Default()) {
        key[k] = *d;  // a key the schema defaults names the item as if it were set
      }
    }
    if (!key.empty()) return "k:" + Dump(key);
  }
  return "i:" + std::to_string(index);
}

// The field set of an applied value: its atomic fields and its list items.
FieldSet AppliedSet(const json& v, const SchemaType& t) {
  FieldSet s;
  if (Leaf(t, v)) {
    s.member = true;
    return s;
  }
  if (v.is_object()) {
    for (const auto& [k, c] : v.items()) s.children["f:" + k] = AppliedSet(c, t.Field(k));
    return s;
  }
  SchemaType items = t.Items();
  for (size_t i = 0; i < v.size(); ++i) {
    FieldSet child = t.list_type() == "set" ? FieldSet{} : AppliedSet(v[i], items);
    child.member = true;
    s.children[ElementKey(t, v[i], i)] = std::move(child);
  }
  return s;
}

// Every path of a value that was added: the value itself and everything in it.
FieldSet AllPaths(const json& v, const SchemaType& t) {
  FieldSet s;
  s.member = true;
  if (Atomic(t, v)) return s;
  if (v.is_object()) {
    for (const auto& [k, c] : v.items()) s.children["f:" + k] = AllPaths(c, t.Field(k));
    return s;
  }
  SchemaType items = t.Items();
  for (size_t i = 0; i < v.size(); ++i) {
    FieldSet child = t.list_type() == "set" ? FieldSet{} : AllPaths(v[i], items);
    child.member = true;
    s.children[ElementKey(t, v[i], i)] = std::move(child);
  }
  return s;
}

void PutIfNotEmpty(FieldSet* parent, const std::string& key, FieldSet child) {
  if (!child.empty()) parent->children[key] = std::move(child);
}

// The paths added or changed (`changed`) and removed (`removed`) from `o` to `n`.
void Compare(const json& o, const json& n, const SchemaType& t, FieldSet* changed,
             FieldSet* removed) {
  if (o == n) return;  // most of an update: nothing to name, nothing to allocate
  if (Atomic(t, o) || Atomic(t, n) || o.type() != n.type()) {
    changed->member = true;
    return;
  }
  static const json kEmpty = json::object();
  if (n.is_object()) {
    for (const auto& [k, nv] : n.items()) {
      SchemaType ft = t.Field(k);
      FieldSet c, r;
      if (auto it = o.find(k); it != o.end()) {
        Compare(*it, nv, ft, &c, &r);
      } else if (ft.DefaultsToEmptyObject()) {
        Compare(kEmpty, nv, ft, &c, &r);
      } else {
        c = AllPaths(nv, ft);
      }
      PutIfNotEmpty(changed, "f:" + k, std::move(c));
      PutIfNotEmpty(removed, "f:" + k, std::move(r));
    }
    for (const auto& [k, ov] : o.items()) {
      if (n.contains(k)) continue;
      SchemaType ft = t.Field(k);
      FieldSet c, r;
      if (ft.DefaultsToEmptyObject()) {
        Compare(ov, kEmpty, ft, &c, &r);
      } else {
        r.member = true;
      }
      PutIfNotEmpty(changed, "f:" + k, std::move(c));
      PutIfNotEmpty(removed, "f:" + k, std::move(r));
    }
    return;
  }
  // Lists of sets and maps: items matched by their key.
  SchemaType items = t.Items();
  std::map<std::string, const json*> old_items;
  for (size_t i = 0; i < o.size(); ++i) old_items.emplace(ElementKey(t, o[i], i), &o[i]);
  std::map<std::string, const json*> new_items;
  for (size_t i = 0; i < n.size(); ++i) new_items.emplace(ElementKey(t, n[i], i), &n[i]);
  bool set = t.list_type() == "set";
  for (const auto& [key, nv] : new_items) {
    auto it = old_items.find(key);
    FieldSet c, r;
    if (it == old_items.end()) {
      c = set ? FieldSet{} : AllPaths(*nv, items);
      c.member = true;
    } else if (!set) {
      Compare(*it->second, *nv, items, &c, &r);
    }
    PutIfNotEmpty(changed, key, std::move(c));
    PutIfNotEmpty(removed, key, std::move(r));
  }
  for (const auto& [key, ov] : old_items) {
    if (new_items.contains(key)) continue;
    removed->children[key].member = true;
  }
}

// `applied` merged into `live`.
json Merge(const json* live, const json& applied, const SchemaType& t) {
  if (!live || Atomic(t, applied) || Atomic(t, *live) || live->type() != applied.type()) {
    return applied;
  }
  json out = *live;
  if (applied.is_object()) {
    for (const auto& [k, v] : applied.items()) {
      auto it = live->find(k);
      out[k] = Merge(it == live->end() ? nullptr : &*it, v, t.Field(k));
    }
    return out;
  }
  SchemaType items = t.Items();
  bool set = t.list_type() == "set";
  // Keys are built once per item: merging stays linear in the lists' lengths.
  std::map<std::string, size_t> index;
  for (size_t j = 0; j < out.size(); ++j) index.emplace(ElementKey(t, out[j], j), j);
  for (size_t i = 0; i < applied.size(); ++i) {
    const json& item = applied[i];
    std::string key = ElementKey(t, item, i);
    auto it = index.find(key);
    if (it == index.end()) {
      index.emplace(std::move(key), out.size());
      out.push_back(item);
    } else if (!set) {
      out[it->second] = Merge(&out[it->second], item, items);
    }
  }
  return out;
}

// Removes every member of `s` from `v`.
void RemovePaths(json& v, const FieldSet& s, const SchemaType& t) {
  std::map<std::string, size_t> index;  // list items by key, built on first use
  std::vector<size_t> doomed;
  for (const auto& [key, child] : s.children) {
    if (key.starts_with("f:")) {
      std::string name = key.substr(2);
      if (!v.is_object() || !v.contains(name)) continue;
      if (child.member) {
        v.erase(name);
      } else {
        RemovePaths(v[name], child, t.Field(name));
      }
      continue;
    }
    if (!v.is_array()) continue;
    if (index.empty()) {
      for (size_t i = 0; i < v.size(); ++i) index.emplace(ElementKey(t, v[i], i), i);
    }
    auto it = index.find(key);
    if (it == index.end()) continue;
    if (child.member) {
      doomed.push_back(it->second);
    } else {
      RemovePaths(v[it->second], child, t.Items());
    }
  }
  // Items go last, from the end, so the indexes above stay valid.
  std::sort(doomed.rbegin(), doomed.rend());
  for (size_t i : doomed) v.erase(i);
}

constexpr const char* kServerMetadata[] = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
};

// The part of an object whose fields managers own: without apiVersion, kind, server-owned
// metadata and, when the kind has a status subresource, without status (writes to the object)
// or with only status (writes to `status`).
json Owned(const json& obj, bool status_reset, bool status_write) {
  json out = json::object();
  if (!obj.is_object()) return out;
  if (status_write) {
    if (auto s = obj.find("status"); s != obj.end()) out["status"] = *s;
    return out;
  }
  // Member by member: server-owned parts (managedFields, often the biggest) are never copied.
  for (const auto& [k, v] : obj.items()) {
    if (k == "apiVersion" || k == "kind" || (status_reset && k == "status")) continue;
    if (k != "metadata" || !v.is_object()) {
      out[k] = v;
      continue;
    }
    json meta = json::object();
    for (const auto& [mk, mv] : v.items()) {
      if (std::find(std::begin(kServerMetadata), std::end(kServerMetadata), mk) ==
          std::end(kServerMetadata)) {
        meta[mk] = mv;
      }
    }
    if (!meta.empty()) out["metadata"] = std::move(meta);
  }
  return out;
}

struct Entry {
  std::string manager, operation, api_version, time, subresource;
  FieldSet fields;
};

std::vector<Entry> ParseEntries(const json& obj) {
  std::vector<Entry> out;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return out;
  auto mf = m->find("managedFields");
  if (mf == m->end() || !mf->is_array()) return out;
  for (const json& e : *mf) {
    if (!e.is_object()) continue;
    Entry entry{
        StringAt(e, "manager"),     StringAt(e, "operation"),
        StringAt(e, "apiVersion"),  StringAt(e, "time"),
        StringAt(e, "subresource"), FieldSet::FromJson(e.value("fieldsV1", json::object()))};
    out.push_back(std::move(entry));
  }
  return out;
}

void WriteEntries(const std::vector<Entry>& entries, json* obj) {
  json& meta = (*obj)["metadata"];
  if (!meta.is_object()) meta = json::object();
  json list = json::array();
  for (const Entry& e : entries) {
    if (e.fields.empty()) continue;
    json j = {{"manager", e.manager}, {"operation", e.operation}, {"apiVersion", e.api_version},
              {"time", e.time},       {"fieldsType", "FieldsV1"}, {"fieldsV1", e.fields.ToJson()}};
    if (!e.subresource.empty()) j["subresource"] = e.subresource;
    list.push_back(std::move(j));
  }
  if (list.empty()) {
    meta.erase("managedFields");
  } else {
    meta["managedFields"] = std::move(list);
  }
}

// kube-apiserver's name for a manager in conflict messages.
std::string PrintManager(const Entry& e) {
  std::string out = Dump(json(e.manager));
  if (!e.subresource.empty()) out += " with subresource " + Dump(json(e.subresource));
  if (e.operation == "Update") out += " using " + e.api_version;
  return out;
}

std::string PathOf(const std::vector<std::string>& elements) {
  std::string out;
  for (const std::string& e : elements) {
    std::string_view body = std::string_view(e).substr(2);
    if (e.starts_with("f:")) {
      out += '.';
      out += body;
    } else if (e.starts_with("v:")) {
      out += "[=";
      out += body;
      out += ']';
    } else if (e.starts_with("i:")) {
      out += '[';
      out += body;
      out += ']';
    } else {
      json key = json::parse(body, nullptr, false);
      out += '[';
      bool first = true;
      if (key.is_object()) {
        for (const auto& [k, v] : key.items()) {
          if (!first) out += ',';
          first = false;
          out += k + "=" + Dump(v);
        }
      }
      out += ']';
    }
  }
  return out;
}

void CollectPaths(const FieldSet& s, std::vector<std::string>* prefix,
                  std::vector<std::string>* out) {
  if (s.member) out->push_back(PathOf(*prefix));
  for (const auto& [k, c] : s.children) {
    prefix->push_back(k);
    CollectPaths(c, prefix, out);
    prefix->pop_back();
  }
}

}  // namespace

void FieldSet::Insert(const FieldSet& other) {
  member = member || other.member;
  for (const auto& [k, c] : other.children) children[k].Insert(c);
}

FieldSet FieldSet::Minus(const FieldSet& other) const {
  FieldSet out;
  out.member = member && !other.member;
  for (const auto& [k, c] : children) {
    auto it = other.children.find(k);
    FieldSet child = it == other.children.end() ? c : c.Minus(it->second);
    if (!child.empty()) out.children[k] = std::move(child);
  }
  return out;
}

FieldSet FieldSet::Intersect(const FieldSet& other) const {
  FieldSet out;
  out.member = member && other.member;
  for (const auto& [k, c] : children) {
    auto it = other.children.find(k);
    if (it == other.children.end()) continue;
    FieldSet child = c.Intersect(it->second);
    if (!child.empty()) out.children[k] = std::move(child);
  }
  return out;
}

FieldSet FieldSet::MinusSubtrees(const FieldSet& other) const {
  if (other.member) return {};
  FieldSet out;
  out.member = member;
  for (const auto& [k, c] : children) {
    auto it = other.children.find(k);
    FieldSet child = it == other.children.end() ? c : c.MinusSubtrees(it->second);
    if (!child.empty()) out.children[k] = std::move(child);
  }
  return out;
}

json FieldSet::ToJson() const {
  json out = json::object();
  if (member && !children.empty()) out["."] = json::object();
  for (const auto& [k, c] : children) out[k] = c.ToJson();
  return out;
}

FieldSet FieldSet::FromJson(const json& j) {
  FieldSet out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (k == ".") {
      out.member = true;
      continue;
    }
    FieldSet child = FromJson(v);
    if (child.children.empty()) child.member = true;
    out.children[k] = std::move(child);
  }
  return out;
}

std::vector<std::string> FieldSet::Paths() const {
  std::vector<std::string> out;
  std::vector<std::string> prefix;
  CollectPaths(*this, &prefix, &out);
  return out;
}

std::string ManagerFromUserAgent(std::string_view user_agent) {
  std::string_view m = user_agent.substr(0, user_agent.find('/'));
  if (m.size() > 128) m = m.substr(0, 128);
  return m.empty() ? "unknown" : std::string(m);
}

void RecordUpdate(const KindSchema* schema, const json* old, json* updated, const FieldManager& who,
                  bool status_reset) {
  const bool status_write = who.subresource == "status";
  SchemaType root = RootType(schema);
  static const json kEmpty = json::object();
  json o = old ? Owned(*old, status_reset, status_write) : kEmpty;
  json n = Owned(*updated, status_reset, status_write);
  FieldSet changed, removed;
  Compare(o, n, root, &changed, &removed);
  bool carries = updated->contains("metadata") && (*updated)["metadata"].is_object() &&
                 (*updated)["metadata"].contains("managedFields");
  std::vector<Entry> entries = ParseEntries(carries || !old ? *updated : *old);
  if (changed.empty() && removed.empty()) {
    WriteEntries(entries, updated);
    return;
  }
  Entry* own = nullptr;
  for (Entry& e : entries) {
    bool mine = e.manager == who.manager && e.operation == "Update" &&
                e.api_version == who.api_version && e.subresource == who.subresource;
    if (mine) {
      own = &e;
      continue;
    }
    e.fields = e.fields.Minus(changed).MinusSubtrees(removed);
  }
  if (!own) {
    entries.push_back({who.manager, "Update", who.api_version, who.time, who.subresource, {}});
    own = &entries.back();
  }
  own->fields = own->fields.MinusSubtrees(removed);
  own->fields.Insert(changed);
  own->fields.member = false;
  own->time = who.time;
  WriteEntries(entries, updated);
}

ApiOr<json> ServerSideApply(const KindSchema* schema, const json* live, const json& applied,
                            const FieldManager& who, bool force, bool status_reset) {
  const bool status_write = who.subresource == "status";
  SchemaType root = RootType(schema);
  json a = Owned(applied, status_reset, status_write);
  FieldSet applied_set = AppliedSet(a, root);
  applied_set.member = false;
  json l = live ? Owned(*live, status_reset, status_write) : json::object();
  json merged = Merge(&l, a, root);
  FieldSet changed, removed;
  Compare(l, merged, root, &changed, &removed);

  std::vector<Entry> entries = live ? ParseEntries(*live) : std::vector<Entry>{};
  auto is_own = [&](const Entry& e) {
    return e.manager == who.manager && e.operation == "Apply" && e.subresource == who.subresource;
  };
  std::vector<std::pair<const Entry*, std::string>> conflicts;
  std::vector<FieldSet> conflict_sets(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (is_own(entries[i])) continue;
    conflict_sets[i] = entries[i].fields.Intersect(changed);
    for (std::string& p : conflict_sets[i].Paths()) conflicts.emplace_back(&entries[i], p);
  }
  if (!conflicts.empty() && !force) {
    ApiError e;
    e.code = 409;
    e.reason = "Conflict";
    if (conflicts.size() == 1) {
      e.message = "Apply failed with 1 conflict: conflict with " +
                  PrintManager(*conflicts[0].first) + ": " + conflicts[0].second;
    } else {
      std::map<std::string, std::vector<std::string>> by_manager;
      for (const auto& [entry, path] : conflicts) by_manager[PrintManager(*entry)].push_back(path);
      e.message = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
      bool first = true;
      for (const auto& [manager, paths] : by_manager) {
        e.message += (first ? "" : "\n") + std::string("conflicts with ") + manager + ":";
        first = false;
        for (const std::string& p : paths) e.message += "\n- " + p;
      }
    }
    for (const auto& [entry, path] : conflicts) {
      e.causes.push_back({"FieldManagerConflict", "conflict with " + PrintManager(*entry), path});
    }
    return e;
  }
  FieldSet previous, others;
  Entry* own = nullptr;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (is_own(entries[i])) {
      own = &entries[i];
      previous = entries[i].fields;
      continue;
    }
    entries[i].fields = entries[i].fields.Minus(conflict_sets[i]);
    others.Insert(entries[i].fields);
  }
  RemovePaths(merged, previous.Minus(applied_set).Minus(others), root);

  bool unchanged = own && own->fields == applied_set && merged == l;
  if (!own) {
    entries.push_back({who.manager, "Apply", who.api_version, who.time, who.subresource, {}});
    own = &entries.back();
  }
  own->fields = applied_set;
  own->api_version = who.api_version;
  if (!unchanged) own->time = who.time;

  // The result: the merged owned part, with everything else as it was (or as applied, for a
  // create).
  const json& base = live ? *live : applied;
  json result = status_write ? base : merged;
  if (status_write) {
    if (merged.contains("status")) {
      result["status"] = merged["status"];
    } else {
      result.erase("status");
    }
  }
  if (!result.is_object()) result = json::object();
  for (const char* k : {"apiVersion", "kind"}) {
    if (base.contains(k)) result[k] = base[k];
  }
  if (status_reset && !status_write) {
    if (live && live->contains("status")) {
      result["status"] = (*live)["status"];
    } else {
      result.erase("status");
    }
  }
  json& meta = result["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (auto bm = base.find("metadata"); bm != base.end() && bm->is_object()) {
    for (const char* k : kServerMetadata) {
      if (auto it = bm->find(k); it != bm->end()) meta[k] = *it;
    }
  }
  std::string want_rv;
  if (auto am = applied.find("metadata"); am != applied.end() && am->is_object()) {
    want_rv = StringAt(*am, "resourceVersion");
  }
  if (!want_rv.empty()) meta["resourceVersion"] = want_rv;
  WriteEntries(entries, &result);
  return result;
}

}  // namespace kube::server

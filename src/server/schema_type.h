// SchemaType: a view of one node of an OpenAPI v3 schema, as server-side apply and field
// validation read it (kind of value, list type and keys, atomicity, defaults).
//
// Header-only; a view: the document it points into must outlive it. Thread-compatible.
#ifndef KUBE_SERVER_SCHEMA_TYPE_H_
#define KUBE_SERVER_SCHEMA_TYPE_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server/kind_schema.h"

namespace kube::server {

// A view of one schema node, `$ref`s resolved against the document's `components.schemas`.
// A default-constructed SchemaType is untyped: maps merge field by field, lists are atomic.
class SchemaType {
 public:
  enum class Kind { kUntyped, kScalar, kStruct, kMap, kList };

  SchemaType() = default;
  SchemaType(const nlohmann::json* node, const nlohmann::json* defs) : raw_(node), defs_(defs) {
    node_ = node;
    for (int hops = 0; node_ && node_->is_object() && hops < 64; ++hops) {
      const nlohmann::json* ref = nullptr;
      if (auto r = node_->find("$ref"); r != node_->end() && r->is_string()) {
        ref = &*r;
      } else if (auto all = node_->find("allOf"); all != node_->end() && all->is_array() &&
                                                  all->size() == 1 && (*all)[0].is_object() &&
                                                  (*all)[0].contains("$ref")) {
        ref = &(*all)[0]["$ref"];
      }
      if (!ref || !ref->is_string()) break;
      std::string name = ref->get<std::string>();
      size_t slash = name.rfind('/');
      if (slash != std::string::npos) name = name.substr(slash + 1);
      auto def = defs_ ? defs_->find(name) : nlohmann::json::const_iterator();
      if (!defs_ || def == defs_->end()) {
        node_ = nullptr;
        break;
      }
      node_ = &*def;
    }
    if (node_ && !node_->is_object()) node_ = nullptr;
    kind_ = ComputeKind();
  }

  Kind kind() const { return kind_; }

 private:
  Kind ComputeKind() const {
    if (!node_) return Kind::kUntyped;
    if (IsTrue(Ext("x-kubernetes-int-or-string"))) return Kind::kScalar;
    std::string type = node_->value("type", "");
    if (type == "array" || node_->contains("items")) return Kind::kList;
    if (node_->contains("properties")) return Kind::kStruct;
    if (auto ap = node_->find("additionalProperties"); ap != node_->end() && ap->is_object()) {
      return Kind::kMap;
    }
    if (type == "string" || type == "integer" || type == "number" || type == "boolean") {
      return Kind::kScalar;
    }
    return Kind::kUntyped;
  }

 public:
  // Structs and maps marked `x-kubernetes-map-type: atomic`, and lists not marked set or map.
  bool atomic() const {
    switch (kind()) {
      case Kind::kStruct:
      case Kind::kMap:
        return IsString(Ext("x-kubernetes-map-type"), "atomic");
      case Kind::kList:
        return list_type() == "atomic";
      case Kind::kScalar:
        return true;
      case Kind::kUntyped:
        return false;
    }
    return false;
  }

  std::string list_type() const {
    const nlohmann::json* t = Ext("x-kubernetes-list-type");
    return t && t->is_string() && !t->empty() ? t->get<std::string>() : "atomic";
  }

  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    const nlohmann::json* k = Ext("x-kubernetes-list-map-keys");
    if (k && k->is_array()) {
      for (const nlohmann::json& s : *k) {
        if (s.is_string()) out.push_back(s.get<std::string>());
      }
    }
    return out;
  }

  SchemaType Field(const std::string& name) const {
    if (!node_) return {};
    if (auto props = node_->find("properties"); props != node_->end() && props->is_object()) {
      if (auto p = props->find(name); p != props->end()) return SchemaType(&*p, defs_);
      return {};
    }
    if (auto ap = node_->find("additionalProperties"); ap != node_->end() && ap->is_object()) {
      return SchemaType(&*ap, defs_);
    }
    return {};
  }

  // Whether a struct's schema declares the property `name`.
  bool Declares(const std::string& name) const {
    if (!node_) return false;
    auto props = node_->find("properties");
    return props != node_->end() && props->is_object() && props->contains(name);
  }

  // `x-kubernetes-preserve-unknown-fields: true`: fields beyond the declared ones are kept.
  bool PreservesUnknownFields() const {
    return IsTrue(Ext("x-kubernetes-preserve-unknown-fields"));
  }

  SchemaType Items() const {
    if (!node_) return {};
    if (auto it = node_->find("items"); it != node_->end() && it->is_object()) {
      return SchemaType(&*it, defs_);
    }
    return {};
  }

  // The property's `default`, if its schema has one.
  std::optional<nlohmann::json> Default() const {
    for (const nlohmann::json* n : {raw_, node_}) {
      if (!n || !n->is_object()) continue;
      if (auto d = n->find("default"); d != n->end()) return *d;
    }
    return std::nullopt;
  }

  // A property whose schema defaults to `{}`: a non-pointer struct in Go, present (empty) in
  // every object, so never "added" or "removed" itself.
  bool DefaultsToEmptyObject() const {
    if (!raw_ || !raw_->is_object()) return false;
    auto d = raw_->find("default");
    return d != raw_->end() && d->is_object() && d->empty() && kind() == Kind::kStruct;
  }

 private:
  // The value of an extension set on the property or on the schema it refers to, or null.
  const nlohmann::json* Ext(const char* key) const {
    for (const nlohmann::json* n : {raw_, node_}) {
      if (!n || !n->is_object()) continue;
      if (auto it = n->find(key); it != n->end()) return &*it;
    }
    return nullptr;
  }
  static bool IsTrue(const nlohmann::json* v) { return v && v->is_boolean() && v->get<bool>(); }
  static bool IsString(const nlohmann::json* v, const char* s) {
    return v && v->is_string() && v->get_ref<const std::string&>() == s;
  }

  const nlohmann::json* raw_ = nullptr;
  const nlohmann::json* node_ = nullptr;
  const nlohmann::json* defs_ = nullptr;
  Kind kind_ = Kind::kUntyped;
};

// The root type of a kind's schema; untyped when there is none.
inline SchemaType RootType(const KindSchema* schema) {
  if (!schema || !schema->root || !schema->doc) return {};
  const nlohmann::json* defs = nullptr;
  if (auto c = schema->doc->find("components"); c != schema->doc->end() && c->is_object()) {
    if (auto s = c->find("schemas"); s != c->end()) defs = &*s;
  }
  return SchemaType(schema->root, defs);
}

}  // namespace kube::server

#endif  // KUBE_SERVER_SCHEMA_TYPE_H_

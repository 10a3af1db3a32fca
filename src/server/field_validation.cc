// Unknown fields of request bodies; see field_validation.h.
//
// Reads from: the router. Feeds: its answers.
#include "server/field_validation.h"

#include <algorithm>
#include <utility>

#include "server/object_json.h"
#include "server/schema_type.h"

namespace kube::server {
namespace {

using nlohmann::json;

std::string Child(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

void Walk(const json& v, const SchemaType& t, const std::string& path,
          std::vector<std::string>* out) {
  if (v.is_object()) {
    SchemaType::Kind kind = t.kind();
    if (kind == SchemaType::Kind::kStruct) {
      for (const auto& [k, c] : v.items()) {
        if (t.Declares(k)) {
          Walk(c, t.Field(k), Child(path, k), out);
        } else if (!t.PreservesUnknownFields()) {
          out->push_back(Child(path, k));
        }
      }
    } else if (kind == SchemaType::Kind::kMap) {
      for (const auto& [k, c] : v.items()) Walk(c, t.Field(k), Child(path, k), out);
    }
    return;
  }
  if (v.is_array() && t.kind() == SchemaType::Kind::kList) {
    SchemaType items = t.Items();
    for (size_t i = 0; i < v.size(); ++i) {
      Walk(v[i], items, path + "[" + std::to_string(i) + "]", out);
    }
  }
}

// Where the body first names the last part of `path` (its key, quoted); unknown paths with the
// same key keep their relative order.
size_t PositionIn(std::string_view raw, const std::string& path) {
  size_t dot = path.find_last_of(".]");
  std::string key = path.substr(dot == std::string::npos ? 0 : dot + 1);
  size_t at = raw.find(Dump(json(key)));
  return at == std::string_view::npos ? raw.size() : at;
}

}  // namespace

std::vector<std::string> UnknownFields(const KindSchema& schema, const json& body,
                                       std::string_view raw) {
  std::vector<std::string> out;
  SchemaType root = RootType(&schema);
  if (root.kind() != SchemaType::Kind::kStruct) return out;
  Walk(body, root, "", &out);
  std::stable_sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    return PositionIn(raw, a) < PositionIn(raw, b);
  });
  return out;
}

std::string StrictDecodingError(const std::vector<std::string>& unknown) {
  std::string out = "strict decoding error: ";
  for (size_t i = 0; i < unknown.size(); ++i) {
    if (i > 0) out += ", ";
    out += "unknown field " + Dump(json(unknown[i]));
  }
  return out;
}

std::string UnknownFieldWarning(std::string_view path) {
  return "299 - " + Dump(json("unknown field " + Dump(json(std::string(path)))));
}

}  // namespace kube::server

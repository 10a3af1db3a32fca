// Decoder checks on request bodies; see decode_checks.h.
//
// Reads from: request bodies, patch results. Feeds: router, registry.
#include "server/decode_checks.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace kube::server {
namespace {

using nlohmann::json;

// Go's `strconv.Quote` for the ASCII a query parameter or a number literal holds; other bytes as
// \xNN.
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out + "\"";
}

// A number literal as an error quotes it: whole up to 64 bytes, else its start and "...".
std::string Literal(std::string_view s) {
  return s.size() <= 64 ? std::string(s) : std::string(s.substr(0, 64)) + "...";
}

bool IsNumberByte(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// What a number literal turns into when nlohmann parses it; an error when the value changes:
// an integer outside int64 and uint64 (it would become a rounded double) or a number beyond
// double's range (it would become infinity, written out as null).
std::optional<std::string> CheckNumber(std::string_view lit) {
  bool integer = lit.find_first_of(".eE") == std::string_view::npos;
  if (integer) {
    std::string_view digits = lit;
    if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
    // Malformed literals (`--1`, `1-`) are the parser's to report.
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    std::errc ec;
    if (lit[0] == '-') {
      int64_t v = 0;
      ec = std::from_chars(lit.data(), lit.data() + lit.size(), v).ec;
    } else {
      uint64_t v = 0;
      ec = std::from_chars(lit.data(), lit.data() + lit.size(), v).ec;
    }
    if (ec != std::errc::result_out_of_range) return std::nullopt;
    return "json: cannot unmarshal number " + Literal(lit) + " into Go value of type int64";
  }
  std::string copy(lit);
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str() + copy.size() && std::isinf(d)) {
    return "json: cannot unmarshal number " + Literal(lit) + " into Go value of type float64";
  }
  return std::nullopt;
}

std::string GoValue(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "number";
  }
}

std::string Unmarshal(const std::string& value, std::string_view strct, std::string_view field,
                      std::string_view type) {
  return "json: cannot unmarshal " + value + " into Go struct field " + std::string(strct) + "." +
         std::string(field) + " of type " + std::string(type);
}

// The Go types of the fields checked, by the JSON they accept.
enum class GoType { kString, kInt64, kBool, kTime, kStringMap, kStringList, kAny };

// An error when `v` does not decode into `type`; `null` decodes into anything.
std::optional<std::string> CheckField(const json& v, GoType type, std::string_view strct,
                                      const std::string& field, std::string_view type_name) {
  if (v.is_null()) return std::nullopt;
  switch (type) {
    case GoType::kAny:
      return std::nullopt;
    case GoType::kString:
      if (v.is_string()) return std::nullopt;
      return Unmarshal(GoValue(v), strct, field, type_name);
    case GoType::kTime:
      // metav1.Time decodes a string itself; its inner decoder names "string".
      if (v.is_string()) return std::nullopt;
      return Unmarshal(GoValue(v), strct, field, "string");
    case GoType::kBool:
      if (v.is_boolean()) return std::nullopt;
      return Unmarshal(GoValue(v), strct, field, type_name);
    case GoType::kInt64:
      if (v.is_number_integer() &&
          !(v.is_number_unsigned() &&
            v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
        return std::nullopt;
      }
      if (v.is_number()) return Unmarshal("number " + v.dump(), strct, field, type_name);
      return Unmarshal(GoValue(v), strct, field, type_name);
    case GoType::kStringMap:
      if (!v.is_object()) return Unmarshal(GoValue(v), strct, field, "map[string]string");
      for (const auto& [k, e] : v.items()) {
        if (!e.is_null() && !e.is_string()) return Unmarshal(GoValue(e), strct, field, "string");
      }
      return std::nullopt;
    case GoType::kStringList:
      if (!v.is_array()) return Unmarshal(GoValue(v), strct, field, "[]string");
      for (const json& e : v) {
        if (!e.is_null() && !e.is_string()) return Unmarshal(GoValue(e), strct, field, "string");
      }
      return std::nullopt;
  }
  return std::nullopt;
}

struct FieldSpec {
  std::string_view name;
  GoType type;
  std::string_view type_name;
};

// The fields of a Go struct that are checked; others (unknown ones) are left alone.
std::optional<std::string> CheckStruct(const json& obj, std::string_view strct,
                                       const std::string& prefix,
                                       std::initializer_list<FieldSpec> fields) {
  for (const auto& [k, v] : obj.items()) {
    for (const FieldSpec& f : fields) {
      if (f.name != k) continue;
      if (auto err = CheckField(v, f.type, strct, prefix + k, f.type_name)) return err;
    }
  }
  return std::nullopt;
}

// A list of structs (`ownerReferences`, `managedFields`).
std::optional<std::string> CheckStructList(const json& v, std::string_view strct,
                                           std::string_view go_type, const std::string& field,
                                           std::initializer_list<FieldSpec> fields) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_array()) return Unmarshal(GoValue(v), "ObjectMeta", field, "[]" + std::string(go_type));
  for (const json& e : v) {
    if (e.is_null()) continue;
    if (!e.is_object()) return Unmarshal(GoValue(e), "ObjectMeta", field, go_type);
    if (auto err = CheckStruct(e, strct, field + ".", fields)) return err;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ScanJsonText(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  std::optional<std::string> number_error;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
      case '"': {
        // Skip the string (memchr to each quote; one preceded by an odd run of backslashes is
        // escaped); an unterminated one is the parser's to report.
        const size_t open = i;
        for (;;) {
          const void* q = std::memchr(text.data() + i + 1, '"', text.size() - i - 1);
          if (q == nullptr) {
            i = text.size();
            break;
          }
          i = static_cast<size_t>(static_cast<const char*>(q) - text.data());
          size_t backslashes = 0;
          while (i - backslashes - 1 > open && text[i - backslashes - 1] == '\\') ++backslashes;
          if (backslashes % 2 == 0) break;
        }
        break;
      }
      case '{':
      case '[':
        if (++depth > max_depth) return std::string(kExceededMaxDepth);
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          size_t j = i;
          while (j < text.size() && IsNumberByte(text[j])) ++j;
          if (!number_error) number_error = CheckNumber(text.substr(i, j - i));
          i = j - 1;
        }
        break;
    }
  }
  return number_error;
}

size_t JsonDepth(const json& j) {
  size_t deepest = 0;
  std::vector<std::pair<const json*, size_t>> stack{{&j, 0}};
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    for (const json& child : *v) {
      if (child.is_structured()) stack.emplace_back(&child, d + 1);
    }
  }
  return deepest;
}

std::string SummarizeBody(std::string_view body) {
  if (body.empty()) return "<empty>";
  constexpr size_t kMax = 30;
  if (body[0] == '{') {
    return body.size() > kMax ? std::string(body.substr(0, kMax)) + " ..." : std::string(body);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < body.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(body[i]);
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return body.size() > kMax ? out + " ..." : out;
}

std::string Unrecognized(std::string_view kind, std::string_view detail, std::string_view body) {
  return "the object provided is unrecognized (must be of type " + std::string(kind) +
         "): " + std::string(detail) + " (" + SummarizeBody(body) + ")";
}

std::string CannotBeHandled(const json& body, std::string_view kind, std::string_view version,
                            std::string_view detail) {
  std::string body_kind(kind), body_version(version);
  if (auto k = body.find("kind"); k != body.end() && k->is_string() && !k->empty()) {
    body_kind = k->get<std::string>();
  }
  if (auto v = body.find("apiVersion"); v != body.end() && v->is_string() && !v->empty()) {
    std::string av = v->get<std::string>();
    body_version = av.substr(av.find('/') == std::string::npos ? 0 : av.find('/') + 1);
  }
  return body_kind + " in version \"" + body_version + "\" cannot be handled as a " +
         std::string(kind) + ": " + std::string(detail);
}

std::optional<std::string> KindTypeError(const json& obj) {
  if (!obj.is_object()) return std::nullopt;
  for (const char* k : {"apiVersion", "kind"}) {  // Go meets them in body order; key order here
    auto it = obj.find(k);
    if (it == obj.end() || it->is_null() || it->is_string()) continue;
    return "couldn't get version/kind; json parse error: " +
           Unmarshal(GoValue(*it), "", k, "string");
  }
  return std::nullopt;
}

std::optional<std::string> MetadataTypeError(const json& obj, std::string_view go_kind) {
  auto m = obj.find("metadata");
  if (m == obj.end() || m->is_null()) return std::nullopt;
  if (!m->is_object()) return Unmarshal(GoValue(*m), go_kind, "metadata", "v1.ObjectMeta");
  for (const auto& [k, v] : m->items()) {
    const std::string field = "metadata." + k;
    std::optional<std::string> err;
    if (k == "ownerReferences") {
      err = CheckStructList(v, "OwnerReference", "v1.OwnerReference", field,
                            {{"apiVersion", GoType::kString, "string"},
                             {"kind", GoType::kString, "string"},
                             {"name", GoType::kString, "string"},
                             {"uid", GoType::kString, "types.UID"},
                             {"controller", GoType::kBool, "bool"},
                             {"blockOwnerDeletion", GoType::kBool, "bool"}});
    } else if (k == "managedFields") {
      err = CheckStructList(v, "ManagedFieldsEntry", "v1.ManagedFieldsEntry", field,
                            {{"manager", GoType::kString, "string"},
                             {"operation", GoType::kString, "v1.ManagedFieldsOperationType"},
                             {"apiVersion", GoType::kString, "string"},
                             {"time", GoType::kTime, "string"},
                             {"fieldsType", GoType::kString, "string"},
                             {"subresource", GoType::kString, "string"}});
    } else {
      static constexpr FieldSpec kFields[] = {
          {"name", GoType::kString, "string"},
          {"generateName", GoType::kString, "string"},
          {"namespace", GoType::kString, "string"},
          {"selfLink", GoType::kString, "string"},
          {"uid", GoType::kString, "types.UID"},
          {"resourceVersion", GoType::kString, "string"},
          {"generation", GoType::kInt64, "int64"},
          {"creationTimestamp", GoType::kTime, "string"},
          {"deletionTimestamp", GoType::kTime, "string"},
          {"deletionGracePeriodSeconds", GoType::kInt64, "int64"},
          {"labels", GoType::kStringMap, "map[string]string"},
          {"annotations", GoType::kStringMap, "map[string]string"},
          {"finalizers", GoType::kStringList, "[]string"},
      };
      for (const FieldSpec& f : kFields) {
        if (f.name == k) err = CheckField(v, f.type, "ObjectMeta", field, f.type_name);
      }
    }
    if (err) return err;
  }
  return std::nullopt;
}

void NormalizeMetadataNulls(json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return;
  for (auto it = m->begin(); it != m->end();) {
    it = it->is_null() ? m->erase(it) : std::next(it);
  }
  for (const char* k : {"labels", "annotations"}) {
    if (auto map = m->find(k); map != m->end() && map->is_object()) {
      for (json& v : *map) {
        if (v.is_null()) v = "";
      }
    }
  }
  if (auto f = m->find("finalizers"); f != m->end() && f->is_array()) {
    for (json& v : *f) {
      if (v.is_null()) v = "";
    }
  }
}

std::optional<std::string> DeleteOptionsTypeError(const json& body) {
  if (auto err = KindTypeError(body)) return err;
  for (const auto& [k, v] : body.items()) {
    std::optional<std::string> err;
    if (k == "preconditions") {
      if (v.is_null()) continue;
      if (!v.is_object()) {
        err = Unmarshal(GoValue(v), "DeleteOptions", k, "v1.Preconditions");
      } else {
        err = CheckStruct(v, "Preconditions", "preconditions.",
                          {{"uid", GoType::kString, "types.UID"},
                           {"resourceVersion", GoType::kString, "string"}});
      }
    } else {
      err = CheckStruct(
          json{{k, v}}, "DeleteOptions", "",
          {{"gracePeriodSeconds", GoType::kInt64, "int64"},
           {"orphanDependents", GoType::kBool, "bool"},
           {"propagationPolicy", GoType::kString, "v1.DeletionPropagation"},
           {"dryRun", GoType::kStringList, "[]string"},
           {"ignoreStoreReadErrorWithClusterBreakingPotential", GoType::kBool, "bool"}});
    }
    if (err) return err;
  }
  return std::nullopt;
}

std::optional<std::string> ParseInt64Param(std::string_view text, int64_t* out) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  bool syntax = !digits.empty();
  for (char c : digits) syntax = syntax && c >= '0' && c <= '9';
  if (!syntax) return "strconv.ParseInt: parsing " + GoQuote(text) + ": invalid syntax";
  uint64_t magnitude = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + negative;
  if (ec != std::errc() || magnitude > limit) {
    return "strconv.ParseInt: parsing " + GoQuote(text) + ": value out of range";
  }
  *out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return std::nullopt;
}

}  // namespace kube::server

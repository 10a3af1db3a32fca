// JSON helpers for the write path; see object_json.h.
//
// Reads from: request bodies, stored objects. Feeds: registry, storage.
#include "server/object_json.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>

#include "base/time_format.h"
#include "server/decode_checks.h"

namespace kube::server {
namespace {

// One generator for uids and names; seeded from the OS so separate servers differ.
std::mt19937_64& Rng() {
  static std::mt19937_64 rng{std::random_device{}()};
  return rng;
}
std::mutex& RngMutex() {
  static std::mutex mu;
  return mu;
}

// simdjson's parser for this thread; its buffers are kept while they stay small.
constexpr size_t kKeepParserBytes = 4 << 20;
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  if (parser.capacity() > kKeepParserBytes) parser = simdjson::dom::parser();
  return parser;
}

// Whether `text` holds a raw byte below 0x20 inside a string (JSON wants those escaped).
bool RawControlInString(std::string_view text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else if (c < 0x20) {
        return true;
      }
    } else if (c == '"') {
      in_string = true;
    }
  }
  return false;
}

// Builds the nlohmann value of a simdjson element: the value nlohmann's own parser makes of the
// same text (non-negative integers unsigned, negative ones signed, a repeated key keeps its last
// value). False when a string holds a control character the text may have carried unescaped,
// which nlohmann refuses: the caller then lets nlohmann decide.
class DomBuilder {
 public:
  explicit DomBuilder(std::string_view text) : text_(text) {}

  bool Build(simdjson::dom::element e, nlohmann::json* out) {
    using simdjson::dom::element_type;
    switch (e.type()) {
      case element_type::OBJECT: {
        *out = nlohmann::json::object();
        auto& map = out->get_ref<nlohmann::json::object_t&>();
        for (simdjson::dom::key_value_pair field : simdjson::dom::object(e)) {
          if (!CheckString(field.key)) return false;
          nlohmann::json value;
          if (!Build(field.value, &value)) return false;
          // Stored objects come with sorted keys: the hint makes each insert O(1).
          map.insert_or_assign(map.end(), std::string(field.key), std::move(value));
        }
        return true;
      }
      case element_type::ARRAY: {
        *out = nlohmann::json::array();
        auto& vec = out->get_ref<nlohmann::json::array_t&>();
        simdjson::dom::array array(e);
        vec.reserve(array.size());
        for (simdjson::dom::element item : array) {
          vec.emplace_back();
          if (!Build(item, &vec.back())) return false;
        }
        return true;
      }
      case element_type::STRING: {
        std::string_view v(e);
        if (!CheckString(v)) return false;
        *out = std::string(v);
        return true;
      }
      case element_type::INT64: {
        int64_t v(e);
        // nlohmann keeps `-0` signed; simdjson cannot tell it from `0`.
        if (v == 0 && MayHoldNegativeZero()) return false;
        if (v >= 0) {
          *out = static_cast<uint64_t>(v);
        } else {
          *out = v;
        }
        return true;
      }
      case element_type::UINT64:
        *out = uint64_t(e);
        return true;
      case element_type::DOUBLE:
        *out = double(e);
        return true;
      case element_type::BOOL:
        *out = bool(e);
        return true;
      case element_type::NULL_VALUE:
        *out = nullptr;
        return true;
    }
    return false;
  }

 private:
  bool MayHoldNegativeZero() {
    if (!negative_zero_checked_) {
      negative_zero_checked_ = true;
      for (size_t p = text_.find("-0"); p != std::string_view::npos; p = text_.find("-0", p + 1)) {
        char next = p + 2 < text_.size() ? text_[p + 2] : ' ';
        if (!(next >= '0' && next <= '9') && next != '.' && next != 'e' && next != 'E') {
          negative_zero_ = true;
          break;
        }
      }
    }
    return negative_zero_;
  }

  bool CheckString(std::string_view v) {
    for (char c : v) {
      if (static_cast<unsigned char>(c) < 0x20) {
        if (!raw_control_checked_) {
          raw_control_ = RawControlInString(text_);
          raw_control_checked_ = true;
        }
        return !raw_control_;
      }
    }
    return true;
  }

  std::string_view text_;
  bool raw_control_checked_ = false;
  bool raw_control_ = false;
  bool negative_zero_checked_ = false;
  bool negative_zero_ = false;
};

// Parses JSON text into nlohmann's model with simdjson, which is several times faster than
// nlohmann's own parser on Kubernetes objects. Falls back to nlohmann (whose results and errors
// are the contract) for anything simdjson refuses and for surrogate escapes, whose edge cases
// the two parsers treat differently.
nlohmann::json ParseFast(std::string_view text) {
  bool surrogate = false;
  for (size_t p = text.find("\\u"); p != std::string_view::npos; p = text.find("\\u", p + 2)) {
    if (p + 2 < text.size() && (text[p + 2] == 'd' || text[p + 2] == 'D')) {
      surrogate = true;
      break;
    }
  }
  if (!surrogate) {
    simdjson::dom::element root;
    if (ThreadParser().parse(text.data(), text.size()).get(root) == simdjson::SUCCESS) {
      nlohmann::json out;
      if (DomBuilder(text).Build(root, &out)) return out;
    }
  }
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

// Appends `s` as nlohmann's dump writes it (ensure_ascii off, invalid UTF-8 replaced). Plain
// printable ASCII is copied; anything else goes through nlohmann's serializer.
void AppendString(const std::string& s, std::string* out) {
  bool plain = true;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out->push_back('"');
    out->append(s);
    out->push_back('"');
  } else {
    out->append(nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

void AppendJson(const nlohmann::json& j, std::string* out) {
  using nlohmann::json;
  switch (j.type()) {
    case json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : j.get_ref<const json::object_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(k, out);
        out->push_back(':');
        AppendJson(v, out);
      }
      out->push_back('}');
      return;
    }
    case json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const json& v : j.get_ref<const json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(v, out);
      }
      out->push_back(']');
      return;
    }
    case json::value_t::string:
      AppendString(j.get_ref<const std::string&>(), out);
      return;
    case json::value_t::number_unsigned:
    case json::value_t::number_integer: {
      char buf[24];
      auto [end, ec] = j.is_number_unsigned()
                           ? std::to_chars(buf, buf + sizeof buf, j.get<uint64_t>())
                           : std::to_chars(buf, buf + sizeof buf, j.get<int64_t>());
      out->append(buf, end);
      return;
    }
    case json::value_t::boolean:
      out->append(j.get<bool>() ? "true" : "false");
      return;
    case json::value_t::null:
      out->append("null");
      return;
    default:  // floats, and what JSON text never holds (binary, discarded)
      out->append(j.dump(-1, ' ', false, json::error_handler_t::replace));
      return;
  }
}

}  // namespace

ApiOr<nlohmann::json> ParseJsonObject(std::string_view body) {
  // Before the parse: nlohmann's copies, comparisons and dumps recurse, so a body nested 60,000
  // levels deep would overflow the stack later (and one deeper than `Object::Parse` takes could
  // not be stored).
  if (auto err = ScanJsonText(body)) return BadRequest("json parse error: " + *err);
  nlohmann::json j = ParseFast(body);
  if (j.is_discarded()) {
    return BadRequest(
        "the body of the request was in an unknown format - accepted media types "
        "include: application/json, application/yaml");
  }
  if (!j.is_object()) return BadRequest("the body of the request must be a JSON object");
  return j;
}

nlohmann::json ToJson(const Object& obj) {
  nlohmann::json j = ParseFast(obj.json());
  if (j.is_discarded()) return nlohmann::json::object();
  return j;
}

std::string Dump(const nlohmann::json& j) {
  std::string out;
  out.reserve(4096);
  AppendJson(j, &out);
  return out;
}

ApiOr<ObjectPtr> ToObject(const nlohmann::json& j) {
  auto obj = Object::Parse(Dump(j));
  if (!obj) return InternalServerError("encoding the object: " + obj.error().message());
  return *obj;
}

ObjectPtr WithResourceVersion(const ObjectPtr& obj, uint64_t rv) {
  nlohmann::json j = ToJson(*obj);
  if (!j["metadata"].is_object()) j["metadata"] = nlohmann::json::object();
  j["metadata"]["resourceVersion"] = std::to_string(rv);
  auto out = ToObject(j);
  return out.ok() ? *out : obj;
}

std::string Rfc3339Now() { return internal::FormatRfc3339(std::chrono::system_clock::now()); }

std::string NewUid() {
  uint64_t a, b;
  {
    std::lock_guard<std::mutex> lock(RngMutex());
    a = Rng()();
    b = Rng()();
  }
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));  // NOLINT(runtime/int)
  return buf;
}

std::string RandomSuffix(size_t n) {
  // No vowels and no look-alike digits, so generated names never spell words.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  std::lock_guard<std::mutex> lock(RngMutex());
  for (size_t i = 0; i < n; ++i) out += kAlphabet[Rng()() % kAlphabet.size()];
  return out;
}

std::string StringAt(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool ParseResourceVersion(std::string_view text, uint64_t* rv) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *rv);
  return ec == std::errc() && p == text.data() + text.size();
}

}  // namespace kube::server

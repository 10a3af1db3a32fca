// JSON helpers for the write path; see object_json.h.
//
// Reads from: request bodies, stored objects. Feeds: registry, storage.
#include "server/object_json.h"

#include <charconv>
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

}  // namespace

ApiOr<nlohmann::json> ParseJsonObject(std::string_view body) {
  // Before the parse: nlohmann's copies, comparisons and dumps recurse, so a body nested 60,000
  // levels deep would overflow the stack later (and one deeper than `Object::Parse` takes could
  // not be stored).
  if (auto err = ScanJsonText(body)) return BadRequest("json parse error: " + *err);
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return BadRequest(
        "the body of the request was in an unknown format - accepted media types "
        "include: application/json, application/yaml");
  }
  if (!j.is_object()) return BadRequest("the body of the request must be a JSON object");
  return j;
}

nlohmann::json ToJson(const Object& obj) {
  std::string_view s = obj.json();
  nlohmann::json j = nlohmann::json::parse(s.begin(), s.end(), nullptr, false);
  if (j.is_discarded()) return nlohmann::json::object();
  return j;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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

// Fuzzes object decoding: `Object::Parse` (with and without default apiVersion/kind), `DecodeList`
// and the field-path getters (include/kube/object.h).
//
// Input: the first byte picks the mode; the rest is the JSON. In the path mode the JSON is
// preceded by a field path and a newline.
//
// Invariants: no exception escapes; a decoded object's `json()` parses back to an equal object
// whose metadata reads the same; a list's items do likewise; a getter's error is kNotFound or
// kInvalidArgument, and `GetJson` of any path that exists is itself valid JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "kube/object.h"
#include "kube/status.h"

namespace {

using kube::Object;
using kube::ObjectPtr;

void CheckRoundTrip(const Object& obj) {
  auto again = Object::Parse(obj.json());
  FUZZ_CHECK(again.has_value(), "json() of a decoded object does not parse: " +
                                    std::string(obj.json()) + ": " + again.error().message());
  const Object& b = **again;
  FUZZ_CHECK(b == obj, "re-parsing changes the JSON");
  FUZZ_CHECK(b.name() == obj.name() && b.ns() == obj.ns() && b.uid() == obj.uid() &&
                 b.resource_version() == obj.resource_version() &&
                 b.generation() == obj.generation() && b.kind() == obj.kind() &&
                 b.api_version() == obj.api_version() && b.labels().size() == obj.labels().size() &&
                 b.annotations().size() == obj.annotations().size() &&
                 b.owner_references().size() == obj.owner_references().size() &&
                 b.finalizers().size() == obj.finalizers().size() &&
                 b.creation_timestamp() == obj.creation_timestamp() &&
                 b.deletion_timestamp() == obj.deletion_timestamp(),
             "re-parsing changes the metadata of " + std::string(obj.json()));
  (void)obj.creation_time();
  (void)obj.deletion_time();
  (void)obj.gvk();
  FUZZ_CHECK(obj.MemoryUsage() >= obj.json().size(), "MemoryUsage below the JSON's size");
}

void CheckGetters(const Object& obj, std::string_view path) {
  auto type = obj.GetType(path);
  FUZZ_CHECK(type.has_value() == obj.Has(path), "Has and GetType disagree on " + std::string(path));
  if (!type) {
    auto code = type.error().code();
    FUZZ_CHECK(code == kube::StatusCode::kNotFound || code == kube::StatusCode::kInvalidArgument,
               "GetType error " + std::string(kube::StatusCodeName(code)));
    return;
  }
  auto json = obj.GetJson(path);
  FUZZ_CHECK(json.has_value(), "GetJson fails where GetType succeeds: " + std::string(path));
  // Any JSON value parses as the value of a field of a wrapper object.
  auto wrapped = Object::Parse("{\"v\":" + *json + "}");
  FUZZ_CHECK(wrapped.has_value(), "GetJson returned invalid JSON: " + *json);
  (void)obj.GetString(path);
  (void)obj.GetInt64(path);
  (void)obj.GetDouble(path);
  (void)obj.GetBool(path);
  (void)obj.GetStringList(path);
  (void)obj.GetStringMap(path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  switch (kube::fuzz::TakeByte(&input) % 4) {
    case 0: {
      auto obj = Object::Parse(input);
      if (obj) CheckRoundTrip(**obj);
      break;
    }
    case 1: {
      auto obj = Object::Parse(input, "v1", "Pod");
      if (obj) {
        CheckRoundTrip(**obj);
        FUZZ_CHECK(!(*obj)->api_version().empty() && !(*obj)->kind().empty(),
                   "defaults not applied to " + std::string((*obj)->json()));
      }
      break;
    }
    case 2: {
      auto list = kube::DecodeList(input);
      if (list) {
        for (const ObjectPtr& item : list->items) CheckRoundTrip(*item);
      }
      break;
    }
    case 3: {
      size_t nl = input.find('\n');
      if (nl == std::string_view::npos) break;
      auto obj = Object::Parse(input.substr(nl + 1));
      if (obj) CheckGetters(**obj, input.substr(0, nl));
      break;
    }
  }
  return 0;
}

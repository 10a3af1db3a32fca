// Fuzzes the embedded server's patch code (src/server/patch.h): JSON patch, merge patch and
// strategic merge patch bodies applied to a Pod, and `ParsePatchType` on the Content-Type.
//
// Input: the first byte picks the patch type (and whether the Content-Type line is used); the
// rest is the body, or a Content-Type line and the body. A `\x01` and three bytes in the body
// stand for a value nested as deep as the bytes say (`ExpandNesting`, fuzz_check.h).
//
// Invariants: no exception escapes; an error carries the HTTP code the server answers with (400,
// 413, 415 or 422); a successful patch gives a JSON object that nests no deeper than the server
// stores (`kMaxJsonDepth`, so storing it is never a 500) and that Go's decoder checks can read;
// merge patch is idempotent (RFC 7386: applying the same patch twice gives the same result); an
// empty JSON patch `[]` or merge patch `{}` changes nothing. No patch amplifies: with a copy budget
// of `kCopyBudget` bytes, a result is never larger than the original, the copy budget and a few
// times the body (a number such as `1e9` dumps longer than it is written), so no small body makes
// a huge object (a JSON patch copying the object into itself doubles it each time).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "kube/status.h"
#include "server/decode_checks.h"
#include "server/patch.h"
#include "server/resource_info.h"

namespace {

using kube::server::PatchType;

const nlohmann::json& Pod() {
  static const nlohmann::json pod = nlohmann::json::parse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"default",)"
      R"("labels":{"app":"web"},"finalizers":["a","b"]},"spec":{"nodeName":"node-a",)"
      R"("containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80,)"
      R"("protocol":"TCP"}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},)"
      R"({"name":"sidecar","image":"envoy"}],"volumes":[{"name":"v","emptyDir":{}}]},)"
      R"("status":{"phase":"Running"}})");
  return pod;
}

const kube::server::ResourceInfo& PodInfo() {
  static const auto catalog = kube::server::ResourceCatalog::WithBuiltins();
  static const kube::server::ResourceInfoPtr info = catalog->Find({"", "v1", "pods"});
  return *info;
}

// Small, so that a short input can reach it.
constexpr size_t kCopyBudget = 64 * 1024;

void CheckError(const kube::Status& s, std::string_view body) {
  int code = s.http_code();
  FUZZ_CHECK(code == 400 || code == 413 || code == 415 || code == 422,
             "patch error with HTTP " + std::to_string(code) + ": " + s.message() + " for " +
                 std::string(body.substr(0, 200)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  uint8_t choice = kube::fuzz::TakeByte(&input);
  PatchType type;
  if (choice & 0x80) {
    size_t nl = input.find('\n');
    auto parsed = kube::server::ParsePatchType(input.substr(0, nl));
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    if (!parsed) {
      FUZZ_CHECK(parsed.error().http_code() == 415, "ParsePatchType error is not 415");
      return 0;
    }
    type = *parsed;
  } else {
    constexpr PatchType kTypes[] = {PatchType::kJsonPatch, PatchType::kMergePatch,
                                    PatchType::kStrategicMergePatch, PatchType::kApplyPatch};
    type = kTypes[choice % 4];
  }

  const std::string body = kube::fuzz::ExpandNesting(input);
  input = body;
  auto patched = kube::server::ApplyPatch(type, Pod(), input, PodInfo(), kCopyBudget);
  if (!patched) {
    CheckError(patched.error(), input);
    return 0;
  }
  FUZZ_CHECK(
      kube::server::JsonDepth(*patched) <= kube::server::kMaxJsonDepth,
      "a patch result nested deeper than the server stores: " + std::string(input.substr(0, 200)));
  FUZZ_CHECK(patched->is_object(), "a patch result that is not an object: " + patched->dump());
  // The registry's decode checks run on every patch result; they must answer, not throw.
  (void)kube::server::KindTypeError(*patched);
  (void)kube::server::MetadataTypeError(*patched, "Pod");
  size_t bytes = patched->dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore).size();
  size_t bound = Pod().dump().size() + kCopyBudget + 8 * input.size();
  FUZZ_CHECK(bytes <= bound, "a patch of " + std::to_string(input.size()) + " bytes makes " +
                                 std::to_string(bytes) +
                                 " bytes: " + std::string(input.substr(0, 200)));
  if (type == PatchType::kMergePatch) {
    auto twice = kube::server::ApplyPatch(type, *patched, input, PodInfo(), kCopyBudget);
    FUZZ_CHECK(twice.has_value() && *twice == *patched,
               "merge patch is not idempotent: " + std::string(input.substr(0, 200)));
  }
  return 0;
}

// The fixed points, checked once at start-up.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto same = kube::server::ApplyPatch(PatchType::kJsonPatch, Pod(), "[]", PodInfo());
  FUZZ_CHECK(same.has_value() && *same == Pod(), "an empty JSON patch changes the Pod");
  same = kube::server::ApplyPatch(PatchType::kMergePatch, Pod(), "{}", PodInfo());
  FUZZ_CHECK(same.has_value() && *same == Pod(), "an empty merge patch changes the Pod");
  return 0;
}

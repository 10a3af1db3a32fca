// Fuzzes the manifest loader behind `kinf serve --seed FILE` (src/server/seed.h): YAML or JSON,
// one or many documents, `List`s.
//
// Invariants: no exception escapes; an error is kInvalidArgument; every object it yields is a JSON
// object that survives a dump and parse unchanged; `YamlToJson` of a JSON text of an object gives
// that object, when its keys fit YAML's limit (below). Aliases are bounded in bytes: the input
// read by `YamlToJson` with a small byte budget either fails (kInvalidArgument, naming the limit)
// or gives a document whose JSON text fits the budget, however many copies its aliases make.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "kube/status.h"
#include "server/seed.h"

namespace {

// YAML 1.2 limits an implicit key to 1024 characters, so JSON with a longer key is not YAML, and
// yaml-cpp refuses it. A manifest key under the limit can exceed it once JSON escapes its quotes
// (fuzz/corpus/manifest_fuzz/regression_key_over_1024_characters). 1000 bytes of JSON text are
// safely below.
bool HasKeyOverYamlLimit(const nlohmann::json& j) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (nlohmann::json(key).dump().size() > 1000 || HasKeyOverYamlLimit(value)) return true;
    }
  } else if (j.is_array()) {
    for (const nlohmann::json& item : j) {
      if (HasKeyOverYamlLimit(item)) return true;
    }
  }
  return false;
}

// Small enough that a few aliases of a scalar of a few hundred bytes pass it.
constexpr size_t kJsonBudget = 4096;

void CheckByteBudget(std::string_view text) {
  auto doc = kube::server::YamlToJson(text, kJsonBudget);
  if (!doc) {
    FUZZ_CHECK(
        doc.error().code() == kube::StatusCode::kInvalidArgument,
        "YamlToJson error with code " + std::string(kube::StatusCodeName(doc.error().code())));
    return;
  }
  // Bytes that are not UTF-8 are dropped here: the budget counts them, the server refuses them.
  size_t bytes = doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore).size();
  FUZZ_CHECK(bytes <= kJsonBudget, "YamlToJson gives " + std::to_string(bytes) +
                                       " bytes of JSON over a budget of " +
                                       std::to_string(kJsonBudget));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = kube::fuzz::AsText(data, size);
  CheckByteBudget(text);
  auto objects = kube::server::ParseManifests(text);
  if (!objects) {
    FUZZ_CHECK(objects.error().code() == kube::StatusCode::kInvalidArgument,
               "ParseManifests error with code " +
                   std::string(kube::StatusCodeName(objects.error().code())));
    return 0;
  }
  for (const nlohmann::json& obj : *objects) {
    FUZZ_CHECK(obj.is_object(), "a manifest entry that is not an object: " + obj.dump());
    std::string dumped = obj.dump();
    FUZZ_CHECK(nlohmann::json::parse(dumped) == obj, "dump and parse change " + dumped);
    // JSON is YAML: the object's JSON text read as YAML gives the same object.
    if (HasKeyOverYamlLimit(obj)) continue;
    auto from_yaml = kube::server::YamlToJson(dumped);
    FUZZ_CHECK(from_yaml.has_value(), "YamlToJson refuses JSON: " + dumped);
    FUZZ_CHECK(*from_yaml == obj, "YamlToJson changes " + dumped + " into " + from_yaml->dump());
  }
  return 0;
}

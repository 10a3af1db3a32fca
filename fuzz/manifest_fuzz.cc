// Fuzzes the manifest loader behind `kinf serve --seed FILE` (src/server/seed.h): YAML or JSON,
// one or many documents, `List`s.
//
// Invariants: no exception escapes; an error is kInvalidArgument; every object it yields is a JSON
// object that survives a dump and parse unchanged; `YamlToJson` of a JSON text of an object gives
// that object.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "kube/status.h"
#include "server/seed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = kube::fuzz::AsText(data, size);
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
    auto from_yaml = kube::server::YamlToJson(dumped);
    FUZZ_CHECK(from_yaml.has_value(), "YamlToJson refuses JSON: " + dumped);
    FUZZ_CHECK(*from_yaml == obj, "YamlToJson changes " + dumped + " into " + from_yaml->dump());
  }
  return 0;
}

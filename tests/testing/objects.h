// Object builders for tests: small, valid objects of the common kinds.
#ifndef KUBE_TESTS_TESTING_OBJECTS_H_
#define KUBE_TESTS_TESTING_OBJECTS_H_

#include <string>
#include <string_view>

#include "kube/object.h"
#include "kube/string_map.h"

namespace kube::testing {

// Parses `json`; a parse failure aborts the test binary with the error (a broken fixture).
ObjectPtr MustParse(std::string_view json);

struct PodOptions {
  std::string rv = "1";
  StringMap labels;
  std::string node_name;
  std::string phase = "Running";
  std::string uid;  // default: derived from ns/name
};
// A Pod `ns/name` (cluster-scoped objects: use MakeObject).
ObjectPtr MakePod(std::string_view ns, std::string_view name, const PodOptions& opts = {});

// Any kind: `{"apiVersion":..., "kind":..., "metadata":{name, namespace?, resourceVersion,
// labels?}}` plus `extra_fields` (a JSON fragment such as `"data":{"a":"b"}`, may be empty).
ObjectPtr MakeObject(std::string_view api_version, std::string_view kind, std::string_view ns,
                     std::string_view name, std::string_view rv, const StringMap& labels = {},
                     std::string_view extra_fields = "");

}  // namespace kube::testing

#endif  // KUBE_TESTS_TESTING_OBJECTS_H_

#include "tests/testing/objects.h"

#include <cstdio>
#include <cstdlib>

namespace kube::testing {

ObjectPtr MustParse(std::string_view json) {
  auto obj = Object::Parse(json);
  if (!obj) {
    std::fprintf(stderr, "test fixture does not parse: %s\n%.*s\n", obj.error().ToString().c_str(),
                 static_cast<int>(json.size()), json.data());
    std::abort();
  }
  return *obj;
}

namespace {
std::string LabelsJson(const StringMap& labels) {
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += JsonQuote(k) + ":" + JsonQuote(v);
  }
  return out + "}";
}
}  // namespace

ObjectPtr MakeObject(std::string_view api_version, std::string_view kind, std::string_view ns,
                     std::string_view name, std::string_view rv, const StringMap& labels,
                     std::string_view extra_fields) {
  std::string j = "{\"apiVersion\":" + JsonQuote(api_version) + ",\"kind\":" + JsonQuote(kind) +
                  ",\"metadata\":{\"name\":" + JsonQuote(name);
  if (!ns.empty()) j += ",\"namespace\":" + JsonQuote(ns);
  j += ",\"uid\":" + JsonQuote(std::string(ns) + "-" + std::string(name) + "-uid");
  j += ",\"resourceVersion\":" + JsonQuote(rv);
  if (!labels.empty()) j += ",\"labels\":" + LabelsJson(labels);
  j += "}";
  if (!extra_fields.empty()) {
    j += ',';
    j += extra_fields;
  }
  j += "}";
  return MustParse(j);
}

ObjectPtr MakePod(std::string_view ns, std::string_view name, const PodOptions& opts) {
  std::string uid =
      opts.uid.empty() ? std::string(ns) + "-" + std::string(name) + "-uid" : opts.uid;
  std::string j =
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":" + JsonQuote(name) +
      ",\"namespace\":" + JsonQuote(ns) + ",\"uid\":" + JsonQuote(uid) +
      ",\"resourceVersion\":" + JsonQuote(opts.rv);
  if (!opts.labels.empty()) j += ",\"labels\":" + LabelsJson(opts.labels);
  j += "},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1.25\"}]";
  if (!opts.node_name.empty()) j += ",\"nodeName\":" + JsonQuote(opts.node_name);
  j += "},\"status\":{\"phase\":" + JsonQuote(opts.phase) + "}}";
  return MustParse(j);
}

}  // namespace kube::testing

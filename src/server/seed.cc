// Seeding: manifests and demo objects; see seed.h.
//
// Reads from: manifest text. Feeds: the Registry.
#include "server/seed.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <exception>
#include <set>

#include "server/object_json.h"

namespace kube::server {
namespace {

using nlohmann::json;

// `[-+]?[0-9]+`.
bool IsInteger(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the YAML 1.2 core schema's float.
bool IsFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t before = digits();
  size_t after = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    after = digits();
  }
  if (before == 0 && after == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

json PlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  try {
    if (IsInteger(s)) return std::stoll(s);
    if (IsFloat(s)) return std::stod(s);
  } catch (const std::exception&) {  // out of range: keep the text
  }
  return s;
}

json NodeToJson(const YAML::Node& node, int depth) {
  if (depth > 200) throw std::runtime_error("YAML nested too deeply");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      if (tag == "!" || tag == "tag:yaml.org,2002:str") return node.Scalar();
      return PlainScalar(node.Scalar());
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(NodeToJson(item, depth + 1));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node)
        obj[kv.first.as<std::string>()] = NodeToJson(kv.second, depth + 1);
      return obj;
    }
  }
  return nullptr;
}

// Appends `doc` to `out`, expanding `List`s and arrays.
void Collect(json doc, std::vector<json>* out) {
  if (doc.is_null()) return;
  if (doc.is_array()) {
    for (auto& item : doc) Collect(std::move(item), out);
    return;
  }
  if (doc.is_object() && doc.contains("items") && doc["items"].is_array() &&
      StringAt(doc, "kind").ends_with("List")) {
    for (auto& item : doc["items"]) Collect(std::move(item), out);
    return;
  }
  out->push_back(std::move(doc));
}

std::string Describe(const json& obj, size_t index) {
  std::string kind = StringAt(obj, "kind");
  std::string name = obj.contains("metadata") ? StringAt(obj["metadata"], "name") : "";
  return "object " + std::to_string(index) + " (" + (kind.empty() ? "?" : kind) + " " +
         (name.empty() ? "?" : name) + ")";
}

json Labels(const std::string& app) { return {{"app", app}}; }

json DemoDeployment(const std::string& name, int replicas, const std::string& image) {
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", Labels(name)}}},
      {"spec",
       {{"replicas", replicas},
        {"selector", {{"matchLabels", Labels(name)}}},
        {"template",
         {{"metadata", {{"labels", Labels(name)}}},
          {"spec",
           {{"containers",
             {{{"name", name}, {"image", image}, {"ports", {{{"containerPort", 8080}}}}}}}}}}}}},
      {"status",
       {{"observedGeneration", 1},
        {"replicas", replicas},
        {"updatedReplicas", replicas},
        {"readyReplicas", replicas},
        {"availableReplicas", replicas}}}};
}

json DemoPod(const std::string& app, int i, const std::string& image) {
  std::string name = app + "-7d4b9c8f6-" + std::string(1, static_cast<char>('a' + i)) + "x2k9";
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", Labels(app)}}},
      {"spec", {{"nodeName", "kinf-node-1"}, {"containers", {{{"name", app}, {"image", image}}}}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", "10.0.0." + std::to_string(10 + i + static_cast<int>(app.size()) * 7)},
        {"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
        {"containerStatuses",
         {{{"name", app},
           {"ready", true},
           {"restartCount", 0},
           {"image", image},
           {"state", {{"running", json::object()}}}}}}}}};
}

json DemoService(const std::string& app, int port) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", app}, {"namespace", "default"}, {"labels", Labels(app)}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", Labels(app)},
            {"ports",
             json::array({json{{"port", port}, {"targetPort", 8080}, {"protocol", "TCP"}}})}}}};
}

}  // namespace

Result<json> YamlToJson(std::string_view yaml) {
  try {
    return NodeToJson(YAML::Load(std::string(yaml)), 0);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("YAML: ") + e.what());
  }
}

namespace {

// Every entry must be an object (a scalar document, or a scalar in a List's items, is not one;
// found by manifest_fuzz).
Result<std::vector<json>> CheckObjects(std::vector<json> objects) {
  for (size_t i = 0; i < objects.size(); ++i) {
    if (!objects[i].is_object()) {
      return InvalidArgumentError("manifest entry " + std::to_string(i) + " is a " +
                                  objects[i].type_name() + ", not an object");
    }
  }
  return objects;
}

}  // namespace

Result<std::vector<json>> ParseManifests(std::string_view text) {
  std::vector<json> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return out;
  if (text[first] == '{' || text[first] == '[') {
    json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) {
      return InvalidArgumentError("manifest is not valid JSON (nor YAML starting with '{')");
    }
    Collect(std::move(doc), &out);
    return CheckObjects(std::move(out));
  }
  try {
    for (const YAML::Node& node : YAML::LoadAll(std::string(text))) {
      Collect(NodeToJson(node, 0), &out);
    }
    // yaml-cpp passes any bytes through in scalars; JSON (and so the API) needs UTF-8. Dumping
    // throws on invalid UTF-8, here rather than later in the server (found by manifest_fuzz).
    for (const json& obj : out) (void)obj.dump();
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("manifest YAML: ") + e.what());
  }
  return CheckObjects(std::move(out));
}

Status ApplyManifests(Registry& registry, std::vector<json> objects) {
  std::set<std::string> namespaces_known;
  ResourceInfoPtr ns_info = registry.catalog().Find({"", "v1", "namespaces"});
  for (size_t i = 0; i < objects.size(); ++i) {
    json& obj = objects[i];
    if (!obj.is_object()) return InvalidArgumentError(Describe(obj, i) + ": not an object");
    Result<GroupVersion> gv = GroupVersion::Parse(StringAt(obj, "apiVersion"));
    if (!gv) return gv.error().WithContext(Describe(obj, i));
    ResourceInfoPtr info =
        registry.catalog().FindByKind({gv->group, gv->version, StringAt(obj, "kind")});
    if (!info) {
      return InvalidArgumentError(Describe(obj, i) + ": the server does not serve apiVersion " +
                                  gv->ToString() + " kind " + StringAt(obj, "kind"));
    }
    if (info->namespaced && ns_info) {
      std::string ns = obj.contains("metadata") ? StringAt(obj["metadata"], "namespace") : "";
      if (ns.empty()) ns = "default";
      if (namespaces_known.insert(ns).second && !registry.storage().Get(ns_info->gvr, ns)) {
        json ns_obj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
        ApiOr<ObjectPtr> created = registry.Create(*ns_info, "", std::move(ns_obj));
        if (!created.ok() && created.error().code != 409) {
          return ToStatus(created.error()).WithContext(Describe(obj, i));
        }
      }
    }
    std::string what = Describe(obj, i);
    ApiOr<ObjectPtr> applied = registry.Apply(*info, std::move(obj));
    obj = json();  // free the moved-from tree now, not with the whole manifest
    if (!applied.ok()) return ToStatus(applied.error()).WithContext(what);
  }
  return Status::Ok();
}

std::vector<json> DemoObjects() {
  std::vector<json> out;
  out.push_back(
      {{"apiVersion", "v1"},
       {"kind", "Node"},
       {"metadata",
        {{"name", "kinf-node-1"}, {"labels", {{"kubernetes.io/hostname", "kinf-node-1"}}}}},
       {"status",
        {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
         {"nodeInfo", {{"kubeletVersion", "v1.32.0"}}}}}});
  struct App {
    const char* name;
    int replicas;
    const char* image;
    int port;
  };
  for (const App& app :
       {App{"web", 3, "nginx:1.27", 80}, App{"api", 2, "ghcr.io/kinf/api:1.4", 8080},
        App{"worker", 1, "ghcr.io/kinf/worker:1.4", 9090}}) {
    out.push_back(DemoDeployment(app.name, app.replicas, app.image));
    for (int i = 0; i < app.replicas; ++i) out.push_back(DemoPod(app.name, i, app.image));
    out.push_back(DemoService(app.name, app.port));
  }
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", "web-config"}, {"namespace", "default"}}},
                 {"data", {{"LOG_LEVEL", "info"}, {"GREETING", "hello from kinf"}}}});
  return out;
}

}  // namespace kube::server

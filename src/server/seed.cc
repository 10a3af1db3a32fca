// Seeding: manifests and demo objects; see seed.h.
//
// Reads from: manifest text. Feeds: the Registry.
#include "server/seed.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <exception>
#include <map>
#include <optional>
#include <set>

#include "server/decode_checks.h"
#include "server/object_json.h"
#include "yaml/yaml_stream.h"

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

// Builds JSON from yaml-cpp's parse events, one value per document, without the `YAML::Node`
// graph in between. Scalars are typed as `PlainScalar` says unless quoted or tagged `!!str`; map
// keys are a scalar's text (a null key is "null", as yaml-cpp's `as<std::string>` gives); a later
// duplicate key wins. Aliases are expanded, so every node, copies included, counts against
// `max_nodes`, and its JSON text against `max_bytes`: a few lines of nested aliases would
// otherwise expand to billions of nodes (an "alias bomb"), and one long scalar aliased a few
// thousand times to gigabytes. Both are counted before a copy is made, from the sizes recorded
// with each anchor. Throws `YAML::ParserException` with the position for a key that is a map or
// a list, nesting deeper than 200, or a budget overrun.
class JsonBuilder final : public YAML::EventHandler {
 public:
  JsonBuilder(size_t max_nodes, size_t max_bytes) : max_nodes_(max_nodes), max_bytes_(max_bytes) {}

  std::vector<json> TakeDocuments() && { return std::move(documents_); }

  void OnDocumentStart(const YAML::Mark&) override {
    anchors_.clear();  // anchors are per document
    document_ = json();
  }
  void OnDocumentEnd() override { documents_.push_back(std::move(document_)); }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (ExpectingKey()) return SetKey(mark, "null", nullptr, anchor);
    Count(mark, 1, kNullBytes);
    Finish(nullptr, anchor, 1, kNullBytes);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YAML::ParserException(mark, "unknown alias");
    if (ExpectingKey()) {
      if (!it->second.value.is_string()) {
        throw YAML::ParserException(mark, "a map key that is an alias of a non-string");
      }
      return SetKey(mark, it->second.value.get<std::string>(), json(), 0);
    }
    Count(mark, it->second.nodes, it->second.bytes);
    Finish(it->second.value, 0, it->second.nodes, it->second.bytes);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    json v = (tag == "!" || tag == "tag:yaml.org,2002:str") ? json(value) : PlainScalar(value);
    if (ExpectingKey()) return SetKey(mark, value, std::move(v), anchor);
    size_t bytes = ScalarBytes(v);
    Count(mark, 1, bytes);
    Finish(std::move(v), anchor, 1, bytes);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, json::array(), anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, json::object(), anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    json value;                      // the array or object being filled
    std::optional<std::string> key;  // in an object: the key read, its value still to come
    YAML::anchor_t anchor;
    size_t first_node;  // nodes_ when the collection opened
    size_t first_byte;  // bytes_ when the collection opened
  };
  struct Anchored {
    json value;
    size_t nodes;
    size_t bytes;  // as counted by `Count`: an upper bound of the value's JSON text
  };

  // JSON text sizes, counted generously so that their sum bounds `dump()` of the document: each
  // value is charged one byte more for the comma after it, each collection two for its brackets,
  // each key its quoted text and a colon.
  static constexpr size_t kNullBytes = 5;  // null,
  static size_t StringBytes(std::string_view s) {
    size_t n = s.size() + 3;  // quotes and a comma or colon
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u == '"' || u == '\\') {
        n += 1;
      } else if (u < 0x20) {
        n += 5;  // \u00XX at most
      }
    }
    return n;
  }
  static size_t ScalarBytes(const json& v) {
    return v.is_string() ? StringBytes(v.get_ref<const std::string&>()) : v.dump().size() + 1;
  }

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key;
  }

  void Count(const YAML::Mark& mark, size_t n, size_t bytes) {
    nodes_ += n;
    bytes_ += bytes;
    if (nodes_ > max_nodes_) {
      throw YAML::ParserException(
          mark, "more than " + std::to_string(max_nodes_) + " nodes (aliases expand to copies)");
    }
    if (bytes_ > max_bytes_) {
      throw YAML::ParserException(mark, "the document expands to more than " +
                                            std::to_string(max_bytes_) +
                                            " bytes of JSON, the limit (aliases expand to copies)");
    }
  }

  void SetKey(const YAML::Mark& mark, std::string key, json value, YAML::anchor_t anchor) {
    size_t bytes = StringBytes(key);
    Count(mark, 1, bytes);
    if (anchor != 0) {
      size_t value_bytes = ScalarBytes(value);
      anchors_[anchor] = {std::move(value), 1, value_bytes};
    }
    stack_.back().key = std::move(key);
  }

  void Open(const YAML::Mark& mark, json empty, YAML::anchor_t anchor) {
    if (ExpectingKey()) throw YAML::ParserException(mark, "a map key must be a scalar");
    if (stack_.size() >= 200) throw YAML::ParserException(mark, "nested too deeply");
    Count(mark, 1, 3);  // brackets and a comma
    stack_.push_back({std::move(empty), std::nullopt, anchor, nodes_ - 1, bytes_ - 3});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Finish(std::move(f.value), f.anchor, nodes_ - f.first_node, bytes_ - f.first_byte);
  }

  // Stores a complete value (already counted: `nodes` and `bytes` of it) in its parent or as the
  // document.
  void Finish(json value, YAML::anchor_t anchor, size_t nodes, size_t bytes) {
    if (anchor != 0) anchors_[anchor] = {value, nodes, bytes};
    if (stack_.empty()) {
      document_ = std::move(value);
    } else if (Frame& top = stack_.back(); top.value.is_array()) {
      top.value.push_back(std::move(value));
    } else {
      top.value[*top.key] = std::move(value);
      top.key.reset();
    }
  }

  const size_t max_nodes_;
  const size_t max_bytes_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  json document_;
  std::vector<json> documents_;
};

// The node budget of a manifest: generous for any text without aliases (yaml-cpp makes at most
// two nodes of a byte: `{,,}`), small enough that an alias bomb stops after a moment.
size_t NodeBudget(std::string_view text) { return 100'000 + 4 * text.size(); }

// The JSON byte budget of a manifest: its JSON is at most a small multiple of its YAML text
// without aliases (quotes, brackets and commas for short scalars), so eight times that plus
// 16 MiB passes every manifest written out by hand or by a tool, and stops a few kilobytes of
// aliases of a long scalar long before they become hundreds of megabytes.
size_t ManifestByteBudget(std::string_view text) { return (size_t{16} << 20) + 8 * text.size(); }

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
        {"availableReplicas", replicas},
        // What the deployment controller reports for a finished rollout (`kubectl wait
        // --for=condition=Available` and `rollout status` read them).
        {"conditions",
         {{{"type", "Available"},
           {"status", "True"},
           {"lastUpdateTime", Rfc3339Now()},
           {"lastTransitionTime", Rfc3339Now()},
           {"reason", "MinimumReplicasAvailable"},
           {"message", "Deployment has minimum availability."}},
          {{"type", "Progressing"},
           {"status", "True"},
           {"lastUpdateTime", Rfc3339Now()},
           {"lastTransitionTime", Rfc3339Now()},
           {"reason", "NewReplicaSetAvailable"},
           {"message", "ReplicaSet \"" + name + "-7d4b9c8f6\" has successfully progressed."}}}}}}};
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

Result<json> YamlToJson(std::string_view yaml, size_t max_json_bytes) {
  try {
    JsonBuilder builder(NodeBudget(yaml), max_json_bytes);
    internal::ParseYamlStream(yaml, builder, /*max_documents=*/1);
    std::vector<json> docs = std::move(builder).TakeDocuments();
    return docs.empty() ? json() : std::move(docs.front());
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
    // Before the parse: `Collect` and the dumps recurse (decode_checks.h).
    if (auto err = ScanJsonText(text)) return InvalidArgumentError("manifest JSON: " + *err);
    json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) {
      return InvalidArgumentError("manifest is not valid JSON (nor YAML starting with '{')");
    }
    Collect(std::move(doc), &out);
    return CheckObjects(std::move(out));
  }
  try {
    // Not `YAML::LoadAll`, which loops forever on a stray top-level `,` (yaml/yaml_stream.h).
    JsonBuilder builder(NodeBudget(text), ManifestByteBudget(text));
    internal::ParseYamlStream(text, builder);
    for (json& doc : std::move(builder).TakeDocuments()) Collect(std::move(doc), &out);
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

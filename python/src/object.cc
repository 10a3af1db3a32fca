// kube_informer.Object and kube_informer.Node: read-only views of an immutable object.
#include <pybind11/stl.h>

#include <string>
#include <string_view>

#include "common.h"

namespace kinf_py {

namespace {

// A JSON Pointer step for `key` (RFC 6901: '~' -> '~0', '/' -> '~1').
std::string PointerStep(std::string_view key) {
  std::string out = "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// json.loads, looked up once at import. (Not a function-local static: its initialization guard
// would be held across the import, which may release the GIL, and deadlock a second thread.)
py::handle g_json_loads;

py::object JsonLoads(const std::string& json) { return g_json_loads(json); }

// A view of the value at a JSON Pointer inside an object; scalars are returned as Python values
// directly, so a Node always stands for an array or a map.
struct Node {
  kube::ObjectPtr p;
  std::string pointer;  // "" = the whole object
  kube::JsonType type;
};

// The Python value at `path` of `obj`: scalars as Python values, maps and arrays as Nodes.
// kNotFound becomes `missing` (KeyError or IndexError) unless a default is given.
py::object ValueAt(const kube::ObjectPtr& obj, const std::string& path, bool pointer) {
  kube::Result<kube::JsonType> type = obj->GetType(path);
  if (!type) Raise(type.error());
  switch (*type) {
    case kube::JsonType::kNull:
      return py::none();
    case kube::JsonType::kBool:
      return py::bool_(Unwrap(obj->GetBool(path)));
    case kube::JsonType::kInt:
      return py::int_(Unwrap(obj->GetInt64(path)));
    case kube::JsonType::kDouble:
      return py::float_(Unwrap(obj->GetDouble(path)));
    case kube::JsonType::kString:
      return py::str(Unwrap(obj->GetString(path)));
    case kube::JsonType::kArray:
    case kube::JsonType::kObject:
      if (pointer) return py::cast(Node{obj, path, *type});
      // A dotted path: the Node keeps the pointer form of nothing; read the JSON instead.
      return JsonLoads(Unwrap(obj->GetJson(path)));
  }
  return py::none();
}

py::object Item(const kube::ObjectPtr& obj, const std::string& base, kube::JsonType base_type,
                const py::object& key) {
  std::string step;
  if (py::isinstance<py::str>(key)) {
    if (base_type != kube::JsonType::kObject) throw py::type_error("list indices must be integers");
    step = PointerStep(key.cast<std::string>());
  } else if (py::isinstance<py::int_>(key)) {
    if (base_type != kube::JsonType::kArray) throw py::key_error(py::repr(key).cast<std::string>());
    int64_t i = key.cast<int64_t>();
    if (i < 0) throw py::index_error("negative indices are not supported");
    step = "/" + std::to_string(i);
  } else {
    throw py::type_error("keys are str (maps) or int (lists)");
  }
  const std::string path = base + step;
  if (!obj->Has(path)) {
    if (base_type == kube::JsonType::kArray) throw py::index_error("list index out of range");
    throw py::key_error(key.cast<std::string>());
  }
  return ValueAt(obj, path, /*pointer=*/true);
}

// `get(path, default)`: dotted path or JSON Pointer; maps and lists come back as plain Python
// values (dict, list), decoded on demand.
py::object GetPath(const kube::ObjectPtr& obj, const std::string& path, py::object dflt) {
  if (!obj->Has(path)) {
    // Has() is false for a malformed path too: let GetType say which.
    kube::Result<kube::JsonType> t = obj->GetType(path);
    if (!t && t.error().code() != kube::StatusCode::kNotFound) Raise(t.error());
    return dflt;
  }
  kube::Result<kube::JsonType> type = obj->GetType(path);
  if (!type) Raise(type.error());
  if (*type == kube::JsonType::kArray || *type == kube::JsonType::kObject) {
    return JsonLoads(Unwrap(obj->GetJson(path)));
  }
  return ValueAt(obj, path, /*pointer=*/false);
}

py::dict ToDict(const kube::StringMapView& m) {
  py::dict d;
  for (const auto& [k, v] : m) d[py::str(std::string(k))] = py::str(std::string(v));
  return d;
}

std::string Key(const kube::Object& o) {
  if (o.ns().empty()) return std::string(o.name());
  return std::string(o.ns()) + "/" + std::string(o.name());
}

}  // namespace

py::object WrapObject(const kube::ObjectPtr& obj) {
  if (!obj) return py::none();
  return py::cast(PyKubeObject{obj});
}

void RegisterObject(py::module_& m) {
  g_json_loads = py::object(py::module_::import("json").attr("loads")).release();
  py::class_<Node>(m, "Node",
                   "A map or list inside an Object, read lazily: `obj['spec']['replicas']`. "
                   "Immutable; `to_python()` (or `json()`) decodes it whole.")
      .def("__getitem__",
           [](const Node& n, const py::object& key) { return Item(n.p, n.pointer, n.type, key); })
      .def(
          "get",
          [](const Node& n, const py::object& key, py::object dflt) {
            try {
              return Item(n.p, n.pointer, n.type, key);
            } catch (py::key_error&) {
              return dflt;
            } catch (py::index_error&) {
              return dflt;
            }
          },
          py::arg("key"), py::arg("default") = py::none())
      .def("__contains__",
           [](const Node& n, const py::object& key) {
             if (n.type == kube::JsonType::kObject && py::isinstance<py::str>(key)) {
               return n.p->Has(n.pointer + PointerStep(key.cast<std::string>()));
             }
             return false;
           })
      .def("__len__",
           [](const Node& n) { return py::len(JsonLoads(Unwrap(n.p->GetJson(n.pointer)))); })
      .def("keys",
           [](const Node& n) {
             if (n.type != kube::JsonType::kObject) throw py::type_error("a list has no keys");
             return py::list(JsonLoads(Unwrap(n.p->GetJson(n.pointer))).attr("keys")());
           })
      .def("__iter__",
           [](const Node& n) {
             py::object v = JsonLoads(Unwrap(n.p->GetJson(n.pointer)));
             return py::iter(v);
           })
      .def("json", [](const Node& n) { return Unwrap(n.p->GetJson(n.pointer)); })
      .def("to_python", [](const Node& n) { return JsonLoads(Unwrap(n.p->GetJson(n.pointer))); })
      .def("__eq__",
           [](const Node& n, const py::object& other) {
             return JsonLoads(Unwrap(n.p->GetJson(n.pointer))).equal(other);
           })
      .def("__repr__",
           [](const Node& n) { return "Node(" + Unwrap(n.p->GetJson(n.pointer)) + ")"; });

  py::class_<PyKubeObject>(
      m, "Object",
      "An immutable Kubernetes object shared with the informer's cache. Metadata is free to read; "
      "other fields by path (`obj['spec']['replicas']`, `obj.get('spec.replicas')`); the whole "
      "object with `to_dict()` or `json()`.")
      .def_static(
          "parse",
          [](const std::string& json) { return PyKubeObject{Unwrap(kube::Object::Parse(json))}; },
          py::arg("json"), "Decodes one JSON object.")
      .def_property_readonly("name", [](const PyKubeObject& o) { return std::string(o.p->name()); })
      .def_property_readonly("namespace",
                             [](const PyKubeObject& o) { return std::string(o.p->ns()); })
      .def_property_readonly(
          "key", [](const PyKubeObject& o) { return Key(*o.p); },
          "`namespace/name`, or `name` for a cluster-scoped object.")
      .def_property_readonly("kind", [](const PyKubeObject& o) { return std::string(o.p->kind()); })
      .def_property_readonly("api_version",
                             [](const PyKubeObject& o) { return std::string(o.p->api_version()); })
      .def_property_readonly("uid", [](const PyKubeObject& o) { return std::string(o.p->uid()); })
      .def_property_readonly(
          "resource_version",
          [](const PyKubeObject& o) { return std::string(o.p->resource_version()); })
      .def_property_readonly("generation", [](const PyKubeObject& o) { return o.p->generation(); })
      .def_property_readonly(
          "generate_name", [](const PyKubeObject& o) { return std::string(o.p->generate_name()); })
      .def_property_readonly(
          "labels", [](const PyKubeObject& o) { return ToDict(o.p->labels()); },
          "A new dict of the labels (changing it changes nothing).")
      .def_property_readonly("annotations",
                             [](const PyKubeObject& o) { return ToDict(o.p->annotations()); })
      .def_property_readonly("owner_references",
                             [](const PyKubeObject& o) {
                               py::list out;
                               for (const kube::OwnerReference& r : o.p->owner_references()) {
                                 py::dict d;
                                 d["apiVersion"] = std::string(r.api_version);
                                 d["kind"] = std::string(r.kind);
                                 d["name"] = std::string(r.name);
                                 d["uid"] = std::string(r.uid);
                                 d["controller"] = r.controller;
                                 d["blockOwnerDeletion"] = r.block_owner_deletion;
                                 out.append(d);
                               }
                               return out;
                             })
      .def_property_readonly("finalizers",
                             [](const PyKubeObject& o) {
                               py::list out;
                               for (std::string_view f : o.p->finalizers()) {
                                 out.append(std::string(f));
                               }
                               return out;
                             })
      .def_property_readonly(
          "creation_timestamp",
          [](const PyKubeObject& o) { return std::string(o.p->creation_timestamp()); })
      .def_property_readonly(
          "deletion_timestamp",
          [](const PyKubeObject& o) { return std::string(o.p->deletion_timestamp()); })
      .def("__getitem__",
           [](const PyKubeObject& o, const py::object& key) {
             return Item(o.p, "", kube::JsonType::kObject, key);
           })
      .def("__contains__",
           [](const PyKubeObject& o, const std::string& key) { return o.p->Has(PointerStep(key)); })
      .def(
          "get",
          [](const PyKubeObject& o, const std::string& path, py::object dflt) {
            return GetPath(o.p, path, std::move(dflt));
          },
          py::arg("path"), py::arg("default") = py::none(),
          "The value at a dotted path (`spec.template.spec.containers[0].image`) or JSON Pointer "
          "(`/spec/replicas`); maps and lists are decoded to dict and list; `default` when "
          "absent. InvalidArgumentError for a path that does not parse.")
      .def("has", [](const PyKubeObject& o, const std::string& path) { return o.p->Has(path); })
      .def(
          "json", [](const PyKubeObject& o) { return std::string(o.p->json()); },
          "The whole object as minified JSON.")
      .def(
          "to_dict", [](const PyKubeObject& o) { return JsonLoads(std::string(o.p->json())); },
          "The whole object decoded into dicts and lists (a new copy each call).")
      .def("memory_usage", [](const PyKubeObject& o) { return o.p->MemoryUsage(); })
      .def("__eq__",
           [](const PyKubeObject& a, const py::object& b) {
             if (!py::isinstance<PyKubeObject>(b)) return false;
             return *a.p == *b.cast<const PyKubeObject&>().p;
           })
      .def("__hash__",
           [](const PyKubeObject& o) { return std::hash<std::string_view>()(o.p->json()); })
      .def("__repr__", [](const PyKubeObject& o) {
        return "<Object " + std::string(o.p->api_version()) + " " + std::string(o.p->kind()) + " " +
               Key(*o.p) + " rv=" + std::string(o.p->resource_version()) + ">";
      });
}

}  // namespace kinf_py

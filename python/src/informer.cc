// Configuration, client, factory, informers, handlers and listers.
#include <pybind11/stl.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "kube/cache/lister.h"
#include "kube/cache/shared_informer.h"
#include "kube/client/http_client.h"
#include "kube/config/kubeconfig.h"
#include "kube/informers/factory.h"
#include "kube/informers/typed.h"
#include "kube/labels.h"
#include "py_types.h"

namespace kinf_py {

namespace {

// --- Handlers ----------------------------------------------------------------------------------

struct PyTombstone {
  std::string key;
  kube::ObjectPtr obj;
};

// Calls the Python callbacks of one `add_event_handler`. The informer runs it on a library
// thread, one notification at a time; the GIL is taken only around each call.
class PyHandler final : public kube::ResourceEventHandler {
 public:
  PyHandler(py::object on_add, bool add_takes_flag, py::object on_update, py::object on_delete,
            py::object on_resync, std::string name)
      : on_add_(std::move(on_add)),
        add_takes_flag_(add_takes_flag),
        on_update_(std::move(on_update)),
        on_delete_(std::move(on_delete)),
        on_resync_(std::move(on_resync)),
        name_(std::move(name)) {}

  void OnAdd(const kube::ObjectPtr& obj, bool is_in_initial_list) override {
    if (on_add_.is_none()) return;
    CallPython(name_ + " on_add", [&] {
      if (add_takes_flag_) {
        on_add_.get()(WrapObject(obj), is_in_initial_list);
      } else {
        on_add_.get()(WrapObject(obj));
      }
    });
  }
  void OnUpdate(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) override {
    if (on_update_.is_none()) return;
    CallPython(name_ + " on_update",
               [&] { on_update_.get()(WrapObject(old_obj), WrapObject(new_obj)); });
  }
  void OnDelete(const kube::DeletedObject& obj) override {
    if (on_delete_.is_none()) return;
    CallPython(name_ + " on_delete", [&] {
      if (obj.final_state_unknown()) {
        on_delete_.get()(py::cast(PyTombstone{obj.key(), obj.object()}));
      } else {
        on_delete_.get()(WrapObject(obj.object()));
      }
    });
  }
  void OnResync(const kube::ObjectPtr& obj) override {
    if (!on_resync_.is_none()) {
      CallPython(name_ + " on_resync", [&] { on_resync_.get()(WrapObject(obj)); });
      return;
    }
    OnUpdate(obj, obj);  // client-go's shape: an update with equal resourceVersions
  }

 private:
  PyRef on_add_;
  bool add_takes_flag_;
  PyRef on_update_;
  PyRef on_delete_;
  PyRef on_resync_;
  std::string name_;
};

// --- Index functions ---------------------------------------------------------------------------

// An index function implemented in C++ (no GIL), made by `index_by_label`/`index_by_path`.
struct NativeIndexFunc {
  kube::IndexFunc fn;
  std::string description;
};

kube::IndexFunc ToIndexFunc(const std::string& name, const py::object& fn) {
  if (py::isinstance<NativeIndexFunc>(fn)) return fn.cast<const NativeIndexFunc&>().fn;
  if (!PyCallable_Check(fn.ptr())) {
    throw py::type_error("indexer " + name + " is neither callable nor an index_by_* function");
  }
  SharedPyRef ref = MakeRef(fn);
  const std::string what = "index function " + name;
  return [ref, what](const kube::Object& obj) -> kube::Result<std::vector<std::string>> {
    std::vector<std::string> values;
    // The store holds its write lock while it calls this: a Python error must not reject the
    // write (the object would be lost), so it is logged and the object indexed under nothing.
    try {
      CallPython(what, [&] {
        // The function may keep what it is given: it gets its own copy, not a view of the
        // store's object (which the store may drop as soon as this returns).
        kube::Result<kube::ObjectPtr> copy = kube::Object::Parse(obj.json());
        if (!copy) throw std::runtime_error(copy.error().ToString());
        py::object r = ref->get()(WrapObject(*copy));
        if (r.is_none()) return;
        if (py::isinstance<py::str>(r)) {
          values.push_back(r.cast<std::string>());
          return;
        }
        for (py::handle v : r) values.push_back(py::str(v).cast<std::string>());
      });
    } catch (const std::exception&) {
      values.clear();
    }
    return values;
  };
}

kube::Indexers ToIndexers(const py::dict& indexers) {
  kube::Indexers out;
  for (auto [k, v] : indexers) {
    std::string name = py::str(k).cast<std::string>();
    out.emplace(name, ToIndexFunc(name, py::reinterpret_borrow<py::object>(v)));
  }
  return out;
}

// --- Listers -----------------------------------------------------------------------------------

py::list WrapAll(const std::vector<kube::ObjectPtr>& objs) {
  py::list out(objs.size());
  for (size_t i = 0; i < objs.size(); ++i) out[i] = WrapObject(objs[i]);
  return out;
}

kube::LabelSelector ParseSelector(const py::object& selector) {
  if (selector.is_none()) return kube::LabelSelector::Everything();
  if (py::isinstance<py::dict>(selector)) {
    kube::StringMap m;
    for (auto [k, v] : selector.cast<py::dict>()) {
      m.emplace(py::str(k).cast<std::string>(), py::str(v).cast<std::string>());
    }
    return Unwrap(kube::LabelSelector::FromMap(m));
  }
  return Unwrap(kube::LabelSelector::Parse(selector.cast<std::string>()));
}

}  // namespace

// --- Public wrappers (declared in py_types.h) ----------------------------------------------------

PyInformer::~PyInformer() {
  if (!PythonAlive()) {
    new std::shared_ptr<kube::SharedIndexInformer>(std::move(informer));  // leak at exit
    return;
  }
  if (InCallback()) {
    // Dropped by one of its own handlers: stopping here would wait for that handler. Another
    // thread drops it once the handler has returned.
    std::thread([i = std::move(informer)]() mutable { i.reset(); }).detach();
    return;
  }
  py::gil_scoped_release nogil;  // the last reference stops the informer, which waits for handlers
  informer.reset();
}

PyFactory::~PyFactory() {
  if (!PythonAlive()) {
    factory.release();  // leak at exit: handler threads can no longer take the GIL
    return;
  }
  if (InCallback()) {
    // Dropped by one of its handlers (a destructor must not raise): shut down on another thread,
    // which waits for that handler to return.
    std::thread([f = std::move(factory)]() mutable { f.reset(); }).detach();
    return;
  }
  Shutdown();
}

void PyFactory::Shutdown() {
  if (!factory) return;
  if (InCallback()) {
    throw std::runtime_error("stop() called from a handler: it would wait for that handler");
  }
  py::gil_scoped_release nogil;
  factory->Shutdown();
}

void RegisterInformers(py::module_& m) {
  py::class_<PyTombstone>(
      m, "DeletedFinalStateUnknown",
      "What on_delete receives when the deletion was inferred from a relist (the watch missed "
      "it): `obj` is the cache's last state, which may be older than the server's final one.")
      .def_readonly("key", &PyTombstone::key)
      .def_property_readonly("obj", [](const PyTombstone& t) { return WrapObject(t.obj); })
      .def_property_readonly("name",
                             [](const PyTombstone& t) { return std::string(t.obj->name()); })
      .def_property_readonly("namespace",
                             [](const PyTombstone& t) { return std::string(t.obj->ns()); })
      .def("__repr__",
           [](const PyTombstone& t) { return "<DeletedFinalStateUnknown " + t.key + ">"; });

  py::class_<NativeIndexFunc>(m, "IndexFunc", "An index function evaluated in C++.")
      .def("__repr__", [](const NativeIndexFunc& f) { return f.description; });
  m.def(
      "index_by_label",
      [](const std::string& label) {
        return NativeIndexFunc{
            [label](const kube::Object& o) -> kube::Result<std::vector<std::string>> {
              std::vector<std::string> out;
              for (const auto& [k, v] : o.labels()) {
                if (k == label) out.emplace_back(v);
              }
              return out;
            },
            "index_by_label(" + label + ")"};
      },
      py::arg("label"), "Indexes objects by the value of one label (none when absent).");
  m.def(
      "index_by_path",
      [](const std::string& path) {
        return NativeIndexFunc{
            [path](const kube::Object& o) -> kube::Result<std::vector<std::string>> {
              if (!o.Has(path)) return std::vector<std::string>{};
              if (auto list = o.GetStringList(path)) return std::move(list).value();
              if (auto s = o.GetString(path)) return std::vector<std::string>{std::move(s).value()};
              if (auto j = o.GetJson(path)) return std::vector<std::string>{std::move(j).value()};
              return std::vector<std::string>{};
            },
            "index_by_path(" + path + ")"};
      },
      py::arg("path"),
      "Indexes objects by the string (or each string of the list) at a path, e.g. "
      "'spec.nodeName'; other values by their JSON text.");

  py::class_<kube::RestConfig>(m, "Config",
                               "Where the API server is and who we are (credentials are never "
                               "shown). Build with load_kubeconfig, in_cluster or "
                               "in_cluster_or_kubeconfig.")
      .def_readonly("server", &kube::RestConfig::server)
      .def_readonly("source", &kube::RestConfig::source)
      .def_property(
          "timeout", [](const kube::RestConfig& c) { return c.timeout.count() / 1000.0; },
          [](kube::RestConfig& c, double s) { c.timeout = Seconds(s); },
          "Seconds per non-watch request (0 = none).")
      .def("__repr__", [](const kube::RestConfig& c) {
        return "<Config " + c.server + " (" + c.source + ")>";
      });
  m.def(
      "load_kubeconfig",
      [](std::optional<std::string> path, std::optional<std::string> context,
         std::optional<std::string> server) {
        kube::KubeconfigOptions o;
        o.explicit_path = path.value_or("");
        o.context = context.value_or("");
        o.server = server.value_or("");
        return Unwrap(kube::LoadKubeconfig(o));
      },
      py::arg("path") = py::none(), py::arg("context") = py::none(), py::arg("server") = py::none(),
      "A kubeconfig as kubectl reads it: `path`, else $KUBECONFIG, else ~/.kube/config.");
  m.def(
      "in_cluster", [] { return Unwrap(kube::InClusterConfig()); },
      "The pod's service account (KUBERNETES_SERVICE_HOST/PORT and its token).");
  m.def(
      "in_cluster_or_kubeconfig",
      [](std::optional<std::string> path) {
        return Unwrap(kube::InClusterOrKubeconfig(path.value_or("")));
      },
      py::arg("path") = py::none(),
      "In-cluster first, else the kubeconfig at `path` (default ~/.kube/config).");

  py::class_<PyClient, std::shared_ptr<PyClient>>(
      m, "Client", "One connection pool to one API server, shared by factories and resources.")
      .def(py::init([](const kube::RestConfig& config, bool protobuf) {
             kube::HttpClientOptions o;
             o.prefer_protobuf = protobuf;
             SignalsStayWithPython signals;
             return std::make_shared<PyClient>(
                 PyClient{Unwrap(kube::MakeCurlHttpClient(config, o))});
           }),
           py::arg("config"), py::arg("protobuf") = true)
      .def_property_readonly("server", [](const PyClient& c) { return c.http->server(); })
      .def(
          "resource_for",
          [](PyClient& c, const std::string& name) {
            if (!c.discovery) c.discovery = std::make_shared<kube::DiscoveryClient>(c.http);
            kube::Result<kube::ResourceMapping> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = c.discovery->ResourceFor(name);
            }
            kube::ResourceMapping mapping = Unwrap(std::move(r));
            return py::make_tuple(mapping.resource.group, mapping.resource.version,
                                  mapping.resource.resource, mapping.kind.kind, mapping.namespaced);
          },
          py::arg("name"),
          "Resolves a name as kubectl does, by asking the server (discovery): plural, singular, "
          "short name or kind, optionally qualified ('deploy', 'widgets.example.com'). Returns "
          "(group, version, resource, kind, namespaced).");

  py::class_<kube::ResourceEventHandlerRegistration, kube::RegistrationPtr>(
      m, "Registration", "One handler's membership in an informer.")
      .def_property_readonly("has_synced", &kube::ResourceEventHandlerRegistration::HasSynced)
      .def(
          "wait_for_synced",
          [](const kube::ResourceEventHandlerRegistration& r, std::optional<double> timeout) {
            return WaitInterruptible(
                timeout, [&](std::chrono::milliseconds s) { return r.WaitForSynced(s); });
          },
          py::arg("timeout") = py::none())
      .def_property_readonly("pending",
                             &kube::ResourceEventHandlerRegistration::PendingNotifications)
      .def_property_readonly("errors", &kube::ResourceEventHandlerRegistration::HandlerErrors);

  py::class_<PyLister>(m, "Lister", "Read-only queries over an informer's cache.")
      .def(
          "get",
          [](const PyLister& l, const std::string& a, std::optional<std::string> b) {
            kube::Result<kube::ObjectPtr> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = b ? l.lister.Get(a, *b) : l.lister.Get(a);
            }
            if (!r) {
              if (kube::IsNotFound(r.error())) return py::object(py::none());
              Raise(r.error());
            }
            return WrapObject(*r);
          },
          py::arg("namespace_or_name"), py::arg("name") = py::none(),
          "`get(namespace, name)`, or `get(name)` for a cluster-scoped resource; None when "
          "absent.")
      .def(
          "list",
          [](const PyLister& l, std::optional<std::string> ns, const py::object& selector) {
            kube::LabelSelector sel = ParseSelector(selector);
            std::vector<kube::ObjectPtr> objs;
            {
              py::gil_scoped_release nogil;
              objs = ns ? l.lister.Namespace(*ns).List(sel) : l.lister.List(sel);
            }
            return WrapAll(objs);
          },
          py::arg("namespace") = py::none(), py::arg("selector") = py::none(),
          "Objects (of `namespace`, or all) whose labels match `selector` (a string such as "
          "'app=web,tier!=db' or a dict), in no defined order.")
      .def(
          "by_index",
          [](const PyLister& l, const std::string& index, const std::string& value) {
            kube::Result<std::vector<kube::ObjectPtr>> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = l.lister.indexer()->ByIndex(index, value);
            }
            return WrapAll(Unwrap(std::move(r)));
          },
          py::arg("index"), py::arg("value"))
      .def(
          "index_keys",
          [](const PyLister& l, const std::string& index, const std::string& value) {
            py::gil_scoped_release nogil;
            return l.lister.indexer()->IndexKeys(index, value);
          },
          py::arg("index"), py::arg("value"))
      .def(
          "index_values",
          [](const PyLister& l, const std::string& index) {
            py::gil_scoped_release nogil;
            return l.lister.indexer()->ListIndexFuncValues(index);
          },
          py::arg("index"))
      .def("keys",
           [](const PyLister& l) {
             py::gil_scoped_release nogil;
             return l.lister.indexer()->ListKeys();
           })
      .def("__len__", [](const PyLister& l) {
        py::gil_scoped_release nogil;
        return l.lister.indexer()->Size();
      });

  py::class_<PyInformer, std::shared_ptr<PyInformer>>(
      m, "_Informer", "One list+watch of a resource, its cache and its handlers.")
      .def_property_readonly("resource",
                             [](const PyInformer& i) {
                               return py::make_tuple(i.gvr.group, i.gvr.version, i.gvr.resource);
                             })
      .def_property_readonly("namespaced", [](const PyInformer& i) { return i.namespaced; })
      .def("_add_event_handler",
           [](PyInformer& i, py::object on_add, bool add_takes_flag, py::object on_update,
              py::object on_delete, py::object on_resync, std::optional<double> resync_period,
              std::string name) {
             kube::HandlerOptions o;
             if (resync_period) o.resync_period = Seconds(*resync_period);
             if (name.empty()) name = "python handler on " + i.gvr.resource;
             o.name = name;
             auto handler = std::make_shared<PyHandler>(std::move(on_add), add_takes_flag,
                                                        std::move(on_update), std::move(on_delete),
                                                        std::move(on_resync), name);
             kube::Result<kube::RegistrationPtr> r = kube::Status();
             {
               py::gil_scoped_release nogil;
               r = i.informer->AddEventHandler(std::move(handler), std::move(o));
             }
             return Unwrap(std::move(r));
           })
      .def(
          "remove_event_handler",
          [](PyInformer& i, const kube::RegistrationPtr& reg) {
            kube::Status s;
            {
              py::gil_scoped_release nogil;
              s = i.informer->RemoveEventHandler(reg);
            }
            Check(s);
          },
          py::arg("registration"),
          "Stops delivery to the handler; notifications not yet started are dropped.")
      .def(
          "add_indexers",
          [](PyInformer& i, const py::dict& indexers) {
            kube::Indexers idx = ToIndexers(indexers);
            kube::Status s;
            {
              py::gil_scoped_release nogil;
              s = i.informer->AddIndexers(idx);
            }
            Check(s);
          },
          py::arg("indexers"),
          "Adds named index functions: a callable (object -> str, list of str or None) or "
          "index_by_label/index_by_path (evaluated in C++, faster).")
      .def_property_readonly("lister", [](const PyInformer& i) { return PyLister{i.GetLister()}; })
      .def_property_readonly("has_synced",
                             [](const PyInformer& i) { return i.informer->HasSynced(); })
      .def(
          "wait_for_cache_sync",
          [](const PyInformer& i, std::optional<double> timeout) {
            return WaitInterruptible(timeout, [&](std::chrono::milliseconds s) {
              return i.informer->WaitForCacheSync(s);
            });
          },
          py::arg("timeout") = py::none())
      .def(
          "wait_for_handlers_sync",
          [](const PyInformer& i, std::optional<double> timeout) {
            return WaitInterruptible(timeout, [&](std::chrono::milliseconds s) {
              return i.informer->WaitForHandlersSync(s);
            });
          },
          py::arg("timeout") = py::none())
      .def_property_readonly(
          "last_sync_resource_version",
          [](const PyInformer& i) { return i.informer->LastSyncResourceVersion(); })
      .def_property_readonly("cache_resource_version",
                             [](const PyInformer& i) { return i.informer->CacheResourceVersion(); })
      .def(
          "wait_for_resource_version",
          [](const PyInformer& i, const std::string& resource_version,
             std::optional<double> timeout) {
            // In slices, so Ctrl-C interrupts; only a slice's timeout means "wait on".
            kube::Status last;
            bool answered = WaitInterruptible(timeout, [&](std::chrono::milliseconds slice) {
              last = i.informer->WaitForResourceVersion(resource_version, slice);
              return last.code() != kube::StatusCode::kDeadlineExceeded;
            });
            if (!answered) return false;
            Check(last);
            return true;
          },
          py::arg("resource_version"), py::arg("timeout") = py::none())
      .def_property_readonly("is_stopped",
                             [](const PyInformer& i) { return i.informer->IsStopped(); })
      .def("stats", [](const PyInformer& i) {
        kube::InformerStats s;
        {
          py::gil_scoped_release nogil;
          s = i.informer->Stats();
        }
        py::dict d;
        d["objects_cached"] = s.objects_cached;
        d["adds"] = s.adds;
        d["updates"] = s.updates;
        d["deletes"] = s.deletes;
        d["resyncs"] = s.resyncs;
        d["lists"] = s.lists;
        d["relists"] = s.relists;
        d["relists_after_gone"] = s.relists_after_gone;
        d["relists_after_rv_regression"] = s.relists_after_rv_regression;
        d["watches"] = s.watches;
        d["watch_restarts"] = s.watch_restarts;
        d["watch_events"] = s.watch_events;
        d["progress_timeouts"] = s.progress_timeouts;
        d["errors"] = s.errors;
        d["last_sync_resource_version"] = s.last_sync_resource_version;
        py::list handlers;
        for (const auto& h : s.handlers) {
          py::dict hd;
          hd["name"] = h.name;
          hd["queue_depth"] = h.queue_depth;
          hd["lag"] = std::chrono::duration<double>(h.lag).count();
          hd["delivered"] = h.delivered;
          hd["failed"] = h.failed;
          handlers.append(hd);
        }
        d["handlers"] = handlers;
        return d;
      });

  py::class_<PyFactory, std::shared_ptr<PyFactory>>(m, "_Factory")
      .def(py::init([](std::shared_ptr<PyClient> client, double resync, std::string ns,
                       size_t threads, std::optional<double> watch_timeout,
                       bool drop_managed_fields) {
             kube::SharedInformerFactoryOptions o;
             o.default_resync = Seconds(resync);
             o.ns = std::move(ns);
             o.threads = threads;
             o.name = "python";
             if (watch_timeout) {
               o.reflector.min_watch_timeout =
                   std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(*watch_timeout)));
             }
             if (drop_managed_fields) o.transform = kube::DropManagedFields;
             SignalsStayWithPython signals;
             auto f = std::make_shared<PyFactory>();
             f->client = client;
             f->factory = kube::SharedInformerFactory::Create(client->http, std::move(o));
             return f;
           }),
           py::arg("client"), py::arg("resync"), py::arg("namespace"), py::arg("threads"),
           py::arg("watch_timeout"), py::arg("drop_managed_fields"))
      .def(
          "informer_for",
          [](PyFactory& f, const std::string& group, const std::string& version,
             const std::string& resource, bool namespaced, const std::string& kind,
             const std::string& singular) {
            if (!f.factory) throw std::runtime_error("the factory is stopped");
            kube::GroupVersionResource gvr{group, version, resource};
            kube::ResourceScope scope{namespaced, kind};
            auto out = std::make_shared<PyInformer>();
            {
              py::gil_scoped_release nogil;
              SignalsStayWithPython signals;
              out->informer = f.factory->InformerFor(gvr, scope);
            }
            out->gvr = gvr;
            out->namespaced = namespaced;
            out->resource = {group, singular.empty() ? resource : singular};
            return out;
          },
          py::arg("group"), py::arg("version"), py::arg("resource"), py::arg("namespaced"),
          py::arg("kind"), py::arg("singular"))
      .def("start",
           [](PyFactory& f) {
             if (!f.factory) throw std::runtime_error("the factory is stopped");
             py::gil_scoped_release nogil;
             SignalsStayWithPython signals;
             f.factory->Start();
           })
      .def(
          "wait_for_cache_sync",
          [](PyFactory& f, std::optional<double> timeout) {
            std::map<kube::GroupVersionResource, bool> result;
            WaitInterruptible(timeout, [&](std::chrono::milliseconds s) {
              result = f.factory->WaitForCacheSync(s);
              for (const auto& [gvr, ok] : result) {
                if (!ok) return false;
              }
              return true;
            });
            py::dict d;
            for (const auto& [gvr, ok] : result) {
              d[py::make_tuple(gvr.group, gvr.version, gvr.resource)] = ok;
            }
            return d;
          },
          py::arg("timeout") = py::none())
      .def(
          "wait_for_handlers_sync",
          [](PyFactory& f, std::optional<double> timeout) {
            return WaitInterruptible(timeout, [&](std::chrono::milliseconds s) {
              for (const auto& [gvr, ok] : f.factory->WaitForHandlersSync(s)) {
                if (!ok) return false;
              }
              return true;
            });
          },
          py::arg("timeout") = py::none())
      .def("stop", &PyFactory::Shutdown)
      .def_property_readonly("thread_count",
                             [](const PyFactory& f) { return f.factory->ThreadCount(); });

  m.def("_typed_kinds", [] {
    py::list out;
    for (const kube::KindInfo& k : kube::TypedKinds()) {
      out.append(py::make_tuple(std::string(k.group), std::string(k.version),
                                std::string(k.resource), std::string(k.singular),
                                std::string(k.kind), k.namespaced));
    }
    return out;
  });
}

}  // namespace kinf_py

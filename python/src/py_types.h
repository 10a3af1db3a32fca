// The wrapper types the binding's translation units share.
#ifndef KUBE_INFORMER_PYTHON_PY_TYPES_H_
#define KUBE_INFORMER_PYTHON_PY_TYPES_H_

#include <memory>

#include "common.h"
#include "kube/cache/lister.h"
#include "kube/cache/shared_informer.h"
#include "kube/client/discovery.h"
#include "kube/client/http_client.h"
#include "kube/group_version.h"
#include "kube/informers/factory.h"

namespace kinf_py {

struct PyClient {
  std::shared_ptr<kube::HttpClient> http;
  // Made on first use (`resource_for`); it caches what it fetched.
  std::shared_ptr<kube::DiscoveryClient> discovery;
};

struct PyLister {
  kube::Lister lister;
};

// Destroying the last reference stops the informer with the GIL released (it waits for running
// handler calls, which need the GIL).
struct PyInformer {
  std::shared_ptr<kube::SharedIndexInformer> informer;
  kube::GroupVersionResource gvr;
  kube::ListerResource resource;
  bool namespaced = true;

  PyInformer() = default;
  PyInformer(const PyInformer&) = delete;
  PyInformer& operator=(const PyInformer&) = delete;
  ~PyInformer();
  kube::Lister GetLister() const { return kube::Lister(informer->GetIndexer(), resource); }
};

// The factory; `Shutdown` (and the destructor) stop every informer with the GIL released.
struct PyFactory {
  std::shared_ptr<PyClient> client;
  std::unique_ptr<kube::SharedInformerFactory> factory;

  PyFactory() = default;
  PyFactory(const PyFactory&) = delete;
  PyFactory& operator=(const PyFactory&) = delete;
  ~PyFactory();
  void Shutdown();
};

void RegisterInformers(py::module_& m);
void RegisterController(py::module_& m);

}  // namespace kinf_py

#endif  // KUBE_INFORMER_PYTHON_PY_TYPES_H_

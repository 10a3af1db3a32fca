// The `kube_informer._kube_informer` extension: kube-informer's public API for Python. The
// Python package (python/kube_informer/__init__.py) builds the user-facing classes on it.
#include "common.h"
#include "py_types.h"

PYBIND11_MODULE(_kube_informer, m) {
  m.doc() = "kube-informer's informers, listers and controller kit (native part).";
  kinf_py::RegisterErrors(m);
  kinf_py::RegisterObject(m);
  kinf_py::RegisterInformers(m);
  kinf_py::RegisterController(m);
}

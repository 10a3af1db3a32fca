// Shared by the binding's translation units: the GIL rules, error conversion and the object
// wrapper.
//
// The GIL rules every binding follows:
// - A call into the library that may block or take a library lock (waits, listers, stop, queue
//   operations) runs with the GIL released, so library threads that need the GIL (handlers,
//   Python index functions) can always make progress.
// - Library threads take the GIL only around a call into Python (`CallPython`), never while they
//   could be waited for by a thread that holds it.
// - Python references held by C++ objects are dropped with the GIL held (`PyRef`).
#ifndef KUBE_INFORMER_PYTHON_COMMON_H_
#define KUBE_INFORMER_PYTHON_COMMON_H_

#include <pybind11/pybind11.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kube/object.h"
#include "kube/status.h"

namespace kinf_py {

namespace py = pybind11;

// True while the interpreter can still run Python code from a library thread.
bool PythonAlive();

// A Python reference that library threads may own: destroyed with the GIL taken (or leaked
// during interpreter shutdown, when taking it is no longer possible).
class PyRef {
 public:
  PyRef() = default;
  explicit PyRef(py::object obj);
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef();
  // The object; call with the GIL held.
  const py::object& get() const { return obj_; }
  bool is_none() const { return !obj_ || obj_.is_none(); }

 private:
  py::object obj_;
};
using SharedPyRef = std::shared_ptr<PyRef>;
SharedPyRef MakeRef(py::object obj);

// Raises the Python exception for `status`: kube_informer.InvalidArgumentError (also a
// ValueError) for kInvalidArgument, kube_informer.KubeError otherwise, with `code`, `http_code`
// and `reason` attributes.
[[noreturn]] void Raise(const kube::Status& status);
template <typename T>
T Unwrap(kube::Result<T> r) {
  if (!r) Raise(r.error());
  return std::move(r).value();
}
inline void Check(const kube::Status& s) {
  if (!s.ok()) Raise(s);
}
void RegisterErrors(py::module_& m);

// Logs the Python exception being handled (`e`) on the "kube_informer" logger with its traceback,
// as `what`. Call with the GIL held.
void LogPythonError(py::error_already_set& e, const std::string& what);

// Whether the current thread is running a Python handler or callback of this module.
bool InCallback();

// Runs `fn` (which calls Python) with the GIL taken. A Python exception is logged with its
// traceback, then reported to the caller as a std::runtime_error so that the library counts it
// (handler errors in the informer's stats). Does nothing once the interpreter is shutting down.
void CallPython(const std::string& what, const std::function<void()>& fn);

// Waits for `ready(slice)` to return true, calling it repeatedly with the GIL released for at most
// 100 ms at a time, and checking for signals between calls (Ctrl-C raises KeyboardInterrupt).
// `timeout` in seconds, nullopt = forever. Returns the last result of `ready`.
bool WaitInterruptible(std::optional<double> timeout,
                       const std::function<bool(std::chrono::milliseconds)>& ready);

std::chrono::milliseconds Seconds(double s);

// Blocks asynchronous signals on the calling thread while it lives, so that library threads
// created meanwhile (which inherit the mask, as do the threads they create) never receive them:
// Ctrl-C then reaches the Python main thread, even while it blocks in `Event.wait()`. Wrap every
// call that may start library threads.
class SignalsStayWithPython {
 public:
  SignalsStayWithPython();
  ~SignalsStayWithPython();
  SignalsStayWithPython(const SignalsStayWithPython&) = delete;
  SignalsStayWithPython& operator=(const SignalsStayWithPython&) = delete;

 private:
  sigset_t old_;
};

// A Kubernetes object as Python sees it: a shared reference to the immutable C++ object.
struct PyKubeObject {
  kube::ObjectPtr p;
};

// `obj` wrapped; None for null.
py::object WrapObject(const kube::ObjectPtr& obj);
void RegisterObject(py::module_& m);

}  // namespace kinf_py

#endif  // KUBE_INFORMER_PYTHON_COMMON_H_

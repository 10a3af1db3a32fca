#include "common.h"

#include <Python.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace kinf_py {

namespace {

PyObject* g_kube_error = nullptr;
PyObject* g_invalid_argument_error = nullptr;
thread_local int g_callback_depth = 0;

}  // namespace

bool PythonAlive() { return Py_IsInitialized() != 0 && _Py_IsFinalizing() == 0; }

PyRef::PyRef(py::object obj) : obj_(std::move(obj)) {}

PyRef::~PyRef() {
  if (!obj_) return;
  if (!PythonAlive()) {
    obj_.release();  // the interpreter is going away: leak rather than touch it
    return;
  }
  py::gil_scoped_acquire gil;
  obj_ = py::object();
}

SharedPyRef MakeRef(py::object obj) { return std::make_shared<PyRef>(std::move(obj)); }

void RegisterErrors(py::module_& m) {
  g_kube_error = PyErr_NewExceptionWithDoc(
      "kube_informer.KubeError",
      "An error from kube-informer: `code` (e.g. 'not_found', 'unavailable'), `http_code` and "
      "`reason` (as the API server sent them, when it did).",
      PyExc_RuntimeError, nullptr);
  py::tuple bases = py::make_tuple(py::handle(g_kube_error), py::handle(PyExc_ValueError));
  g_invalid_argument_error = PyErr_NewExceptionWithDoc(
      "kube_informer.InvalidArgumentError",
      "Bad input: a selector, a path, malformed JSON, a configuration that does not parse.",
      bases.ptr(), nullptr);
  m.attr("KubeError") = py::handle(g_kube_error);
  m.attr("InvalidArgumentError") = py::handle(g_invalid_argument_error);
}

void Raise(const kube::Status& status) {
  PyObject* cls =
      status.code() == kube::StatusCode::kInvalidArgument ? g_invalid_argument_error : g_kube_error;
  py::object exc = py::reinterpret_borrow<py::object>(cls)(status.ToString());
  exc.attr("code") = std::string(kube::StatusCodeName(status.code()));
  exc.attr("http_code") = status.http_code();
  exc.attr("reason") = status.reason();
  PyErr_SetObject(cls, exc.ptr());
  throw py::error_already_set();
}

void LogPythonError(py::error_already_set& e, const std::string& what) {
  try {
    py::object logger = py::module_::import("logging").attr("getLogger")("kube_informer");
    py::tuple exc_info = py::make_tuple(e.type(), e.value(), e.trace());
    logger.attr("error")("%s raised", what, py::arg("exc_info") = exc_info);
  } catch (py::error_already_set& inner) {
    // Logging itself failed (a broken handler on the logger): fall back to stderr.
    e.restore();
    PyErr_Print();
    inner.discard_as_unraisable("kube_informer logging");
  }
}

bool InCallback() { return g_callback_depth > 0; }

void CallPython(const std::string& what, const std::function<void()>& fn) {
  if (!PythonAlive()) return;
  std::string failure;
  {
    py::gil_scoped_acquire gil;
    ++g_callback_depth;
    try {
      fn();
    } catch (py::error_already_set& e) {
      // The library's own log line gets the first line only; the traceback goes to Python's
      // logging.
      failure = e.what();
      failure = failure.substr(0, failure.find('\n'));
      LogPythonError(e, what);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    --g_callback_depth;
  }
  if (!failure.empty()) throw std::runtime_error(what + ": " + failure);
}

std::chrono::milliseconds Seconds(double s) {
  if (s <= 0) return std::chrono::milliseconds(0);
  // Beyond ~3 million years is forever.
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(s, 1e14) * 1000.0));
}

SignalsStayWithPython::SignalsStayWithPython() {
  sigset_t all;
  sigfillset(&all);
  // Faults are delivered to the thread that caused them and must stay deliverable.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) sigdelset(&all, sig);
  pthread_sigmask(SIG_BLOCK, &all, &old_);
}

SignalsStayWithPython::~SignalsStayWithPython() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

bool WaitInterruptible(std::optional<double> timeout,
                       const std::function<bool(std::chrono::milliseconds)>& ready) {
  using SteadyClock = std::chrono::steady_clock;
  constexpr std::chrono::milliseconds kSlice(100);
  const bool forever = !timeout.has_value();
  const SteadyClock::time_point deadline =
      forever ? SteadyClock::time_point::max() : SteadyClock::now() + Seconds(*timeout);
  while (true) {
    std::chrono::milliseconds slice = kSlice;
    if (!forever) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      slice = std::clamp(left, std::chrono::milliseconds(0), kSlice);
    }
    bool ok;
    {
      py::gil_scoped_release nogil;
      ok = ready(slice);
    }
    if (ok) return true;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!forever && SteadyClock::now() >= deadline) return false;
  }
}

}  // namespace kinf_py

// The controller kit: resource clients (writes), the rate-limited workqueue, leader election.
#include <pybind11/stl.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>

#include "common.h"
#include "kube/client/rest_client.h"
#include "kube/leaderelection/leader_elector.h"
#include "kube/leaderelection/resource_lock.h"
#include "kube/workqueue/rate_limiter.h"
#include "kube/workqueue/workqueue.h"
#include "py_types.h"

namespace kinf_py {

namespace {

using Queue = kube::workqueue::RateLimitingQueue<std::string>;

// A body from a str (JSON), a dict (dumped) or an Object.
std::string Body(const py::object& obj) {
  if (py::isinstance<py::str>(obj)) return obj.cast<std::string>();
  if (py::isinstance<PyKubeObject>(obj))
    return std::string(obj.cast<const PyKubeObject&>().p->json());
  return py::module_::import("json").attr("dumps")(obj).cast<std::string>();
}

std::chrono::nanoseconds Nanos(double seconds) {
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

// A Python-visible stop token: `stop_requested` and an interruptible `wait`.
struct PyStopToken {
  std::stop_token token;
};

struct PyElector {
  std::unique_ptr<kube::LeaderElector> elector;
  ~PyElector() {
    if (!elector) return;
    if (!PythonAlive()) {
      elector.release();
      return;
    }
    py::gil_scoped_release nogil;
    elector.reset();
  }
};

struct PyQueue {
  std::unique_ptr<Queue> queue;
  ~PyQueue() {
    if (!PythonAlive()) {
      queue.release();
      return;
    }
    py::gil_scoped_release nogil;
    queue.reset();
  }
};

}  // namespace

void RegisterController(py::module_& m) {
  py::class_<kube::ResourceClient>(
      m, "ResourceClient",
      "Reads and writes one resource (`Client.resource(...)`). Bodies are JSON text, dicts or "
      "Objects; answers are Objects. Errors raise KubeError with the server's code and reason.")
      .def(py::init([](std::shared_ptr<PyClient> client, const std::string& group,
                       const std::string& version, const std::string& resource,
                       const std::string& ns) {
             return kube::ResourceClient(client->http, {group, version, resource}, ns);
           }),
           py::arg("client"), py::arg("group"), py::arg("version"), py::arg("resource"),
           py::arg("namespace") = "")
      .def("in_namespace", &kube::ResourceClient::InNamespace, py::arg("namespace"))
      .def(
          "get",
          [](const kube::ResourceClient& c, const std::string& name) {
            kube::Result<kube::ObjectPtr> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = c.Get(name);
            }
            return WrapObject(Unwrap(std::move(r)));
          },
          py::arg("name"))
      .def(
          "list",
          [](const kube::ResourceClient& c, const std::string& selector) {
            kube::ListOptions o;
            o.label_selector = selector;
            kube::Result<kube::ObjectList> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = c.List(o);
            }
            kube::ObjectList list = Unwrap(std::move(r));
            py::list out;
            for (const kube::ObjectPtr& p : list.items) out.append(WrapObject(p));
            return out;
          },
          py::arg("selector") = "")
      .def(
          "create",
          [](const kube::ResourceClient& c, const py::object& body) {
            std::string json = Body(body);
            kube::Result<kube::ObjectPtr> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = c.Create(std::string_view(json));
            }
            return WrapObject(Unwrap(std::move(r)));
          },
          py::arg("body"))
      .def(
          "update",
          [](const kube::ResourceClient& c, const py::object& body, bool status) {
            kube::ObjectPtr obj = Unwrap(kube::Object::Parse(Body(body)));
            kube::Result<kube::ObjectPtr> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = status ? c.UpdateStatus(*obj) : c.Update(*obj);
            }
            return WrapObject(Unwrap(std::move(r)));
          },
          py::arg("body"), py::arg("status") = false,
          "A conditional update (the body's resourceVersion); `status=True` writes the status "
          "subresource. KubeError with code 'conflict' on a stale resourceVersion.")
      .def(
          "patch",
          [](const kube::ResourceClient& c, const std::string& name, const py::object& patch,
             const std::string& type, const std::string& subresource) {
            kube::PatchType t = kube::PatchType::kMerge;
            if (type == "json") {
              t = kube::PatchType::kJson;
            } else if (type == "strategic") {
              t = kube::PatchType::kStrategic;
            } else if (type != "merge") {
              throw py::value_error("type is 'merge', 'json' or 'strategic'");
            }
            std::string body = Body(patch);
            kube::Result<kube::ObjectPtr> r = kube::Status();
            {
              py::gil_scoped_release nogil;
              r = c.Patch(name, t, body, {}, subresource);
            }
            return WrapObject(Unwrap(std::move(r)));
          },
          py::arg("name"), py::arg("patch"), py::arg("type") = "merge", py::arg("subresource") = "")
      .def(
          "delete",
          [](const kube::ResourceClient& c, const std::string& name, const std::string& uid,
             bool missing_ok) {
            kube::DeleteOptions o;
            o.precondition_uid = uid;
            kube::Status s;
            {
              py::gil_scoped_release nogil;
              s = c.Delete(name, o);
            }
            if (missing_ok && kube::IsNotFound(s)) return;
            Check(s);
          },
          py::arg("name"), py::arg("precondition_uid") = "", py::arg("missing_ok") = false);

  py::class_<PyQueue>(
      m, "RateLimitingQueue",
      "client-go's rate-limited workqueue of str keys: an item is never processed by two workers "
      "at once, added again while processing it is queued at done(), and retried with per-item "
      "exponential backoff (base_delay * 2^n up to max_delay) and an overall token bucket "
      "(qps, burst).")
      .def(py::init([](const std::string& name, double base_delay, double max_delay, double qps,
                       int burst) {
             using kube::workqueue::BucketRateLimiter;
             using kube::workqueue::ItemExponentialFailureRateLimiter;
             using kube::workqueue::MaxOfRateLimiter;
             using kube::workqueue::RateLimiter;
             std::vector<std::shared_ptr<RateLimiter<std::string>>> limiters;
             limiters.push_back(std::make_shared<ItemExponentialFailureRateLimiter<std::string>>(
                 Nanos(base_delay), Nanos(max_delay)));
             if (qps > 0) {
               limiters.push_back(std::make_shared<BucketRateLimiter<std::string>>(qps, burst));
             }
             auto limiter = std::make_shared<MaxOfRateLimiter<std::string>>(std::move(limiters));
             SignalsStayWithPython signals;
             auto q = std::make_unique<PyQueue>();
             q->queue =
                 std::make_unique<Queue>(limiter, kube::workqueue::QueueOptions{.name = name});
             return q;
           }),
           py::arg("name") = "", py::arg("base_delay") = 0.005, py::arg("max_delay") = 1000.0,
           py::arg("qps") = 10.0, py::arg("burst") = 100)
      .def(
          "add", [](PyQueue& q, std::string item) { q.queue->Add(std::move(item)); },
          py::arg("item"))
      .def(
          "add_after",
          [](PyQueue& q, std::string item, double delay) {
            q.queue->AddAfter(std::move(item), Nanos(delay));
          },
          py::arg("item"), py::arg("delay"))
      .def(
          "add_rate_limited",
          [](PyQueue& q, std::string item) { q.queue->AddRateLimited(std::move(item)); },
          py::arg("item"))
      .def(
          "forget", [](PyQueue& q, const std::string& item) { q.queue->Forget(item); },
          py::arg("item"))
      .def(
          "num_requeues",
          [](PyQueue& q, const std::string& item) { return q.queue->NumRequeues(item); },
          py::arg("item"))
      .def(
          "get",
          [](PyQueue& q) -> std::optional<std::string> {
            py::gil_scoped_release nogil;
            return q.queue->Get();
          },
          "Blocks (GIL released) until an item is queued and returns it; None once the queue is "
          "shut down and empty. Call done(item) when finished with it.")
      .def(
          "done", [](PyQueue& q, const std::string& item) { q.queue->Done(item); }, py::arg("item"))
      .def("__len__", [](PyQueue& q) { return q.queue->Len(); })
      .def("shut_down", [](PyQueue& q) { q.queue->ShutDown(); })
      .def("shut_down_with_drain",
           [](PyQueue& q) {
             py::gil_scoped_release nogil;
             q.queue->ShutDownWithDrain();
           })
      .def_property_readonly("shutting_down", [](PyQueue& q) { return q.queue->ShuttingDown(); });

  py::class_<PyStopToken>(m, "StopToken",
                          "Tells leading work to end: check `stop_requested` or `wait()`.")
      .def_property_readonly("stop_requested",
                             [](const PyStopToken& t) { return t.token.stop_requested(); })
      .def(
          "wait",
          [](const PyStopToken& t, std::optional<double> timeout) {
            return WaitInterruptible(timeout, [&](std::chrono::milliseconds slice) {
              std::mutex mu;
              std::condition_variable_any cv;
              std::unique_lock<std::mutex> l(mu);
              return cv.wait_for(l, t.token, slice, [] { return false; }) ||
                     t.token.stop_requested();
            });
          },
          py::arg("timeout") = py::none(),
          "Blocks until stop is requested (True) or `timeout` seconds pass (False).");

  py::class_<PyElector>(m, "_LeaderElector")
      .def(py::init([](std::shared_ptr<PyClient> client, const std::string& ns,
                       const std::string& name, std::string identity, double lease_duration,
                       double renew_deadline, double retry_period, py::object on_started,
                       py::object on_stopped, py::object on_new_leader, bool release_on_cancel) {
             if (identity.empty()) identity = kube::DefaultLeaderIdentity();
             auto lock = Unwrap(kube::LeaseLock::Create(client->http, ns, name, identity));
             SharedPyRef started = MakeRef(std::move(on_started));
             SharedPyRef stopped = MakeRef(std::move(on_stopped));
             SharedPyRef new_leader = MakeRef(std::move(on_new_leader));
             kube::LeaderElectionConfig config;
             config.lock = lock;
             config.lease_duration = Seconds(lease_duration);
             config.renew_deadline = Seconds(renew_deadline);
             config.retry_period = Seconds(retry_period);
             config.release_on_cancel = release_on_cancel;
             config.callbacks.on_started_leading = [started](std::stop_token stop) {
               CallPython("on_started_leading",
                          [&] { started->get()(py::cast(PyStopToken{std::move(stop)})); });
             };
             if (!stopped->is_none()) {
               config.callbacks.on_stopped_leading = [stopped] {
                 CallPython("on_stopped_leading", [&] { stopped->get()(); });
               };
             }
             if (!new_leader->is_none()) {
               config.callbacks.on_new_leader = [new_leader](const std::string& who) {
                 CallPython("on_new_leader", [&] { new_leader->get()(who); });
               };
             }
             SignalsStayWithPython signals;
             auto e = std::make_unique<PyElector>();
             e->elector = Unwrap(kube::LeaderElector::Create(std::move(config)));
             return e;
           }),
           py::arg("client"), py::arg("namespace"), py::arg("name"), py::arg("identity"),
           py::arg("lease_duration"), py::arg("renew_deadline"), py::arg("retry_period"),
           py::arg("on_started_leading"), py::arg("on_stopped_leading"), py::arg("on_new_leader"),
           py::arg("release_on_cancel"))
      .def("start",
           [](PyElector& e) {
             SignalsStayWithPython signals;
             e.elector->Start();
           })
      .def("stop",
           [](PyElector& e) {
             if (InCallback()) throw std::runtime_error("stop() called from a leader callback");
             py::gil_scoped_release nogil;
             e.elector->Stop();
           })
      .def_property_readonly("is_leader", [](const PyElector& e) { return e.elector->IsLeader(); })
      .def_property_readonly("leader", [](const PyElector& e) { return e.elector->GetLeader(); })
      .def_property_readonly("identity", [](const PyElector& e) { return e.elector->identity(); });
}

}  // namespace kinf_py

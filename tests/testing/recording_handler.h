// RecordingHandler: a ResourceEventHandler that writes down what it receives, for tests.
#ifndef KUBE_TESTS_TESTING_RECORDING_HANDLER_H_
#define KUBE_TESTS_TESTING_RECORDING_HANDLER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "kube/cache/shared_informer.h"

namespace kube::testing {

// Records "ADD ns/name@rv [initial]", "UPDATE ns/name@old->new", "RESYNC ns/name@rv",
// "DELETE ns/name@rv [unknown]". Thread-safe.
class RecordingHandler : public ResourceEventHandler {
 public:
  void OnAdd(const ObjectPtr& obj, bool initial) override {
    Record("ADD " + Id(*obj) + (initial ? " initial" : ""), obj);
  }
  void OnUpdate(const ObjectPtr& old_obj, const ObjectPtr& new_obj) override {
    Record("UPDATE " + Id(*old_obj) + "->" + std::string(new_obj->resource_version()), new_obj);
  }
  void OnResync(const ObjectPtr& obj) override { Record("RESYNC " + Id(*obj), obj); }
  void OnDelete(const DeletedObject& d) override {
    Record("DELETE " + Id(*d.object()) + (d.final_state_unknown() ? " unknown" : ""), d.object());
  }

  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return events_.size();
  }
  // Blocks until at least `n` notifications arrived.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return events_.size() >= n; });
  }
  // Returns the recorded events and forgets them.
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(events_, {});
  }

  // Called (outside the lock) for every notification; tests use it to block or throw.
  std::function<void(const std::string&)> hook;

  static std::string Id(const Object& o) {
    std::string id =
        o.ns().empty() ? std::string(o.name()) : std::string(o.ns()) + "/" + std::string(o.name());
    return id + "@" + std::string(o.resource_version());
  }

 private:
  void Record(std::string e, const ObjectPtr&) {
    if (hook) hook(e);
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(std::move(e));
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> events_;
};

}  // namespace kube::testing

#endif  // KUBE_TESTS_TESTING_RECORDING_HANDLER_H_

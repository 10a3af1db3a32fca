// Convergence checks for informers against a server: what a handler saw (replayed into
// key -> resourceVersion), what the cache holds, and what the server lists.
//
// Used by the chaos test and the soak test: after churn and faults, the cache and every handler's
// replay must equal the server's state, with every object's events in resourceVersion order.
#ifndef KUBE_TESTS_TESTING_CONVERGENCE_H_
#define KUBE_TESTS_TESTING_CONVERGENCE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "kube/cache/shared_informer.h"
#include "kube/client/rest_client.h"

namespace kube::testing {

// key ("namespace/name" or "name") -> resourceVersion.
using KeyVersions = std::map<std::string, uint64_t>;

// Replays notifications into key -> resourceVersion and counts per-object reorderings.
// Thread-safe.
class ReplayHandler : public ResourceEventHandler {
 public:
  // `delay` is slept before each notification: a slow handler.
  explicit ReplayHandler(std::chrono::microseconds delay = std::chrono::microseconds(0))
      : delay_(delay) {}
  void OnAdd(const ObjectPtr& o, bool) override { Apply(*o, false); }
  void OnUpdate(const ObjectPtr&, const ObjectPtr& o) override { Apply(*o, false); }
  void OnResync(const ObjectPtr&) override { resyncs_++; }
  void OnDelete(const DeletedObject& d) override { Apply(*d.object(), true); }

  KeyVersions state() const;
  // Notifications whose resourceVersion was older than one already seen for the same key.
  int out_of_order() const { return out_of_order_.load(); }
  uint64_t notifications() const { return notifications_.load(); }
  uint64_t resyncs() const { return resyncs_.load(); }

 private:
  void Apply(const Object& o, bool deleted);

  std::chrono::microseconds delay_;
  mutable std::mutex mu_;
  KeyVersions state_;    // guarded by mu_
  KeyVersions last_rv_;  // guarded by mu_
  std::atomic<int> out_of_order_{0};
  std::atomic<uint64_t> notifications_{0};
  std::atomic<uint64_t> resyncs_{0};
};

// The informer's cache as key -> resourceVersion.
KeyVersions CacheState(const SharedIndexInformer& informer);

// The server's state of `client`'s resource and namespace, listed page by page.
Result<KeyVersions> ServerState(const ResourceClient& client,
                                const std::string& label_selector = "");

}  // namespace kube::testing

#endif  // KUBE_TESTS_TESTING_CONVERGENCE_H_

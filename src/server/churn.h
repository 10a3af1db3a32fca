// Churn: a deterministic generator of create/update/delete operations, for demos and benchmarks.
//
// Given a seed, the sequence of operations (which Pod is created, updated or deleted, and how) is
// always the same; only its timing follows the wall clock. Pods are named `churn-NNNNN` and
// labelled `app=churn`; the population stays at or below `max_objects`.
//
// Thread-safe; runs on its own thread between `Start` and `Stop` (or destruction).
//
// Reads from: ChurnOptions. Feeds: the Registry (so watchers and lists see the changes).
#ifndef KUBE_SERVER_CHURN_H_
#define KUBE_SERVER_CHURN_H_

#include <condition_variable>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "kube/server/api_server.h"
#include "server/registry.h"

namespace kube::server {

class Churn {
 public:
  explicit Churn(Registry& registry) : registry_(registry) {}
  ~Churn() { Stop(); }
  Churn(const Churn&) = delete;
  Churn& operator=(const Churn&) = delete;

  // kInvalidArgument for a non-positive rate or a missing Pod resource. Restarts if running.
  Status Start(const ChurnOptions& options) KUBE_EXCLUDES(control_mu_, mu_);
  void Stop() KUBE_EXCLUDES(control_mu_, mu_);

  // One step of the sequence (what the thread runs each tick); exposed for tests.
  static void Step(Registry& registry, const ResourceInfo& pods, const ChurnOptions& options,
                   std::mt19937_64& rng, std::vector<std::string>& live, uint64_t& counter);

 private:
  void Run(ChurnOptions options, ResourceInfoPtr pods) KUBE_EXCLUDES(mu_);

  void StopLocked() KUBE_REQUIRES(control_mu_) KUBE_EXCLUDES(mu_);

  Registry& registry_;
  // Serializes Start/Stop; never held by the churn thread. Lock order: control_mu_, then mu_.
  internal::Mutex control_mu_;
  std::thread thread_ KUBE_GUARDED_BY(control_mu_);
  internal::Mutex mu_;
  std::condition_variable cv_;
  bool stop_ KUBE_GUARDED_BY(mu_) = false;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_CHURN_H_

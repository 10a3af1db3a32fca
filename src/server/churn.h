// Churn: a deterministic generator of create/update/delete operations, for demos and benchmarks.
//
// Given a seed, the sequence of operations (which object is created, updated or deleted, and how)
// is always the same; only its timing follows the wall clock. Operations go to the resources of
// `ChurnOptions::resources` in turn (Pods by default). Objects are named `churn-NNNNN` (numbered
// per resource) and labelled `app=churn`; each resource's population stays at or below
// `max_objects`. Updates bump a label (generation unchanged), or change the status through the
// `status` subresource when the kind has one (a Pod's phase, a Deployment's ready replicas).
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

  // kInvalidArgument for a non-positive rate or population, no resource, or a resource that is
  // unknown or cluster-scoped. Restarts if running.
  Status Start(const ChurnOptions& options) KUBE_EXCLUDES(control_mu_, mu_);
  void Stop() KUBE_EXCLUDES(control_mu_, mu_);

  // One churned resource and what the sequence remembers of it.
  struct Target {
    ResourceInfoPtr info;
    std::vector<std::string> live{};  // names present, in creation order
    uint64_t counter = 0;             // the number of the last name used
  };
  // One step of the sequence on `target` (what the thread runs each tick); exposed for tests.
  static void Step(Registry& registry, const ChurnOptions& options, std::mt19937_64& rng,
                   Target& target);

 private:
  void Run(ChurnOptions options, std::vector<Target> targets) KUBE_EXCLUDES(mu_);

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

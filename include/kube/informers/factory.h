// SharedInformerFactory: one informer (one list+watch) per resource per factory, shared by every
// caller; typed access in client-go's shape (`factory->Apps().V1().Deployments()`): the group
// accessors are declared here and defined with the typed informers, so include
// informers/typed.h to call them.
//
// Reads from: an HttpClient (or any ListerWatcher source, for tests).
// Feeds: controllers, through shared informers and listers.
// client-go: informers/factory.go, informers/generic.go, dynamic/dynamicinformer.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_INFORMERS_FACTORY_H_
#define KUBE_INFORMERS_FACTORY_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kube/cache/list_watch.h"
#include "kube/cache/lister.h"
#include "kube/cache/shared_informer.h"
#include "kube/client/http_client.h"
#include "kube/clock.h"
#include "kube/group_version.h"

namespace kube {

// B39: the factory's options (client-go's `WithNamespace`, `WithTweakListOptions`,
// `WithCustomResyncConfig`, `WithTransform`, `WithInformerName`).
struct SharedInformerFactoryOptions {
  std::chrono::milliseconds default_resync{0};
  std::string ns;  // "" = all namespaces; ignored for cluster-scoped resources
  TweakListOptionsFunc tweak_list_options;
  std::map<GroupVersionResource, std::chrono::milliseconds> custom_resync;
  TransformFunc transform;
  std::string name;  // prefixes informer names in logs and metrics
  ReflectorOptions reflector;
  // Worker threads for delta processing and handlers (0 = max(2, cores)); more start only
  // while handlers block (see docs/informers.md).
  size_t threads = 0;
  std::shared_ptr<Clock> clock;  // default: the real clock
  // Warm restarts (docs/informers.md, "Warm restarts from a snapshot"): a directory, created if
  // missing, in which each informer keeps its cache snapshot (one file per resource, namespace
  // and selectors; mode 0600). "" = none.
  std::string snapshot_dir;
  std::chrono::milliseconds snapshot_interval{std::chrono::seconds(60)};  // `SnapshotOptions`
  bool snapshot_compress = false;                                         // `SnapshotOptions`
  // The server identity recorded in snapshots and checked on load. "" = by `Create`: the
  // client's server URL and the UID of the `kube-system` namespace (read once, when
  // `snapshot_dir` is set; the URL alone when it cannot be read); by `CreateWithListerWatchers`:
  // not checked.
  std::string snapshot_identity;
};

// The typed group accessors (informers/typed.h and the per-group headers).
class CoreInformers;
class AppsInformers;
class DiscoveryInformers;
class BatchInformers;
class CoordinationInformers;

// How the factory should treat a resource it is asked for by GVR.
struct ResourceScope {
  bool namespaced = true;
  std::string kind;  // "Deployment": checked against events when set (B21)
};

// An informer and a lister over its cache, for any resource (`GenericInformer`).
class GenericInformer {
 public:
  GenericInformer(std::shared_ptr<SharedIndexInformer> informer, ListerResource resource)
      : informer_(std::move(informer)), resource_(std::move(resource)) {}
  const std::shared_ptr<SharedIndexInformer>& Informer() const { return informer_; }
  Lister GetLister() const { return Lister(informer_->GetIndexer(), resource_); }

 private:
  std::shared_ptr<SharedIndexInformer> informer_;
  ListerResource resource_;
};

// Thread-safe. Destroying the factory shuts it down (stops and joins every informer).
class SharedInformerFactory {
 public:
  // Builds ListerWatchers over `client`.
  static std::unique_ptr<SharedInformerFactory> Create(std::shared_ptr<HttpClient> client,
                                                       SharedInformerFactoryOptions options = {});
  // Builds ListerWatchers with `make_lw(gvr, ns, tweak)`; for tests and custom sources.
  using ListerWatcherMaker = std::function<std::shared_ptr<ListerWatcher>(
      const GroupVersionResource&, const std::string& ns, const TweakListOptionsFunc&)>;
  static std::unique_ptr<SharedInformerFactory> CreateWithListerWatchers(
      ListerWatcherMaker make_lw, SharedInformerFactoryOptions options = {});

  ~SharedInformerFactory();
  SharedInformerFactory(const SharedInformerFactory&) = delete;
  SharedInformerFactory& operator=(const SharedInformerFactory&) = delete;

  // B38: the one informer for `gvr`, created on first request with the namespace index (B06);
  // later requests (whatever their scope argument) get the same one.
  std::shared_ptr<SharedIndexInformer> InformerFor(const GroupVersionResource& gvr,
                                                   const ResourceScope& scope = {});
  // The dynamic informer for any resource, custom ones included (`ForResource`).
  GenericInformer ForResource(const GroupVersionResource& gvr, const ResourceScope& scope = {});

  // Typed informers, as in client-go: `factory->Apps().V1().Deployments()`. Each returns a cheap
  // view over this factory, which must outlive it (the typed informers it hands out hold their
  // informer and do not need the factory). Include "kube/informers/typed.h" to call these.
  CoreInformers Core();
  AppsInformers Apps();
  DiscoveryInformers Discovery();
  BatchInformers Batch();
  CoordinationInformers Coordination();

  // B40: starts every informer not started yet, each in the background. Idempotent; after
  // `Shutdown` it does nothing.
  void Start();
  // B41: waits until every *started* informer has synced, the factory shuts down, or `timeout`
  // passes; returns each started informer's result.
  std::map<GroupVersionResource, bool> WaitForCacheSync(std::chrono::milliseconds timeout);
  // Unlike client-go's `WaitForCacheSync`, also waits until every handler registered so far has
  // returned from its initial-list adds (see SharedIndexInformer::WaitForHandlersSync).
  std::map<GroupVersionResource, bool> WaitForHandlersSync(std::chrono::milliseconds timeout);
  // B42: stops every informer and waits for their work to end. Unlike client-go's (which only
  // waits for informers stopped by the caller's channel), ours also stops them: a C++ owner has
  // no stop channel to close. Idempotent and safe to call concurrently.
  void Shutdown();

  // Worker threads now running, for tests and metrics.
  size_t ThreadCount() const;
  // The client the factory was built with (null with CreateWithListerWatchers).
  std::shared_ptr<HttpClient> client() const;

 private:
  struct Impl;
  explicit SharedInformerFactory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_INFORMERS_FACTORY_H_

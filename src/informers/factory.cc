// The shared informer factory. Behaviour numbers (B38...) name the contracts of
// docs/behaviours.md, each with its tests.
#include "kube/informers/factory.h"

#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <utility>
#include <vector>

#include "base/executor.h"
#include "base/mutex.h"
#include "cache/shared_informer_internal.h"
#include "kube/cache/store.h"

namespace kube {
namespace {

// The server a snapshot's cache came from: the URL, and the cluster's identity where readable
// (kube-apiserver has no identity of its own; the `kube-system` namespace's UID changes when the
// cluster, or an embedded server's storage, is new).
std::string ServerIdentity(HttpClient& client) {
  std::string identity = client.server();
  HttpRequest req;
  req.path = "/api/v1/namespaces/kube-system";
  Result<HttpResponse> resp = client.Do(req);
  if (resp && resp->status == 200) {
    if (Result<ObjectPtr> ns = Object::Parse(resp->body); ns && !(*ns)->uid().empty()) {
      return identity + " kube-system=" + std::string((*ns)->uid());
    }
  }
  return identity;
}

// A file name from `text`: letters, digits, '.', '-' and '_' kept, anything else '_'.
std::string FileNameOf(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    out.push_back(keep ? c : '_');
  }
  return out;
}

}  // namespace

using internal::Mutex;
using internal::MutexLock;

struct SharedInformerFactory::Impl {
  SharedInformerFactoryOptions options;
  std::shared_ptr<HttpClient> client;
  ListerWatcherMaker make_lw;
  std::shared_ptr<internal::Executor> executor;

  mutable Mutex mu;
  std::map<GroupVersionResource, std::shared_ptr<SharedIndexInformer>> informers
      KUBE_GUARDED_BY(mu);
  std::map<GroupVersionResource, bool> started KUBE_GUARDED_BY(mu);
  bool shutting_down KUBE_GUARDED_BY(mu) = false;

  std::vector<std::pair<GroupVersionResource, std::shared_ptr<SharedIndexInformer>>> Started()
      KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    std::vector<std::pair<GroupVersionResource, std::shared_ptr<SharedIndexInformer>>> out;
    for (const auto& [gvr, informer] : informers) {
      if (started.count(gvr)) out.emplace_back(gvr, informer);
    }
    return out;
  }
};

std::unique_ptr<SharedInformerFactory> SharedInformerFactory::Create(
    std::shared_ptr<HttpClient> client, SharedInformerFactoryOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->client = client;
  impl->make_lw = [client](const GroupVersionResource& gvr, const std::string& ns,
                           const TweakListOptionsFunc& tweak) {
    return ListWatchFromClient(client, gvr, ns, tweak);
  };
  impl->options = std::move(options);
  if (!impl->options.snapshot_dir.empty() && impl->options.snapshot_identity.empty() && client) {
    impl->options.snapshot_identity = ServerIdentity(*client);
  }
  return std::unique_ptr<SharedInformerFactory>(new SharedInformerFactory(std::move(impl)));
}

std::unique_ptr<SharedInformerFactory> SharedInformerFactory::CreateWithListerWatchers(
    ListerWatcherMaker make_lw, SharedInformerFactoryOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->make_lw = std::move(make_lw);
  impl->options = std::move(options);
  return std::unique_ptr<SharedInformerFactory>(new SharedInformerFactory(std::move(impl)));
}

SharedInformerFactory::SharedInformerFactory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->executor = internal::Executor::Create({.threads = impl_->options.threads});
}

SharedInformerFactory::~SharedInformerFactory() { Shutdown(); }

std::shared_ptr<SharedIndexInformer> SharedInformerFactory::InformerFor(
    const GroupVersionResource& gvr, const ResourceScope& scope) {
  MutexLock l(impl_->mu);
  auto it = impl_->informers.find(gvr);
  if (it != impl_->informers.end()) return it->second;  // B38: one per resource
  const SharedInformerFactoryOptions& o = impl_->options;
  SharedInformerOptions io;
  auto custom = o.custom_resync.find(gvr);
  io.resync_period = custom != o.custom_resync.end() ? custom->second : o.default_resync;
  io.indexers = {{std::string(kNamespaceIndex), MetaNamespaceIndexFunc}};  // B06: always
  io.name = (o.name.empty() ? "" : o.name + " ") + gvr.ToString();
  io.reflector = o.reflector;
  if (!scope.kind.empty())
    io.reflector.expected_gvk = GroupVersionKind{gvr.group, gvr.version, scope.kind};
  io.clock = o.clock;
  std::string ns = scope.namespaced ? o.ns : "";
  if (!o.snapshot_dir.empty()) {
    // What the cache holds: a snapshot taken with another namespace or selector is refused.
    ListOptions selectors;
    if (o.tweak_list_options) o.tweak_list_options(selectors);
    const std::string what = gvr.ToString() + " ns=" + ns + " labels=" + selectors.label_selector +
                             " fields=" + selectors.field_selector;
    (void)::mkdir(o.snapshot_dir.c_str(), 0700);  // an error shows when the file is written
    io.snapshot.path = o.snapshot_dir + "/" +
                       FileNameOf(gvr.group + "_" + gvr.version + "_" + gvr.resource +
                                  (ns.empty() ? "" : "_" + ns)) +
                       ".snap";
    io.snapshot.interval = o.snapshot_interval;
    io.snapshot.compress = o.snapshot_compress;
    io.snapshot.server_identity = o.snapshot_identity;
    io.snapshot.resource = what;
  }
  auto informer = internal::NewSharedIndexInformer(impl_->make_lw(gvr, ns, o.tweak_list_options),
                                                   std::move(io), impl_->executor);
  if (o.transform) (void)informer->SetTransform(o.transform);
  impl_->informers.emplace(gvr, informer);
  return informer;
}

GenericInformer SharedInformerFactory::ForResource(const GroupVersionResource& gvr,
                                                   const ResourceScope& scope) {
  // client-go's generic lister names the plural resource in its NotFound errors.
  return GenericInformer(InformerFor(gvr, scope), ListerResource{gvr.group, gvr.resource});
}

void SharedInformerFactory::Start() {
  std::vector<std::shared_ptr<SharedIndexInformer>> to_start;
  {
    MutexLock l(impl_->mu);
    if (impl_->shutting_down) return;  // B40: not after Shutdown
    for (const auto& [gvr, informer] : impl_->informers) {
      if (impl_->started.emplace(gvr, true).second) to_start.push_back(informer);
    }
  }
  for (auto& informer : to_start) informer->Run();  // Run returns at once: work is background
}

std::map<GroupVersionResource, bool> SharedInformerFactory::WaitForCacheSync(
    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::map<GroupVersionResource, bool> out;
  for (const auto& [gvr, informer] : impl_->Started()) {  // B41: started informers only
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    out[gvr] = informer->WaitForCacheSync(std::max(left, std::chrono::milliseconds(0)));
  }
  return out;
}

std::map<GroupVersionResource, bool> SharedInformerFactory::WaitForHandlersSync(
    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::map<GroupVersionResource, bool> out;
  for (const auto& [gvr, informer] : impl_->Started()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    out[gvr] = informer->WaitForHandlersSync(std::max(left, std::chrono::milliseconds(0)));
  }
  return out;
}

void SharedInformerFactory::Shutdown() {
  std::vector<std::shared_ptr<SharedIndexInformer>> all;
  {
    MutexLock l(impl_->mu);
    impl_->shutting_down = true;
    for (const auto& [gvr, informer] : impl_->informers) all.push_back(informer);
  }
  for (auto& informer : all) informer->Stop();  // each Stop waits for its own work
  impl_->executor->Shutdown();
}

size_t SharedInformerFactory::ThreadCount() const { return impl_->executor->ThreadCount(); }

std::shared_ptr<HttpClient> SharedInformerFactory::client() const { return impl_->client; }

}  // namespace kube

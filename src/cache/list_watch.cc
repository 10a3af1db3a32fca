// ListWatchFromClient: a ListerWatcher over the resource client.
#include "kube/cache/list_watch.h"

#include <utility>

namespace kube {
namespace {

constexpr size_t kListBatch = 500;  // items per batch handed on while a page arrives

class ClientActiveWatch final : public ActiveWatch {
 public:
  explicit ClientActiveWatch(WatchHandle handle) : handle_(std::move(handle)) {}
  ~ClientActiveWatch() override { Stop(); }
  void Stop() noexcept override { handle_.Cancel(); }

 private:
  WatchHandle handle_;
};

class ClientListerWatcher final : public ListerWatcher {
 public:
  ClientListerWatcher(ResourceClient client, TweakListOptionsFunc tweak)
      : client_(std::move(client)), tweak_(std::move(tweak)) {}

  Result<ObjectList> List(const ListOptions& options, std::stop_token stop) override {
    if (stop.stop_requested()) return CancelledError("list cancelled");
    ListOptions o = options;
    if (tweak_) tweak_(o);
    return client_.List(o, nullptr, kListBatch, std::move(stop));
  }

  Result<ObjectList> ListInBatches(const ListOptions& options, std::stop_token stop,
                                   std::function<void(std::vector<ObjectPtr>)> on_items) override {
    if (stop.stop_requested()) return CancelledError("list cancelled");
    ListOptions o = options;
    if (tweak_) tweak_(o);
    return client_.List(o, std::move(on_items), kListBatch, std::move(stop));
  }

  Result<std::unique_ptr<ActiveWatch>> Watch(const ListOptions& options,
                                             WatchCallbacks callbacks) override {
    ListOptions o = options;
    if (tweak_) tweak_(o);
    // Open failures (an HTTP error answer, a refused connection) arrive as an ERROR event and
    // then `on_done`, which the reflector handles like a failed open.
    WatchHandle handle =
        client_.WatchAsyncBatched(o, std::move(callbacks.on_events), std::move(callbacks.on_done));
    return std::unique_ptr<ActiveWatch>(std::make_unique<ClientActiveWatch>(std::move(handle)));
  }

 private:
  ResourceClient client_;
  TweakListOptionsFunc tweak_;
};

}  // namespace

std::shared_ptr<ListerWatcher> ListWatchFromClient(std::shared_ptr<HttpClient> client,
                                                   GroupVersionResource gvr, std::string ns,
                                                   TweakListOptionsFunc tweak) {
  return std::make_shared<ClientListerWatcher>(
      ResourceClient(std::move(client), std::move(gvr), std::move(ns)), std::move(tweak));
}

}  // namespace kube

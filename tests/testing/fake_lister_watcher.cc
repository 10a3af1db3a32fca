#include "tests/testing/fake_lister_watcher.h"

#include <utility>

namespace kube::testing {

bool FakeWatchStream::Send(WatchEvent ev) {
  std::lock_guard<std::mutex> l(mu_);
  if (done_) return false;
  std::vector<WatchEvent> one;
  one.push_back(std::move(ev));
  if (callbacks_.on_events) callbacks_.on_events(one);
  return true;
}

bool FakeWatchStream::SendBatch(std::vector<WatchEvent> events) {
  std::lock_guard<std::mutex> l(mu_);
  if (done_) return false;
  if (callbacks_.on_events && !events.empty()) callbacks_.on_events(events);
  return true;
}

bool FakeWatchStream::End(Status status) {
  std::lock_guard<std::mutex> l(mu_);
  if (done_) return false;
  done_ = true;
  if (callbacks_.on_done) callbacks_.on_done(std::move(status));
  cv_.notify_all();
  return true;
}

void FakeWatchStream::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  done_ = true;
  stopped_ = true;
  cv_.notify_all();
}

bool FakeWatchStream::stopped() const {
  std::lock_guard<std::mutex> l(mu_);
  return stopped_;
}

bool FakeWatchStream::WaitStopped(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return stopped_; });
}

namespace {

class FakeHandle final : public ActiveWatch {
 public:
  explicit FakeHandle(std::shared_ptr<FakeWatchStream> s) : s_(std::move(s)) {}
  ~FakeHandle() override { Stop(); }
  void Stop() noexcept override { s_->Stop(); }

 private:
  std::shared_ptr<FakeWatchStream> s_;
};

}  // namespace

Result<ObjectList> FakeListerWatcher::List(const ListOptions& options, std::stop_token) {
  std::lock_guard<std::mutex> l(mu_);
  list_calls_.push_back(options);
  cv_.notify_all();
  if (!scripted_lists_.empty()) {
    Result<ObjectList> r = std::move(scripted_lists_.front());
    scripted_lists_.pop_front();
    return r;
  }
  return MakeList(objects_, rv_);
}

Result<std::unique_ptr<ActiveWatch>> FakeListerWatcher::Watch(const ListOptions& options,
                                                              WatchCallbacks callbacks) {
  std::lock_guard<std::mutex> l(mu_);
  watch_calls_.push_back(options);
  cv_.notify_all();
  if (!watch_open_errors_.empty()) {
    Status s = std::move(watch_open_errors_.front());
    watch_open_errors_.pop_front();
    return s;
  }
  auto stream = std::make_shared<FakeWatchStream>(options, std::move(callbacks));
  streams_.push_back(stream);
  cv_.notify_all();
  return std::unique_ptr<ActiveWatch>(std::make_unique<FakeHandle>(stream));
}

void FakeListerWatcher::PushListResult(Result<ObjectList> result) {
  std::lock_guard<std::mutex> l(mu_);
  scripted_lists_.push_back(std::move(result));
}

void FakeListerWatcher::PushWatchOpenError(Status status) {
  std::lock_guard<std::mutex> l(mu_);
  watch_open_errors_.push_back(std::move(status));
}

void FakeListerWatcher::SetObjects(std::vector<ObjectPtr> objects, std::string rv) {
  std::lock_guard<std::mutex> l(mu_);
  objects_ = std::move(objects);
  rv_ = std::move(rv);
}

std::vector<ListOptions> FakeListerWatcher::list_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return list_calls_;
}

std::vector<ListOptions> FakeListerWatcher::watch_calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return watch_calls_;
}

std::shared_ptr<FakeWatchStream> FakeListerWatcher::WaitForWatch(
    size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  if (!cv_.wait_for(l, timeout, [&] { return streams_.size() >= n; })) return nullptr;
  return streams_[n - 1];
}

bool FakeListerWatcher::WaitForLists(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return list_calls_.size() >= n; });
}

ObjectList MakeList(std::vector<ObjectPtr> items, std::string rv, std::string continue_token) {
  ObjectList list;
  list.api_version = "v1";
  list.kind = "PodList";
  list.resource_version = std::move(rv);
  list.continue_token = std::move(continue_token);
  list.items = std::move(items);
  return list;
}

}  // namespace kube::testing

// FakeWatch: a hand-driven Watch for tests.
//
// Feeds: Watch consumers under test. client-go: apimachinery watch.FakeWatcher.
#include "tests/testing/fake_watch.h"

#include <utility>

#include "watch/event_channel.h"

namespace kube::testing {

struct FakeWatch::Impl {
  internal::EventChannel channel;
};

FakeWatch::FakeWatch() : impl_(std::make_unique<Impl>()) {}
FakeWatch::~FakeWatch() { Stop(); }

bool FakeWatch::Add(ObjectPtr obj) {
  return Action({WatchEventType::kAdded, std::move(obj), Status()});
}
bool FakeWatch::Modify(ObjectPtr obj) {
  return Action({WatchEventType::kModified, std::move(obj), Status()});
}
bool FakeWatch::Delete(ObjectPtr last_state) {
  return Action({WatchEventType::kDeleted, std::move(last_state), Status()});
}
bool FakeWatch::Bookmark(ObjectPtr obj) {
  return Action({WatchEventType::kBookmark, std::move(obj), Status()});
}
bool FakeWatch::Error(Status status, ObjectPtr object) {
  if (object == nullptr) object = MakeStatusObject(status);
  return Action({WatchEventType::kError, std::move(object), std::move(status)});
}
bool FakeWatch::Action(WatchEvent event) {
  return impl_->channel.PushOne(std::move(event)).has_value();
}

void FakeWatch::Close() { impl_->channel.Close(); }
bool FakeWatch::IsStopped() const { return impl_->channel.stopped(); }
size_t FakeWatch::Pending() const { return impl_->channel.size(); }

std::optional<WatchEvent> FakeWatch::Next() {
  WatchEvent e;
  if (impl_->channel.Pop(std::nullopt, &e) != WatchWait::kEvent) return std::nullopt;
  return e;
}

WatchWait FakeWatch::NextFor(std::chrono::milliseconds timeout, WatchEvent* event) {
  WatchEvent e;
  WatchWait w = impl_->channel.Pop(std::chrono::steady_clock::now() + timeout, &e);
  if (w == WatchWait::kEvent) *event = std::move(e);
  return w;
}

void FakeWatch::Stop() noexcept { impl_->channel.Stop(); }

}  // namespace kube::testing

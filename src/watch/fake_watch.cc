// FakeWatch: a hand-driven Watch for tests.
//
// Feeds: Watch consumers under test. client-go: apimachinery watch.FakeWatcher.
#include "kube/watch/fake_watch.h"

#include <string>
#include <utility>

#include "json/scan.h"
#include "watch/event_channel.h"

namespace kube {

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

ObjectPtr MakeStatusObject(const Status& status) {
  std::string json = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":)";
  json += status.ok() ? R"("Success")" : R"("Failure")";
  json += R"(,"message":)";
  internal::json::AppendQuoted(status.message(), &json);
  std::string reason = status.reason();
  if (!reason.empty()) {
    json += R"(,"reason":)";
    internal::json::AppendQuoted(reason, &json);
  }
  if (status.retry_after()) {
    json += R"(,"details":{"retryAfterSeconds":)";
    json += std::to_string(status.retry_after()->count());
    json += '}';
  }
  if (status.http_code() != 0) {
    json += R"(,"code":)";
    json += std::to_string(status.http_code());
  }
  json += '}';
  Result<ObjectPtr> obj = Object::Parse(json);
  // The text above is valid JSON by construction; a failure here is a bug in Object::Parse.
  return obj ? *std::move(obj) : nullptr;
}

}  // namespace kube

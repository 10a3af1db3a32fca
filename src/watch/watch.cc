// Watch event types and the event channel behind every Watch.
//
// Reads from: the watch decoder and tests' FakeWatch. Feeds: Watch consumers.
// client-go: k8s.io/apimachinery/pkg/watch/watch.go.
#include "kube/watch/watch.h"

#include <string>
#include <utility>

#include "json/scan.h"
#include "watch/event_channel.h"

namespace kube {

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::optional<WatchEventType> ParseWatchEventType(std::string_view name) {
  if (name == "ADDED") return WatchEventType::kAdded;
  if (name == "MODIFIED") return WatchEventType::kModified;
  if (name == "DELETED") return WatchEventType::kDeleted;
  if (name == "BOOKMARK") return WatchEventType::kBookmark;
  if (name == "ERROR") return WatchEventType::kError;
  return std::nullopt;
}

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

namespace internal {

std::optional<size_t> EventChannel::Push(std::vector<WatchEvent>* events, bool close_after) {
  size_t n;
  {
    MutexLock l(mu_);
    if (closed_ || stopped_) return std::nullopt;
    for (WatchEvent& e : *events) queue_.push_back(std::move(e));
    if (close_after) closed_ = true;
    n = queue_.size();
    if (high_ != 0 && !paused_ && n >= high_) {
      paused_ = true;
      if (pause_) pause_();
    }
  }
  events->clear();
  // One consumer: a single wake-up suffices even for a batch; close wakes everyone.
  if (close_after) {
    cv_.notify_all();
  } else {
    cv_.notify_one();
  }
  return n;
}

std::optional<size_t> EventChannel::PushOne(WatchEvent event, bool close_after) {
  std::vector<WatchEvent> v;
  v.push_back(std::move(event));
  return Push(&v, close_after);
}

void EventChannel::Close() {
  {
    MutexLock l(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void EventChannel::Stop() noexcept {
  std::deque<WatchEvent> dropped;  // destroyed outside the lock
  {
    MutexLock l(mu_);
    stopped_ = true;
    closed_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
}

WatchWait EventChannel::Pop(std::optional<std::chrono::steady_clock::time_point> deadline,
                            WatchEvent* out) {
  MutexLock l(mu_);
  while (true) {
    if (stopped_) return WatchWait::kClosed;
    if (!queue_.empty()) {
      *out = std::move(queue_.front());
      queue_.pop_front();
      if (paused_ && queue_.size() <= low_) {
        paused_ = false;
        if (resume_) resume_();
      }
      return WatchWait::kEvent;
    }
    if (closed_) return WatchWait::kClosed;
    if (!deadline) {
      l.Wait(cv_);
    } else if (!l.WaitUntil(cv_, *deadline)) {
      // Re-check once: an event may have arrived together with the timeout.
      if (stopped_) return WatchWait::kClosed;
      if (!queue_.empty()) continue;
      return closed_ ? WatchWait::kClosed : WatchWait::kTimeout;
    }
  }
}

size_t EventChannel::size() const {
  MutexLock l(mu_);
  return queue_.size();
}

bool EventChannel::stopped() const {
  MutexLock l(mu_);
  return stopped_;
}

bool EventChannel::closed() const {
  MutexLock l(mu_);
  return closed_;
}

}  // namespace internal
}  // namespace kube

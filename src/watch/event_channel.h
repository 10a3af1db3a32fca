// EventChannel: the queue behind every `Watch` — producers push events, one consumer takes them.
//
// Reads from: the batches of the resource client's async watch on the transport's I/O thread, or
// `FakeWatch` senders.
// Feeds: `Watch::Next` / `NextFor`.
// client-go: the result channel of apimachinery's streamwatcher.go.
#ifndef KUBE_SRC_WATCH_EVENT_CHANNEL_H_
#define KUBE_SRC_WATCH_EVENT_CHANNEL_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "kube/watch/watch.h"

namespace kube::internal {

// Thread-safe. Unbounded; a producer that must bound memory sets flow-control hooks (the HTTP
// watch pauses its connection).
class EventChannel {
 public:
  EventChannel() = default;
  EventChannel(const EventChannel&) = delete;
  EventChannel& operator=(const EventChannel&) = delete;

  // Queues `events` (moved from) in order unless the channel has closed; then `close_after` closes
  // it (the consumer drains what is queued first). Returns the queue length afterwards, or nullopt
  // when the channel had already closed and the events were dropped.
  std::optional<size_t> Push(std::vector<WatchEvent>* events, bool close_after = false)
      KUBE_EXCLUDES(mu_);
  std::optional<size_t> PushOne(WatchEvent event, bool close_after = false) KUBE_EXCLUDES(mu_);

  // The producer's end: queued events stay readable. Idempotent.
  void Close() KUBE_EXCLUDES(mu_);
  // The consumer's end: queued events are dropped and every wait returns closed. Idempotent,
  // never blocks beyond the lock.
  void Stop() noexcept KUBE_EXCLUDES(mu_);

  // Takes the next event, waiting until `deadline` (nullopt: forever).
  WatchWait Pop(std::optional<std::chrono::steady_clock::time_point> deadline, WatchEvent* out)
      KUBE_EXCLUDES(mu_);

  // Flow control: `pause` runs when a push takes the queue to `high` events or more, `resume`
  // when a pop brings it back to `low` or fewer, alternately (pause first). Both run under the
  // channel's lock, so their effects are ordered like the queue changes; they must be quick and
  // must not touch the channel. Set before the first push.
  void SetFlowControl(size_t high, size_t low, std::function<void()> pause,
                      std::function<void()> resume) {
    high_ = high;
    low_ = low;
    pause_ = std::move(pause);
    resume_ = std::move(resume);
  }

  size_t size() const KUBE_EXCLUDES(mu_);
  bool stopped() const KUBE_EXCLUDES(mu_);
  bool closed() const KUBE_EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> queue_ KUBE_GUARDED_BY(mu_);
  bool closed_ KUBE_GUARDED_BY(mu_) = false;   // no more pushes
  bool stopped_ KUBE_GUARDED_BY(mu_) = false;  // consumer gave up
  size_t high_ = 0;                            // 0: no flow control
  size_t low_ = 0;
  std::function<void()> pause_;
  std::function<void()> resume_;
  bool paused_ KUBE_GUARDED_BY(mu_) = false;
};

}  // namespace kube::internal

#endif  // KUBE_SRC_WATCH_EVENT_CHANNEL_H_

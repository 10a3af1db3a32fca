// Watch: the changes to a collection, one event at a time, in the server's commit order.
//
// Reads from: the watch decoder (src/watch/watch_decoder.cc) over an HTTP stream
// (`ResourceClient::Watch`, client/rest_client.h), or, in tests, a `FakeWatch`
// (tests/testing/fake_watch.h).
// Feeds: user code that pulls events in its own loop. The reflector does not use the `Watch`
// interface: it watches through `ListerWatcher::Watch` (cache/list_watch.h), whose callbacks
// (`ResourceClient::WatchAsyncBatched` over HTTP) receive the same `WatchEvent`s on the
// transport's I/O thread. Over HTTP both are one pump: the pull `Watch` is the async watch with a
// queue in front.
// client-go: k8s.io/apimachinery/pkg/watch/watch.go (Interface, Event), streamwatcher.go.
#ifndef KUBE_WATCH_WATCH_H_
#define KUBE_WATCH_WATCH_H_

#include <chrono>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>

#include "kube/object.h"
#include "kube/status.h"

namespace kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

// The wire name: "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR".
std::string_view WatchEventTypeName(WatchEventType type);
// The inverse of `WatchEventTypeName` (exact, case-sensitive, as client-go); nullopt otherwise.
std::optional<WatchEventType> ParseWatchEventType(std::string_view name);

// One event of a watch.
//
// ADDED/MODIFIED/DELETED carry the object (for DELETED its last state, stamped with the deletion's
// resourceVersion). BOOKMARK carries an object of the watched kind whose only meaningful field is
// `metadata.resourceVersion` (and, ending a streaming list, the annotation
// `k8s.io/initial-events-end: "true"`). ERROR carries `error`: the server's Status (code, reason,
// message, HTTP code; e.g. 410 Expired), or our own kDataLoss/kInvalidArgument when the stream
// could not be decoded; `object` is then the Status object the server sent, or null.
struct WatchEvent {
  WatchEventType type = WatchEventType::kError;
  ObjectPtr object;  // null only for some kError events
  Status error;      // OK unless type == kError
};

// The Status object a server sends in an ERROR event for `status`:
// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
// "reason":...,"code":...}`. Never null.
ObjectPtr MakeStatusObject(const Status& status);

// What `Watch::NextFor` found.
enum class WatchWait {
  kEvent,    // an event was stored
  kTimeout,  // nothing arrived in time; the watch is still open
  kClosed,   // the watch has ended (server closed, error, or Stop()) and every event was taken
};

// A watch in progress: a single-consumer stream of events that ends once. client-go's
// `watch.Interface` with its result channel replaced by `Next()`; range-for over a `Watch` is the
// C++ shape of `for ev := range w.ResultChan()`:
//
//   for (WatchEvent& ev : *watch) { ... }   // ends when the watch closes
//
// The stream closes when the server ends it, after an ERROR event reporting a broken or
// undecodable stream, or on `Stop()`. A server ERROR event (such as 410 Expired) is delivered as
// sent; the server normally closes the stream right after it.
//
// Thread-safety: `Stop()` may be called from any thread, at any time, any number of times.
// `Next`/`NextFor` are meant for one consumer thread at a time (calls from several threads are
// safe but each event goes to exactly one of them). Destroying a Watch stops it.
class Watch {
 public:
  virtual ~Watch() = default;

  // Blocks until the next event and returns it; nullopt once the watch has closed and its queued
  // events have been taken, and at once after `Stop()`. After `Stop()` returns, queued events are
  // discarded.
  virtual std::optional<WatchEvent> Next() = 0;

  // As `Next`, waiting at most `timeout`. Stores the event in `*event` only for kEvent.
  virtual WatchWait NextFor(std::chrono::milliseconds timeout, WatchEvent* event) = 0;

  // Ends the watch: releases the connection, wakes a blocked `Next`/`NextFor` (it returns
  // nullopt/kClosed within 100 ms, in practice at once), and makes every later call return
  // closed. Idempotent, thread-safe, never blocks on the network.
  virtual void Stop() noexcept = 0;

  // --- Range-for support -----------------------------------------------------------------------
  // An input iterator; incrementing calls `Next()`.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = WatchEvent;
    using difference_type = std::ptrdiff_t;
    using pointer = WatchEvent*;
    using reference = WatchEvent&;

    Iterator() = default;
    WatchEvent& operator*() const { return *current_; }
    WatchEvent* operator->() const { return &*current_; }
    Iterator& operator++() {
      current_ = watch_->Next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) {
      return !it.current_.has_value();
    }

   private:
    friend class Watch;
    explicit Iterator(Watch* w) : watch_(w), current_(w->Next()) {}
    Watch* watch_ = nullptr;
    mutable std::optional<WatchEvent> current_;
  };

  // Blocks for the first event, like `Next()`.
  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return std::default_sentinel; }
};

}  // namespace kube

#endif  // KUBE_WATCH_WATCH_H_

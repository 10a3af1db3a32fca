// FakeWatch: a `Watch` whose events a test sends by hand.
//
// Feeds: tests of code that consumes a `Watch` (tests/client/ checks it). The reflector and
// informer tests do not use it: the reflector watches through callbacks (`ListerWatcher::Watch`),
// faked by tests/testing/fake_lister_watcher.h.
// client-go: k8s.io/apimachinery/pkg/watch/watch.go (`FakeWatcher`, `NewFake`).
#ifndef KUBE_TESTS_TESTING_FAKE_WATCH_H_
#define KUBE_TESTS_TESTING_FAKE_WATCH_H_

#include <chrono>
#include <memory>
#include <optional>

#include "kube/object.h"
#include "kube/status.h"
#include "kube/watch/watch.h"

namespace kube::testing {

// Unlike Go's FakeWatcher, sending never blocks: events queue without bound until taken.
//
// Two ways to end it: `Close()` is the server ending the stream (the consumer still receives the
// events already queued, then closed); `Stop()` is the consumer giving up (queued events are
// dropped). Sends after either are dropped and return false.
//
// Thread-safe: send from any thread while another consumes.
class FakeWatch final : public Watch {
 public:
  FakeWatch();
  ~FakeWatch() override;
  FakeWatch(const FakeWatch&) = delete;
  FakeWatch& operator=(const FakeWatch&) = delete;

  // Each sends one event of its type; false when the watch has ended.
  bool Add(ObjectPtr obj);
  bool Modify(ObjectPtr obj);
  bool Delete(ObjectPtr last_state);
  bool Bookmark(ObjectPtr obj);
  // An ERROR event carrying `status`. `object` is the Status object as a server would send it;
  // when null, one is built from `status` (kind Status, code, reason, message).
  bool Error(Status status, ObjectPtr object = nullptr);
  // Any event, as given.
  bool Action(WatchEvent event);

  // Ends the stream from the "server" side: queued events stay readable.
  void Close();
  // Whether `Stop()` was called (not `Close()`).
  bool IsStopped() const;
  // Events queued and not yet taken.
  size_t Pending() const;

  std::optional<WatchEvent> Next() override;
  WatchWait NextFor(std::chrono::milliseconds timeout, WatchEvent* event) override;
  void Stop() noexcept override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube::testing

#endif  // KUBE_TESTS_TESTING_FAKE_WATCH_H_

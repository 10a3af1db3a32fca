// FakeListerWatcher: a scripted ListerWatcher for reflector and informer tests.
//
// Lists answer from a queue of scripted results, falling back to the current `objects` at the
// current version. Each Watch call records its options and returns a `FakeWatchStream` that the
// test drives: `Send` delivers an event (as the transport's I/O thread would), `End` finishes
// the stream. Thread-safe.
#ifndef KUBE_TESTS_TESTING_FAKE_LISTER_WATCHER_H_
#define KUBE_TESTS_TESTING_FAKE_LISTER_WATCHER_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kube/cache/list_watch.h"

namespace kube::testing {

class FakeWatchStream {
 public:
  explicit FakeWatchStream(ListOptions options, WatchCallbacks callbacks)
      : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

  const ListOptions& options() const { return options_; }
  // Delivers one event (a batch of one); false when the stream was stopped or ended.
  bool Send(WatchEvent ev);
  bool Send(WatchEventType type, ObjectPtr obj) {
    return Send(WatchEvent{type, std::move(obj), {}});
  }
  // Delivers several events in one `on_events` call, as the HTTP source does for one chunk;
  // false when stopped or ended.
  bool SendBatch(std::vector<WatchEvent> events);
  // Ends the stream with `status` (OK = clean end); false when already stopped or ended.
  bool End(Status status = Status::Ok());
  bool stopped() const;
  // Blocks until the reflector stops this stream (true) or `timeout` passes.
  bool WaitStopped(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // What the reflector's `ActiveWatch::Stop` does: no callback runs after it returns.
  void Stop();

 private:
  const ListOptions options_;
  WatchCallbacks callbacks_;
  mutable std::mutex mu_;  // held while a callback runs, so Stop waits for it
  mutable std::condition_variable cv_;
  bool done_ = false;  // stopped or ended
  bool stopped_ = false;
};

class FakeListerWatcher : public ListerWatcher {
 public:
  Result<ObjectList> List(const ListOptions& options, std::stop_token stop) override;
  Result<std::unique_ptr<ActiveWatch>> Watch(const ListOptions& options,
                                             WatchCallbacks callbacks) override;

  // --- Scripting ----------------------------------------------------------------------------
  // The next List calls answer these, in order (a scripted page may carry `continue_token`).
  void PushListResult(Result<ObjectList> result);
  // The next Watch calls fail to open with these, in order.
  void PushWatchOpenError(Status status);
  // The collection default lists answer with (one page, at `rv`).
  void SetObjects(std::vector<ObjectPtr> objects, std::string rv);

  // --- Inspection ---------------------------------------------------------------------------
  std::vector<ListOptions> list_calls() const;
  std::vector<ListOptions> watch_calls() const;
  // Blocks until the n-th (1-based) watch has been opened; returns its stream or null on timeout.
  std::shared_ptr<FakeWatchStream> WaitForWatch(
      size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Blocks until at least `n` lists were made.
  bool WaitForLists(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Result<ObjectList>> scripted_lists_;
  std::deque<Status> watch_open_errors_;
  std::vector<ObjectPtr> objects_;
  std::string rv_ = "1";
  std::vector<ListOptions> list_calls_;
  std::vector<ListOptions> watch_calls_;
  std::vector<std::shared_ptr<FakeWatchStream>> streams_;
};

// An ObjectList page.
ObjectList MakeList(std::vector<ObjectPtr> items, std::string rv, std::string continue_token = "");

}  // namespace kube::testing

#endif  // KUBE_TESTS_TESTING_FAKE_LISTER_WATCHER_H_

// WatchStream: turns one watch's queued events into the lines of a chunked watch response.
//
// Each event becomes one compact JSON line, `{"type":"ADDED","object":<object>}\n`, whose object
// bytes are the stored object's own (shared, never re-serialized; Tables excepted). It applies the
// watch's namespace and selectors with kube-apiserver's transition rules: an object that starts
// matching arrives as ADDED, one that stops matching as DELETED (its previous state at the new
// resourceVersion). Synthetic ADDED events for the initial state come first, then, for a streaming
// list, the bookmark annotated `k8s.io/initial-events-end`.
//
// Not thread-safe: owned by one HTTP session.
//
// Reads from: a WatchPlan (router) and its Watcher (storage). Feeds: the HTTP session.
// kube-apiserver: storage/cacher/cache_watcher.go.
#ifndef KUBE_SERVER_WATCH_STREAM_H_
#define KUBE_SERVER_WATCH_STREAM_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/router.h"

namespace kube::server {

class WatchStream {
 public:
  // The bytes of one or more lines: views into `keep_alive`'s objects or static text.
  struct Output {
    std::vector<std::string_view> pieces;
    std::vector<std::shared_ptr<const void>> keep_alive;
    size_t bytes = 0;
    // Where each line starts in `pieces` (for cutting a stream mid-event).
    std::vector<size_t> line_starts;
    bool empty() const { return pieces.empty(); }
    void Clear() { *this = Output(); }
  };

  explicit WatchStream(std::shared_ptr<WatchPlan> plan);

  // Appends lines that are ready (initial events, then queued ones) until about `max_bytes`.
  void Fill(Output* out, size_t max_bytes);
  // Appends every queued event, then a BOOKMARK at max(`current_rv`, the last event's). The
  // caller reads `current_rv` from Storage before calling, so every event up to it is queued.
  void FillWithBookmark(Output* out, uint64_t current_rv);

  // The stream has nothing more to send: its watcher closed, or its single ERROR event went out.
  bool ended() const { return ended_; }
  // Fault injection asked to cut the stream in the middle of its next event.
  bool cut_requested() const { return cut_; }
  // Still sending the initial state (no bookmark may be sent yet).
  bool in_initial() const { return next_initial_ < plan_->initial.size() || !initial_done_; }
  const WatchPlan& plan() const { return *plan_; }

 private:
  bool Matches(const Object& obj) const;
  void Emit(Output* out, std::string_view type, const ObjectPtr& obj);
  void EmitBookmark(Output* out, uint64_t rv, bool initial_end);
  void Drain(Output* out, size_t max_bytes);

  std::shared_ptr<WatchPlan> plan_;
  size_t next_initial_ = 0;
  bool initial_done_ = false;
  bool ended_ = false;
  bool cut_ = false;
  bool table_columns_sent_ = false;
  uint64_t last_rv_ = 0;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_WATCH_STREAM_H_

// The reflector's machinery (private): the list/watch state machine behind
// `SharedIndexInformer`. See include/kube/cache/reflector.h for the options and behaviours.
//
// Reads from: a ListerWatcher. Feeds: a DeltaFifo.
// client-go: tools/cache/reflector.go.
//
// State: the phase (`Phase`: listing, initial events, watching, backing off) is a type, and one
// function, `DecideLocked`, chooses the next step from it and the outcome of the step that just
// ended; every path (a list's end, a watch refused or ended, a stall, a backoff timer) goes
// through it.
//
// Threads: control flow runs as tasks on one SerialQueue (so at most one at a time); the list
// itself is a blocking call inside such a task. Watch events arrive on the transport's I/O
// thread and go straight into the FIFO (which never blocks them); a list's items may arrive on it
// too, and wait there while the FIFO is full. Timers (backoff, progress
// deadline) post back onto the serial queue. No thread of its own.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_CACHE_REFLECTOR_IMPL_H_
#define KUBE_CACHE_REFLECTOR_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

#include "base/executor.h"
#include "base/mutex.h"
#include "kube/cache/delta_fifo.h"
#include "kube/cache/list_watch.h"
#include "kube/cache/reflector.h"
#include "kube/clock.h"

namespace kube::internal {

// B19: exponential backoff with jitter and a reset after a quiet spell.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap,
          std::chrono::milliseconds reset_after, double jitter)
      : initial_(initial),
        cap_(cap),
        reset_after_(reset_after),
        jitter_(jitter),
        current_(initial) {}
  // The next sleep. `cap` overrides the configured cap (for permanent errors).
  Clock::Duration Next(Clock::TimePoint now, std::mt19937_64& rng,
                       std::optional<std::chrono::milliseconds> cap = std::nullopt);

 private:
  std::chrono::milliseconds initial_, cap_, reset_after_;
  double jitter_;
  std::chrono::milliseconds current_;
  std::optional<Clock::TimePoint> last_reset_;
};

class Reflector : public std::enable_shared_from_this<Reflector> {
 public:
  struct Counters {
    std::atomic<uint64_t> lists{0};
    std::atomic<uint64_t> watches{0};
    std::atomic<uint64_t> watch_events{0};
    std::atomic<uint64_t> relists_after_gone{0};
    // The server answered with a resourceVersion older than one it had already given (it
    // restarted with fresh storage, was restored, or a stale replica answered): relisted from "".
    std::atomic<uint64_t> relists_after_rv_regression{0};
    std::atomic<uint64_t> progress_timeouts{0};
    std::atomic<uint64_t> errors{0};
    // Requests that read only the current resourceVersion (a list limited to one item) before a
    // watch resumed from a snapshot.
    std::atomic<uint64_t> version_probes{0};
  };

  Reflector(std::string name, std::shared_ptr<ListerWatcher> lw, std::shared_ptr<DeltaFifo> fifo,
            ReflectorOptions options, std::shared_ptr<Clock> clock,
            std::shared_ptr<Executor> executor);
  ~Reflector();

  // Resumes from a cache snapshot consistent with `resource_version` instead of listing: the first
  // round reads the current resourceVersion (a consistent list limited to one item), then watches
  // from `resource_version`; the FIFO receives a `kReplaceEnd` without a `kReplaceBegin` (synced,
  // nothing deleted) once the watch has delivered an event or bookmark at or past that current
  // version. A server that answers an older current version than the snapshot's (it went back)
  // is listed from "" at once; a 410 on the watch relists as usual. Before Start.
  void ResumeFrom(std::string resource_version) KUBE_EXCLUDES(mu_);
  // Sets the handler that receives every round's error (B20). Before Start.
  void SetErrorHandler(std::function<void(const Status&)> handler);
  // The informer's transform, for the B60 consistency check (before Start).
  void SetTransform(std::function<ObjectPtr(ObjectPtr)> transform);
  void Start() KUBE_EXCLUDES(mu_);
  // Stops the watch and the timers, cancels a list in progress (over HTTP its request is
  // abandoned at once, mid-body too, as is a wait for room in the FIFO) and waits for the running
  // task.
  void Stop() KUBE_EXCLUDES(mu_);

  std::string LastSyncResourceVersion() const KUBE_EXCLUDES(mu_);
  const Counters& counters() const { return counters_; }

 private:
  // What the reflector is doing: the phase of its list/watch cycle (kube-rs's `watcher` state).
  enum class Phase {
    kIdle,           // constructed, not started
    kListing,        // a list (all its pages) is running on the serial queue
    kInitialEvents,  // a watch-list is open (or opening) and its initial events arrive (B22)
    kWatching,       // a watch is open (or opening); events go to the FIFO
    kBackingOff,     // one backoff step (B19) before the next round or watch
    kStopped,        // `Stop` was called: nothing more runs
  };
  // How the step that just ran ended. With the phase, all that `DecideLocked` reads.
  struct Outcome {
    enum class Kind {
      kRoundDue,        // `Start`, or the backoff before a round has passed
      kWatchDue,        // the backoff before a watch has passed
      kListed,          // a list ended (`status`: OK, or why it failed)
      kWatchRefused,    // a watch (or watch-list) could not be opened (`status`)
      kWatchEnded,      // the stream ended by itself (`status`: its ERROR event's, else its end's)
      kWatchStalled,    // no event or bookmark within `watch_progress_timeout`
      kServerWentBack,  // the stream delivered a version older than one it had reached
    };
    Kind kind;
    Status status;
  };
  // The next step, as `DecideLocked` chose it.
  struct Decision {
    enum class Step {
      kNone,              // stopped: nothing
      kList,              // list every page into the FIFO, then watch (or back off)
      kWatch,             // watch from the last synced version, at once
      kWatchList,         // a watch-list, at once
      kBackoffThenRound,  // report `error`, one backoff step, then a new round (B19)
      kBackoffThenWatch,  // report `error`, one backoff step, then a watch (B18)
      kResume,            // read the current version, then watch from the snapshot's
    };
    Step step = Step::kNone;
    Status error;                // reported first when not OK
    bool permanent_cap = false;  // back off up to `permanent_error_backoff_cap`
    std::string note;            // logged (info) before the step, when not empty
  };

  // Runs `fn` on the serial queue unless stopped; Stop waits for tasks in flight.
  void PostTask(std::function<void()> fn) KUBE_EXCLUDES(mu_);
  void RunAfter(Clock::Duration delay, std::function<void()> fn) KUBE_EXCLUDES(mu_);

  // Chooses the next step from `outcome` and runs it. On the serial queue.
  void Advance(Outcome outcome) KUBE_EXCLUDES(mu_);
  // The one place that decides what follows what: from the phase and the outcome of the step
  // that ended. It also records what the outcome teaches later rounds (the last version is
  // unavailable, the server ignores watch-lists) and counts it.
  Decision DecideLocked(const Outcome& outcome) KUBE_REQUIRES(mu_);
  // Runs the step `DecideLocked` chose.
  void Run(const Decision& decision) KUBE_EXCLUDES(mu_);
  // Moves to `next` unless stopped; false when stopped.
  bool EnterLocked(Phase next) KUBE_REQUIRES(mu_);

  // Lists every page into the FIFO. Returns the error, or OK with the list's RV recorded.
  Status ListAll();
  // `*went_back` is set when the list answers a resourceVersion older than `rv` asked for.
  Status ListPages(const std::string& rv, int64_t limit, bool* paginated, bool* went_back);
  WatchCallbacks CallbacksFor(uint64_t generation);
  // Opens a watch from the last synced version, or (`watch_list`) a watch-list (B22); a refusal
  // is an outcome for `Advance`.
  void StartWatch(bool watch_list);
  // The resume round: reads the current version, then watches (or lists, when the server went
  // back).
  void Resume();
  // While catching up, appends the end marker once the stream has reached `catch_up_rv_`.
  void CatchUpLocked(std::vector<Delta>* deltas) KUBE_REQUIRES(mu_);
  // Events of one chunk of the stream, in order: their deltas go to the FIFO in one push.
  void OnWatchEvents(uint64_t generation, std::vector<WatchEvent>& events) KUBE_EXCLUDES(mu_);
  // Appends the deltas `ev` means to `*deltas` and moves the bookkeeping (RVs, watch-list phase).
  void OnWatchEventLocked(uint64_t generation, WatchEvent& ev, std::vector<Delta>* deltas)
      KUBE_REQUIRES(mu_);
  void OnWatchDone(uint64_t generation, Status status);
  void OnProgressDeadline(uint64_t generation);
  void ArmProgressTimer(uint64_t generation) KUBE_EXCLUDES(mu_);
  void ReportError(const Status& status);
  // B60: compares a watch-list's initial events with a list at `rv`.
  void CheckWatchListConsistency(const std::string& rv, std::vector<ObjectPtr> streamed);
  std::chrono::seconds RandomWatchTimeout() KUBE_EXCLUDES(mu_);
  std::string RelistResourceVersion() const KUBE_EXCLUDES(mu_);
  // The current stream delivered `rv`, older than `floor`, a version it had already reached:
  // abandons the stream (nothing more of it is applied) and schedules a relist from "".
  void ServerWentBackLocked(const std::string& rv, uint64_t floor) KUBE_REQUIRES(mu_);

  const std::string name_;
  const std::shared_ptr<ListerWatcher> lw_;
  const std::shared_ptr<DeltaFifo> fifo_;
  const ReflectorOptions options_;
  const std::shared_ptr<Clock> clock_;
  std::shared_ptr<SerialQueue> queue_;
  std::function<void(const Status&)> error_handler_;
  std::function<ObjectPtr(ObjectPtr)> transform_;
  const bool check_watch_list_;  // B60: compare each watch-list with a list
  Counters counters_;
  std::stop_source stop_;

  mutable Mutex mu_;
  std::condition_variable idle_cv_;
  int tasks_in_flight_ KUBE_GUARDED_BY(mu_) = 0;
  Phase phase_ KUBE_GUARDED_BY(mu_) = Phase::kIdle;

  // What earlier rounds taught, read when choosing versions and steps.
  std::string last_sync_rv_ KUBE_GUARDED_BY(mu_);
  bool last_rv_unavailable_ KUBE_GUARDED_BY(mu_) = false;  // B11: next list uses ""
  bool paginated_result_ KUBE_GUARDED_BY(mu_) = false;     // B13: a "0" list came in pages
  bool watch_list_supported_ KUBE_GUARDED_BY(mu_) = true;  // B57: off once a server ignores it
  // A snapshot resume: the first round probes the current version instead of listing.
  bool resume_pending_ KUBE_GUARDED_BY(mu_) = false;
  // While a resumed watch catches up: the server's current version when the watch started.
  bool catching_up_ KUBE_GUARDED_BY(mu_) = false;
  std::string catch_up_rv_ KUBE_GUARDED_BY(mu_);
  bool catch_up_bookmark_ KUBE_GUARDED_BY(mu_) = false;  // a bookmark arrived while catching up

  // Backoff (B19).
  std::mt19937_64 rng_ KUBE_GUARDED_BY(mu_);
  Backoff backoff_ KUBE_GUARDED_BY(mu_);
  std::optional<Clock::TimePoint> permanent_streak_ KUBE_GUARDED_BY(mu_);
  std::shared_ptr<Timer> backoff_timer_ KUBE_GUARDED_BY(mu_);

  // The current stream. A generation number ties callbacks to the watch they belong to.
  uint64_t watch_generation_ KUBE_GUARDED_BY(mu_) = 0;
  std::unique_ptr<ActiveWatch> watch_ KUBE_GUARDED_BY(mu_);
  Clock::TimePoint watch_started_ KUBE_GUARDED_BY(mu_){};
  uint64_t watch_event_count_ KUBE_GUARDED_BY(mu_) = 0;
  Clock::TimePoint last_progress_ KUBE_GUARDED_BY(mu_){};
  std::shared_ptr<Timer> progress_timer_ KUBE_GUARDED_BY(mu_);
  // B51: from ""/"0" the RV does not advance until the first non-ADDED event.
  bool rv_frozen_until_non_add_ KUBE_GUARDED_BY(mu_) = false;
  Status watch_error_ KUBE_GUARDED_BY(mu_);  // from an ERROR event
  // The highest resourceVersion the current stream has reached, when known as an integer: its
  // start version, then each event's. An event below it means the server went back.
  std::optional<uint64_t> watch_floor_rv_ KUBE_GUARDED_BY(mu_);
  std::vector<ObjectPtr> watch_list_items_ KUBE_GUARDED_BY(mu_);  // B60: the initial events
  struct WatchListCheck {
    std::string rv;
    std::vector<ObjectPtr> items;
  };
  // Found by the I/O thread, for a task to act on.
  std::optional<WatchListCheck> pending_check_ KUBE_GUARDED_BY(mu_);  // B60
  std::optional<Status> pending_went_back_ KUBE_GUARDED_BY(mu_);
  // The stream abandoned for going back, until a task (or `Stop`) stops it: never from its own
  // callback.
  std::unique_ptr<ActiveWatch> abandoned_watch_ KUBE_GUARDED_BY(mu_);
};

}  // namespace kube::internal

#endif  // KUBE_CACHE_REFLECTOR_IMPL_H_

// The reflector: its phases and the one function that moves between them (`DecideLocked`), the
// list, and the watch's event bookkeeping. Behaviour numbers (B11...) name the contracts of
// docs/behaviours.md, each with its tests.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <string_view>
#include <utility>

#include "base/logging.h"
#include "cache/reflector_impl.h"
#include "cache/resource_version.h"
#include "kube/object_key.h"
#include "watch/watch_decoder.h"

namespace kube::internal {
namespace {

constexpr int64_t kDefaultPageSize = 500;  // tools/pager defaultPageSize (B13)
constexpr std::string_view kInitialEventsEnd = "k8s.io/initial-events-end";

bool IsBrokenConnection(const Status& s) {
  // A stream that broke (reset, EOF inside a frame) with no answer from the server: client-go's
  // stream decoder swallows these as a normal end and the reflector simply rewatches (B16).
  // An event that cannot be decoded (malformed, over the frame limit) is not: resuming would meet
  // it again, so it ends the round and the reflector relists after backoff, as client-go does.
  return s.http_code() == 0 &&
         (s.code() == StatusCode::kUnavailable ||
          (s.code() == StatusCode::kDataLoss && !internal::IsUndecodableWatchEvent(s)));
}

bool EnvIsTrue(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string_view(v) == "true";
}

}  // namespace

Clock::Duration Backoff::Next(Clock::TimePoint now, std::mt19937_64& rng,
                              std::optional<std::chrono::milliseconds> cap) {
  const auto limit = cap.value_or(cap_);
  if (!last_reset_ || now - *last_reset_ > reset_after_) {
    current_ = initial_;
    last_reset_ = now;
  }
  const auto base = std::min(current_, limit);
  current_ = std::min(current_ * 2, limit);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double ms = static_cast<double>(base.count()) * (1.0 + jitter_ * unit(rng));
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double, std::milli>(ms));
}

Reflector::Reflector(std::string name, std::shared_ptr<ListerWatcher> lw,
                     std::shared_ptr<DeltaFifo> fifo, ReflectorOptions options,
                     std::shared_ptr<Clock> clock, std::shared_ptr<Executor> executor)
    : name_(std::move(name)),
      lw_(std::move(lw)),
      fifo_(std::move(fifo)),
      options_(std::move(options)),
      clock_(std::move(clock)),
      queue_(SerialQueue::Create(std::move(executor))),
      check_watch_list_(options_.watch_list_consistency_check ||
                        EnvIsTrue("KUBE_WATCHLIST_INCONSISTENCY_DETECTOR")),
      rng_(options_.random_seed != 0 ? options_.random_seed : std::random_device{}()),
      backoff_(options_.backoff_initial, options_.backoff_cap, options_.backoff_reset_after,
               options_.backoff_jitter) {}

Reflector::~Reflector() { Stop(); }

void Reflector::ResumeFrom(std::string resource_version) {
  MutexLock l(mu_);
  last_sync_rv_ = std::move(resource_version);
  resume_pending_ = !last_sync_rv_.empty();
}

void Reflector::SetErrorHandler(std::function<void(const Status&)> handler) {
  error_handler_ = std::move(handler);
}

void Reflector::SetTransform(std::function<ObjectPtr(ObjectPtr)> transform) {
  transform_ = std::move(transform);
}

void Reflector::Start() {
  PostTask([this] { Advance({Outcome::Kind::kRoundDue, Status()}); });
}

void Reflector::Stop() {
  std::unique_ptr<ActiveWatch> watch;
  std::unique_ptr<ActiveWatch> abandoned;
  {
    MutexLock l(mu_);
    if (phase_ == Phase::kStopped) {
      while (tasks_in_flight_ > 0) l.Wait(idle_cv_);
      return;
    }
    phase_ = Phase::kStopped;
    watch = std::move(watch_);
    abandoned = std::move(abandoned_watch_);
    if (progress_timer_) progress_timer_->Stop();
    if (backoff_timer_) backoff_timer_->Stop();
  }
  stop_.request_stop();
  if (watch) watch->Stop();
  if (abandoned) abandoned->Stop();
  MutexLock l(mu_);
  while (tasks_in_flight_ > 0) l.Wait(idle_cv_);
}

std::string Reflector::LastSyncResourceVersion() const {
  MutexLock l(mu_);
  return last_sync_rv_;
}

void Reflector::PostTask(std::function<void()> fn) {
  {
    MutexLock l(mu_);
    if (phase_ == Phase::kStopped) return;
    ++tasks_in_flight_;
  }
  queue_->Post([this, fn = std::move(fn)] {
    bool stopped;
    {
      MutexLock l(mu_);
      stopped = phase_ == Phase::kStopped;
    }
    if (!stopped) fn();
    MutexLock l(mu_);
    --tasks_in_flight_;
    idle_cv_.notify_all();
  });
}

void Reflector::RunAfter(Clock::Duration delay, std::function<void()> fn) {
  std::weak_ptr<Reflector> weak = weak_from_this();
  auto timer = clock_->AfterFunc(delay, [weak, fn = std::move(fn)] {
    if (auto self = weak.lock()) self->PostTask(fn);
  });
  MutexLock l(mu_);
  if (phase_ == Phase::kStopped) {
    timer->Stop();
    return;
  }
  backoff_timer_ = std::move(timer);
}

bool Reflector::EnterLocked(Phase next) {
  if (phase_ == Phase::kStopped) return false;
  phase_ = next;
  return true;
}

void Reflector::Advance(Outcome outcome) {
  Decision next;
  {
    MutexLock l(mu_);
    next = DecideLocked(outcome);
  }
  Run(next);
}

Reflector::Decision Reflector::DecideLocked(const Outcome& outcome) {
  using Step = Decision::Step;
  if (phase_ == Phase::kStopped) return {};
  const Status& s = outcome.status;
  // A refused connection or a 429: the server is there but busy, or not reachable yet (B18).
  const bool retry_watch =
      IsTooManyRequests(s) || (s.code() == StatusCode::kUnavailable && s.http_code() == 0);
  switch (outcome.kind) {
    case Outcome::Kind::kRoundDue:
      if (resume_pending_) return {Step::kResume};
      // B22/B57: a round is a watch-list while the server honours them, else a list+watch.
      return {options_.use_watch_list && watch_list_supported_ ? Step::kWatchList : Step::kList};
    case Outcome::Kind::kWatchDue:
      return {Step::kWatch};
    case Outcome::Kind::kListed:
      if (s.ok()) return {Step::kWatch};
      // Unlike client-go: a list refused with 403/404 backs off up to the longer cap.
      return {Step::kBackoffThenRound, s, IsForbidden(s) || IsNotFound(s)};
    case Outcome::Kind::kWatchRefused:
      if (phase_ == Phase::kInitialEvents) {
        // B22: a refused watch-list.
        if (retry_watch) return {Step::kBackoffThenRound, s};  // the round retries it
        if (IsGone(s) || IsTooLargeResourceVersion(s)) {
          last_rv_unavailable_ = true;
          return {Step::kWatchList};  // at once, with RV ""
        }
        // Any other error (e.g. a server without WatchList answering 422): list+watch for this
        // round.
        return {Step::kList, Status(), false,
                "watch-list refused (" + s.message() + "); using list+watch for this round"};
      }
      if (retry_watch) return {Step::kBackoffThenWatch, s};  // B18: not a relist
      if (IsGone(s)) counters_.relists_after_gone.fetch_add(1, std::memory_order_relaxed);
      if (IsTooLargeResourceVersion(s)) last_rv_unavailable_ = true;  // B58
      return {Step::kBackoffThenRound, s};
    case Outcome::Kind::kWatchEnded: {
      const bool initial_events = phase_ == Phase::kInitialEvents;
      const uint64_t events = watch_event_count_;
      const Clock::Duration lasted = clock_->Now() - watch_started_;
      if (events == 0 && !initial_events && IsBrokenConnection(s)) {
        // B18: the watch could not be opened (connection refused, reset before any event): retry
        // the watch after one backoff step, without relisting.
        return {Step::kBackoffThenWatch, s};
      }
      if (s.ok() || IsBrokenConnection(s)) {
        if (initial_events) {
          // B57: the server ended the stream without the initial-events-end bookmark (it ignores
          // sendInitialEvents). client-go would retry the watch-list forever; we fall back to
          // list+watch for the rest of this informer's life.
          watch_list_supported_ = false;
          return {Step::kBackoffThenRound,
                  UnavailableError("watch-list ended before the initial-events-end bookmark; the "
                                   "server seems to ignore sendInitialEvents, falling back to "
                                   "list+watch")};
        }
        if (events == 0 && lasted < std::chrono::seconds(1)) {
          // B50: a watch that closes at once with nothing is a server problem, not a timeout.
          return {
              Step::kBackoffThenRound,
              UnavailableError("very short watch: the watch closed within 1 s without an event")};
        }
        return {Step::kWatch};  // B16: resume from the last synced version, no relist, no backoff
      }
      if (IsGone(s)) {
        counters_.relists_after_gone.fetch_add(1, std::memory_order_relaxed);
        return {Step::kBackoffThenRound, s};  // B17: relist (at the last synced RV, B11)
      }
      if (IsTooManyRequests(s)) return {Step::kBackoffThenWatch, s};  // B18: not a relist
      if (IsTooLargeResourceVersion(s)) last_rv_unavailable_ = true;  // B58: the next list asks ""
      return {Step::kBackoffThenRound, s};  // B52 (a 500) and any other error: relist after backoff
    }
    case Outcome::Kind::kWatchStalled:
      counters_.progress_timeouts.fetch_add(1, std::memory_order_relaxed);
      // From the last synced version; a watch-list stalled in its initial events starts again
      // (a plain watch would leave its relist unfinished).
      return {phase_ == Phase::kInitialEvents ? Step::kWatchList : Step::kWatch};
    case Outcome::Kind::kServerWentBack:
      counters_.relists_after_rv_regression.fetch_add(1, std::memory_order_relaxed);
      return {Step::kBackoffThenRound, s};  // relist from "" (B58's remedy) after one step
  }
  return {};
}

void Reflector::Run(const Decision& decision) {
  using Step = Decision::Step;
  if (!decision.note.empty()) {
    KUBE_LOG(kInfo, "reflector") << name_ << ": " << decision.note;
  }
  switch (decision.step) {
    case Step::kNone:
      return;
    case Step::kResume:
      Resume();
      return;
    case Step::kList: {
      {
        MutexLock l(mu_);
        if (!EnterLocked(Phase::kListing)) return;
        catching_up_ = false;  // the list's end syncs
      }
      Status s = ListAll();
      Advance({Outcome::Kind::kListed, std::move(s)});
      return;
    }
    case Step::kWatch:
      StartWatch(/*watch_list=*/false);
      return;
    case Step::kWatchList:
      StartWatch(/*watch_list=*/true);
      return;
    case Step::kBackoffThenRound:
    case Step::kBackoffThenWatch:
      break;
  }
  // B19: one backoff step after every round that ended, and before a retried watch.
  if (!decision.error.ok()) ReportError(decision.error);
  Clock::Duration d;
  {
    MutexLock l(mu_);
    if (!EnterLocked(Phase::kBackingOff)) return;
    std::optional<std::chrono::milliseconds> cap;
    if (decision.permanent_cap) {
      cap = options_.permanent_error_backoff_cap;
      if (!permanent_streak_) {
        permanent_streak_ = clock_->Now();
        KUBE_LOG(kWarning, "reflector")
            << name_ << ": the server refuses to list this resource (" << decision.error.ToString()
            << "); retrying with backoff up to "
            << std::chrono::duration_cast<std::chrono::seconds>(*cap).count() << " s";
      }
    }
    d = backoff_.Next(clock_->Now(), rng_, cap);
  }
  const Outcome::Kind due = decision.step == Step::kBackoffThenRound ? Outcome::Kind::kRoundDue
                                                                     : Outcome::Kind::kWatchDue;
  RunAfter(d, [this, due] { Advance({due, Status()}); });
}

void Reflector::Resume() {
  {
    MutexLock l(mu_);
    if (!EnterLocked(Phase::kListing)) return;
  }
  // One cheap consistent read: the collection's resourceVersion, with at most one item.
  ListOptions options;
  options.resource_version = "";
  options.limit = 1;
  counters_.version_probes.fetch_add(1, std::memory_order_relaxed);
  Result<ObjectList> probe = lw_->List(options, stop_.get_token());
  if (!probe) {
    // The resume is still pending: the round after the backoff probes again.
    Advance({Outcome::Kind::kListed, probe.error()});
    return;
  }
  Status went_back;
  std::vector<Delta> synced_now;
  {
    MutexLock l(mu_);
    resume_pending_ = false;
    const std::string& current = probe->resource_version;
    std::optional<uint64_t> now = NumericResourceVersion(current);
    std::optional<uint64_t> saved = NumericResourceVersion(last_sync_rv_);
    if (now && saved && *now < *saved) {
      went_back = DataLossError("the server's current resourceVersion " + current +
                                " is older than the snapshot's " + last_sync_rv_ +
                                ": the server went back in time (restarted with fresh storage or "
                                "restored?); listing from the latest");
      last_rv_unavailable_ = true;
      counters_.relists_after_rv_regression.fetch_add(1, std::memory_order_relaxed);
    } else if (current.empty() || current == last_sync_rv_) {
      // Nothing happened since the snapshot (or nothing to wait for): synced now.
      synced_now.push_back(Delta{DeltaType::kReplaceEnd, nullptr, last_sync_rv_});
    } else {
      catching_up_ = true;
      catch_up_rv_ = current;
      catch_up_bookmark_ = false;
    }
  }
  if (!went_back.ok()) {
    KUBE_LOG(kWarning, "reflector") << name_ << ": " << went_back.message();
    ReportError(went_back);
    Run({Decision::Step::kList});
    return;
  }
  if (!synced_now.empty() && !fifo_->Push(std::move(synced_now)).ok()) return;  // closed
  StartWatch(/*watch_list=*/false);
}

void Reflector::CatchUpLocked(std::vector<Delta>* deltas) {
  if (!catching_up_ || phase_ != Phase::kWatching) return;
  std::optional<uint64_t> target = NumericResourceVersion(catch_up_rv_);
  std::optional<uint64_t> reached = NumericResourceVersion(last_sync_rv_);
  // Versions that are not integers cannot be ordered: the first bookmark (everything up to it
  // has been sent) or the very version stands for caught up.
  const bool caught_up = (target && reached)
                             ? *reached >= *target
                             : (catch_up_bookmark_ || last_sync_rv_ == catch_up_rv_);
  if (!caught_up) return;
  catching_up_ = false;
  deltas->push_back(Delta{DeltaType::kReplaceEnd, nullptr, last_sync_rv_});
}

std::string Reflector::RelistResourceVersion() const {
  MutexLock l(mu_);
  // B11: "" (a consistent read) after the server said our version is gone or too large; "0"
  // (any cached state, cheapest) for the first list; otherwise the last synced version.
  if (last_rv_unavailable_) return "";
  if (last_sync_rv_.empty()) return "0";
  return last_sync_rv_;
}

std::chrono::seconds Reflector::RandomWatchTimeout() {
  // B15: uniform in [min, 2*min].
  MutexLock l(mu_);
  const int64_t min = std::max<int64_t>(1, options_.min_watch_timeout.count());
  std::uniform_int_distribution<int64_t> d(min, 2 * min);
  return std::chrono::seconds(d(rng_));
}

Status Reflector::ListAll() {
  std::string rv = RelistResourceVersion();
  bool paginated = false;
  auto limit_for = [this](const std::string& version) -> int64_t {
    // B13: pages of 500 when the list may come from etcd ("" or "0"), or when an earlier "0"
    // list came back paginated; otherwise no limit, so the server may serve it from a cache.
    if (options_.page_size > 0) return options_.page_size;
    if (version.empty() || version == "0") return kDefaultPageSize;
    MutexLock l(mu_);
    return paginated_result_ ? kDefaultPageSize : 0;
  };
  bool went_back = false;
  Status s = ListPages(rv, limit_for(rv), &paginated, &went_back);
  if (!s.ok() && (IsGone(s) || IsTooLargeResourceVersion(s) || went_back) && !rv.empty()) {
    // B13/B58: the version we asked for is not servable; retry at once with a consistent read.
    // The same when the answer is older than what we asked for: that server is not the one
    // whose versions we hold (restarted, restored, or a stale replica).
    if (went_back) ReportError(s);
    KUBE_LOG(kInfo, "reflector") << name_ << ": list at resourceVersion " << rv << " failed ("
                                 << s.message() << "); relisting from the latest";
    {
      MutexLock l(mu_);
      last_rv_unavailable_ = true;
    }
    if (went_back) counters_.relists_after_rv_regression.fetch_add(1, std::memory_order_relaxed);
    rv.clear();
    s = ListPages(rv, limit_for(rv), &paginated, &went_back);
  }
  if (!s.ok()) return s;
  {
    MutexLock l(mu_);
    if (rv == "0" && paginated) paginated_result_ = true;
    permanent_streak_.reset();
  }
  return Status::Ok();
}

Status Reflector::ListPages(const std::string& rv, int64_t limit, bool* paginated,
                            bool* went_back) {
  Status s = fifo_->ReplaceBegin();
  if (!s.ok()) return s;
  ListOptions options;
  options.resource_version = rv;
  options.limit = limit;
  std::string list_rv;
  // B21: objects of another kind are skipped.
  auto keep_expected = [this](std::vector<ObjectPtr>& items) {
    if (!options_.expected_gvk) return;
    const GroupVersionKind& want = *options_.expected_gvk;
    std::erase_if(items, [&](const ObjectPtr& o) {
      if (o->kind() == want.kind && o->api_version() == want.group_version().ToString()) {
        return false;
      }
      KUBE_LOG(kWarning, "reflector")
          << name_ << ": skipping listed object of kind " << o->api_version() << "/" << o->kind();
      return true;
    });
  };
  // The one door of a list into the FIFO: every batch of items, handed on while a page arrives
  // (on the source's I/O thread) or left over when it ends, goes through `ReplaceItems`, which
  // waits while the FIFO holds too many relist items. So a relist of one large page neither holds
  // two copies of the collection (each old object can be replaced, and freed, before the whole new
  // list exists) nor outruns the informer. The wait ends when the reflector stops.
  Status queued;  // the first batch the FIFO refused (closed, or stopped): the list fails with it
  auto replace = [this, &keep_expected, &queued](std::vector<ObjectPtr> items) {
    if (!queued.ok()) return;
    keep_expected(items);
    if (!items.empty()) queued = fifo_->ReplaceItems(std::move(items), stop_.get_token());
  };
  for (bool first = true;; first = false) {
    Result<ObjectList> page = lw_->ListInBatches(options, stop_.get_token(), replace);
    if (!queued.ok()) return queued;
    if (!page) {
      if (!options.continue_token.empty() && IsGone(page.error())) {
        // B13: the continue token expired mid-list: redo the whole list once, unpaginated, at
        // the version first asked for.
        return ListPages(rv, 0, paginated, went_back);
      }
      return page.error();
    }
    if (page->kind == "Table") {
      return InvalidArgumentError("list returned a meta.k8s.io Table, not a list of objects");
    }
    if (first && !page->continue_token.empty()) *paginated = true;
    list_rv = page->resource_version;
    if (first) {
      // Every list with a version other than "" and "0" is "not older than" it (or exactly it):
      // an older answer means the server's history is not the one that version came from.
      std::optional<uint64_t> asked = NumericResourceVersion(rv);
      std::optional<uint64_t> got = NumericResourceVersion(list_rv);
      if (asked && *asked > 0 && got && *got < *asked) {
        *went_back = true;
        return DataLossError("list at resourceVersion " + rv + " answered resourceVersion " +
                             list_rv +
                             ", older than asked for: the server went back in time (restarted "
                             "with fresh storage or restored?)");
      }
    }
    replace(std::move(page->items));
    if (!queued.ok()) return queued;
    if (page->continue_token.empty()) break;
    options.continue_token = page->continue_token;
    options.resource_version.clear();
    options.resource_version_match = ResourceVersionMatch::kUnset;
  }
  // Counted before the list's end is queued: whoever sees the cache synced sees the list counted.
  counters_.lists.fetch_add(1, std::memory_order_relaxed);
  s = fifo_->ReplaceEnd(list_rv);
  if (!s.ok()) {
    counters_.lists.fetch_sub(1, std::memory_order_relaxed);
    return s;
  }
  MutexLock l(mu_);
  // B12: the watch starts from exactly the list's version, so nothing in between is lost.
  last_sync_rv_ = list_rv;
  last_rv_unavailable_ = false;
  return Status::Ok();
}

WatchCallbacks Reflector::CallbacksFor(uint64_t generation) {
  // Events go straight to the FIFO on the I/O thread; the end is handled on the serial queue.
  std::weak_ptr<Reflector> weak = weak_from_this();
  WatchCallbacks callbacks;
  callbacks.on_events = [weak, generation](std::vector<WatchEvent>& events) {
    if (auto self = weak.lock()) self->OnWatchEvents(generation, events);
  };
  callbacks.on_done = [weak, generation](Status s) {
    if (auto self = weak.lock()) {
      self->PostTask([self = self.get(), generation, s] { self->OnWatchDone(generation, s); });
    }
  };
  return callbacks;
}

void Reflector::StartWatch(bool watch_list) {
  ListOptions options;
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = RandomWatchTimeout().count();
  if (watch_list) {
    options.send_initial_events = true;
    options.resource_version_match = ResourceVersionMatch::kNotOlderThan;
  }
  uint64_t generation;
  {
    MutexLock l(mu_);
    if (!EnterLocked(watch_list ? Phase::kInitialEvents : Phase::kWatching)) return;
    generation = ++watch_generation_;
    if (watch_list) {
      // B22: "" (consistent) at first start or after the version expired, else the last synced.
      options.resource_version = last_rv_unavailable_ ? "" : last_sync_rv_;
      rv_frozen_until_non_add_ = true;
      watch_floor_rv_.reset();  // the initial events carry their objects' own, older versions
      watch_list_items_.clear();
    } else {
      options.resource_version = last_sync_rv_;
      rv_frozen_until_non_add_ = last_sync_rv_.empty() || last_sync_rv_ == "0";
      watch_floor_rv_ =
          rv_frozen_until_non_add_ ? std::nullopt : NumericResourceVersion(last_sync_rv_);
    }
    watch_event_count_ = 0;
    watch_started_ = clock_->Now();
    last_progress_ = watch_started_;
    watch_error_ = Status::Ok();
  }
  // A watch-list is a relist: its initial events are bracketed like a list's items.
  if (watch_list && !fifo_->ReplaceBegin().ok()) return;  // the FIFO closed: stopping
  Result<std::unique_ptr<ActiveWatch>> handle = lw_->Watch(options, CallbacksFor(generation));
  if (!handle) {
    Advance({Outcome::Kind::kWatchRefused, handle.error()});
    return;
  }
  std::unique_ptr<ActiveWatch> h = std::move(*handle);
  {
    MutexLock l(mu_);
    if (phase_ != Phase::kStopped && generation == watch_generation_) watch_ = std::move(h);
  }
  if (h) {  // stopped (or superseded) meanwhile
    h->Stop();
    return;
  }
  counters_.watches.fetch_add(1, std::memory_order_relaxed);
  ArmProgressTimer(generation);
}

void Reflector::OnWatchEvents(uint64_t generation, std::vector<WatchEvent>& events) {
  std::optional<WatchListCheck> check;
  std::optional<Status> went_back;
  {
    MutexLock l(mu_);
    std::vector<Delta> deltas;
    deltas.reserve(events.size());
    for (WatchEvent& ev : events) OnWatchEventLocked(generation, ev, &deltas);
    if (generation == watch_generation_) CatchUpLocked(&deltas);
    // One push for the chunk: one lock and at most one wake-up of the informer. Under `mu_`, as
    // each single push was, so a superseded stream can never interleave with its successor.
    if (!deltas.empty()) (void)fifo_->Push(std::move(deltas));
    check = std::exchange(pending_check_, std::nullopt);
    went_back = std::exchange(pending_went_back_, std::nullopt);
  }
  if (went_back) {
    PostTask([this, status = std::move(*went_back)] {
      std::unique_ptr<ActiveWatch> stale;
      {
        MutexLock l(mu_);
        stale = std::move(abandoned_watch_);
      }
      if (stale) stale->Stop();
      Advance({Outcome::Kind::kServerWentBack, status});
    });
  }
  if (check) {
    // B60: the check lists, so it runs on the serial queue, not on this I/O thread.
    PostTask([this, c = std::move(*check)]() mutable {
      CheckWatchListConsistency(c.rv, std::move(c.items));
    });
  }
}

void Reflector::OnWatchEventLocked(uint64_t generation, WatchEvent& ev,
                                   std::vector<Delta>* deltas) {
  if (phase_ == Phase::kStopped || generation != watch_generation_) return;
  last_progress_ = clock_->Now();
  if (ev.type == WatchEventType::kError) {
    watch_error_ = ev.error.ok() ? InternalError("watch ERROR event without a status") : ev.error;
    return;  // B14: the stream ends with this status (on_done follows)
  }
  ++watch_event_count_;
  counters_.watch_events.fetch_add(1, std::memory_order_relaxed);
  if (ev.object == nullptr) return;
  const Object& obj = *ev.object;
  if (ev.type != WatchEventType::kBookmark) {
    if (obj.kind() == "Table" && obj.api_version().starts_with("meta.k8s.io/")) {
      KUBE_LOG(kWarning, "reflector") << name_ << ": skipping a Table watch event";  // B21
      return;
    }
    if (options_.expected_gvk) {
      const GroupVersionKind& want = *options_.expected_gvk;
      if (obj.kind() != want.kind || obj.api_version() != want.group_version().ToString()) {
        KUBE_LOG(kWarning, "reflector") << name_ << ": skipping watch event of kind "
                                        << obj.api_version() << "/" << obj.kind();  // B21
        return;
      }
    }
  }
  std::string rv(obj.resource_version());
  // Past the initial events (B22, B51), a stream's versions never go down: a server that sends
  // an older one is not the server whose versions we hold.
  const bool initial_events = phase_ == Phase::kInitialEvents;
  if (!initial_events && !(rv_frozen_until_non_add_ && ev.type == WatchEventType::kAdded)) {
    if (std::optional<uint64_t> n = NumericResourceVersion(rv)) {
      if (watch_floor_rv_ && *n < *watch_floor_rv_) {
        ServerWentBackLocked(rv, *watch_floor_rv_);
        return;
      }
      watch_floor_rv_ = n;
    }
  }
  switch (ev.type) {
    case WatchEventType::kBookmark: {
      auto end = obj.annotations().Get(kInitialEventsEnd);
      if (initial_events && end && *end == "true") {
        // B22: the initial events are complete; the same stream continues as a normal watch.
        deltas->push_back(Delta{DeltaType::kReplaceEnd, nullptr, rv});
        phase_ = Phase::kWatching;
        watch_floor_rv_ = NumericResourceVersion(rv);
        last_rv_unavailable_ = false;
        counters_.lists.fetch_add(1, std::memory_order_relaxed);
        if (check_watch_list_) {
          // B60: the check lists, so it runs on the serial queue, not on this I/O thread.
          pending_check_ = WatchListCheck{rv, std::move(watch_list_items_)};
          watch_list_items_.clear();
        }
      } else {
        deltas->push_back(Delta{DeltaType::kBookmark, nullptr, rv});  // B14: the RV only
        if (catching_up_) catch_up_bookmark_ = true;
      }
      last_sync_rv_ = rv;
      rv_frozen_until_non_add_ = false;
      return;
    }
    case WatchEventType::kAdded:
      if (initial_events) {
        if (check_watch_list_) watch_list_items_.push_back(ev.object);
        deltas->push_back(Delta{DeltaType::kReplaced, std::move(ev.object), {}});
      } else {
        deltas->push_back(
            Delta{DeltaType::kAdded, std::move(ev.object), {}, !rv_frozen_until_non_add_});
      }
      if (!rv_frozen_until_non_add_) last_sync_rv_ = rv;  // B51: not for adds from ""/"0"
      return;
    case WatchEventType::kModified:
      deltas->push_back(Delta{DeltaType::kUpdated, std::move(ev.object), {}, true});
      break;
    case WatchEventType::kDeleted:
      deltas->push_back(Delta{DeltaType::kDeleted, std::move(ev.object), {}, true});
      break;
    case WatchEventType::kError:
      return;
  }
  rv_frozen_until_non_add_ = false;
  last_sync_rv_ = rv;
}

void Reflector::ServerWentBackLocked(const std::string& rv, uint64_t floor) {
  Status s = DataLossError("watch event at resourceVersion " + rv +
                           ", older than resourceVersion " + std::to_string(floor) +
                           " the watch had reached: the server went back in time (restarted "
                           "with fresh storage or restored?); relisting from the latest");
  KUBE_LOG(kWarning, "reflector") << name_ << ": " << s.message();
  // Nothing more of this stream applies: its callbacks now belong to an old generation.
  ++watch_generation_;
  if (progress_timer_) progress_timer_->Stop();
  last_rv_unavailable_ = true;  // B58's remedy: the next list is a consistent read
  if (watch_) abandoned_watch_ = std::move(watch_);  // else StartWatch stops it
  pending_went_back_ = std::move(s);
}

void Reflector::OnWatchDone(uint64_t generation, Status status) {
  std::unique_ptr<ActiveWatch> finished;
  Decision next;
  {
    MutexLock l(mu_);
    if (phase_ == Phase::kStopped || generation != watch_generation_) return;
    finished = std::move(watch_);
    if (progress_timer_) progress_timer_->Stop();
    // An ERROR event's status says more than how the stream ended after it (B14).
    next = DecideLocked({Outcome::Kind::kWatchEnded, watch_error_.ok() ? status : watch_error_});
  }
  finished.reset();  // its on_done has run: no more callbacks
  Run(next);
}

void Reflector::ArmProgressTimer(uint64_t generation) {
  if (options_.watch_progress_timeout.count() <= 0) return;
  std::weak_ptr<Reflector> weak = weak_from_this();
  auto timer = clock_->AfterFunc(options_.watch_progress_timeout, [weak, generation] {
    if (auto self = weak.lock()) {
      self->PostTask([self = self.get(), generation] { self->OnProgressDeadline(generation); });
    }
  });
  MutexLock l(mu_);
  if (phase_ == Phase::kStopped || generation != watch_generation_) {
    timer->Stop();
    return;
  }
  progress_timer_ = std::move(timer);
}

void Reflector::OnProgressDeadline(uint64_t generation) {
  std::unique_ptr<ActiveWatch> stale;
  {
    MutexLock l(mu_);
    if (phase_ == Phase::kStopped || generation != watch_generation_ || watch_ == nullptr) return;
    Clock::Duration quiet = clock_->Now() - last_progress_;
    Clock::Duration limit = options_.watch_progress_timeout;
    if (quiet < limit) {
      // Progress was made since the timer was armed: wait out the rest.
      std::weak_ptr<Reflector> weak = weak_from_this();
      progress_timer_ = clock_->AfterFunc(limit - quiet, [weak, generation] {
        if (auto self = weak.lock()) {
          self->PostTask([self = self.get(), generation] { self->OnProgressDeadline(generation); });
        }
      });
      return;
    }
    stale = std::move(watch_);
    ++watch_generation_;  // ignore whatever the stale stream still delivers
  }
  KUBE_LOG(kWarning, "reflector")
      << name_ << ": watch made no progress for "
      << std::chrono::duration_cast<std::chrono::seconds>(options_.watch_progress_timeout).count()
      << " s (half-open connection?); restarting it";
  stale->Stop();
  Advance({Outcome::Kind::kWatchStalled, Status()});
}

void Reflector::CheckWatchListConsistency(const std::string& rv, std::vector<ObjectPtr> streamed) {
  ListOptions options;
  options.resource_version = rv;
  options.resource_version_match = ResourceVersionMatch::kExact;
  options.limit = options_.page_size > 0 ? options_.page_size : kDefaultPageSize;
  std::vector<ObjectPtr> listed;
  for (;;) {
    Result<ObjectList> page = lw_->List(options, stop_.get_token());
    if (!page) {
      if (page.error().code() == StatusCode::kCancelled) return;
      ReportError(
          page.error().WithContext("watch-list consistency check: list at resourceVersion " + rv));
      return;
    }
    for (ObjectPtr& obj : page->items) listed.push_back(std::move(obj));
    if (page->continue_token.empty()) break;
    options.continue_token = page->continue_token;
    options.resource_version.clear();
    options.resource_version_match = ResourceVersionMatch::kUnset;
  }
  // UID -> minified JSON after the transform, as the cache would hold it.
  auto index = [this](std::vector<ObjectPtr>& objects) {
    std::map<std::string, ObjectPtr, std::less<>> by_uid;
    for (ObjectPtr& obj : objects) {
      if (transform_) {
        if (ObjectPtr t = transform_(obj)) obj = std::move(t);
      }
      by_uid[std::string(obj->uid())] = obj;
    }
    return by_uid;
  };
  auto from_watch = index(streamed);
  auto from_list = index(listed);
  std::vector<std::string> differing;
  for (const auto& [uid, obj] : from_watch) {
    auto it = from_list.find(uid);
    if (it == from_list.end() || it->second->json() != obj->json()) {
      differing.push_back(MetaNamespaceKey(*obj));
    }
  }
  for (const auto& [uid, obj] : from_list) {
    if (!from_watch.contains(uid)) differing.push_back(MetaNamespaceKey(*obj));
  }
  if (differing.empty()) return;
  std::sort(differing.begin(), differing.end());
  differing.erase(std::unique(differing.begin(), differing.end()), differing.end());
  std::string keys;
  for (const std::string& k : differing) {
    if (!keys.empty()) keys += ", ";
    keys += k;
  }
  Status s = DataLossError("watch-list inconsistency at resourceVersion " + rv + ": " +
                           std::to_string(differing.size()) +
                           " object(s) differ from a list at that version: " + keys);
  KUBE_LOG(kError, "reflector") << name_ << ": " << s.message();
  ReportError(s);
}

void Reflector::ReportError(const Status& status) {
  // A stop cancels what is in flight (the FIFO closes, a list is abandoned): not an error.
  if (stop_.stop_requested() && status.code() == StatusCode::kCancelled) return;
  counters_.errors.fetch_add(1, std::memory_order_relaxed);
  if (error_handler_) {
    try {
      error_handler_(status);
    } catch (...) {
      KUBE_LOG(kError, "reflector") << name_ << ": watch error handler threw";
    }
    return;
  }
  // B20 default: expiry is routine; the rest is worth a warning.
  if (IsGone(status)) {
    KUBE_LOG(kInfo, "reflector") << name_ << ": " << status.ToString();
  } else {
    KUBE_LOG(kWarning, "reflector") << name_ << ": " << status.ToString();
  }
}

}  // namespace kube::internal

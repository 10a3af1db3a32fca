// The shared informer: applies deltas to the indexer and fans notifications out to handlers.
// Behaviour numbers (B28...) name the contracts of docs/behaviours.md, each with its tests.
#include "kube/cache/shared_informer.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/executor.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "cache/processor_listener.h"
#include "cache/reflector_impl.h"
#include "cache/resource_version.h"
#include "cache/shared_informer_internal.h"
#include "cache/snapshot.h"
#include "kube/cache/thread_safe_store.h"

namespace kube {
namespace {

using internal::Executor;
using internal::Mutex;
using internal::MutexLock;
using internal::Notification;
using internal::ProcessorListener;
using internal::SerialQueue;

constexpr std::chrono::milliseconds kMinimumResyncPeriod{1000};  // B33: the shortest resync
constexpr size_t kBatchSize = 1000;                              // B55: deltas per pop

class FuncsHandler final : public ResourceEventHandler {
 public:
  explicit FuncsHandler(ResourceEventHandlerFuncs f) : f_(std::move(f)) {}
  void OnAdd(const ObjectPtr& obj, bool initial) override {
    if (f_.add) f_.add(obj, initial);
  }
  void OnUpdate(const ObjectPtr& old_obj, const ObjectPtr& new_obj) override {
    if (f_.update) f_.update(old_obj, new_obj);
  }
  void OnDelete(const DeletedObject& obj) override {
    if (f_.del) f_.del(obj);
  }
  void OnSnapshotAdd(const ObjectPtr& obj) override {
    if (f_.snapshot_add) {
      f_.snapshot_add(obj);
    } else if (f_.add) {
      f_.add(obj, true);
    }
  }
  void OnResync(const ObjectPtr& obj) override {
    if (f_.resync) {
      f_.resync(obj);
    } else if (f_.update) {
      f_.update(obj, obj);
    }
  }

 private:
  ResourceEventHandlerFuncs f_;
};

class Filtering final : public ResourceEventHandler {
 public:
  Filtering(std::function<bool(const Object&)> filter, std::shared_ptr<ResourceEventHandler> h)
      : filter_(std::move(filter)), h_(std::move(h)) {}
  void OnAdd(const ObjectPtr& obj, bool initial) override {
    if (filter_(*obj)) h_->OnAdd(obj, initial);
  }
  void OnSnapshotAdd(const ObjectPtr& obj) override {
    if (filter_(*obj)) h_->OnSnapshotAdd(obj);
  }
  // B62: an update is passed on as an update, an add, a delete, or not at all.
  void OnUpdate(const ObjectPtr& old_obj, const ObjectPtr& new_obj) override {
    bool was = filter_(*old_obj), is = filter_(*new_obj);
    if (was && is) {
      h_->OnUpdate(old_obj, new_obj);
    } else if (is) {
      h_->OnAdd(new_obj, false);
    } else if (was) {
      h_->OnDelete(DeletedObject(old_obj, false, MetaNamespaceKey(*old_obj)));
    }
  }
  void OnResync(const ObjectPtr& obj) override {
    if (filter_(*obj)) h_->OnResync(obj);
  }
  void OnDelete(const DeletedObject& obj) override {
    if (filter_(*obj.object())) h_->OnDelete(obj);
  }

 private:
  std::function<bool(const Object&)> filter_;
  std::shared_ptr<ResourceEventHandler> h_;
};

class SharedIndexInformerImpl final : public SharedIndexInformer {
 public:
  SharedIndexInformerImpl(std::shared_ptr<ListerWatcher> lw, SharedInformerOptions options,
                          std::shared_ptr<Executor> executor)
      : lw_(std::move(lw)),
        options_(std::move(options)),
        clock_(options_.clock ? options_.clock : Clock::Real()),
        executor_(std::move(executor)),
        indexer_(ThreadSafeStore::Create(options_.indexers)),
        process_queue_(SerialQueue::Create(executor_)),
        check_period_(options_.resync_period) {}

  ~SharedIndexInformerImpl() override { Stop(); }

  Result<RegistrationPtr> AddEventHandler(std::shared_ptr<ResourceEventHandler> handler,
                                          HandlerOptions opts) override {
    if (handler == nullptr) return InvalidArgumentError("AddEventHandler: null handler");
    std::shared_ptr<ProcessorListener> listener;
    bool started;
    {
      MutexLock l(mu_);
      if (stopped_) {
        return CancelledError("informer " + options_.name + " has stopped; handler not added");
      }
      auto period = ResyncPeriodForLocked(opts.resync_period.value_or(options_.resync_period));
      listener = std::make_shared<ProcessorListener>(std::move(handler), opts.name, period, this,
                                                     executor_);
      listener->next_resync = clock_->Now() + period;
      started = started_;
      if (!started) listeners_.push_back(listener);
    }
    if (!started) return RegistrationPtr(listener);
    // B31: with deltas blocked, the snapshot of the cache and the registration happen together:
    // nothing is missed or delivered twice.
    MutexLock block(block_deltas_);
    {
      MutexLock l(mu_);
      if (stopped_) return CancelledError("informer " + options_.name + " has stopped");
      listeners_.push_back(listener);
    }
    const Clock::TimePoint now = clock_->Now();
    for (ObjectPtr& obj : indexer_->List()) {
      listener->Add(Notification{.kind = Notification::Kind::kAdd,
                                 .is_in_initial_list = true,
                                 .obj = std::move(obj),
                                 .queued_at = now});
    }
    if (synced_.load(std::memory_order_acquire)) {
      listener->Add(Notification{.kind = Notification::Kind::kSyncedMarker, .queued_at = now});
    }
    return RegistrationPtr(listener);
  }

  Status RemoveEventHandler(const RegistrationPtr& registration) override {
    auto listener = FindListener(registration);
    if (!listener) return InvalidArgumentError("registration does not belong to this informer");
    {
      MutexLock l(mu_);
      std::erase(listeners_, listener);
    }
    listener->Remove();
    return Status::Ok();
  }

  Status ShutDownEventHandler(const RegistrationPtr& registration) override {
    Status s = RemoveEventHandler(registration);
    if (!s.ok()) return s;
    FindListener(registration)->WaitIdle();
    return Status::Ok();
  }

  Status SetTransform(TransformFunc transform) override {
    MutexLock l(mu_);
    if (started_) return InvalidArgumentError("SetTransform: the informer has already started");
    transform_ = std::move(transform);
    return Status::Ok();
  }

  Status SetWatchErrorHandler(std::function<void(const Status&)> handler) override {
    MutexLock l(mu_);
    if (started_) {
      return InvalidArgumentError("SetWatchErrorHandler: the informer has already started");
    }
    error_handler_ = std::move(handler);
    return Status::Ok();
  }

  Status AddIndexers(const Indexers& indexers) override {
    {
      MutexLock l(mu_);
      if (stopped_) return CancelledError("AddIndexers: the informer has stopped");
    }
    return indexer_->AddIndexers(indexers);
  }

  std::shared_ptr<const Indexer> GetIndexer() const override { return indexer_; }

  void Run() override {
    MutexLock l(mu_);
    if (started_ || stopped_) {
      KUBE_LOG(kWarning, "informer")
          << "informer " << options_.name << " has already been started; Run ignored";  // B36
      return;
    }
    started_ = true;
    DeltaFifo::Options fifo_options;
    fifo_options.transform = transform_;
    std::weak_ptr<SharedIndexInformerImpl> weak =
        std::static_pointer_cast<SharedIndexInformerImpl>(shared_from_this());
    fifo_ = std::make_shared<DeltaFifo>(std::move(fifo_options), [weak] {
      if (auto self = weak.lock()) {
        self->process_queue_->Post([weak] {
          if (auto s = weak.lock()) s->Drain();
        });
      }
    });
    reflector_ = std::make_shared<internal::Reflector>(options_.name, lw_, fifo_,
                                                       options_.reflector, clock_, executor_);
    if (error_handler_) reflector_->SetErrorHandler(error_handler_);
    if (transform_) reflector_->SetTransform(transform_);  // B60 compares after the transform
    if (options_.snapshot.path.empty()) {
      reflector_->Start();
    } else {
      // The snapshot is loaded on the delta queue (as a batch would be applied), then the
      // reflector starts: resumed from its version, or listing when it was refused.
      process_queue_->Post([weak] {
        if (auto self = weak.lock()) self->StartFromSnapshot();
      });
      if (options_.snapshot.interval.count() > 0) {
        snapshot_thread_ = std::thread([this] { SnapshotLoop(); });
      }
    }
    if (check_period_.count() > 0) ArmResyncLocked();
  }

  void Stop() override {
    std::shared_ptr<internal::Reflector> reflector;
    std::shared_ptr<DeltaFifo> fifo;
    std::vector<std::shared_ptr<ProcessorListener>> listeners;
    {
      MutexLock l(mu_);
      if (stopped_) {
        // A concurrent caller waits until the first one has finished stopping (B42).
        while (!stop_done_) l.Wait(stop_cv_);
        return;
      }
      stopped_ = true;
      stopping_.store(true, std::memory_order_release);
      if (resync_timer_) resync_timer_->Stop();
      reflector = reflector_;
      fifo = fifo_;
      listeners = listeners_;
    }
    CancelResourceVersionWaiters();
    // Close the FIFO first: a relist may be waiting in `ReplaceItems` for a drain that
    // `stopping_` has just ended, and only the close releases it so the reflector can stop.
    if (fifo) fifo->Close();
    if (reflector) reflector->Stop();
    // Wait for a delta batch in progress: a barrier through the processing queue.
    if (fifo && !executor_->InWorker()) {
      Mutex m;
      std::condition_variable cv;
      bool done = false;
      process_queue_->Post([&] {
        MutexLock l(m);
        done = true;
        cv.notify_all();
      });
      MutexLock l(m);
      while (!done) l.Wait(cv);
    }
    if (!options_.snapshot.path.empty()) {
      {
        MutexLock l(snapshot_mu_);
        snapshot_stop_ = true;
        snapshot_cv_.notify_all();
      }
      if (snapshot_thread_.joinable()) snapshot_thread_.join();
      WriteSnapshotNow();  // the cache as the last applied delta left it
    }
    for (auto& listener : listeners) listener->NotifyStopped();
    for (auto& listener : listeners) listener->WaitIdle();
    {
      MutexLock l(mu_);
      stop_done_ = true;
      stop_cv_.notify_all();
    }
    MutexLock l(sync_mu_);
    sync_cv_.notify_all();
  }

  bool IsStopped() const override {
    MutexLock l(mu_);
    return stopped_;
  }

  bool HasSynced() const override { return synced_.load(std::memory_order_acquire); }

  bool WaitForCacheSync(std::chrono::milliseconds timeout) const override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    MutexLock l(sync_mu_);
    while (!synced_.load(std::memory_order_acquire) && !stopping_.load(std::memory_order_acquire)) {
      if (!l.WaitUntil(sync_cv_, deadline) && std::chrono::steady_clock::now() >= deadline) {
        break;
      }
    }
    return synced_.load(std::memory_order_acquire);
  }

  bool WaitForHandlersSync(std::chrono::milliseconds timeout) const override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!WaitForCacheSync(timeout)) return false;
    std::vector<std::shared_ptr<ProcessorListener>> listeners;
    {
      MutexLock l(mu_);
      listeners = listeners_;
    }
    for (auto& listener : listeners) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (!listener->WaitForSynced(std::max(left, std::chrono::milliseconds(0)))) return false;
    }
    return true;
  }

  std::string LastSyncResourceVersion() const override {
    std::shared_ptr<internal::Reflector> reflector;
    {
      MutexLock l(mu_);
      reflector = reflector_;
    }
    return reflector ? reflector->LastSyncResourceVersion() : "";
  }

  std::string CacheResourceVersion() const override {
    MutexLock l(rv_mu_);
    return cache_rv_;
  }

  Status WaitForResourceVersion(std::string_view resource_version,
                                std::chrono::milliseconds timeout) const override {
    return WaitForResourceVersion(resource_version, timeout, std::stop_token());
  }

  Status WaitForResourceVersion(std::string_view resource_version,
                                std::chrono::milliseconds timeout,
                                std::stop_token stop) const override {
    const std::optional<uint64_t> target = internal::NumericResourceVersion(resource_version);
    RvWaiter waiter;
    // The stop callback takes `rv_mu_`, so it is declared before the lock below: it is
    // constructed (and runs at once if a stop was already requested) and destroyed (waiting for
    // a run in progress) while this thread does not hold the lock.
    auto wake = [this, &waiter] {
      MutexLock l(rv_mu_);
      waiter.stop_requested = true;
      waiter.cv.notify_all();
    };
    std::stop_callback<decltype(wake)> on_stop(stop, wake);
    MutexLock l(rv_mu_);
    if (!target) {
      // Equality is the one comparison the API allows for any resourceVersion.
      if (!resource_version.empty() && resource_version == cache_rv_) return Status::Ok();
      return InvalidArgumentError(
          "WaitForResourceVersion: resourceVersion \"" + std::string(resource_version) +
          "\" is not an unsigned decimal number; only such versions (kube-apiserver's) can be "
          "ordered");
    }
    if (std::optional<Status> answer = AnswerLocked(*target)) return *answer;
    if (rv_stopped_) return WaitCancelledLocked(resource_version, "the informer stopped");
    if (waiter.stop_requested) return WaitCancelledLocked(resource_version, "stop requested");
    const auto start = std::chrono::steady_clock::now();
    // At most a century: `steady_clock` counts nanoseconds in 64 bits (292 years).
    const auto deadline =
        start + std::clamp(timeout, std::chrono::milliseconds(0),
                           std::chrono::milliseconds(std::chrono::hours(24 * 365 * 100)));
    waiter.target = *target;
    auto it = rv_waiters_.emplace(*target, &waiter);
    while (!waiter.answer && !waiter.stop_requested) {
      if (!l.WaitUntil(waiter.cv, deadline) && std::chrono::steady_clock::now() >= deadline) {
        break;
      }
    }
    if (waiter.answer) return *waiter.answer;  // whoever answered also removed it
    rv_waiters_.erase(it);
    if (waiter.stop_requested) return WaitCancelledLocked(resource_version, "stop requested");
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return DeadlineExceededError("WaitForResourceVersion: the cache of " + InformerName() +
                                 (cache_rv_.empty() ? std::string(" has not synced")
                                                    : " is at resourceVersion " + cache_rv_) +
                                 ", not yet at resourceVersion " + std::string(resource_version) +
                                 ", after " + std::to_string(waited.count()) + " ms");
  }

  InformerStats Stats() const override {
    std::shared_ptr<internal::Reflector> reflector;
    std::vector<std::shared_ptr<ProcessorListener>> listeners;
    {
      MutexLock l(mu_);
      reflector = reflector_;
      listeners = listeners_;
    }
    // The handlers first: what they saw was counted before it was queued to them, so the counts
    // read after are never behind the handlers.
    InformerStats s;
    const Clock::TimePoint now = clock_->Now();
    s.handlers.reserve(listeners.size());
    for (const auto& listener : listeners) s.handlers.push_back(listener->Stats(now));
    s.objects_cached = indexer_->Size();
    s.adds = adds_.load(std::memory_order_relaxed);
    s.updates = updates_.load(std::memory_order_relaxed);
    s.deletes = deletes_.load(std::memory_order_relaxed);
    s.resyncs = resyncs_.load(std::memory_order_relaxed);
    s.store_write_locks = indexer_->WriteLocks();
    if (reflector) {
      const auto& c = reflector->counters();
      s.lists = c.lists.load(std::memory_order_relaxed);
      s.relists = s.lists > 0 ? s.lists - 1 : 0;
      s.watches = c.watches.load(std::memory_order_relaxed);
      s.watch_restarts = s.watches > 0 ? s.watches - 1 : 0;
      s.watch_events = c.watch_events.load(std::memory_order_relaxed);
      s.relists_after_gone = c.relists_after_gone.load(std::memory_order_relaxed);
      s.relists_after_rv_regression = c.relists_after_rv_regression.load(std::memory_order_relaxed);
      s.progress_timeouts = c.progress_timeouts.load(std::memory_order_relaxed);
      s.errors = c.errors.load(std::memory_order_relaxed);
      s.last_sync_resource_version = reflector->LastSyncResourceVersion();
      s.snapshot_version_probes = c.version_probes.load(std::memory_order_relaxed);
    }
    s.started_from_snapshot = snapshot_loaded_.load(std::memory_order_relaxed);
    s.snapshot_objects_loaded = snapshot_objects_loaded_.load(std::memory_order_relaxed);
    s.snapshots_written = snapshots_written_.load(std::memory_order_relaxed);
    s.snapshot_write_errors = snapshot_write_errors_.load(std::memory_order_relaxed);
    s.snapshot_write_cpu =
        std::chrono::nanoseconds(snapshot_write_cpu_ns_.load(std::memory_order_relaxed));
    return s;
  }

 private:
  // --- Read-your-writes -------------------------------------------------------------------------
  // One thread in `WaitForResourceVersion`. Its fields are guarded by `rv_mu_`; it lives on the
  // waiting thread's stack and is in `rv_waiters_` exactly while that thread waits for it.
  struct RvWaiter {
    uint64_t target = 0;
    std::optional<Status> answer;  // set (and the waiter removed) by whoever answers it
    bool stop_requested = false;   // its stop token fired
    std::condition_variable cv;
  };

  std::string InformerName() const {
    return options_.name.empty() ? std::string("the informer") : "informer " + options_.name;
  }

  // The answer for a waiter of `target` from the cache's version alone, if there is one yet.
  std::optional<Status> AnswerLocked(uint64_t target) const KUBE_REQUIRES(rv_mu_) {
    if (cache_rv_number_) {
      if (*cache_rv_number_ >= target) return Status::Ok();
      return std::nullopt;
    }
    if (cache_rv_.empty()) return std::nullopt;  // not synced yet
    return InvalidArgumentError("WaitForResourceVersion: the cache of " + InformerName() +
                                " is at resourceVersion \"" + cache_rv_ +
                                "\", which is not an unsigned decimal number: this server's "
                                "versions cannot be ordered");
  }

  Status WaitCancelledLocked(std::string_view rv, std::string_view why) const
      KUBE_REQUIRES(rv_mu_) {
    return CancelledError("WaitForResourceVersion: " + std::string(why) + " before the cache of " +
                          InformerName() + " reached resourceVersion " + std::string(rv) +
                          (cache_rv_.empty() ? std::string(" (it has not synced)")
                                             : " (it is at " + cache_rv_ + ")"));
  }

  // The cache now reflects `rv` (a list, event or bookmark at it has been applied): records it
  // and answers the waiters it satisfies, each woken on its own condition variable. Called by the
  // delta processing only, so versions arrive in the stream's order.
  void AdvanceCacheResourceVersion(std::string_view rv) KUBE_EXCLUDES(rv_mu_) {
    if (rv.empty()) return;
    MutexLock l(rv_mu_);
    cache_rv_.assign(rv);
    cache_rv_number_ = internal::NumericResourceVersion(rv);
    if (rv_waiters_.empty()) return;
    // Opaque versions answer every waiter (kInvalidArgument); numbers, those at or below them.
    auto end = cache_rv_number_ ? rv_waiters_.upper_bound(*cache_rv_number_) : rv_waiters_.end();
    for (auto it = rv_waiters_.begin(); it != end; ++it) {
      RvWaiter* w = it->second;
      w->answer = AnswerLocked(w->target);
      // Notified under the lock: the waiter cannot return (and free `cv`) before it is released.
      w->cv.notify_one();
    }
    rv_waiters_.erase(rv_waiters_.begin(), end);
  }

  // `Stop`: every waiter not yet answered gets kCancelled, and later ones too.
  void CancelResourceVersionWaiters() KUBE_EXCLUDES(rv_mu_) {
    MutexLock l(rv_mu_);
    rv_stopped_ = true;
    for (auto& [target, w] : rv_waiters_) {
      w->answer = WaitCancelledLocked(std::to_string(target), "the informer stopped");
      w->cv.notify_one();
    }
    rv_waiters_.clear();
  }

  // B33: a handler's effective resync period.
  std::chrono::milliseconds ResyncPeriodForLocked(std::chrono::milliseconds requested)
      KUBE_REQUIRES(mu_) {
    if (requested.count() <= 0) return std::chrono::milliseconds(0);
    if (requested < kMinimumResyncPeriod) {
      KUBE_LOG(kWarning, "informer")
          << "resync period " << requested.count() << " ms is below the minimum; using 1 s";
      requested = kMinimumResyncPeriod;
    }
    if (check_period_.count() == 0) {
      KUBE_LOG(kWarning, "informer")
          << "informer " << options_.name
          << " was created with resync 0 (never); the handler's resync period is ignored";
      return std::chrono::milliseconds(0);
    }
    if (requested < check_period_) {
      if (started_) {
        KUBE_LOG(kWarning, "informer")
            << "resync period " << requested.count() << " ms is below the running informer's "
            << check_period_.count() << " ms check period; using the check period";
        return check_period_;
      }
      // Before start, a shorter period lowers the check period and re-derives every handler's.
      check_period_ = requested;
      for (auto& listener : listeners_) {
        if (listener->resync_period.count() > 0 && listener->resync_period < check_period_) {
          listener->resync_period = check_period_;
        }
      }
    }
    return requested;
  }

  std::string SnapshotResource() const {
    return options_.snapshot.resource.empty() ? options_.name : options_.snapshot.resource;
  }

  // Loads the snapshot into the cache and hands its objects to the handlers (`OnSnapshotAdd`),
  // then starts the reflector: resumed from the snapshot's version, or listing when the snapshot
  // is missing or refused (one warning).
  void StartFromSnapshot() {
    const SnapshotOptions& so = options_.snapshot;
    internal::SnapshotRefusal why = internal::SnapshotRefusal::kNone;
    Result<internal::Snapshot> snap = internal::ReadSnapshotFile(
        so.path, {.identity = so.server_identity, .resource = SnapshotResource()}, &why);
    if (snap && snap->header.resource_version.empty()) {
      snap = DataLossError("cache snapshot refused: " + so.path + " records no resourceVersion");
    }
    std::shared_ptr<internal::Reflector> reflector;
    {
      MutexLock l(mu_);
      if (stopped_) return;
      reflector = reflector_;
    }
    if (!snap) {
      if (why == internal::SnapshotRefusal::kMissing) {
        KUBE_LOG(kInfo, "informer")
            << options_.name << ": no cache snapshot at " << so.path << "; listing";
      } else {
        KUBE_LOG(kWarning, "informer")
            << options_.name << ": " << snap.error().message() << "; listing instead";
      }
      reflector->Start();
      return;
    }
    const size_t loaded = snap->objects.size();
    {
      MutexLock block(block_deltas_);
      std::vector<std::shared_ptr<ProcessorListener>> listeners;
      {
        MutexLock l(mu_);
        listeners = listeners_;
      }
      const Clock::TimePoint now = clock_->Now();
      std::vector<ObjectPtr>& objects = snap->objects;
      for (size_t begin = 0; begin < objects.size(); begin += kBatchSize) {
        const size_t end = std::min(objects.size(), begin + kBatchSize);
        std::vector<StoreTransaction> txns;
        txns.reserve(end - begin);
        for (size_t i = begin; i < end; ++i) {
          txns.push_back({StoreTransaction::Type::kAdd, objects[i]});
        }
        std::vector<Status> results = indexer_->Transaction(std::move(txns));
        std::vector<Notification> batch;
        batch.reserve(end - begin);
        for (size_t i = begin; i < end; ++i) {
          if (!results[i - begin].ok()) {
            KUBE_LOG(kError, "informer") << options_.name << ": " << results[i - begin].ToString();
            continue;
          }
          Count(adds_, 1);
          batch.push_back(Notification{.kind = Notification::Kind::kAdd,
                                       .is_in_initial_list = true,
                                       .from_snapshot = true,
                                       .obj = std::move(objects[i]),
                                       .queued_at = now});
        }
        for (const auto& listener : listeners) listener->AddBatch(batch);
      }
      indexer_->Bookmark(snap->header.resource_version);
      AdvanceCacheResourceVersion(snap->header.resource_version);
      consistent_rv_ = snap->header.resource_version;
      last_written_rv_ = consistent_rv_;  // the file already says so
      warm_ = true;
      replace_seen_ = true;  // the snapshot stands for the first list: no sync before catch-up
    }
    snapshot_objects_loaded_.store(loaded, std::memory_order_relaxed);
    snapshot_loaded_.store(true, std::memory_order_relaxed);
    KUBE_LOG(kInfo, "informer") << options_.name << ": loaded " << loaded
                                << " objects from the cache snapshot at resourceVersion "
                                << snap->header.resource_version << "; resuming the watch";
    reflector->ResumeFrom(snap->header.resource_version);
    reflector->Start();
  }

  // The snapshot thread: writes the cache at most every `interval`, when it changed.
  void SnapshotLoop() {
    for (;;) {
      {
        MutexLock l(snapshot_mu_);
        const auto deadline = std::chrono::steady_clock::now() + options_.snapshot.interval;
        while (!snapshot_stop_ && std::chrono::steady_clock::now() < deadline) {
          l.WaitUntil(snapshot_cv_, deadline);
        }
        if (snapshot_stop_) return;
      }
      WriteSnapshotNow();
    }
  }

  // Copies the cache and its version (shared pointers, under `block_deltas_`, so between two
  // batches: the copy is exactly the state after the last applied delta), then encodes and writes
  // it on the calling thread. Nothing while a relist is in progress (the cache is then consistent
  // with no version) or when nothing changed since the last write.
  void WriteSnapshotNow() {
    std::vector<ObjectPtr> objects;
    std::string rv;
    {
      MutexLock block(block_deltas_);
      if (relist_active_ || consistent_rv_.empty() || consistent_rv_ == last_written_rv_) return;
      rv = consistent_rv_;
      objects = indexer_->List();
    }
    timespec begin{}, end{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &begin);
    const SnapshotOptions& so = options_.snapshot;
    Status s = internal::WriteSnapshotFile(
        so.path,
        {.identity = so.server_identity, .resource = SnapshotResource(), .resource_version = rv},
        objects, so.compress);
    objects.clear();
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end);
    const int64_t ns = (end.tv_sec - begin.tv_sec) * 1000000000LL + (end.tv_nsec - begin.tv_nsec);
    snapshot_write_cpu_ns_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, ns)),
                                     std::memory_order_relaxed);
    if (!s.ok()) {
      snapshot_write_errors_.fetch_add(1, std::memory_order_relaxed);
      KUBE_LOG(kWarning, "informer") << options_.name << ": " << s.message();
      return;
    }
    snapshots_written_.fetch_add(1, std::memory_order_relaxed);
    MutexLock block(block_deltas_);
    last_written_rv_ = rv;
  }

  std::shared_ptr<ProcessorListener> FindListener(const RegistrationPtr& registration) const {
    auto listener = std::dynamic_pointer_cast<ProcessorListener>(registration);
    if (!listener || listener->owner() != this) return nullptr;
    return listener;
  }

  void ArmResyncLocked() KUBE_REQUIRES(mu_) {
    std::weak_ptr<SharedIndexInformerImpl> weak =
        std::static_pointer_cast<SharedIndexInformerImpl>(shared_from_this());
    resync_timer_ = clock_->AfterFunc(check_period_, [weak] {
      if (auto self = weak.lock()) self->ResyncTick();
    });
  }

  // B33/B34: choose the handlers whose resync is due and queue one in-memory resync.
  void ResyncTick() {
    bool any = false;
    std::shared_ptr<DeltaFifo> fifo;
    {
      MutexLock l(mu_);
      if (stopped_) return;
      auto now = clock_->Now();
      for (auto& listener : listeners_) {
        if (listener->resync_period.count() > 0 && now >= listener->next_resync) {
          listener->resync_pending = true;
          listener->next_resync = now + listener->resync_period;
          any = true;
        }
      }
      fifo = fifo_;
      ArmResyncLocked();
    }
    if (any && fifo) (void)fifo->Resync();
  }

  void Drain() {
    for (;;) {
      if (stopping_.load(std::memory_order_acquire)) return;
      std::vector<Delta> batch = fifo_->PopBatch(kBatchSize);
      if (batch.empty()) return;
      MutexLock block(block_deltas_);
      std::vector<std::shared_ptr<ProcessorListener>> listeners;
      {
        MutexLock l(mu_);
        listeners = listeners_;
      }
      ProcessBatch(batch, listeners);
    }
  }

  static bool IsObjectDelta(DeltaType t) {
    return t == DeltaType::kAdded || t == DeltaType::kUpdated || t == DeltaType::kDeleted ||
           t == DeltaType::kReplaced;
  }

  // One object delta of a run: its key, the cached object before the run, and what it does.
  struct Pending {
    enum class Action { kAdd, kUpdate, kDelete, kResync };
    Delta* delta;
    std::string key;
    ObjectPtr old;
    Action action = Action::kAdd;
  };

  // B55: the popped deltas in order, each maximal run of object deltas with distinct keys (at
  // most `kBatchSize`) applied to the indexer as one transaction (one exclusive lock), then
  // notified in order. A run ends at a repeated key (so every delta's old object can be read
  // before the run is written) and at any other delta type (a relist's end, a resync, a
  // bookmark), which is processed on its own; so the initial list ends a run, and its adds keep
  // their `is_in_initial_list` flag (B29).
  void ProcessBatch(std::vector<Delta>& batch,
                    const std::vector<std::shared_ptr<ProcessorListener>>& listeners)
      KUBE_REQUIRES(block_deltas_) {
    std::vector<Pending> run;
    run.reserve(batch.size());  // never reallocates, so the views in `run_keys` stay valid
    std::unordered_set<std::string_view> run_keys;
    size_t i = 0;
    while (i < batch.size()) {
      if (!IsObjectDelta(batch[i].type)) {
        Process(batch[i], listeners);
        ++i;
        continue;
      }
      run.clear();
      run_keys.clear();
      for (; i < batch.size() && IsObjectDelta(batch[i].type); ++i) {
        std::string key = MetaNamespaceKey(*batch[i].object);
        if (run_keys.contains(key)) break;
        run.push_back(Pending{&batch[i], std::move(key), nullptr});
        run_keys.insert(run.back().key);
      }
      ApplyRun(run, listeners);
    }
  }

  // B28 for a run of object deltas with distinct keys.
  void ApplyRun(std::vector<Pending>& run,
                const std::vector<std::shared_ptr<ProcessorListener>>& listeners)
      KUBE_REQUIRES(block_deltas_) {
    using Action = Pending::Action;
    std::vector<StoreTransaction> txns;
    txns.reserve(run.size());
    for (Pending& p : run) {
      const Delta& d = *p.delta;
      p.old = indexer_->GetByKey(p.key);
      if (d.type == DeltaType::kDeleted) {
        p.action = Action::kDelete;
        txns.push_back({StoreTransaction::Type::kDelete, d.object});
        continue;
      }
      if (d.type == DeltaType::kReplaced && relist_active_) relist_seen_.insert(p.key);
      if (p.old != nullptr && !p.old->resource_version().empty() &&
          p.old->resource_version() == d.object->resource_version()) {
        // An unchanged relist item: keep the cached object (the new copy is dropped at once, so
        // a relist never holds two copies of unchanged objects) and deliver a sync notification
        // to the handlers whose resync is due (B28/B34).
        p.action = Action::kResync;
        continue;
      }
      p.action = p.old != nullptr ? Action::kUpdate : Action::kAdd;
      txns.push_back(
          {p.old != nullptr ? StoreTransaction::Type::kUpdate : StoreTransaction::Type::kAdd,
           d.object});
    }
    std::vector<Status> results;
    if (!txns.empty()) results = indexer_->Transaction(std::move(txns));

    // Each counter moves before its notification is queued, so a scrape never shows a handler
    // ahead of the informer's own counts. The run's notifications go to every handler as one
    // batch (one lock and at most one wake-up per handler); a synced marker or a resync, which
    // go to the handlers on their own, first flush what is collected, so each handler still sees
    // the deltas' order.
    const Clock::TimePoint now = clock_->Now();
    std::vector<Notification> batch;
    batch.reserve(run.size());
    auto flush = [&] {
      if (batch.empty()) return;
      // Copies for all handlers but the last, which takes the batch itself.
      for (size_t k = 0; k + 1 < listeners.size(); ++k) listeners[k]->AddBatch(batch);
      if (!listeners.empty()) listeners.back()->AddBatch(std::move(batch));
      batch.clear();
      batch.reserve(run.size());
    };
    size_t t = 0;
    for (Pending& p : run) {
      Delta& d = *p.delta;
      if (p.action != Action::kResync) {
        const Status& s = results[t++];
        if (!s.ok()) {
          KUBE_LOG(kError, "informer") << options_.name << ": " << s.ToString();
          continue;
        }
      }
      if (d.type != DeltaType::kReplaced && !replace_seen_ &&
          !synced_.load(std::memory_order_relaxed)) {
        flush();
        MarkPopulatedByWatch(listeners);  // B27: a watch before any list
      }
      switch (p.action) {
        case Action::kResync:
          flush();
          if (NotifyResync(listeners, p.old, now)) Count(resyncs_, 1);
          break;
        case Action::kUpdate:
          Count(updates_, 1);
          batch.push_back(Notification{.kind = Notification::Kind::kUpdate,
                                       .old_obj = std::move(p.old),
                                       .obj = d.object,
                                       .queued_at = now});
          break;
        case Action::kAdd: {
          Count(adds_, 1);
          // B29: before sync; after a warm start, adds are changes the resumed watch catches up.
          bool initial = !synced_.load(std::memory_order_relaxed) && !warm_;
          batch.push_back(Notification{.kind = Notification::Kind::kAdd,
                                       .is_in_initial_list = initial,
                                       .obj = d.object,
                                       .queued_at = now});
          break;
        }
        case Action::kDelete:
          // B53: every DELETED reaches the handlers, even for a key the cache did not hold.
          Count(deletes_, 1);
          batch.push_back(Notification{.kind = Notification::Kind::kDelete,
                                       .obj = d.object,
                                       .key = std::move(p.key),
                                       .queued_at = now});
          break;
      }
    }
    flush();
    // The run is in the cache: it reflects the last version the stream had reached in it. A
    // relist's items, and the initial events of a watch from ""/"0", carry their objects' own
    // older versions: the cache is consistent with none of them (for the snapshot either).
    for (auto p = run.rbegin(); p != run.rend(); ++p) {
      if (p->delta->at_stream_version) {
        AdvanceCacheResourceVersion(p->delta->object->resource_version());
        consistent_rv_ = std::string(p->delta->object->resource_version());
        break;
      }
    }
  }

  // Only the delta processing (one thread at a time, under `block_deltas_`) writes the delta
  // counters, so a relaxed load and store suffice; readers may see a slightly old value.
  static void Count(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  static void Notify(const std::vector<std::shared_ptr<ProcessorListener>>& listeners,
                     const Notification& n) {
    for (const auto& listener : listeners) listener->Add(n);
  }

  // The other deltas (relist brackets, resync, bookmark), under `block_deltas_`.
  void Process(Delta& d, const std::vector<std::shared_ptr<ProcessorListener>>& listeners)
      KUBE_REQUIRES(block_deltas_) {
    switch (d.type) {
      case DeltaType::kAdded:
      case DeltaType::kUpdated:
      case DeltaType::kDeleted:
      case DeltaType::kReplaced:
        return;  // handled by ApplyRun
      case DeltaType::kReplaceBegin:
        relist_active_ = true;
        relist_seen_.clear();
        replace_seen_ = true;
        return;
      case DeltaType::kReplaceEnd: {
        if (relist_active_) {
          // B24/B61: whatever the cache holds that the relist did not return was deleted while
          // the watch was down. Every earlier delta has been applied, so none is missed.
          const Clock::TimePoint now = clock_->Now();
          for (const std::string& key : indexer_->ListKeys()) {
            if (relist_seen_.contains(key)) continue;
            ObjectPtr last = indexer_->GetByKey(key);
            if (last == nullptr) continue;
            (void)indexer_->DeleteByKey(key);
            Count(deletes_, 1);
            Notify(listeners, Notification{.kind = Notification::Kind::kDelete,
                                           .final_state_unknown = true,
                                           .obj = std::move(last),
                                           .key = key,
                                           .queued_at = now});
          }
        }
        relist_active_ = false;
        std::unordered_set<std::string>().swap(relist_seen_);
        indexer_->Bookmark(d.resource_version);
        // Before the sync is announced: whoever sees the cache synced sees its version.
        AdvanceCacheResourceVersion(d.resource_version);
        consistent_rv_ = d.resource_version;
        MarkSynced(listeners);
        return;
      }
      case DeltaType::kSyncAll: {
        std::vector<std::shared_ptr<ProcessorListener>> due;
        {
          MutexLock l(mu_);
          for (const auto& listener : listeners) {
            if (listener->resync_pending) {
              listener->resync_pending = false;
              due.push_back(listener);
            }
          }
        }
        if (due.empty()) return;
        // B54/B59: in memory only, no server request.
        const Clock::TimePoint now = clock_->Now();
        std::vector<ObjectPtr> objects = indexer_->List();
        Count(resyncs_, objects.size());
        for (ObjectPtr& obj : objects) {
          Notify(due,
                 Notification{
                     .kind = Notification::Kind::kResync, .obj = std::move(obj), .queued_at = now});
        }
        return;
      }
      case DeltaType::kBookmark:
        indexer_->Bookmark(d.resource_version);  // B49: the store's RV only
        AdvanceCacheResourceVersion(d.resource_version);
        consistent_rv_ = d.resource_version;
        return;
    }
  }

  // Returns whether any handler was due.
  bool NotifyResync(const std::vector<std::shared_ptr<ProcessorListener>>& listeners,
                    const ObjectPtr& obj, Clock::TimePoint now) {
    bool any = false;
    MutexLock l(mu_);
    for (const auto& listener : listeners) {
      if (listener->resync_pending) {
        listener->Add(
            Notification{.kind = Notification::Kind::kResync, .obj = obj, .queued_at = now});
        any = true;
      }
    }
    return any;
  }

  // B27: an add/update/delete before any list also counts as populated.
  void MarkPopulatedByWatch(const std::vector<std::shared_ptr<ProcessorListener>>& listeners) {
    if (!replace_seen_ && !synced_.load(std::memory_order_relaxed)) MarkSynced(listeners);
  }

  void MarkSynced(const std::vector<std::shared_ptr<ProcessorListener>>& listeners) {
    if (synced_.load(std::memory_order_relaxed)) return;
    // Each handler's registration syncs once it has returned from the adds queued before this
    // marker (B30).
    Notify(listeners,
           Notification{.kind = Notification::Kind::kSyncedMarker, .queued_at = clock_->Now()});
    MutexLock l(sync_mu_);
    synced_.store(true, std::memory_order_release);
    sync_cv_.notify_all();
  }

  const std::shared_ptr<ListerWatcher> lw_;
  const SharedInformerOptions options_;
  const std::shared_ptr<Clock> clock_;
  const std::shared_ptr<Executor> executor_;
  const std::shared_ptr<ThreadSafeStore> indexer_;
  const std::shared_ptr<SerialQueue> process_queue_;

  // Lock order: block_deltas_, then mu_, then a listener's own lock.
  Mutex block_deltas_ KUBE_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  bool started_ KUBE_GUARDED_BY(mu_) = false;
  bool stopped_ KUBE_GUARDED_BY(mu_) = false;
  bool stop_done_ KUBE_GUARDED_BY(mu_) = false;
  std::condition_variable stop_cv_;
  std::vector<std::shared_ptr<ProcessorListener>> listeners_ KUBE_GUARDED_BY(mu_);
  std::chrono::milliseconds check_period_ KUBE_GUARDED_BY(mu_);
  TransformFunc transform_ KUBE_GUARDED_BY(mu_);
  std::function<void(const Status&)> error_handler_ KUBE_GUARDED_BY(mu_);
  std::shared_ptr<DeltaFifo> fifo_;  // set once by Run, before any Drain can run
  std::shared_ptr<internal::Reflector> reflector_ KUBE_GUARDED_BY(mu_);
  std::shared_ptr<Timer> resync_timer_ KUBE_GUARDED_BY(mu_);

  // Touched only by Process (under block_deltas_).
  bool relist_active_ = false;
  bool replace_seen_ = false;
  std::unordered_set<std::string> relist_seen_;
  // Warm restarts, under block_deltas_: the version the cache is consistent with after the last
  // applied delta ("" while none is known), the last one written, and whether the cache came
  // from a snapshot.
  std::string consistent_rv_;
  std::string last_written_rv_;
  bool warm_ = false;
  // The snapshot thread (when `snapshot.interval` > 0).
  std::thread snapshot_thread_;
  Mutex snapshot_mu_;
  std::condition_variable snapshot_cv_;
  bool snapshot_stop_ KUBE_GUARDED_BY(snapshot_mu_) = false;
  std::atomic<bool> snapshot_loaded_{false};
  std::atomic<size_t> snapshot_objects_loaded_{0};
  std::atomic<uint64_t> snapshots_written_{0}, snapshot_write_errors_{0}, snapshot_write_cpu_ns_{0};

  std::atomic<bool> synced_{false};
  std::atomic<bool> stopping_{false};
  // Written only by the delta processing (see `Count`).
  std::atomic<uint64_t> adds_{0}, updates_{0}, deletes_{0}, resyncs_{0};
  mutable Mutex sync_mu_;
  mutable std::condition_variable sync_cv_;

  // Read-your-writes. `rv_mu_` is a leaf: nothing else is locked while it is held.
  mutable Mutex rv_mu_ KUBE_ACQUIRED_AFTER(block_deltas_);
  std::string cache_rv_ KUBE_GUARDED_BY(rv_mu_);                     // `CacheResourceVersion()`
  std::optional<uint64_t> cache_rv_number_ KUBE_GUARDED_BY(rv_mu_);  // it, when a number
  bool rv_stopped_ KUBE_GUARDED_BY(rv_mu_) = false;
  // Waiters by target version, so an advance answers exactly those it reaches, in order.
  mutable std::multimap<uint64_t, RvWaiter*> rv_waiters_ KUBE_GUARDED_BY(rv_mu_);
};

}  // namespace

std::shared_ptr<ResourceEventHandler> MakeHandler(ResourceEventHandlerFuncs funcs) {
  return std::make_shared<FuncsHandler>(std::move(funcs));
}

std::shared_ptr<ResourceEventHandler> FilteringHandler(
    std::function<bool(const Object&)> filter, std::shared_ptr<ResourceEventHandler> handler) {
  return std::make_shared<Filtering>(std::move(filter), std::move(handler));
}

std::shared_ptr<SharedIndexInformer> SharedIndexInformer::Create(std::shared_ptr<ListerWatcher> lw,
                                                                 SharedInformerOptions options) {
  return internal::NewSharedIndexInformer(std::move(lw), std::move(options), Executor::Shared());
}

namespace internal {

std::shared_ptr<SharedIndexInformer> NewSharedIndexInformer(std::shared_ptr<ListerWatcher> lw,
                                                            SharedInformerOptions options,
                                                            std::shared_ptr<Executor> executor) {
  return std::make_shared<SharedIndexInformerImpl>(std::move(lw), std::move(options),
                                                   std::move(executor));
}

}  // namespace internal
}  // namespace kube

// ProcessorListener: one handler's unbounded, in-order notification buffer and its delivery.
//
// Reads from: the shared informer's delta processing (`Add`), which never waits for a handler.
// Feeds: one `ResourceEventHandler`, one notification at a time, on an executor worker.
// client-go: tools/cache/shared_informer.go (processorListener, its pop/run goroutines and
// buffer.RingGrowing).
#ifndef KUBE_CACHE_PROCESSOR_LISTENER_H_
#define KUBE_CACHE_PROCESSOR_LISTENER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "base/executor.h"
#include "base/mutex.h"
#include "kube/cache/shared_informer.h"
#include "kube/clock.h"

namespace kube::internal {

struct Notification {
  enum class Kind : uint8_t { kAdd, kUpdate, kResync, kDelete, kSyncedMarker };
  Kind kind = Kind::kAdd;
  bool is_in_initial_list = false;   // kAdd: `OnAdd`'s second argument
  bool from_snapshot = false;        // kAdd: delivered as `OnSnapshotAdd`
  bool final_state_unknown = false;  // kDelete: `DeletedObject::final_state_unknown`
  ObjectPtr old_obj;                 // kUpdate
  ObjectPtr obj;
  std::string key;               // kDelete
  Clock::TimePoint queued_at{};  // when the informer queued it (for `InformerStats` lag)
};

class ProcessorListener final : public ResourceEventHandlerRegistration,
                                public std::enable_shared_from_this<ProcessorListener> {
 public:
  ProcessorListener(std::shared_ptr<ResourceEventHandler> handler, std::string name,
                    std::chrono::milliseconds resync_period, const void* owner,
                    std::shared_ptr<Executor> executor);

  // Queues a notification; schedules delivery if none is running. Never blocks.
  void Add(Notification n) KUBE_EXCLUDES(mu_);
  // Queues `batch` in order, under one lock and with at most one wake-up. The notifications are
  // moved in: a caller with several listeners copies the batch for all but the last, outside any
  // listener's lock.
  void AddBatch(std::vector<Notification> batch) KUBE_EXCLUDES(mu_);
  // Stops delivery: queued notifications are dropped. Idempotent.
  void Remove() KUBE_EXCLUDES(mu_);
  // Waits until no handler call is running (after `Remove`).
  void WaitIdle() KUBE_EXCLUDES(mu_);
  bool removed() const { return removed_.load(std::memory_order_acquire); }

  // ResourceEventHandlerRegistration.
  bool HasSynced() const override;
  bool WaitForSynced(std::chrono::milliseconds timeout) const override KUBE_EXCLUDES(mu_);
  size_t PendingNotifications() const override KUBE_EXCLUDES(mu_);
  uint64_t HandlerErrors() const override { return errors_.load(std::memory_order_relaxed); }
  // This handler's counters; `now` (the informer's clock) measures the lag.
  InformerStats::Handler Stats(Clock::TimePoint now) const KUBE_EXCLUDES(mu_);
  // Wakes `WaitForSynced` callers when the informer stops.
  void NotifyStopped() KUBE_EXCLUDES(mu_);

  // Resync bookkeeping, touched only by the informer under its own lock.
  std::chrono::milliseconds resync_period;
  Clock::TimePoint next_resync{};
  bool resync_pending = false;  // chosen at the last resync check; cleared when delivered

  const void* owner() const { return owner_; }
  const std::string& name() const { return name_; }

 private:
  void Drain() KUBE_EXCLUDES(mu_);
  void Deliver(const Notification& n);
  // Posts a `Drain` to the executor (or clears `scheduled_` if it is gone).
  void ScheduleDrain() KUBE_EXCLUDES(mu_);

  const std::shared_ptr<ResourceEventHandler> handler_;
  const std::string name_;
  const void* const owner_;  // the informer, to reject foreign registrations
  const std::weak_ptr<Executor> executor_;

  mutable Mutex mu_;
  mutable std::condition_variable cv_;  // synced, idle, or stopped
  std::deque<Notification> buffer_ KUBE_GUARDED_BY(mu_);
  size_t markers_buffered_ KUBE_GUARDED_BY(mu_) = 0;  // kSyncedMarker entries in `buffer_`
  // The notification being delivered: when it was queued (valid while `running_`).
  Clock::TimePoint running_queued_at_ KUBE_GUARDED_BY(mu_){};
  bool scheduled_ KUBE_GUARDED_BY(mu_) = false;  // a Drain is queued or running
  bool running_ KUBE_GUARDED_BY(mu_) = false;    // a handler call is in progress
  bool stopped_ KUBE_GUARDED_BY(mu_) = false;    // the informer stopped
  std::atomic<bool> removed_{false};
  std::atomic<bool> synced_{false};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> delivered_{0};
};

}  // namespace kube::internal

#endif  // KUBE_CACHE_PROCESSOR_LISTENER_H_

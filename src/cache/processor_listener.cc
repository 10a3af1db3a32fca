#include "cache/processor_listener.h"

#include <exception>
#include <optional>
#include <utility>

#include "base/logging.h"

namespace kube::internal {

ProcessorListener::ProcessorListener(std::shared_ptr<ResourceEventHandler> handler,
                                     std::string name, std::chrono::milliseconds resync,
                                     const void* owner, std::shared_ptr<Executor> executor)
    : resync_period(resync),
      handler_(std::move(handler)),
      name_(std::move(name)),
      owner_(owner),
      executor_(executor) {}

void ProcessorListener::Add(Notification n) {
  {
    MutexLock l(mu_);
    if (removed_.load(std::memory_order_relaxed) || stopped_) return;
    if (n.kind == Notification::Kind::kSyncedMarker) ++markers_buffered_;
    buffer_.push_back(std::move(n));
    if (scheduled_) return;
    scheduled_ = true;
  }
  ScheduleDrain();
}

void ProcessorListener::AddBatch(std::vector<Notification> batch) {
  if (batch.empty()) return;
  {
    MutexLock l(mu_);
    if (removed_.load(std::memory_order_relaxed) || stopped_) return;
    for (Notification& n : batch) {
      if (n.kind == Notification::Kind::kSyncedMarker) ++markers_buffered_;
      buffer_.push_back(std::move(n));
    }
    if (scheduled_) return;
    scheduled_ = true;
  }
  ScheduleDrain();
}

void ProcessorListener::ScheduleDrain() {
  if (auto executor = executor_.lock()) {
    executor->Post([self = shared_from_this()] { self->Drain(); });
  } else {
    MutexLock l(mu_);
    scheduled_ = false;
  }
}

void ProcessorListener::Drain() {
  // A bounded turn, so one busy handler cannot hold a worker while others' notifications wait
  // (the executor adds workers for handlers that block; this covers handlers that are merely
  // busy). One lock round trip per notification: the one that ends a delivery takes the next.
  constexpr int kPerTurn = 256;
  Notification n;
  bool have = false;  // `n` was taken and is to be delivered
  for (int i = 0; i <= kPerTurn; ++i) {
    {
      MutexLock l(mu_);
      if (have) {
        running_ = false;  // the previous delivery has returned
        have = false;
      }
      if (buffer_.empty() || removed_.load(std::memory_order_relaxed) || stopped_) {
        buffer_.clear();
        markers_buffered_ = 0;
        scheduled_ = false;
        cv_.notify_all();
        return;
      }
      if (i < kPerTurn) {
        n = std::move(buffer_.front());
        buffer_.pop_front();
        if (n.kind == Notification::Kind::kSyncedMarker) --markers_buffered_;
        running_queued_at_ = n.queued_at;
        running_ = true;
        have = true;
      }
    }
    if (!have) break;
    if (n.kind != Notification::Kind::kSyncedMarker) {
      delivered_.fetch_add(1, std::memory_order_relaxed);
    }
    Deliver(n);
    n = Notification{};  // release the objects before waiting for the lock
  }
  cv_.notify_all();  // WaitIdle callers: no delivery is running now
  ScheduleDrain();   // more is queued: yield the worker, then continue
}

void ProcessorListener::Deliver(const Notification& n) {
  try {
    switch (n.kind) {
      case Notification::Kind::kAdd:
        if (n.from_snapshot) {
          handler_->OnSnapshotAdd(n.obj);
        } else {
          handler_->OnAdd(n.obj, n.is_in_initial_list);
        }
        break;
      case Notification::Kind::kUpdate:
        handler_->OnUpdate(n.old_obj, n.obj);
        break;
      case Notification::Kind::kResync:
        handler_->OnResync(n.obj);
        break;
      case Notification::Kind::kDelete:
        handler_->OnDelete(DeletedObject(n.obj, n.final_state_unknown, n.key));
        break;
      case Notification::Kind::kSyncedMarker: {
        // Set under the lock so a waiter cannot check, miss the store, then sleep.
        MutexLock l(mu_);
        synced_.store(true, std::memory_order_release);
        cv_.notify_all();
        break;
      }
    }
  } catch (const std::exception& e) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    KUBE_LOG(kError, "informer") << "handler " << name_ << " threw: " << e.what();
  } catch (...) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    KUBE_LOG(kError, "informer") << "handler " << name_ << " threw a non-standard exception";
  }
}

void ProcessorListener::Remove() {
  removed_.store(true, std::memory_order_release);
  MutexLock l(mu_);
  buffer_.clear();
  markers_buffered_ = 0;
  cv_.notify_all();
}

void ProcessorListener::WaitIdle() {
  MutexLock l(mu_);
  while (running_) l.Wait(cv_);
}

bool ProcessorListener::HasSynced() const { return synced_.load(std::memory_order_acquire); }

bool ProcessorListener::WaitForSynced(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock l(mu_);
  while (!synced_.load(std::memory_order_acquire) && !stopped_ &&
         !removed_.load(std::memory_order_acquire)) {
    if (!l.WaitUntil(cv_, deadline) && std::chrono::steady_clock::now() >= deadline) break;
  }
  return synced_.load(std::memory_order_acquire);
}

size_t ProcessorListener::PendingNotifications() const {
  MutexLock l(mu_);
  return buffer_.size() - markers_buffered_;
}

InformerStats::Handler ProcessorListener::Stats(Clock::TimePoint now) const {
  InformerStats::Handler h;
  h.name = name_;
  h.delivered = delivered_.load(std::memory_order_relaxed);
  h.failed = errors_.load(std::memory_order_relaxed);
  MutexLock l(mu_);
  h.queue_depth = buffer_.size() - markers_buffered_;
  // The oldest notification not yet delivered: the one in the handler now, else the first queued
  // (a synced marker is queued like the rest, so it counts for the lag, not for the depth).
  std::optional<Clock::TimePoint> oldest;
  if (running_) {
    oldest = running_queued_at_;
  } else if (!buffer_.empty()) {
    oldest = buffer_.front().queued_at;
  }
  if (oldest && now > *oldest) h.lag = now - *oldest;
  return h;
}

void ProcessorListener::NotifyStopped() {
  MutexLock l(mu_);
  stopped_ = true;
  buffer_.clear();
  markers_buffered_ = 0;
  cv_.notify_all();
}

}  // namespace kube::internal

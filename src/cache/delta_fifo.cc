// The in-order delta queue. See include/kube/cache/delta_fifo.h for why it is in order.
#include "kube/cache/delta_fifo.h"

#include <condition_variable>
#include <deque>
#include <stop_token>
#include <utility>

#include "base/mutex.h"

namespace kube {

using internal::Mutex;
using internal::MutexLock;

std::string_view DeltaTypeName(DeltaType t) {
  switch (t) {
    case DeltaType::kAdded:
      return "Added";
    case DeltaType::kUpdated:
      return "Updated";
    case DeltaType::kDeleted:
      return "Deleted";
    case DeltaType::kReplaced:
      return "Replaced";
    case DeltaType::kReplaceBegin:
      return "ReplaceBegin";
    case DeltaType::kReplaceEnd:
      return "ReplaceEnd";
    case DeltaType::kSyncAll:
      return "SyncAll";
    case DeltaType::kBookmark:
      return "Bookmark";
  }
  return "Unknown";
}

struct DeltaFifo::Impl {
  Options options;
  std::function<void()> on_ready;
  mutable Mutex mu;
  std::condition_variable drained;  // relist backlog shrank, or closed
  std::deque<Delta> queue KUBE_GUARDED_BY(mu);
  size_t replace_backlog KUBE_GUARDED_BY(mu) = 0;  // kReplaced deltas queued
  bool closed KUBE_GUARDED_BY(mu) = false;

  // Appends `deltas` in order; calls `on_ready` if the queue was empty.
  Status Push(std::vector<Delta> deltas) KUBE_EXCLUDES(mu) {
    bool was_empty;
    {
      MutexLock l(mu);
      if (closed) return CancelledError("delta FIFO is closed");
      was_empty = queue.empty();
      for (Delta& d : deltas) {
        if (d.type == DeltaType::kReplaced) ++replace_backlog;
        queue.push_back(std::move(d));
      }
    }
    if (was_empty && !deltas.empty() && on_ready) on_ready();
    return Status::Ok();
  }

  // Queues one delta that carries no object (a resync or a relist bracket).
  Status PushMarker(DeltaType type, std::string rv = {}) {
    std::vector<Delta> one;
    one.push_back(Delta{type, nullptr, std::move(rv)});
    return Push(std::move(one));
  }

  ObjectPtr Transform(DeltaType type, ObjectPtr obj) const {
    // B56 (docs/behaviours.md): the transform runs once per object as it enters the queue;
    // deletions carry the object as the watch sent it, transformed like any other, so handlers see
    // one shape.
    if (!options.transform || obj == nullptr || type == DeltaType::kSyncAll) return obj;
    ObjectPtr out = options.transform(obj);
    return out != nullptr ? out : obj;
  }

  std::vector<Delta> PopLocked(size_t max) KUBE_REQUIRES(mu) {
    std::vector<Delta> out;
    size_t n = std::min(max, queue.size());
    out.reserve(n);
    size_t replaced = 0;
    for (size_t i = 0; i < n; ++i) {
      if (queue.front().type == DeltaType::kReplaced) ++replaced;
      out.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    replace_backlog -= replaced;
    return out;
  }
};

DeltaFifo::DeltaFifo(Options options, std::function<void()> on_ready)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->on_ready = std::move(on_ready);
}

DeltaFifo::~DeltaFifo() { Close(); }

Status DeltaFifo::Resync() { return impl_->PushMarker(DeltaType::kSyncAll); }

Status DeltaFifo::Push(std::vector<Delta> deltas) {
  for (Delta& d : deltas) {
    if (d.object == nullptr && (d.type == DeltaType::kAdded || d.type == DeltaType::kUpdated ||
                                d.type == DeltaType::kDeleted || d.type == DeltaType::kReplaced)) {
      return InvalidArgumentError("delta FIFO: null object in Push");
    }
  }
  if (impl_->options.transform) {
    for (Delta& d : deltas) d.object = impl_->Transform(d.type, std::move(d.object));
  }
  return impl_->Push(std::move(deltas));
}

Status DeltaFifo::ReplaceBegin() { return impl_->PushMarker(DeltaType::kReplaceBegin); }

Status DeltaFifo::ReplaceItems(std::vector<ObjectPtr> items, std::stop_token stop) {
  for (const ObjectPtr& obj : items) {
    if (obj == nullptr) return InvalidArgumentError("delta FIFO: null object in ReplaceItems");
  }
  {
    // A stop wakes the wait: the lock taken first means the waiter is either before its check
    // (and sees the stop) or inside the wait (and gets the notification).
    std::stop_callback wake(stop, [impl = impl_.get()] {
      { MutexLock l(impl->mu); }
      impl->drained.notify_all();
    });
    MutexLock l(impl_->mu);
    const size_t limit = impl_->options.max_replace_backlog;
    while (limit != 0 && impl_->replace_backlog > limit && !impl_->closed &&
           !stop.stop_requested()) {
      l.Wait(impl_->drained);
    }
    if (impl_->closed) return CancelledError("delta FIFO is closed");
    if (stop.stop_requested()) return CancelledError("relist stopped");
  }
  std::vector<Delta> deltas;
  deltas.reserve(items.size());
  for (ObjectPtr& obj : items) {
    deltas.push_back(
        Delta{DeltaType::kReplaced, impl_->Transform(DeltaType::kReplaced, std::move(obj)), {}});
  }
  return impl_->Push(std::move(deltas));
}

Status DeltaFifo::ReplaceEnd(std::string resource_version) {
  return impl_->PushMarker(DeltaType::kReplaceEnd, std::move(resource_version));
}

std::vector<Delta> DeltaFifo::PopBatch(size_t max) {
  std::vector<Delta> out;
  {
    MutexLock l(impl_->mu);
    out = impl_->PopLocked(max);
  }
  impl_->drained.notify_all();
  return out;
}

void DeltaFifo::Close() {
  {
    MutexLock l(impl_->mu);
    impl_->closed = true;
  }
  impl_->drained.notify_all();
}

}  // namespace kube

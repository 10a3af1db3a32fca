// Storage: objects, resourceVersions, history and watch fan-out; see storage.h.
//
// Reads from: the registry (writes), the router (reads). Feeds: list answers, watch streams.
#include "server/storage.h"

#include <algorithm>
#include <utility>

#include "server/object_json.h"

namespace kube::server {

std::string StorageKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key;
  key.reserve(ns.size() + 1 + name.size());
  key.append(ns).append("/").append(name);
  return key;
}

namespace {

// Whether `key` lies in namespace `ns` ("" = every namespace).
bool InNamespace(std::string_view key, std::string_view ns) {
  return ns.empty() ||
         (key.size() > ns.size() && key[ns.size()] == '/' && key.substr(0, ns.size()) == ns);
}

// What an event keeps alive: the states it holds.
size_t EventBytes(const StoredEvent& e) {
  return (e.object ? e.object->MemoryUsage() : 0) + (e.previous ? e.previous->MemoryUsage() : 0);
}

}  // namespace

ObjectPtr StoredEvent::PreviousAtRv() const {
  std::call_once(once_, [this] {
    if (previous) previous_at_rv_ = WithResourceVersion(previous, rv);
  });
  return previous_at_rv_;
}

// --- Watcher -----------------------------------------------------------------------------------

Watcher::Watcher(GroupVersionResource gvr, size_t limit, std::function<void()> notify)
    : gvr_(std::move(gvr)), limit_(limit), notify_(std::move(notify)) {}

void Watcher::NotifyLocked(bool force) {
  if ((notified_ && !force) || !notify_) return;
  notified_ = true;
  notify_();
}

void Watcher::Push(EventPtr e) {
  internal::MutexLock lock(mu_);
  if (end_ != End::kNone) return;
  if (queue_.size() >= limit_) {
    end_ = End::kOverflow;
    queue_.clear();
    NotifyLocked(/*force=*/true);
    return;
  }
  queue_.push_back(std::move(e));
  NotifyLocked();
}

void Watcher::PushUnbounded(EventPtr e) {
  internal::MutexLock lock(mu_);
  if (end_ != End::kNone) return;
  queue_.push_back(std::move(e));
  NotifyLocked();
}

void Watcher::Close(End reason) {
  internal::MutexLock lock(mu_);
  if (end_ != End::kNone) return;
  end_ = reason;
  queue_.clear();
  NotifyLocked(/*force=*/true);
}

Watcher::End Watcher::end() const {
  internal::MutexLock lock(mu_);
  return end_;
}

void Watcher::RequestCut() {
  internal::MutexLock lock(mu_);
  cut_ = true;
  NotifyLocked();
}

Watcher::Batch Watcher::Take(size_t max) {
  internal::MutexLock lock(mu_);
  notified_ = false;
  Batch b;
  b.end = end_;
  b.cut = cut_;
  size_t n = std::min(max, queue_.size());
  b.events.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    b.events.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  // More remain: stay "notified" so the consumer keeps draining without another wake-up.
  if (!queue_.empty()) notified_ = true;
  return b;
}

// --- Storage -----------------------------------------------------------------------------------

Storage::Storage(Options options) : options_(options) {}

uint64_t Storage::CurrentRv() const {
  internal::ReaderMutexLock lock(mu_);
  return rv_;
}

uint64_t Storage::CompactedRv() const {
  internal::ReaderMutexLock lock(mu_);
  return compacted_rv_;
}

size_t Storage::HistoryBytes() const {
  internal::ReaderMutexLock lock(mu_);
  return history_bytes_;
}

size_t Storage::HistorySize() const {
  internal::ReaderMutexLock lock(mu_);
  return history_.size();
}

std::shared_ptr<RvWaiter> Storage::AwaitRv(uint64_t rv, std::function<void()> notify) {
  internal::WriterMutexLock lock(mu_);
  if (rv <= rv_) return nullptr;
  auto w = std::make_shared<RvWaiter>(RvWaiter{rv, std::move(notify)});
  rv_waiters_.emplace(rv, w);
  return w;
}

void Storage::CancelRvWait(const std::shared_ptr<RvWaiter>& waiter) {
  if (!waiter) return;
  internal::WriterMutexLock lock(mu_);
  auto [first, last] = rv_waiters_.equal_range(waiter->rv);
  for (auto it = first; it != last; ++it) {
    if (it->second == waiter) {
      rv_waiters_.erase(it);
      return;
    }
  }
}

void Storage::ReleaseRvWaiters() {
  internal::WriterMutexLock lock(mu_);
  for (auto& [rv, w] : rv_waiters_) {
    if (w->notify) w->notify();
  }
  rv_waiters_.clear();
}

size_t Storage::RvWaiterCount() const {
  internal::ReaderMutexLock lock(mu_);
  return rv_waiters_.size();
}

ObjectPtr Storage::Get(const GroupVersionResource& gvr, std::string_view key) const {
  internal::ReaderMutexLock lock(mu_);
  auto r = objects_.find(gvr);
  if (r == objects_.end()) return nullptr;
  auto it = r->second.find(key);
  return it == r->second.end() ? nullptr : it->second;
}

ApiOr<Storage::ListPage> Storage::List(const GroupVersionResource& gvr, const ListQuery& q) const {
  internal::ReaderMutexLock lock(mu_);
  ListPage page;
  page.rv = rv_;
  static const ObjectMap kEmpty;
  auto r = objects_.find(gvr);
  const ObjectMap& current = r == objects_.end() ? kEmpty : r->second;
  // How many objects the listed namespace(s) hold at the snapshot: now, corrected below for
  // every key changed since.
  int64_t total = static_cast<int64_t>(SizeLocked(gvr, q.ns));
  // The state at an older snapshot is the current state with every later change of this
  // resource undone: for each key changed since, its state before the earliest such change.
  ObjectMap overlay;
  if (q.at_rv && *q.at_rv != rv_) {
    if (*q.at_rv > rv_) return TooLargeResourceVersion(*q.at_rv, rv_);
    if (*q.at_rv < compacted_rv_) return TooOldResourceVersion(*q.at_rv, compacted_rv_);
    page.rv = *q.at_rv;
    for (auto it = history_.rbegin(); it != history_.rend() && (*it)->rv > *q.at_rv; ++it) {
      const StoredEvent& e = **it;
      if (e.gvr != gvr || !InNamespace(e.key, q.ns)) continue;
      overlay[e.key] = e.previous;  // iterating backwards: the earliest change wins
    }
    for (const auto& [key, then] : overlay) {
      total += (then ? 1 : 0) - (current.contains(key) ? 1 : 0);
    }
  }

  auto start = [&](const ObjectMap& m) {
    if (!q.after_key.empty()) return m.upper_bound(q.after_key);
    return q.ns.empty() ? m.begin() : m.lower_bound(q.ns + "/");
  };
  auto cur = start(current);
  auto ovl = start(overlay);
  auto cur_ok = [&] { return cur != current.end() && InNamespace(cur->first, q.ns); };
  auto ovl_ok = [&] { return ovl != overlay.end() && InNamespace(ovl->first, q.ns); };
  // The next object of the snapshot in key order that the filter accepts, or null: a merge of
  // the two key-ordered maps where the overlay wins on equal keys. Entries stay put while the
  // read lock is held.
  auto next = [&]() -> const ObjectMap::value_type* {
    while (cur_ok() || ovl_ok()) {
      const ObjectMap::value_type* e;
      if (ovl_ok() && (!cur_ok() || ovl->first <= cur->first)) {
        if (cur_ok() && cur->first == ovl->first) ++cur;
        e = &*ovl++;
      } else {
        e = &*cur++;
      }
      if (!e->second) continue;  // absent at the snapshot
      if (q.filter && !q.filter(*e->second)) continue;
      return e;
    }
    return nullptr;
  };

  const ObjectMap::value_type* last = nullptr;
  // At most the snapshot's size (a filter may take fewer): no regrowth of a large page.
  size_t expected = static_cast<size_t>(std::max<int64_t>(total, 0));
  page.items.reserve(q.limit > 0 ? std::min(q.limit, expected) : expected);
  while (const ObjectMap::value_type* e = next()) {
    if (q.limit > 0 && page.items.size() == q.limit) {
      page.more = true;
      break;
    }
    page.items.push_back(e->second);
    last = e;
  }
  if (last) page.last_key = last->first;
  if (!page.more || !q.count_remaining || q.filter) return page;

  // Everything at the snapshot is before `last_key` (counted by the earlier pages and this
  // one) or after it, so the rest is the total minus what has been returned.
  const int64_t returned = static_cast<int64_t>(page.items.size());
  if (q.after_key.empty() || q.after_count) {
    const int64_t before =
        q.after_key.empty()
            ? 0
            : static_cast<int64_t>(std::min(*q.after_count, static_cast<size_t>(total)));
    if (total - before - returned >= 1) {  // `more` says at least one follows
      page.remaining = total - before - returned;
      page.position = static_cast<size_t>(before + returned);
      return page;
    }
  }
  // The position is unknown (an inconsistent continuation) or the count does not fit the
  // snapshot (a token this server did not make): count the rest by walking it. The token of the
  // next page then carries the position again.
  page.remaining = 1;  // the object `next` found above
  while (next()) ++page.remaining;
  if (page.remaining <= total) page.position = static_cast<size_t>(total - page.remaining);
  return page;
}

void Storage::CountLocked(const GroupVersionResource& gvr, std::string_view key, int delta) {
  size_t slash = key.find('/');
  std::string_view ns = slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
  NamespaceCounts& counts = counts_[gvr];
  auto it = counts.find(ns);
  if (it == counts.end()) it = counts.emplace(std::string(ns), 0).first;
  it->second += delta;
  if (it->second == 0) counts.erase(it);
}

size_t Storage::SizeLocked(const GroupVersionResource& gvr, std::string_view ns) const {
  if (ns.empty()) {
    auto r = objects_.find(gvr);
    return r == objects_.end() ? 0 : r->second.size();
  }
  auto c = counts_.find(gvr);
  if (c == counts_.end()) return 0;
  auto it = c->second.find(ns);
  return it == c->second.end() ? 0 : it->second;
}

void Storage::CommitLocked(const GroupVersionResource& gvr, const std::string& key, EventType type,
                           ObjectPtr object, ObjectPtr previous, uint64_t rv) {
  rv_ = rv;
  auto e = std::make_shared<StoredEvent>();
  e->rv = rv;
  e->gvr = gvr;
  e->key = key;
  e->type = type;
  e->object = std::move(object);
  e->previous = std::move(previous);
  e->bytes = EventBytes(*e);
  EventPtr ev = std::move(e);
  history_.push_back(ev);
  history_bytes_ += ev->bytes;
  TrimHistoryLocked();
  auto w = watchers_.find(gvr);
  if (w != watchers_.end()) {
    for (const auto& watcher : w->second) watcher->Push(ev);
  }
  while (!rv_waiters_.empty() && rv_waiters_.begin()->first <= rv_) {
    if (rv_waiters_.begin()->second->notify) rv_waiters_.begin()->second->notify();
    rv_waiters_.erase(rv_waiters_.begin());
  }
}

void Storage::TrimHistoryLocked() {
  // Compacting an event makes its version the oldest a watch may resume from: a resume from
  // before it gets 410 Expired, as from kube-apiserver's watch cache once it has dropped events.
  while (!history_.empty() && (history_.size() > options_.history_limit ||
                               history_bytes_ > options_.history_bytes_limit)) {
    compacted_rv_ = history_.front()->rv;
    history_bytes_ -= history_.front()->bytes;
    history_.pop_front();
  }
}

ApiOr<Storage::Change> Storage::Mutate(const GroupVersionResource& gvr, const std::string& key,
                                       const Mutation& fn) {
  internal::WriterMutexLock lock(mu_);
  ObjectMap& objects = objects_[gvr];
  auto it = objects.find(key);
  ObjectPtr current = it == objects.end() ? nullptr : it->second;
  uint64_t next = rv_ + 1;
  ApiOr<Change> change = fn(current, next);
  if (!change.ok()) return change;
  switch (change->op) {
    case Change::Op::kNone:
      break;
    case Change::Op::kPut: {
      EventType type = current ? EventType::kModified : EventType::kAdded;
      if (!current) CountLocked(gvr, key, +1);
      objects[key] = change->object;
      CommitLocked(gvr, key, type, change->object, current, next);
      break;
    }
    case Change::Op::kDelete: {
      if (!current) break;
      if (!change->object) change->object = WithResourceVersion(current, next);
      objects.erase(key);
      CountLocked(gvr, key, -1);
      CommitLocked(gvr, key, EventType::kDeleted, change->object, current, next);
      break;
    }
  }
  return change;
}

void Storage::RemoveNamespaceContents(std::string_view ns) {
  internal::WriterMutexLock lock(mu_);
  for (auto& [gvr, objects] : objects_) {
    auto it = objects.lower_bound(std::string(ns) + "/");
    while (it != objects.end() && InNamespace(it->first, ns)) {
      ObjectPtr last = it->second;
      std::string key = it->first;
      it = objects.erase(it);
      CountLocked(gvr, key, -1);
      uint64_t next = rv_ + 1;
      CommitLocked(gvr, key, EventType::kDeleted, WithResourceVersion(last, next), last, next);
    }
  }
}

void Storage::RemoveResource(const GroupVersionResource& gvr) {
  internal::WriterMutexLock lock(mu_);
  auto r = objects_.find(gvr);
  if (r != objects_.end()) {
    ObjectMap objects = std::move(r->second);
    objects_.erase(r);
    counts_.erase(gvr);
    for (auto& [key, last] : objects) {
      uint64_t next = rv_ + 1;
      CommitLocked(gvr, key, EventType::kDeleted, WithResourceVersion(last, next), last, next);
    }
  }
  auto w = watchers_.find(gvr);
  if (w != watchers_.end()) {
    for (const auto& watcher : w->second) watcher->Close(Watcher::End::kResourceRemoved);
    watchers_.erase(w);
  }
}

ApiOr<Storage::WatchStart> Storage::Watch(const GroupVersionResource& gvr, std::string_view ns,
                                          std::optional<uint64_t> from_rv,
                                          std::function<void()> notify) {
  internal::WriterMutexLock lock(mu_);
  WatchStart start;
  start.watcher = std::make_shared<Watcher>(gvr, options_.watch_queue_limit, std::move(notify));
  if (!from_rv) {
    start.rv = rv_;
    auto r = objects_.find(gvr);
    if (r != objects_.end()) {
      auto it = ns.empty() ? r->second.begin() : r->second.lower_bound(std::string(ns) + "/");
      for (; it != r->second.end() && InNamespace(it->first, ns); ++it) {
        start.initial.push_back(it->second);
      }
    }
  } else {
    if (*from_rv < compacted_rv_) return TooOldResourceVersion(*from_rv, compacted_rv_);
    // A version this server has not reached: it is not in this server's history (the client
    // saw another server, or this one before it restarted), so nothing can be replayed from it.
    if (*from_rv > rv_) return TooLargeResourceVersion(*from_rv, rv_);
    start.rv = *from_rv;
    // Replay what the client missed, oldest first.
    auto it = std::upper_bound(history_.begin(), history_.end(), *from_rv,
                               [](uint64_t rv, const EventPtr& e) { return rv < e->rv; });
    for (; it != history_.end(); ++it) {
      if ((*it)->gvr == gvr) start.watcher->PushUnbounded(*it);
    }
  }
  watchers_[gvr].push_back(start.watcher);
  return start;
}

void Storage::Unwatch(const std::shared_ptr<Watcher>& w) {
  internal::WriterMutexLock lock(mu_);
  auto it = watchers_.find(w->gvr());
  if (it == watchers_.end()) return;
  auto& v = it->second;
  auto pos = std::find(v.begin(), v.end(), w);
  if (pos != v.end()) {
    std::swap(*pos, v.back());
    v.pop_back();
  }
}

void Storage::Compact() {
  internal::WriterMutexLock lock(mu_);
  history_.clear();
  history_bytes_ = 0;
  compacted_rv_ = rv_;
}

void Storage::CloseAllWatchers(Watcher::End reason) {
  internal::WriterMutexLock lock(mu_);
  for (auto& [gvr, v] : watchers_) {
    for (const auto& w : v) w->Close(reason);
  }
}

void Storage::CutAllWatchers() {
  internal::WriterMutexLock lock(mu_);
  for (auto& [gvr, v] : watchers_) {
    for (const auto& w : v) w->RequestCut();
  }
}

size_t Storage::WatcherCount() const {
  internal::ReaderMutexLock lock(mu_);
  size_t n = 0;
  for (const auto& [gvr, v] : watchers_) n += v.size();
  return n;
}

size_t Storage::ObjectCount() const {
  internal::ReaderMutexLock lock(mu_);
  size_t n = 0;
  for (const auto& [gvr, m] : objects_) n += m.size();
  return n;
}

}  // namespace kube::server

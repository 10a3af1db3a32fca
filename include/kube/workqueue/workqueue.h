// Workqueue: the queue of keys a controller's workers take their work from.
//
// Reads from: informer event handlers (`Add` the key of the object that changed) and the workers
// themselves (`AddRateLimited` on failure, `AddAfter` to look again later). Feeds: the workers
// (`Get`, then `Done`). client-go: util/workqueue/{queue.go, delaying_queue.go,
// rate_limiting_queue.go}.
//
// Three layers, each adding to the one below:
//   Queue<T>              FIFO; an item waiting is queued once however often it is added (B43);
//                         an item being processed is never handed to a second worker: re-added, it
//                         waits until `Done` (B44); `ShutDown`/`ShutDownWithDrain` (B45).
//   DelayingQueue<T>      `AddAfter(item, delay)` (B46).
//   RateLimitingQueue<T>  `AddRateLimited(item)` = `AddAfter(item, limiter.When(item))`,
//                         `Forget`, `NumRequeues` (B46, B47; limiters in rate_limiter.h).
//
// The usual worker loop:
//
//   while (auto key = queue.Get()) {
//     Status s = Reconcile(*key);
//     if (s.ok()) queue.Forget(*key); else queue.AddRateLimited(*key);
//     queue.Done(*key);
//   }
//
// Items are values (typically `std::string` keys "ns/name"); `T` needs `std::hash<T>`,
// `operator==` and copy construction. Delays run on the options' `Clock`: the real clock's single
// process-wide timer thread (no thread per queue), or `FakeClock` in tests.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_WORKQUEUE_WORKQUEUE_H_
#define KUBE_WORKQUEUE_WORKQUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kube/clock.h"
#include "kube/metrics/metrics.h"
#include "kube/workqueue/queue_metrics.h"
#include "kube/workqueue/rate_limiter.h"

namespace kube::workqueue {

struct QueueOptions {
  // Names the queue in its metrics (`name="..."`) and in logs.
  std::string name;
  // Time for delays and metrics; null means `Clock::Real()`.
  std::shared_ptr<Clock> clock;
  // When set (and `name` is not empty), the queue reports the workqueue_* metrics there; see
  // queue_metrics.h. Two queues given the same name share their metrics.
  std::shared_ptr<metrics::Registry> metrics;
};

// A FIFO work queue with client-go's guarantees:
//   - an item added while it waits is not queued twice (B43);
//   - an item handed out by `Get` is "processing" until `Done`; adding it meanwhile marks it
//     dirty and `Done` queues it again, so no two workers ever hold the same item (B44);
//   - after `ShutDown`, `Add` is ignored and `Get` hands out what is still queued, then returns
//     `std::nullopt` (B45).
// Thread-safe: any number of producers and workers. Not copyable or movable. Destroying the
// queue shuts it down; no thread may still be inside `Get` by then.
template <typename T>
class Queue {
 public:
  explicit Queue(QueueOptions options = {});
  virtual ~Queue();
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // Queues `item` unless it is already waiting, or marks it to be queued again at `Done` if it is
  // being processed. Ignored after shutdown. Never blocks.
  void Add(T item);
  // Blocks until an item is queued and returns it, now marked processing; the caller must call
  // `Done(item)` when finished with it. Returns `std::nullopt` once the queue is shut down and
  // empty.
  std::optional<T> Get();
  // Ends the processing of `item`. If it was added again meanwhile, it is queued now (even after
  // shutdown, so that nothing added before the shutdown is lost). A `Done` for an item that is
  // not processing does nothing.
  void Done(const T& item);
  // The number of items queued (waiting for `Get`); excludes items being processed.
  std::size_t Len() const;
  // Ignores further adds and wakes every `Get`; does not wait for items being processed.
  void ShutDown();
  // Like `ShutDown`, then blocks until every item handed out by `Get` is `Done` (including items
  // re-queued by those `Done`s and processed after). A concurrent `ShutDown` ends the wait.
  // Do not call it from a worker holding an item: it would wait for itself.
  void ShutDownWithDrain();
  bool ShuttingDown() const;

  const std::string& name() const { return core_->name; }

 protected:
  using TimePoint = Clock::TimePoint;

  // The state lives in a shared object so that timers (DelayingQueue) can reach it safely.
  struct Core {
    std::string name;
    std::shared_ptr<Clock> clock;
    std::shared_ptr<QueueMetrics> metrics;  // null when metrics are off

    mutable std::mutex mu;
    std::condition_variable item_cv;     // an item was queued, or shutdown
    std::condition_variable drained_cv;  // processing became empty, or a plain ShutDown
    // All guarded by `mu`. Invariant: every queued item is in `dirty`; an item in `dirty` and in
    // `processing` is not queued (it is queued at `Done`).
    std::deque<T> queue;
    std::unordered_map<T, TimePoint> dirty;       // item -> when it was added (for metrics)
    std::unordered_map<T, TimePoint> processing;  // item -> when `Get` handed it out
    bool shutting_down = false;
    bool drain = false;

    TimePoint NowForMetrics() const { return metrics ? clock->Now() : TimePoint(); }
    void Add(T item);
    bool ShuttingDown() const {
      std::lock_guard<std::mutex> l(mu);
      return shutting_down;
    }
  };

  std::shared_ptr<Core> core_;
};

// A `Queue` that can also add an item later. Waiting items are kept in time order, and one timer
// on the clock is armed for the earliest (the real clock runs all timers of the process on one
// thread). Adding an item that already waits keeps the earlier of the two times. Items still
// waiting at shutdown are dropped. Thread-safe.
template <typename T>
class DelayingQueue : public Queue<T> {
 public:
  explicit DelayingQueue(QueueOptions options = {});
  ~DelayingQueue() override;

  // Adds `item` once `delay` has passed; at once (like `Add`) when `delay <= 0`. Ignored after
  // shutdown. Counts as a retry in the metrics. Never blocks.
  void AddAfter(T item, std::chrono::nanoseconds delay);
  // The number of items waiting for their delay to pass.
  std::size_t WaitingLen() const;

 private:
  struct Waiting;
  std::shared_ptr<Waiting> waiting_;
};

// A `DelayingQueue` whose retries are spaced by a `RateLimiter`. Thread-safe.
template <typename T>
class RateLimitingQueue : public DelayingQueue<T> {
 public:
  // Uses `DefaultControllerRateLimiter` on the options' clock.
  explicit RateLimitingQueue(QueueOptions options = {});
  RateLimitingQueue(std::shared_ptr<RateLimiter<T>> limiter, QueueOptions options = {});

  // `AddAfter(item, limiter.When(item))`: counts one more failure of `item`.
  void AddRateLimited(T item) {
    const std::chrono::nanoseconds delay = limiter_->When(item);
    this->AddAfter(std::move(item), delay);
  }
  // Clears `item`'s failure history in the limiter. Call it when the item succeeded; it does not
  // remove the item from the queue.
  void Forget(const T& item) { limiter_->Forget(item); }
  // How often `item` has been rate-limited since it was last forgotten.
  int NumRequeues(const T& item) const { return limiter_->NumRequeues(item); }

 private:
  std::shared_ptr<RateLimiter<T>> limiter_;
};

// ---------------------------------------------------------------------------------------------
// Implementation.

template <typename T>
Queue<T>::Queue(QueueOptions options) : core_(std::make_shared<Core>()) {
  core_->name = std::move(options.name);
  core_->clock = options.clock ? std::move(options.clock) : Clock::Real();
  if (options.metrics && !core_->name.empty()) {
    core_->metrics = QueueMetrics::Create(std::move(options.metrics), core_->name, core_->clock);
  }
}

template <typename T>
Queue<T>::~Queue() {
  ShutDown();
}

template <typename T>
void Queue<T>::Core::Add(T item) {
  std::lock_guard<std::mutex> l(mu);
  if (shutting_down) return;
  if (dirty.count(item) > 0) return;  // waiting already, or re-queued at Done (B43)
  if (metrics) metrics->Added();
  const bool is_processing = processing.count(item) > 0;
  auto [it, inserted] = dirty.emplace(std::move(item), NowForMetrics());
  if (is_processing) return;  // B44: queued again at Done
  queue.push_back(it->first);
  item_cv.notify_one();
}

template <typename T>
void Queue<T>::Add(T item) {
  core_->Add(std::move(item));
}

template <typename T>
std::optional<T> Queue<T>::Get() {
  Core& c = *core_;
  std::unique_lock<std::mutex> l(c.mu);
  while (c.queue.empty() && !c.shutting_down) c.item_cv.wait(l);
  if (c.queue.empty()) return std::nullopt;
  T item = std::move(c.queue.front());
  c.queue.pop_front();
  auto d = c.dirty.find(item);
  const TimePoint added = d->second;
  c.dirty.erase(d);
  const TimePoint started = c.NowForMetrics();
  c.processing.emplace(item, started);
  if (c.metrics) c.metrics->Got(started - added, started);
  return item;
}

template <typename T>
void Queue<T>::Done(const T& item) {
  Core& c = *core_;
  std::lock_guard<std::mutex> l(c.mu);
  auto p = c.processing.find(item);
  if (p == c.processing.end()) return;
  if (c.metrics) c.metrics->Finished(p->second);
  c.processing.erase(p);
  if (c.dirty.count(item) > 0) {
    c.queue.push_back(item);
    c.item_cv.notify_one();
  } else if (c.processing.empty()) {
    c.drained_cv.notify_all();
  }
}

template <typename T>
std::size_t Queue<T>::Len() const {
  std::lock_guard<std::mutex> l(core_->mu);
  return core_->queue.size();
}

template <typename T>
void Queue<T>::ShutDown() {
  Core& c = *core_;
  std::lock_guard<std::mutex> l(c.mu);
  c.drain = false;
  c.shutting_down = true;
  c.item_cv.notify_all();
  c.drained_cv.notify_all();
}

template <typename T>
void Queue<T>::ShutDownWithDrain() {
  Core& c = *core_;
  std::unique_lock<std::mutex> l(c.mu);
  c.drain = true;
  c.shutting_down = true;
  c.item_cv.notify_all();
  while (!c.processing.empty() && c.drain) c.drained_cv.wait(l);
}

template <typename T>
bool Queue<T>::ShuttingDown() const {
  return core_->ShuttingDown();
}

// Items waiting for their time, and the one clock timer armed for the earliest. Timer callbacks
// hold it through a weak pointer, so a callback racing with the queue's destruction is harmless.
// Lock order: `Waiting::mu` before `Core::mu`; items become due outside `Waiting::mu`.
template <typename T>
struct DelayingQueue<T>::Waiting : std::enable_shared_from_this<Waiting> {
  using TimePoint = Clock::TimePoint;
  using ByTime = std::multimap<TimePoint, T>;

  std::shared_ptr<typename Queue<T>::Core> core;

  mutable std::mutex mu;
  // Guarded by `mu`. `index` holds each waiting item once, pointing at its entry in `by_time`.
  ByTime by_time;
  std::unordered_map<T, typename ByTime::iterator> index;
  std::shared_ptr<Timer> timer;
  bool armed = false;
  TimePoint armed_at;     // the deadline of `timer` when `armed`
  std::uint64_t gen = 0;  // tells the current timer from stopped ones still running
  bool closed = false;

  void ArmLocked() {
    if (by_time.empty()) return;
    const TimePoint earliest = by_time.begin()->first;
    if (armed && armed_at <= earliest) return;
    if (timer) timer->Stop();
    armed = true;
    armed_at = earliest;
    const std::uint64_t g = ++gen;
    timer =
        core->clock->AfterFunc(earliest - core->clock->Now(), [weak = this->weak_from_this(), g] {
          if (auto w = weak.lock()) w->Fire(g);
        });
  }

  // Runs on the clock's thread: moves every due item to the queue and re-arms.
  void Fire(std::uint64_t g) {
    std::vector<T> due;
    {
      std::lock_guard<std::mutex> l(mu);
      if (g == gen) {
        armed = false;
        timer.reset();
      }
      if (closed) return;
      if (core->ShuttingDown()) {
        index.clear();
        by_time.clear();
        return;
      }
      const TimePoint now = core->clock->Now();
      while (!by_time.empty() && by_time.begin()->first <= now) {
        auto first = by_time.begin();
        index.erase(first->second);
        due.push_back(std::move(first->second));
        by_time.erase(first);
      }
      ArmLocked();
    }
    for (T& item : due) core->Add(std::move(item));
  }
};

template <typename T>
DelayingQueue<T>::DelayingQueue(QueueOptions options)
    : Queue<T>(std::move(options)), waiting_(std::make_shared<Waiting>()) {
  waiting_->core = this->core_;
}

template <typename T>
DelayingQueue<T>::~DelayingQueue() {
  std::lock_guard<std::mutex> l(waiting_->mu);
  waiting_->closed = true;
  if (waiting_->timer) waiting_->timer->Stop();
  waiting_->timer.reset();
  waiting_->index.clear();
  waiting_->by_time.clear();
}

template <typename T>
void DelayingQueue<T>::AddAfter(T item, std::chrono::nanoseconds delay) {
  if (this->ShuttingDown()) return;
  if (this->core_->metrics) this->core_->metrics->Retried();
  if (delay <= std::chrono::nanoseconds::zero()) {
    this->core_->Add(std::move(item));
    return;
  }
  Waiting& w = *waiting_;
  std::lock_guard<std::mutex> l(w.mu);
  const Clock::TimePoint when =
      w.core->clock->Now() + std::chrono::duration_cast<Clock::Duration>(delay);
  auto found = w.index.find(item);
  if (found == w.index.end()) {
    auto pos = w.by_time.emplace(when, item);
    w.index.emplace(std::move(item), pos);
  } else if (when < found->second->first) {
    // Waiting already: keep the earlier time.
    auto node = w.by_time.extract(found->second);
    node.key() = when;
    found->second = w.by_time.insert(std::move(node));
  }
  w.ArmLocked();
}

template <typename T>
std::size_t DelayingQueue<T>::WaitingLen() const {
  std::lock_guard<std::mutex> l(waiting_->mu);
  return waiting_->by_time.size();
}

template <typename T>
RateLimitingQueue<T>::RateLimitingQueue(QueueOptions options)
    : DelayingQueue<T>(std::move(options)),
      limiter_(DefaultControllerRateLimiter<T>(this->core_->clock)) {}

template <typename T>
RateLimitingQueue<T>::RateLimitingQueue(std::shared_ptr<RateLimiter<T>> limiter,
                                        QueueOptions options)
    : DelayingQueue<T>(std::move(options)), limiter_(std::move(limiter)) {}

}  // namespace kube::workqueue

#endif  // KUBE_WORKQUEUE_WORKQUEUE_H_

// Executor: the worker threads that run informer processing and event handlers.
//
// client-go gives every informer and every handler goroutines of its own; threads are dearer, so
// here many informers and handlers share a small pool. A handler that blocks must still never
// delay the others, so the pool compensates as Go's scheduler does for a goroutine
// blocked in a system call: when every worker has been busy on one task for longer than
// `blocked_after` and work is waiting, one more worker starts. Extra workers retire after being
// idle for `idle_retire`. The thread count therefore grows with the number of handlers that are
// blocked at the same moment, never with the number of handlers.
//
// SerialQueue runs tasks one at a time, in order, on an executor (a strand): each informer's
// delta processing and each handler's notifications go through one.
#ifndef KUBE_BASE_EXECUTOR_H_
#define KUBE_BASE_EXECUTOR_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>

#include "base/mutex.h"

namespace kube::internal {

class Executor {
 public:
  struct Options {
    size_t threads = 0;  // workers always running; 0 = max(2, hardware concurrency)
    size_t max_threads = 256;
    std::chrono::milliseconds blocked_after{20};
    std::chrono::milliseconds idle_retire{2000};
    // The workers' thread name (at most 15 characters), as profilers and /proc show it.
    const char* name = "kube-worker";
  };

  static std::shared_ptr<Executor> Create(Options options);
  static std::shared_ptr<Executor> Create() { return Create(Options{}); }
  // The process-wide executor shared by informers that were given none. Never destroyed.
  static std::shared_ptr<Executor> Shared();

  // Shuts down (see `Shutdown`). When the last owner lets go on one of this executor's own
  // workers, the workers are detached instead of joined; they still finish the queued tasks.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs `task` on a worker. A task that throws is caught and logged. After `Shutdown` the task
  // is dropped. Thread-safe; never waits for other tasks.
  void Post(std::function<void()> task);
  // Runs the tasks already queued, then stops and joins every worker. Called from a worker it
  // only stops them (a thread cannot join itself). Idempotent.
  void Shutdown();

  // Workers now running (idle or busy), and the most there have been at once.
  size_t ThreadCount() const;
  size_t PeakThreadCount() const;
  // True when called from one of this executor's workers.
  bool InWorker() const;

 private:
  struct State;
  explicit Executor(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Runs posted tasks one at a time, in the order posted, on an executor. Thread-safe.
class SerialQueue : public std::enable_shared_from_this<SerialQueue> {
 public:
  static std::shared_ptr<SerialQueue> Create(std::shared_ptr<Executor> executor);

  void Post(std::function<void()> task) KUBE_EXCLUDES(mu_);

 private:
  explicit SerialQueue(std::weak_ptr<Executor> executor) : executor_(std::move(executor)) {}
  void Drain() KUBE_EXCLUDES(mu_);

  // Weak: tasks own their queue, and a queue must never be what keeps an executor alive (its
  // destructor would then run on its own worker).
  std::weak_ptr<Executor> executor_;
  Mutex mu_;
  std::deque<std::function<void()>> tasks_ KUBE_GUARDED_BY(mu_);
  bool scheduled_ KUBE_GUARDED_BY(mu_) = false;
};

}  // namespace kube::internal

#endif  // KUBE_BASE_EXECUTOR_H_

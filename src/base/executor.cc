#include "base/executor.h"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace kube::internal {
namespace {

int64_t NowTicks() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

}  // namespace

struct Executor::State : std::enable_shared_from_this<State> {
  struct Worker {
    std::thread thread;
    std::atomic<int64_t> busy_since{0};  // steady_clock ticks; 0 when idle
    bool exited = false;                 // guarded by State::mu
  };

  explicit State(Options o) : options(o) {
    if (options.threads == 0) {
      options.threads = std::max<size_t>(2, std::thread::hardware_concurrency());
    }
    if (options.max_threads < options.threads) options.max_threads = options.threads;
  }

  Options options;
  mutable Mutex mu;
  std::condition_variable work_cv;       // a task was posted, or shutdown
  std::condition_variable supervise_cv;  // shutdown
  std::deque<std::function<void()>> tasks KUBE_GUARDED_BY(mu);
  std::vector<std::shared_ptr<Worker>> workers KUBE_GUARDED_BY(mu);
  size_t running KUBE_GUARDED_BY(mu) = 0;  // workers that have not exited
  size_t idle KUBE_GUARDED_BY(mu) = 0;     // workers waiting for a task
  size_t peak KUBE_GUARDED_BY(mu) = 0;
  bool shutdown KUBE_GUARDED_BY(mu) = false;
  std::thread supervisor;

  static thread_local const State* current;

  void StartWorkerLocked() KUBE_REQUIRES(mu) {
    auto w = std::make_shared<Worker>();
    ++running;
    peak = std::max(peak, running);
    // Workers hold the state and their own record, so both outlive an executor destroyed (and
    // its workers detached) from one of them.
    w->thread = std::thread([self = shared_from_this(), w] { self->WorkerLoop(w.get()); });
    workers.push_back(std::move(w));
  }

  void WorkerLoop(Worker* self) KUBE_EXCLUDES(mu) {
    current = this;
    pthread_setname_np(pthread_self(), options.name);
    MutexLock l(mu);
    for (;;) {
      while (tasks.empty() && !shutdown) {
        ++idle;
        bool woken = l.WaitFor(work_cv, options.idle_retire);
        --idle;
        // Extra workers (beyond `threads`) retire after a quiet spell.
        if (!woken && tasks.empty() && running > options.threads) {
          --running;
          self->exited = true;
          return;
        }
      }
      if (tasks.empty()) {  // shutdown with nothing left to run
        --running;
        self->exited = true;
        return;
      }
      std::function<void()> task = std::move(tasks.front());
      tasks.pop_front();
      self->busy_since.store(NowTicks(), std::memory_order_relaxed);
      l.Unlock();
      try {
        task();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "kube-informer: executor task threw: %s\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "kube-informer: executor task threw a non-standard exception\n");
      }
      task = nullptr;  // destroy captures before taking the lock
      self->busy_since.store(0, std::memory_order_relaxed);
      l.Relock();
    }
  }

  // Every `blocked_after`: when tasks wait, no worker is idle and some worker has been on one
  // task for longer than `blocked_after`, start one more worker. Also joins retired workers.
  void SuperviseLoop() KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    while (!shutdown) {
      l.WaitFor(supervise_cv, options.blocked_after);
      if (shutdown) break;
      ReapLocked();
      if (tasks.empty() || idle > 0 || running >= options.max_threads) continue;
      const int64_t threshold =
          NowTicks() -
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(options.blocked_after)
              .count();
      for (const auto& w : workers) {
        int64_t since = w->busy_since.load(std::memory_order_relaxed);
        if (!w->exited && since != 0 && since <= threshold) {
          StartWorkerLocked();
          break;
        }
      }
    }
  }

  void ReapLocked() KUBE_REQUIRES(mu) {
    for (auto it = workers.begin(); it != workers.end();) {
      if ((*it)->exited) {
        (*it)->thread.join();  // it has returned from WorkerLoop or is about to
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Stop(bool join) KUBE_EXCLUDES(mu) {
    std::vector<std::shared_ptr<Worker>> to_join;
    {
      MutexLock l(mu);
      if (shutdown && workers.empty()) return;
      shutdown = true;
      work_cv.notify_all();
      supervise_cv.notify_all();
      to_join.swap(workers);
    }
    if (supervisor.joinable()) {
      if (join && std::this_thread::get_id() != supervisor.get_id()) {
        supervisor.join();
      } else {
        supervisor.detach();
      }
    }
    for (auto& w : to_join) {
      if (join && current != this) {
        w->thread.join();
      } else {
        w->thread.detach();
      }
    }
  }
};

thread_local const Executor::State* Executor::State::current = nullptr;

std::shared_ptr<Executor> Executor::Create(Options options) {
  auto state = std::make_shared<State>(options);
  {
    MutexLock l(state->mu);
    for (size_t i = 0; i < state->options.threads; ++i) state->StartWorkerLocked();
  }
  state->supervisor = std::thread([s = state] { s->SuperviseLoop(); });
  return std::shared_ptr<Executor>(new Executor(std::move(state)));
}

std::shared_ptr<Executor> Executor::Shared() {
  static auto* shared = new std::shared_ptr<Executor>(Create());
  return *shared;
}

Executor::~Executor() { Shutdown(); }

void Executor::Post(std::function<void()> task) {
  // Once the task is queued, a worker may run it and it may destroy this executor, whose workers
  // then end and free the state: the poster holds the state itself until it has notified.
  const std::shared_ptr<State> state = state_;
  bool wake;
  {
    MutexLock l(state->mu);
    if (state->shutdown) return;
    state->tasks.push_back(std::move(task));
    wake = state->idle > 0;
  }
  // Notified after the unlock: a worker woken while the poster still held `mu` would block on it
  // at once (two more futex calls and a context switch per post). No wake-up is lost: a waiting
  // worker rechecks `tasks` under `mu` whichever way it wakes.
  if (wake) state->work_cv.notify_one();
}

void Executor::Shutdown() { state_->Stop(/*join=*/!InWorker()); }

size_t Executor::ThreadCount() const {
  MutexLock l(state_->mu);
  return state_->running;
}

size_t Executor::PeakThreadCount() const {
  MutexLock l(state_->mu);
  return state_->peak;
}

bool Executor::InWorker() const { return State::current == state_.get(); }

std::shared_ptr<SerialQueue> SerialQueue::Create(std::shared_ptr<Executor> executor) {
  return std::shared_ptr<SerialQueue>(new SerialQueue(executor));
}

void SerialQueue::Post(std::function<void()> task) {
  {
    MutexLock l(mu_);
    tasks_.push_back(std::move(task));
    if (scheduled_) return;
    scheduled_ = true;
  }
  if (auto executor = executor_.lock()) {
    executor->Post([self = shared_from_this()] { self->Drain(); });
  }
}

void SerialQueue::Drain() {
  // Runs a bounded number of tasks per turn, then yields the worker to other queues.
  constexpr int kTasksPerTurn = 64;
  for (int i = 0; i < kTasksPerTurn; ++i) {
    std::function<void()> task;
    {
      MutexLock l(mu_);
      if (tasks_.empty()) {
        scheduled_ = false;
        return;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kube-informer: serial task threw: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "kube-informer: serial task threw a non-standard exception\n");
    }
  }
  if (auto executor = executor_.lock()) {
    executor->Post([self = shared_from_this()] { self->Drain(); });
  }
}

}  // namespace kube::internal

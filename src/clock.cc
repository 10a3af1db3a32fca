// The real clock (one timer thread for the process) and the fake clock for tests.
#include "kube/clock.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "base/mutex.h"

namespace kube {
namespace {

using internal::Mutex;
using internal::MutexLock;

// Timers are kept in a map ordered by (deadline, sequence), so equal deadlines fire in the order
// they were armed. A timer's entry is erased when it fires or is stopped; `Stop()` finds it by
// its key.
struct TimerKey {
  Clock::TimePoint when;
  uint64_t seq;
  bool operator<(const TimerKey& o) const { return when != o.when ? when < o.when : seq < o.seq; }
};

// The state shared by a clock and the timers it handed out, so a `Timer` may outlive its clock.
struct TimerTable {
  mutable Mutex mu;
  std::condition_variable cv;  // armed earlier timer, or shutdown
  std::map<TimerKey, std::function<void()>> timers KUBE_GUARDED_BY(mu);
  uint64_t next_seq KUBE_GUARDED_BY(mu) = 0;

  TimerKey Arm(Clock::TimePoint when, std::function<void()> fn) KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    TimerKey key{when, next_seq++};
    bool earliest = timers.empty() || key < timers.begin()->first;
    timers.emplace(key, std::move(fn));
    if (earliest) cv.notify_all();
    return key;
  }
  bool Disarm(const TimerKey& key) KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    return timers.erase(key) > 0;
  }
  // Removes and returns the earliest timer due at `now`, if any.
  bool PopDue(Clock::TimePoint now, std::function<void()>* fn) KUBE_REQUIRES(mu) {
    if (timers.empty() || timers.begin()->first.when > now) return false;
    *fn = std::move(timers.begin()->second);
    timers.erase(timers.begin());
    return true;
  }
};

class TableTimer final : public Timer {
 public:
  TableTimer(std::weak_ptr<TimerTable> table, TimerKey key) : table_(std::move(table)), key_(key) {}
  bool Stop() override {
    auto table = table_.lock();
    return table && table->Disarm(key_);
  }

 private:
  std::weak_ptr<TimerTable> table_;
  TimerKey key_;
};

class RealClock final : public Clock {
 public:
  RealClock() : table_(std::make_shared<TimerTable>()) {
    // The process-wide clock lives until exit; its thread is detached so that exit never waits
    // for (or races with) it.
    std::thread([table = table_] { Loop(*table); }).detach();
  }
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  std::shared_ptr<Timer> AfterFunc(Duration delay, std::function<void()> fn) override {
    TimerKey key = table_->Arm(Now() + delay, std::move(fn));
    return std::make_shared<TableTimer>(table_, key);
  }

 private:
  static void Loop(TimerTable& t) {
    MutexLock l(t.mu);
    for (;;) {
      std::function<void()> fn;
      if (t.PopDue(std::chrono::steady_clock::now(), &fn)) {
        l.Unlock();
        fn();
        fn = nullptr;  // release captures outside the lock too
        l.Relock();
        continue;
      }
      if (t.timers.empty()) {
        l.Wait(t.cv);
      } else {
        // Copy the deadline: a Stop() on another thread may erase the node while we sleep.
        const Clock::TimePoint when = t.timers.begin()->first.when;
        l.WaitUntil(t.cv, when);
      }
    }
  }
  std::shared_ptr<TimerTable> table_;
};

}  // namespace

std::shared_ptr<Clock> Clock::Real() {
  // Never destroyed: timers may fire during static destruction of other objects.
  static auto* clock = new std::shared_ptr<Clock>(std::make_shared<RealClock>());
  return *clock;
}

struct FakeClock::Impl {
  std::shared_ptr<TimerTable> table = std::make_shared<TimerTable>();
  mutable Mutex mu;  // guards `now`; never held while a timer runs
  mutable std::condition_variable armed;
  TimePoint now KUBE_GUARDED_BY(mu) = TimePoint(std::chrono::hours(24));
};

FakeClock::FakeClock() : impl_(std::make_shared<Impl>()) {}
FakeClock::~FakeClock() = default;

Clock::TimePoint FakeClock::Now() const {
  MutexLock l(impl_->mu);
  return impl_->now;
}

std::shared_ptr<Timer> FakeClock::AfterFunc(Duration delay, std::function<void()> fn) {
  TimerKey key = impl_->table->Arm(Now() + delay, std::move(fn));
  impl_->armed.notify_all();
  return std::make_shared<TableTimer>(impl_->table, key);
}

void FakeClock::Advance(Duration d) {
  TimePoint target;
  {
    MutexLock l(impl_->mu);
    target = impl_->now + d;
  }
  TimerTable& t = *impl_->table;
  for (;;) {
    std::function<void()> fn;
    TimePoint when;
    {
      MutexLock l(t.mu);
      if (t.timers.empty() || t.timers.begin()->first.when > target) break;
      when = t.timers.begin()->first.when;
      (void)t.PopDue(when, &fn);
    }
    {
      // Time moves to each timer's deadline before it runs, so code reading Now() inside the
      // callback sees the time it was due.
      MutexLock l(impl_->mu);
      if (when > impl_->now) impl_->now = when;
    }
    fn();
  }
  MutexLock l(impl_->mu);
  impl_->now = target;
}

size_t FakeClock::PendingTimers() const {
  MutexLock l(impl_->table->mu);
  return impl_->table->timers.size();
}

bool FakeClock::WaitForTimers(size_t n, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Arming notifies `armed` under no lock, so poll the count with short waits rather than rely
  // on catching every notification.
  std::mutex m;
  std::unique_lock<std::mutex> l(m);
  while (PendingTimers() < n) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    impl_->armed.wait_for(l, std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace kube

// Clock: time and timers for the informer machinery, replaceable in tests.
//
// Resync periods, backoff and watch deadlines all read time through a `Clock`, so tests drive them
// with `FakeClock::Advance` instead of sleeping.
// client-go: k8s.io/utils/clock (Clock, WithTicker) and clock/testing (FakeClock).
#ifndef KUBE_CLOCK_H_
#define KUBE_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace kube {

// A pending call made by `Clock::AfterFunc`.
class Timer {
 public:
  virtual ~Timer() = default;
  // Prevents the call if it has not started; returns true if it did. Does not wait for a call
  // already running on the clock's thread. Idempotent and thread-safe.
  virtual bool Stop() = 0;
};

// Thread-safe.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Calls `fn` once `delay` has passed (at once for a delay <= 0 — still on the clock's thread,
  // never inside this call). `fn` runs on the clock's own thread and must return quickly: post
  // real work elsewhere. Destroying the returned `Timer` does not stop it; call `Stop()`.
  virtual std::shared_ptr<Timer> AfterFunc(Duration delay, std::function<void()> fn) = 0;

  // The process-wide real clock (one timer thread, started on first use).
  static std::shared_ptr<Clock> Real();
};

// A manual clock for tests. `Now()` moves only with `Advance`/`SetTime`; due timers run inside
// `Advance`, on the caller's thread, in due order. Thread-safe.
class FakeClock final : public Clock {
 public:
  FakeClock();
  ~FakeClock() override;

  TimePoint Now() const override;
  std::shared_ptr<Timer> AfterFunc(Duration delay, std::function<void()> fn) override;

  // Moves time forward by `d` and runs every timer due by then (including timers that those
  // calls arm, if they are due too).
  void Advance(Duration d);
  // The number of timers armed and not yet fired or stopped.
  size_t PendingTimers() const;
  // Blocks until at least `n` timers are pending or `timeout` of real time passes; returns
  // whether they are. Lets a test wait for the code under test to arm its timer.
  bool WaitForTimers(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_CLOCK_H_

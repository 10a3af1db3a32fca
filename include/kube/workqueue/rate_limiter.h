// Rate limiters for the workqueue: how long an item waits before it is retried.
//
// Reads from: a controller's failed reconcile (`RateLimitingQueue::AddRateLimited`).
// Feeds: `DelayingQueue::AddAfter`. client-go: util/workqueue/default_rate_limiters.go.
//
// A limiter answers `When(item)`: the delay before the item may be processed again, counting the
// call as one more failure of that item. `Forget(item)` ends the item's failure history (call it
// when the item was processed successfully); `NumRequeues(item)` reports the history's length.
//
//   ItemExponentialFailureRateLimiter  per item: base * 2^failures, capped at max
//   ItemFastSlowRateLimiter            per item: fast delay for the first N failures, then slow
//   BucketRateLimiter                  all items share one token bucket (qps, burst)
//   MaxOfRateLimiter                   the longest delay of several limiters
//   WithMaxWaitRateLimiter             another limiter's delay, capped
//   DefaultControllerRateLimiter()     max(exponential 5 ms..1000 s, bucket 10/s burst 100)
//   DefaultItemBasedRateLimiter()      exponential 1 ms..1000 s
//
// Every limiter here is thread-safe. Items need `std::hash<T>` and `operator==`.
#ifndef KUBE_WORKQUEUE_RATE_LIMITER_H_
#define KUBE_WORKQUEUE_RATE_LIMITER_H_

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kube/clock.h"

namespace kube::workqueue {

// Decides how long an item waits before it is retried. Implementations must be thread-safe.
template <typename T>
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay before `item` may be processed again; records one more failure of `item`.
  virtual std::chrono::nanoseconds When(const T& item) = 0;
  // Clears `item`'s failure history (call it once the item was processed successfully).
  virtual void Forget(const T& item) = 0;
  // How many times `item` has failed since it was last forgotten.
  virtual int NumRequeues(const T& item) const = 0;
};

// Per-item exponential backoff: the n-th failure (counting from 0) waits `base * 2^n`, never more
// than `max`. Thread-safe.
template <typename T>
class ItemExponentialFailureRateLimiter final : public RateLimiter<T> {
 public:
  ItemExponentialFailureRateLimiter(std::chrono::nanoseconds base, std::chrono::nanoseconds max)
      : base_(base), max_(max) {}

  std::chrono::nanoseconds When(const T& item) override {
    int exp;
    {
      std::lock_guard<std::mutex> l(mu_);
      exp = failures_[item]++;
    }
    // Computed in floating point, as client-go does, so a large exponent saturates at `max`
    // instead of overflowing.
    const double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exp);
    if (backoff >= static_cast<double>(max_.count())) return max_;
    return std::chrono::nanoseconds(static_cast<int64_t>(backoff));
  }
  void Forget(const T& item) override {
    std::lock_guard<std::mutex> l(mu_);
    failures_.erase(item);
  }
  int NumRequeues(const T& item) const override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = failures_.find(item);
    return it == failures_.end() ? 0 : it->second;
  }

 private:
  const std::chrono::nanoseconds base_;
  const std::chrono::nanoseconds max_;
  mutable std::mutex mu_;
  std::unordered_map<T, int> failures_;  // guarded by mu_
};

// Per item: `fast` for the first `max_fast_attempts` failures, `slow` after. Thread-safe.
template <typename T>
class ItemFastSlowRateLimiter final : public RateLimiter<T> {
 public:
  ItemFastSlowRateLimiter(std::chrono::nanoseconds fast, std::chrono::nanoseconds slow,
                          int max_fast_attempts)
      : fast_(fast), slow_(slow), max_fast_attempts_(max_fast_attempts) {}

  std::chrono::nanoseconds When(const T& item) override {
    std::lock_guard<std::mutex> l(mu_);
    return ++failures_[item] <= max_fast_attempts_ ? fast_ : slow_;
  }
  void Forget(const T& item) override {
    std::lock_guard<std::mutex> l(mu_);
    failures_.erase(item);
  }
  int NumRequeues(const T& item) const override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = failures_.find(item);
    return it == failures_.end() ? 0 : it->second;
  }

 private:
  const std::chrono::nanoseconds fast_;
  const std::chrono::nanoseconds slow_;
  const int max_fast_attempts_;
  mutable std::mutex mu_;
  std::unordered_map<T, int> failures_;  // guarded by mu_
};

// A token bucket refilled at `qps` tokens per second, holding at most `burst` (full at the
// start). `Reserve()` takes one token and returns how long the caller must wait for it: zero while
// tokens remain; otherwise the debt is paid in arrival order, 1/qps apart. Time comes from
// `clock`. Thread-safe. client-go uses golang.org/x/time/rate's `Limiter.Reserve().Delay()`.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst, std::shared_ptr<Clock> clock = Clock::Real());
  ~TokenBucket();
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  std::chrono::nanoseconds Reserve();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// All items share one token bucket (`qps` per second, `burst` at once): limits the overall retry
// rate, whatever the item. `Forget` does nothing and `NumRequeues` is always 0. Thread-safe.
template <typename T>
class BucketRateLimiter final : public RateLimiter<T> {
 public:
  BucketRateLimiter(double qps, int burst, std::shared_ptr<Clock> clock = Clock::Real())
      : bucket_(qps, burst, std::move(clock)) {}

  std::chrono::nanoseconds When(const T&) override { return bucket_.Reserve(); }
  void Forget(const T&) override {}
  int NumRequeues(const T&) const override { return 0; }

 private:
  TokenBucket bucket_;
};

// The longest delay of several limiters: every limiter's `When` is called (so each records the
// failure); `NumRequeues` is the largest count; `Forget` forgets in all. Thread-safe.
template <typename T>
class MaxOfRateLimiter final : public RateLimiter<T> {
 public:
  explicit MaxOfRateLimiter(std::vector<std::shared_ptr<RateLimiter<T>>> limiters)
      : limiters_(std::move(limiters)) {}

  std::chrono::nanoseconds When(const T& item) override {
    std::chrono::nanoseconds longest{0};
    for (const auto& l : limiters_) longest = std::max(longest, l->When(item));
    return longest;
  }
  void Forget(const T& item) override {
    for (const auto& l : limiters_) l->Forget(item);
  }
  int NumRequeues(const T& item) const override {
    int most = 0;
    for (const auto& l : limiters_) most = std::max(most, l->NumRequeues(item));
    return most;
  }

 private:
  const std::vector<std::shared_ptr<RateLimiter<T>>> limiters_;
};

// `limiter`'s delay, never more than `max_delay`. Thread-safe.
template <typename T>
class WithMaxWaitRateLimiter final : public RateLimiter<T> {
 public:
  WithMaxWaitRateLimiter(std::shared_ptr<RateLimiter<T>> limiter,
                         std::chrono::nanoseconds max_delay)
      : limiter_(std::move(limiter)), max_delay_(max_delay) {}

  std::chrono::nanoseconds When(const T& item) override {
    return std::min(limiter_->When(item), max_delay_);
  }
  void Forget(const T& item) override { limiter_->Forget(item); }
  int NumRequeues(const T& item) const override { return limiter_->NumRequeues(item); }

 private:
  const std::shared_ptr<RateLimiter<T>> limiter_;
  const std::chrono::nanoseconds max_delay_;
};

// client-go's default for controllers: the longer of per-item exponential backoff (5 ms doubling
// to 1000 s) and an overall token bucket (10 retries per second, burst 100).
template <typename T>
std::shared_ptr<RateLimiter<T>> DefaultControllerRateLimiter(
    std::shared_ptr<Clock> clock = Clock::Real()) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  return std::make_shared<MaxOfRateLimiter<T>>(std::vector<std::shared_ptr<RateLimiter<T>>>{
      std::make_shared<ItemExponentialFailureRateLimiter<T>>(milliseconds(5), seconds(1000)),
      std::make_shared<BucketRateLimiter<T>>(10.0, 100, std::move(clock))});
}

// Per-item exponential backoff from 1 ms to 1000 s, with no overall limit.
template <typename T>
std::shared_ptr<RateLimiter<T>> DefaultItemBasedRateLimiter() {
  return std::make_shared<ItemExponentialFailureRateLimiter<T>>(std::chrono::milliseconds(1),
                                                                std::chrono::seconds(1000));
}

}  // namespace kube::workqueue

#endif  // KUBE_WORKQUEUE_RATE_LIMITER_H_

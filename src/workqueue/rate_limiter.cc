// The token bucket behind BucketRateLimiter.
#include "kube/workqueue/rate_limiter.h"

#include <algorithm>

#include "base/mutex.h"

namespace kube::workqueue {

using internal::Mutex;
using internal::MutexLock;

// golang.org/x/time/rate's reservation arithmetic: tokens refill continuously up to `burst`; a
// reservation takes one token even when none is left, and the (negative) balance says how long
// until it is paid for. So consecutive reservations beyond the burst wait 1/qps, 2/qps, ...
struct TokenBucket::State {
  double qps;
  double burst;
  std::shared_ptr<Clock> clock;
  Mutex mu;
  double tokens KUBE_GUARDED_BY(mu);
  Clock::TimePoint last KUBE_GUARDED_BY(mu);
};

TokenBucket::TokenBucket(double qps, int burst, std::shared_ptr<Clock> clock)
    : state_(std::make_unique<State>()) {
  state_->qps = qps;
  state_->burst = std::max(burst, 0);
  state_->clock = clock ? std::move(clock) : Clock::Real();
  MutexLock l(state_->mu);
  state_->tokens = state_->burst;  // full at the start
  state_->last = state_->clock->Now();
}

TokenBucket::~TokenBucket() = default;

std::chrono::nanoseconds TokenBucket::Reserve() {
  State& s = *state_;
  if (s.qps <= 0) {
    // No refill: the burst is all there will ever be (x/time/rate with limit 0 refuses beyond
    // it; a workqueue cannot refuse, so it waits "forever" instead, capped at a day).
    MutexLock l(s.mu);
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return std::chrono::nanoseconds::zero();
    }
    return std::chrono::hours(24);
  }
  const Clock::TimePoint now = s.clock->Now();
  MutexLock l(s.mu);
  if (now > s.last) {
    const double elapsed = std::chrono::duration<double>(now - s.last).count();
    s.tokens = std::min(s.burst, s.tokens + elapsed * s.qps);
    s.last = now;
  }
  s.tokens -= 1;
  if (s.tokens >= 0) return std::chrono::nanoseconds::zero();
  return std::chrono::nanoseconds(static_cast<int64_t>(-s.tokens / s.qps * 1e9));
}

}  // namespace kube::workqueue

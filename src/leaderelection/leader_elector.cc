// LeaderElector: acquire, renew, release (see the header for the protocol).
//
// One campaign thread does every lock call and every callback except `on_started_leading`, which
// gets a thread of its own. `observed_` and `observed_time_` are written only by the campaign
// thread; the mutex is for the readers (`GetLeader`, `Check`).
#include "kube/leaderelection/leader_elector.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <random>
#include <thread>
#include <utility>

#include "base/logging.h"
#include "base/mutex.h"

namespace kube {
namespace {

using internal::Mutex;
using internal::MutexLock;
using std::chrono::milliseconds;

constexpr const char* kComponent = "leaderelection";

}  // namespace

struct LeaderElector::Impl {
  LeaderElectionConfig config;
  std::shared_ptr<Clock> clock;
  std::string name;
  int64_t lease_seconds = 0;
  std::mt19937_64 rng{std::random_device{}()};  // campaign thread only

  mutable Mutex mu;
  LeaderElectionRecord observed KUBE_GUARDED_BY(mu);
  Clock::TimePoint observed_time KUBE_GUARDED_BY(mu){};
  std::atomic<bool> leading{false};
  std::string reported_leader;  // campaign thread only

  Mutex start_mu;
  std::jthread thread KUBE_GUARDED_BY(start_mu);

  // --- Observed record ------------------------------------------------------------------------
  LeaderElectionRecord Observed() const KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    return observed;
  }
  void SetObserved(LeaderElectionRecord r) KUBE_EXCLUDES(mu) {
    Clock::TimePoint now = clock->Now();
    MutexLock l(mu);
    observed = std::move(r);
    observed_time = now;
  }
  bool ObservedIsMe() const KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    return observed.holder_identity == config.lock->Identity();
  }
  // The observed holder's lease has not run out, on our clock (client-go: isLeaseValid).
  bool LeaseValid(Clock::TimePoint now) const KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    return observed_time + std::chrono::seconds(observed.lease_duration_seconds) > now;
  }

  // --- Waiting --------------------------------------------------------------------------------
  // Waits `d` on the clock; false when `stop` was requested first.
  bool Sleep(Clock::Duration d, const std::stop_token& stop) {
    struct Waiter {
      Mutex mu;
      std::condition_variable cv;
      bool fired KUBE_GUARDED_BY(mu) = false;
    };
    auto w = std::make_shared<Waiter>();
    std::shared_ptr<Timer> timer = clock->AfterFunc(d, [w] {
      MutexLock l(w->mu);
      w->fired = true;
      w->cv.notify_all();
    });
    {
      std::stop_callback on_stop(stop, [w] {
        MutexLock l(w->mu);
        w->cv.notify_all();
      });
      MutexLock l(w->mu);
      while (!w->fired && !stop.stop_requested()) l.Wait(w->cv);
    }
    timer->Stop();
    return !stop.stop_requested();
  }

  Clock::Duration Jittered(Clock::Duration d) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    double f = 1.0 + kLeaderElectionJitterFactor * u(rng);
    return std::chrono::duration_cast<Clock::Duration>(d * f);
  }

  // What is left until `deadline`, at least 1 ms (0 would mean "no timeout" to the lock).
  milliseconds Remaining(Clock::TimePoint deadline) const {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - clock->Now());
    return std::max(left, milliseconds(1));
  }

  // --- The protocol ---------------------------------------------------------------------------
  // One attempt to acquire or renew (client-go: tryAcquireOrRenew). True when this candidate
  // holds the lock afterwards.
  bool TryAcquireOrRenew(milliseconds timeout) {
    ResourceLock& lock = *config.lock;
    Clock::TimePoint now = clock->Now();
    auto wall_now = MicroNow();
    LeaderElectionRecord record{.holder_identity = lock.Identity(),
                                .lease_duration_seconds = lease_seconds,
                                .acquire_time = wall_now,
                                .renew_time = wall_now,
                                .leader_transitions = 0};

    // 1. Fast path: we hold a valid lease; renew over the object last written.
    if (ObservedIsMe() && LeaseValid(now)) {
      LeaderElectionRecord old = Observed();
      record.acquire_time = old.acquire_time;
      record.leader_transitions = old.leader_transitions;
      Status s = lock.Update(record, timeout);
      if (s.ok()) {
        SetObserved(record);
        return true;
      }
      KUBE_LOG(kInfo, kComponent) << name << ": renewing optimistically failed (" << s
                                  << "), reading the lock";
    }

    // 2. Read the lock, or create it.
    Result<LeaderElectionRecord> current = lock.Get(timeout);
    if (!current) {
      if (!IsNotFound(current.error())) {
        KUBE_LOG(kWarning, kComponent) << name << ": reading the lock: " << current.error();
        return false;
      }
      Status s = lock.Create(record, timeout);
      if (!s.ok()) {
        KUBE_LOG(kWarning, kComponent) << name << ": creating the lock: " << s;
        return false;
      }
      SetObserved(record);
      return true;
    }

    // 3. A record changed since we last looked restarts its lease on our clock.
    if (Observed() != *current) SetObserved(*current);
    if (!current->holder_identity.empty() && LeaseValid(now) && !ObservedIsMe()) {
      KUBE_LOG(kDebug, kComponent)
          << name << ": held by " << current->holder_identity << " and not yet expired";
      return false;
    }

    // 4. Take it over, or renew what we hold.
    if (ObservedIsMe()) {
      record.acquire_time = current->acquire_time;
      record.leader_transitions = current->leader_transitions;
    } else {
      record.leader_transitions = current->leader_transitions + 1;
    }
    Status s = lock.Update(record, timeout);
    if (!s.ok()) {
      KUBE_LOG(kInfo, kComponent) << name << ": updating the lock: " << s;
      return false;
    }
    SetObserved(record);
    return true;
  }

  void MaybeReportTransition() {
    std::string holder = Observed().holder_identity;
    if (holder == reported_leader) return;
    reported_leader = holder;
    if (config.callbacks.on_new_leader) {
      try {
        config.callbacks.on_new_leader(holder);
      } catch (const std::exception& e) {
        KUBE_LOG(kError, kComponent) << name << ": on_new_leader threw: " << e.what();
      } catch (...) {
        KUBE_LOG(kError, kComponent) << name << ": on_new_leader threw";
      }
    }
  }

  // client-go: acquire. True once this candidate holds the lock; false when stopped first.
  bool Acquire(const std::stop_token& stop) {
    KUBE_LOG(kInfo, kComponent) << name << ": attempting to acquire the lease";
    while (!stop.stop_requested()) {
      bool ok = TryAcquireOrRenew(Remaining(clock->Now() + config.renew_deadline));
      MaybeReportTransition();
      if (ok) {
        KUBE_LOG(kInfo, kComponent) << name << ": acquired the lease";
        return true;
      }
      if (!Sleep(Jittered(config.retry_period), stop)) break;
    }
    return false;
  }

  // client-go: renew. Returns when leading must end: a renewal failed for `renew_deadline`,
  // another holder was observed, or `stop` was requested.
  void Renew(const std::stop_token& stop) {
    while (Sleep(config.retry_period, stop)) {
      Clock::TimePoint deadline = clock->Now() + config.renew_deadline;
      bool renewed = false;
      while (true) {
        renewed = TryAcquireOrRenew(Remaining(deadline));
        if (renewed) break;
        // Unlike client-go, which keeps retrying until the deadline: once another holder is on
        // record, the lease is theirs, so the leader stops at once.
        if (!ObservedIsMe()) break;
        Clock::TimePoint now = clock->Now();
        if (now >= deadline) break;
        if (!Sleep(std::min<Clock::Duration>(config.retry_period, deadline - now), stop)) return;
        if (clock->Now() >= deadline) break;
      }
      MaybeReportTransition();
      if (!renewed) {
        KUBE_LOG(kWarning, kComponent) << name << ": failed to renew the lease; stopping leading";
        return;
      }
    }
  }

  // client-go: release. Writes an empty holder when we hold the lock.
  void Release() {
    if (!ObservedIsMe()) return;
    auto wall_now = MicroNow();
    LeaderElectionRecord record{.holder_identity = "",
                                .lease_duration_seconds = 1,
                                .acquire_time = wall_now,
                                .renew_time = wall_now,
                                .leader_transitions = Observed().leader_transitions};
    Status s = config.lock->Update(record, Remaining(clock->Now() + config.renew_deadline));
    if (!s.ok()) {
      KUBE_LOG(kWarning, kComponent) << name << ": releasing the lease: " << s;
      return;
    }
    SetObserved(record);
  }

  void Run(std::stop_token stop) {
    if (!Acquire(stop)) return;

    std::stop_source leading_stop;
    leading = true;
    std::thread leader([this, token = leading_stop.get_token()] {
      try {
        config.callbacks.on_started_leading(token);
      } catch (const std::exception& e) {
        KUBE_LOG(kError, kComponent) << name << ": on_started_leading threw: " << e.what();
      } catch (...) {
        KUBE_LOG(kError, kComponent) << name << ": on_started_leading threw";
      }
    });
    Renew(stop);
    leading = false;
    leading_stop.request_stop();
    leader.join();

    if (config.release_on_cancel) Release();
    MaybeReportTransition();
    KUBE_LOG(kInfo, kComponent) << name << ": stopped leading";
    if (config.callbacks.on_stopped_leading) {
      try {
        config.callbacks.on_stopped_leading();
      } catch (const std::exception& e) {
        KUBE_LOG(kError, kComponent) << name << ": on_stopped_leading threw: " << e.what();
      } catch (...) {
        KUBE_LOG(kError, kComponent) << name << ": on_stopped_leading threw";
      }
    }
  }
};

Result<std::unique_ptr<LeaderElector>> LeaderElector::Create(LeaderElectionConfig config) {
  using std::chrono::seconds;
  if (!config.lock) return InvalidArgumentError("LeaderElector: no lock");
  if (config.lock->Identity().empty()) {
    return InvalidArgumentError("LeaderElector: the lock's identity is empty");
  }
  if (!config.callbacks.on_started_leading) {
    return InvalidArgumentError("LeaderElector: on_started_leading is required");
  }
  if (config.lease_duration < seconds(1)) {
    return InvalidArgumentError("LeaderElector: lease_duration must be at least 1 s");
  }
  auto whole_lease = std::chrono::duration_cast<seconds>(config.lease_duration);
  if (config.renew_deadline >= whole_lease) {
    return InvalidArgumentError(
        "LeaderElector: lease_duration (in whole seconds) must be greater than renew_deadline");
  }
  if (config.retry_period <= milliseconds(0)) {
    return InvalidArgumentError("LeaderElector: retry_period must be positive");
  }
  if (config.renew_deadline.count() <= kLeaderElectionJitterFactor * config.retry_period.count()) {
    return InvalidArgumentError(
        "LeaderElector: renew_deadline must be greater than retry_period * 1.2");
  }
  auto impl = std::make_unique<Impl>();
  impl->clock = config.clock ? config.clock : Clock::Real();
  impl->name = config.name.empty() ? config.lock->Describe() : config.name;
  impl->lease_seconds = whole_lease.count();
  impl->config = std::move(config);
  return std::unique_ptr<LeaderElector>(new LeaderElector(std::move(impl)));
}

LeaderElector::LeaderElector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Run(std::stop_token stop) { impl_->Run(std::move(stop)); }

void LeaderElector::Start() {
  MutexLock l(impl_->start_mu);
  if (impl_->thread.joinable()) return;
  impl_->thread = std::jthread([impl = impl_.get()](std::stop_token stop) { impl->Run(stop); });
}

void LeaderElector::Stop() noexcept {
  std::jthread t;
  {
    MutexLock l(impl_->start_mu);
    t = std::move(impl_->thread);
  }
  if (t.joinable()) {
    t.request_stop();
    t.join();
  }
}

bool LeaderElector::IsLeader() const { return impl_->leading; }

std::string LeaderElector::GetLeader() const { return impl_->Observed().holder_identity; }

Status LeaderElector::Check(milliseconds max_tolerable_expired_lease) const {
  if (!IsLeader()) return Status();
  Clock::TimePoint observed_time;
  {
    MutexLock l(impl_->mu);
    observed_time = impl_->observed_time;
  }
  if (impl_->clock->Now() - observed_time >
      impl_->config.lease_duration + max_tolerable_expired_lease) {
    return UnavailableError("leader election " + impl_->name + ": failed to renew the lease");
  }
  return Status();
}

const std::string& LeaderElector::identity() const { return impl_->config.lock->Identity(); }

}  // namespace kube

// LeaderElector: of several candidate processes, one leads at a time; the others stand by and
// take over when the leader stops renewing its lease.
//
// Reads from: a `ResourceLock` (leaderelection/resource_lock.h), normally a `LeaseLock`.
// Feeds: the application's leading work (`on_started_leading`), typically its controllers.
// client-go: tools/leaderelection/leaderelection.go.
//
// The protocol (B48 in docs/behaviours.md): a candidate reads the lock; when nobody holds it, or
// the holder has not renewed for the holder's lease duration as measured on this candidate's own
// clock, it writes itself in (a conditional update: of two candidates racing, one gets 409
// Conflict). The leader renews every `retry_period`; when renewals keep failing for
// `renew_deadline` it stops leading. Because `renew_deadline < lease_duration`, the old leader has
// stopped before anyone else may take over — as long as clocks advance at the same rate (no clock
// is compared across machines).
//
// Example:
//   auto lock = kube::LeaseLock::Create(http, "default", "my-controller",
//                                       kube::DefaultLeaderIdentity());
//   auto elector = kube::LeaderElector::Create({
//       .lock = *lock,
//       .callbacks = {.on_started_leading = [&](std::stop_token stop) { RunController(stop); },
//                     .on_stopped_leading = [] { std::puts("lost the lease"); }},
//       .release_on_cancel = true});
//   (*elector)->Start();   // campaigns on its own thread; the destructor stops it
#ifndef KUBE_LEADERELECTION_LEADER_ELECTOR_H_
#define KUBE_LEADERELECTION_LEADER_ELECTOR_H_

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "kube/clock.h"
#include "kube/leaderelection/resource_lock.h"
#include "kube/status.h"

namespace kube {

// A candidate waits `retry_period * (1 + jitter * rand[0,1))` between attempts to acquire
// (client-go: `JitterFactor`).
inline constexpr double kLeaderElectionJitterFactor = 1.2;

// What the elector tells the application. None of them is called under a library lock.
struct LeaderCallbacks {
  // Required. Called once this candidate leads, on a thread of its own; `stop` is requested when
  // leading ends (the lease could not be renewed, or the elector was stopped). It must return
  // soon after: the elector waits for it before it releases the lease or reports the end. An
  // exception is caught and logged.
  std::function<void(std::stop_token stop)> on_started_leading;
  // Optional. Called on the elector's thread once leading has ended: after `on_started_leading`
  // has returned and, with `release_on_cancel`, after the release. Not called when this
  // candidate never led (client-go calls it whenever `Run` returns).
  std::function<void()> on_stopped_leading;
  // Optional. Called on the elector's thread when the holder it observes changes, including the
  // first holder it sees and this candidate itself; "" when the lock was released. Must return
  // quickly (client-go runs it on a goroutine of its own).
  std::function<void(const std::string& identity)> on_new_leader;
};

struct LeaderElectionConfig {
  // Required: the lock and this candidate's identity (`lock->Identity()`).
  std::shared_ptr<ResourceLock> lock;
  // How long others wait after the last renewal they observed before taking over. Written to the
  // lock in whole seconds (rounded down, at least 1 s).
  std::chrono::milliseconds lease_duration = std::chrono::seconds(15);
  // How long the leader keeps retrying a failing renewal before it stops leading. Must be below
  // `lease_duration` (whole seconds) and above `kLeaderElectionJitterFactor * retry_period`.
  std::chrono::milliseconds renew_deadline = std::chrono::seconds(10);
  // The wait between attempts to acquire (jittered) or renew.
  std::chrono::milliseconds retry_period = std::chrono::seconds(2);
  LeaderCallbacks callbacks;
  // When leading ends because the elector is stopped, write an empty holder (and a 1 s lease
  // duration) so that another candidate takes over at once instead of after `lease_duration`.
  // The leading work has returned by then (unlike client-go, which leaves that to the caller).
  bool release_on_cancel = false;
  // For log lines; default: the lock's `Describe()`.
  std::string name;
  // Time for the retry/renew waits and lease expiry; default `Clock::Real()`. Lock timestamps
  // (`acquireTime`, `renewTime`) are always wall-clock time, for humans: expiry never reads them.
  std::shared_ptr<Clock> clock;
};

// One candidate. Thread-safe: `IsLeader`, `GetLeader` and `Check` may be called from any thread
// (including the callbacks) while it runs; `Run`/`Start` run one campaign at a time.
class LeaderElector {
 public:
  // Errors: kInvalidArgument for a missing lock or `on_started_leading`, an empty identity, a
  // lease duration below 1 s, `renew_deadline` not below the (whole-second) lease duration, or
  // not above `kLeaderElectionJitterFactor * retry_period`, or a non-positive `retry_period`.
  static Result<std::unique_ptr<LeaderElector>> Create(LeaderElectionConfig config);
  // Stops and joins a campaign started by `Start`.
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Campaigns on the calling thread (client-go's `Run`): tries to acquire every `retry_period`
  // (jittered) until it succeeds, then calls `on_started_leading` and renews until a renewal has
  // failed for `renew_deadline`, another holder is observed, or `stop` is requested; then ends
  // leading (see `LeaderCallbacks`) and returns. Returns at once when `stop` is requested while
  // it waits; a lock request already in flight finishes first (bounded by its timeout). May be
  // called again after it returns.
  void Run(std::stop_token stop);

  // Runs `Run` on a thread the elector owns and returns at once. Call at most once per `Stop`.
  void Start();
  // Requests the campaign started by `Start` to end and waits for it (including the release and
  // `on_stopped_leading`). Idempotent; must not be called from a callback.
  void Stop() noexcept;

  // Whether this candidate leads now: true from just before `on_started_leading` is called until
  // leading ends. (client-go's `IsLeader` compares the last record observed, which stays true
  // after a failed renewal.)
  bool IsLeader() const;
  // The holder in the last record observed; "" before any or after a release.
  std::string GetLeader() const;
  // For a health check (client-go's `HealthzAdaptor`): an error (kUnavailable) when this
  // candidate leads but has not renewed for `lease_duration + max_tolerable_expired_lease` — a
  // leader stuck where it should already have stopped. OK otherwise.
  Status Check(std::chrono::milliseconds max_tolerable_expired_lease) const;
  const std::string& identity() const;

 private:
  struct Impl;
  explicit LeaderElector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_LEADERELECTION_LEADER_ELECTOR_H_

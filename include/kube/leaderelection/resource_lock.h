// ResourceLock: the object candidates of a leader election compete for, and `LeaseLock`, the
// implementation on a coordination.k8s.io/v1 Lease.
//
// Reads from: the API server through `ResourceClient` (client/rest_client.h).
// Feeds: `LeaderElector` (leaderelection/leader_elector.h).
// client-go: tools/leaderelection/resourcelock/{interface.go, leaselock.go}.
#ifndef KUBE_LEADERELECTION_RESOURCE_LOCK_H_
#define KUBE_LEADERELECTION_RESOURCE_LOCK_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kube/client/http_client.h"
#include "kube/object.h"
#include "kube/status.h"

namespace kube {

// What a lock holds: who leads, for how long a renewal counts, and when it was taken and renewed.
// Mirrors `LeaseSpec` (client-go: resourcelock.LeaderElectionRecord).
struct LeaderElectionRecord {
  std::string holder_identity;  // "" when nobody holds the lock (released)
  int64_t lease_duration_seconds = 0;
  // `spec.acquireTime` / `spec.renewTime`, microsecond precision (MicroTime); the epoch when
  // absent.
  std::chrono::system_clock::time_point acquire_time{};
  std::chrono::system_clock::time_point renew_time{};
  int64_t leader_transitions = 0;  // `spec.leaseTransitions`

  friend bool operator==(const LeaderElectionRecord&, const LeaderElectionRecord&) = default;
};

// `2026-11-29T08:45:00.123456Z`: metav1.MicroTime's format (RFC 3339, UTC, six fraction digits).
std::string FormatMicroTime(std::chrono::system_clock::time_point t);
// Parses RFC 3339 with or without a fraction; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseMicroTime(std::string_view s);
// The current time cut to whole microseconds, so that a record survives a round trip unchanged.
std::chrono::system_clock::time_point MicroNow();

// The record a Lease object holds (its `spec`); missing fields read as zero values. Errors:
// kInvalidArgument when a field has the wrong type or a time does not parse.
Result<LeaderElectionRecord> LeaderElectionRecordFromLease(const Object& lease);
// The Lease's `spec` JSON for `record` (every field present, as client-go writes it).
std::string LeaseSpecJson(const LeaderElectionRecord& record);

// A lock object on the server. The elector calls one method at a time, from its own thread;
// implementations need not be thread-safe beyond that, but `Identity` and `Describe` may be read
// from any thread.
//
// `timeout` bounds the call's requests (0 = the client's default); the elector passes what is
// left of its renew deadline, so a hung request cannot keep it leading past that deadline.
class ResourceLock {
 public:
  virtual ~ResourceLock() = default;

  // The record now on the server. Remembers the object read, so that the next `Update` is
  // conditional on it. Errors: kNotFound when the lock object does not exist; otherwise the
  // request's error.
  virtual Result<LeaderElectionRecord> Get(std::chrono::milliseconds timeout) = 0;
  // Creates the lock object holding `record`. Errors: kAlreadyExists when another candidate
  // created it first; otherwise the request's error.
  virtual Status Create(const LeaderElectionRecord& record, std::chrono::milliseconds timeout) = 0;
  // Replaces the record of the object last read or written, conditionally on its
  // resourceVersion. Errors: kConflict when the object changed since; kInvalidArgument when
  // neither `Get` nor `Create` has succeeded yet; otherwise the request's error.
  virtual Status Update(const LeaderElectionRecord& record, std::chrono::milliseconds timeout) = 0;

  // This candidate's identity, unique among the candidates. Never changes.
  virtual const std::string& Identity() const = 0;
  // The lock for messages: `leases/default/my-controller`.
  virtual std::string Describe() const = 0;
};

// The lock on a `coordination.k8s.io/v1` Lease `ns/name`, read and written through
// `ResourceClient` (updates carry the resourceVersion read, so a concurrent writer gets 409
// Conflict). Thread-compatible, as `ResourceLock` allows.
class LeaseLock final : public ResourceLock {
 public:
  // `http` reaches the server (its user needs get, create and update on leases in `ns`).
  // Errors: kInvalidArgument for a null client or an empty namespace, name or identity.
  static Result<std::shared_ptr<LeaseLock>> Create(std::shared_ptr<HttpClient> http, std::string ns,
                                                   std::string name, std::string identity);
  ~LeaseLock() override;

  Result<LeaderElectionRecord> Get(std::chrono::milliseconds timeout) override;
  Status Create(const LeaderElectionRecord& record, std::chrono::milliseconds timeout) override;
  Status Update(const LeaderElectionRecord& record, std::chrono::milliseconds timeout) override;
  const std::string& Identity() const override;
  std::string Describe() const override;

  // The Lease object last read or written (null before the first success), for tests and
  // diagnostics.
  ObjectPtr lease() const;

 private:
  struct Impl;
  explicit LeaseLock(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A fresh identity for this process: `<hostname>_<16 random hex digits>` (client-go examples use
// the hostname and a UUID).
std::string DefaultLeaderIdentity();

}  // namespace kube

#endif  // KUBE_LEADERELECTION_RESOURCE_LOCK_H_

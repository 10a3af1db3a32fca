// LeaseLock and the record <-> Lease conversions.
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <random>
#include <utility>

#include "base/mutex.h"
#include "base/time_format.h"
#include "json/scan.h"
#include "kube/client/rest_client.h"
#include "kube/leaderelection/resource_lock.h"
#include "object_metadata.h"

namespace kube {
namespace {

using internal::Mutex;
using internal::MutexLock;

const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases"};

// Forwards to the real client, setting each request's timeout from `timeout`, which the lock
// sets before every call. The lock is used from one thread at a time, so the value set is the
// value its own requests read; the atomic only keeps a stray concurrent caller well defined.
class TimeoutHttpClient final : public HttpClient {
 public:
  explicit TimeoutHttpClient(std::shared_ptr<HttpClient> inner) : inner_(std::move(inner)) {}
  void set_timeout(std::chrono::milliseconds t) { timeout_ms_ = t.count(); }

  Result<HttpResponse> Do(const HttpRequest& request) override {
    int64_t ms = timeout_ms_;
    if (ms <= 0) return inner_->Do(request);
    HttpRequest r = request;
    r.timeout = std::chrono::milliseconds(ms);
    return inner_->Do(r);
  }
  std::unique_ptr<HttpStream> Stream(const HttpRequest& request,
                                     StreamCallbacks callbacks) override {
    return inner_->Stream(request, std::move(callbacks));
  }
  const std::string& server() const override { return inner_->server(); }
  size_t max_watch_frame_bytes() const override { return inner_->max_watch_frame_bytes(); }
  bool prefer_protobuf() const override { return inner_->prefer_protobuf(); }
  bool parallel_list_decode() const override { return inner_->parallel_list_decode(); }

 private:
  std::shared_ptr<HttpClient> inner_;
  std::atomic<int64_t> timeout_ms_{0};
};

// A field of `spec`, or `fallback` when absent.
template <typename T, typename Get>
Result<T> Field(Get get, T fallback) {
  auto r = get();
  if (r) return *r;
  if (IsNotFound(r.error())) return fallback;
  return r.error();
}

Result<std::chrono::system_clock::time_point> TimeField(const Object& lease, const char* path) {
  Result<std::string> text = lease.GetString(path);
  if (!text) {
    if (IsNotFound(text.error())) return std::chrono::system_clock::time_point{};
    return text.error();
  }
  std::optional<std::chrono::system_clock::time_point> t = ParseMicroTime(*text);
  if (!t) return InvalidArgumentError(std::string(path) + ": not an RFC 3339 time: " + *text);
  return *t;
}

}  // namespace

std::string FormatMicroTime(std::chrono::system_clock::time_point t) {
  return internal::FormatRfc3339(t, /*micros=*/true);
}

std::optional<std::chrono::system_clock::time_point> ParseMicroTime(std::string_view s) {
  return internal::ParseSystemTime(s);
}

std::chrono::system_clock::time_point MicroNow() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

Result<LeaderElectionRecord> LeaderElectionRecordFromLease(const Object& lease) {
  LeaderElectionRecord r;
  Result<std::string> holder =
      Field<std::string>([&] { return lease.GetString("spec.holderIdentity"); }, "");
  if (!holder) return holder.error();
  r.holder_identity = std::move(*holder);
  Result<int64_t> duration =
      Field<int64_t>([&] { return lease.GetInt64("spec.leaseDurationSeconds"); }, 0);
  if (!duration) return duration.error();
  r.lease_duration_seconds = *duration;
  Result<int64_t> transitions =
      Field<int64_t>([&] { return lease.GetInt64("spec.leaseTransitions"); }, 0);
  if (!transitions) return transitions.error();
  r.leader_transitions = *transitions;
  auto acquire = TimeField(lease, "spec.acquireTime");
  if (!acquire) return acquire.error();
  r.acquire_time = *acquire;
  auto renew = TimeField(lease, "spec.renewTime");
  if (!renew) return renew.error();
  r.renew_time = *renew;
  return r;
}

std::string LeaseSpecJson(const LeaderElectionRecord& record) {
  std::string out = "{\"holderIdentity\":";
  internal::json::AppendQuoted(record.holder_identity, &out);
  out += ",\"leaseDurationSeconds\":" + std::to_string(record.lease_duration_seconds);
  out += ",\"acquireTime\":\"" + FormatMicroTime(record.acquire_time) + "\"";
  out += ",\"renewTime\":\"" + FormatMicroTime(record.renew_time) + "\"";
  out += ",\"leaseTransitions\":" + std::to_string(record.leader_transitions) + "}";
  return out;
}

std::string DefaultLeaderIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "localhost");
  }
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "_%016" PRIx64, r);
  return std::string(host) + suffix;
}

struct LeaseLock::Impl {
  std::shared_ptr<TimeoutHttpClient> http;
  ResourceClient client;
  std::string ns;
  std::string name;
  std::string identity;
  // The lease last read or written: `Update` writes over it, carrying its resourceVersion.
  mutable Mutex mu;
  ObjectPtr lease KUBE_GUARDED_BY(mu);

  Impl(std::shared_ptr<TimeoutHttpClient> h, std::string n, std::string nm, std::string id)
      : http(h),
        client(h, kLeases, n),
        ns(std::move(n)),
        name(std::move(nm)),
        identity(std::move(id)) {}

  ObjectPtr Lease() const KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    return lease;
  }
  void SetLease(ObjectPtr obj) KUBE_EXCLUDES(mu) {
    MutexLock l(mu);
    lease = std::move(obj);
  }
};

Result<std::shared_ptr<LeaseLock>> LeaseLock::Create(std::shared_ptr<HttpClient> http,
                                                     std::string ns, std::string name,
                                                     std::string identity) {
  if (!http) return InvalidArgumentError("LeaseLock: no HTTP client");
  if (ns.empty() || name.empty()) {
    return InvalidArgumentError("LeaseLock: the lease needs a namespace and a name");
  }
  if (identity.empty()) return InvalidArgumentError("LeaseLock: empty identity");
  auto timeout_client = std::make_shared<TimeoutHttpClient>(std::move(http));
  auto impl = std::make_unique<Impl>(std::move(timeout_client), std::move(ns), std::move(name),
                                     std::move(identity));
  return std::shared_ptr<LeaseLock>(new LeaseLock(std::move(impl)));
}

LeaseLock::LeaseLock(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LeaseLock::~LeaseLock() = default;

Result<LeaderElectionRecord> LeaseLock::Get(std::chrono::milliseconds timeout) {
  impl_->http->set_timeout(timeout);
  Result<ObjectPtr> lease = impl_->client.Get(impl_->name);
  if (!lease) return lease.error();
  Result<LeaderElectionRecord> record = LeaderElectionRecordFromLease(**lease);
  if (!record) return record.error().WithContext(Describe());
  impl_->SetLease(*lease);
  return record;
}

Status LeaseLock::Create(const LeaderElectionRecord& record, std::chrono::milliseconds timeout) {
  std::string json = "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",";
  json += "\"metadata\":{\"name\":";
  internal::json::AppendQuoted(impl_->name, &json);
  json += ",\"namespace\":";
  internal::json::AppendQuoted(impl_->ns, &json);
  json += "},\"spec\":" + LeaseSpecJson(record) + "}";
  impl_->http->set_timeout(timeout);
  Result<ObjectPtr> created = impl_->client.Create(std::string_view(json));
  if (!created) return created.error();
  impl_->SetLease(*created);
  return Status();
}

Status LeaseLock::Update(const LeaderElectionRecord& record, std::chrono::milliseconds timeout) {
  ObjectPtr old = impl_->Lease();
  if (!old) {
    return InvalidArgumentError("LeaseLock " + Describe() +
                                ": Update before the lease was read or created");
  }
  // The object as read, with a new spec: its metadata (labels, annotations, resourceVersion)
  // goes back unchanged, which makes the PUT conditional.
  Result<std::string> metadata = old->GetJson("metadata");
  if (!metadata) return metadata.error().WithContext(Describe());
  std::string json = "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":";
  json += *metadata;
  json += ",\"spec\":" + LeaseSpecJson(record) + "}";
  Result<ObjectPtr> obj = Object::Parse(json);
  if (!obj) return obj.error().WithContext(Describe());
  impl_->http->set_timeout(timeout);
  Result<ObjectPtr> updated = impl_->client.Update(**obj);
  if (!updated) return updated.error();
  impl_->SetLease(*updated);
  return Status();
}

const std::string& LeaseLock::Identity() const { return impl_->identity; }

std::string LeaseLock::Describe() const { return "leases/" + impl_->ns + "/" + impl_->name; }

ObjectPtr LeaseLock::lease() const { return impl_->Lease(); }

}  // namespace kube

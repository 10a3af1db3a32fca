// Faults: the failure modes the embedded server can inject on request, for tests and demos.
//
// Request-level faults live here (a deterministic fraction of requests failing with 429 +
// Retry-After or 500, added latency); stream-level ones (drop every watch, cut streams mid-event,
// compact the history) act on Storage's watchers and history directly.
//
// Thread-safe.
//
// Reads from: EmbeddedApiServer's fault methods. Feeds: the HTTP session (before routing).
#ifndef KUBE_SERVER_FAULTS_H_
#define KUBE_SERVER_FAULTS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "base/mutex.h"
#include "server/status_json.h"

namespace kube::server {

class Faults {
 public:
  explicit Faults(uint64_t seed = 1) : rng_(seed) {}

  // From now on fail `fraction` (0..1) of requests with `http_code` (429 sends Retry-After:
  // `retry_after_seconds`; any other code answers 500 InternalError). 0 turns it off.
  void FailRequests(double fraction, int http_code, int retry_after_seconds) KUBE_EXCLUDES(mu_);
  void SetLatency(std::chrono::milliseconds latency) KUBE_EXCLUDES(mu_);
  std::chrono::milliseconds latency() const KUBE_EXCLUDES(mu_);

  // Decides one request's fate (deterministic for a given seed and request order). Health
  // endpoints (`/healthz`, `/readyz`, `/livez`) never fail.
  std::optional<ApiError> MaybeFail(std::string_view path) KUBE_EXCLUDES(mu_);

 private:
  mutable internal::Mutex mu_;
  std::mt19937_64 rng_ KUBE_GUARDED_BY(mu_);
  double fraction_ KUBE_GUARDED_BY(mu_) = 0;
  int http_code_ KUBE_GUARDED_BY(mu_) = 500;
  int retry_after_ KUBE_GUARDED_BY(mu_) = 1;
  std::chrono::milliseconds latency_ KUBE_GUARDED_BY(mu_){0};
};

}  // namespace kube::server

#endif  // KUBE_SERVER_FAULTS_H_

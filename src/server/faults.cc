// Faults: request failures and latency; see faults.h.
//
// Reads from: EmbeddedApiServer. Feeds: the HTTP session.
#include "server/faults.h"

namespace kube::server {

void Faults::FailRequests(double fraction, int http_code, int retry_after_seconds) {
  internal::MutexLock lock(mu_);
  fraction_ = fraction;
  http_code_ = http_code;
  retry_after_ = retry_after_seconds;
}

void Faults::SetLatency(std::chrono::milliseconds latency) {
  internal::MutexLock lock(mu_);
  latency_ = latency;
}

std::chrono::milliseconds Faults::latency() const {
  internal::MutexLock lock(mu_);
  return latency_;
}

std::optional<ApiError> Faults::MaybeFail(std::string_view path) {
  if (path == "/healthz" || path == "/readyz" || path == "/livez") return std::nullopt;
  internal::MutexLock lock(mu_);
  if (fraction_ <= 0) return std::nullopt;
  double draw = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  if (draw >= fraction_) return std::nullopt;
  if (http_code_ == 429) return TooManyRequests(retry_after_);
  return InternalServerError("injected failure");
}

}  // namespace kube::server

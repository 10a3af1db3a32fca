// Status codes, messages and apimachinery's error predicates.
#include "kube/status.h"

#include <string>

namespace kube {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kGone:
      return "gone";
    case StatusCode::kUnauthorized:
      return "unauthorized";
    case StatusCode::kForbidden:
      return "forbidden";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kDataLoss:
      return "data_loss";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

Status Status::WithContext(std::string_view context) const {
  Status s = *this;
  s.message_ = std::string(context) + ": " + message_;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(StatusCodeName(code_));
  out += ": ";
  out += message_;
  if (http_code_ != 0 || !reason_.empty()) {
    out += " (";
    if (http_code_ != 0) out += std::to_string(http_code_);
    if (http_code_ != 0 && !reason_.empty()) out += ' ';
    out += reason_;
    out += ')';
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
Status ConflictError(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
Status GoneError(std::string m) { return {StatusCode::kGone, std::move(m)}; }
Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
Status CancelledError(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

namespace {

// The reason kube-apiserver would have sent for a bare HTTP code (client-go's
// `newUnstructuredResponseError` does the same when the body is not a Status).
std::string_view ReasonForHttp(int http_code) {
  switch (http_code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 504:
      return "Timeout";
    default:
      return http_code >= 500 ? "InternalError" : "Unknown";
  }
}

StatusCode CodeForHttp(int http_code, std::string_view reason) {
  if (reason == "AlreadyExists") return StatusCode::kAlreadyExists;
  switch (http_code) {
    case 400:
    case 405:
    case 406:
    case 415:
    case 422:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthorized;
    case 403:
      return StatusCode::kForbidden;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kConflict;
    case 410:
      return StatusCode::kGone;
    case 429:
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return http_code >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
  }
}

// apimachinery's `ReasonForError` then `reasonAndCodeForError`: a known reason decides; an
// unknown or empty reason falls back to the HTTP code; with neither, our own code decides.
bool Matches(const Status& s, std::string_view reason, int http_code, StatusCode own) {
  if (!s.reason().empty() && s.reason() != "Unknown") return s.reason() == reason;
  if (s.http_code() != 0) return s.http_code() == http_code;
  return s.code() == own;
}

}  // namespace

Status StatusFromHttp(int http_code, std::string reason, std::string message) {
  if (reason.empty()) reason = std::string(ReasonForHttp(http_code));
  StatusCode code = CodeForHttp(http_code, reason);
  // Servers before 1.18.6 named this condition only in the message of a 504 Timeout.
  constexpr std::string_view kTooLarge = "Too large resource version";
  std::string_view m = message;
  if (m.starts_with("Timeout: ")) m.remove_prefix(9);
  const bool too_large = code == StatusCode::kDeadlineExceeded && m.starts_with(kTooLarge);
  Status s =
      Status(code, std::move(message)).set_http_code(http_code).set_reason(std::move(reason));
  if (too_large) s.set_cause(StatusCause::kResourceVersionTooLarge);
  return s;
}

bool IsNotFound(const Status& s) { return Matches(s, "NotFound", 404, StatusCode::kNotFound); }
bool IsAlreadyExists(const Status& s) {
  return Matches(s, "AlreadyExists", -1, StatusCode::kAlreadyExists);
}
bool IsConflict(const Status& s) { return Matches(s, "Conflict", 409, StatusCode::kConflict); }
bool IsGone(const Status& s) {
  // Servers before 1.18 said Gone; newer ones say Expired. Both mean the same to a client.
  if (s.reason() == "Gone" || s.reason() == "Expired") return true;
  return Matches(s, "Expired", 410, StatusCode::kGone);
}
bool IsResourceExpired(const Status& s) { return IsGone(s); }
bool IsUnauthorized(const Status& s) {
  return Matches(s, "Unauthorized", 401, StatusCode::kUnauthorized);
}
bool IsForbidden(const Status& s) { return Matches(s, "Forbidden", 403, StatusCode::kForbidden); }
bool IsTooManyRequests(const Status& s) {
  if (s.reason() == "TooManyRequests" || s.http_code() == 429) return true;
  return false;
}
bool IsInvalid(const Status& s) { return Matches(s, "Invalid", 422, StatusCode::kInvalidArgument); }
bool IsTimeout(const Status& s) {
  return Matches(s, "Timeout", 504, StatusCode::kDeadlineExceeded);
}
bool IsInternalError(const Status& s) {
  return Matches(s, "InternalError", 500, StatusCode::kInternal);
}
bool IsTooLargeResourceVersion(const Status& s) {
  return s.cause() == StatusCause::kResourceVersionTooLarge;
}

BadResultAccess::BadResultAccess(Status status)
    : status_(std::move(status)), what_("Result::value() on error: " + status_.ToString()) {}

}  // namespace kube

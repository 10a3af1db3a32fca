// Status and Result<T>: how every fallible call in kube-informer reports failure.
//
// A `Status` carries a code, a message saying what failed and where, and, when a Kubernetes API
// server answered, the HTTP code and the API `reason` it sent. The predicates (`IsNotFound`,
// `IsGone`, ...) follow apimachinery's `api/errors`: they look at the reason first and fall back
// to the bare HTTP code, so a body-less 410 from a proxy still counts as Gone.
//
// `Result<T>` holds either a `T` or a non-OK `Status`, with `std::expected`'s member names so that
// it can become an alias once the project moves to C++23.
//
// client-go: k8s.io/apimachinery/pkg/api/errors/errors.go.
#ifndef KUBE_STATUS_H_
#define KUBE_STATUS_H_

#include <chrono>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace kube {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,   // bad input from the caller: a selector, a key, malformed JSON
  kNotFound,          // 404 / a Lister miss
  kAlreadyExists,     // 409 on create
  kConflict,          // 409 on update: the resourceVersion precondition failed
  kGone,              // 410: resourceVersion or continue token too old ("Expired"/"Gone")
  kUnauthorized,      // 401
  kForbidden,         // 403
  kUnavailable,       // connection refused, 429, 503: worth retrying
  kDeadlineExceeded,  // a timeout, including 504
  kDataLoss,          // a truncated or corrupt stream
  kCancelled,         // stopped by the caller
  kInternal,          // a bug, or a 500 from the server
};

// The lowercase name of a code, e.g. "not_found".
std::string_view StatusCodeName(StatusCode code);

// What a failure is, where its code alone does not say enough for a client to decide what to do
// next. Set where the failure is made (a decoder, the server's Status as it is decoded), so that
// no caller ever reads a message to classify an error.
enum class StatusCause : uint8_t {
  kNone = 0,
  // The server cannot serve that resourceVersion yet (its Status cause `ResourceVersionTooLarge`,
  // with a 504 Timeout "Too large resource version"): ask for resourceVersion "" instead.
  kResourceVersionTooLarge,
  // Bytes that cannot be decoded: a malformed watch event or an unknown event type. Reading the
  // same data again would meet the same bytes.
  kMalformed,
  // Over a size limit of the client (a watch frame over `max_watch_frame_bytes`).
  kOverLimit,
  // The stream ended inside a frame (the connection broke mid-event): resuming is enough.
  kTruncated,
};

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Set when the failure came from an API server's answer; 0 and "" otherwise.
  int http_code() const { return http_code_; }
  const std::string& reason() const { return reason_; }
  // The server's `details.retryAfterSeconds` or `Retry-After` header, when it sent one.
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }
  // What kind of failure this is, when known (`StatusCause`); kNone otherwise.
  StatusCause cause() const { return cause_; }

  Status& set_http_code(int code) & {
    http_code_ = code;
    return *this;
  }
  Status&& set_http_code(int code) && { return std::move(set_http_code(code)); }
  Status& set_reason(std::string reason) & {
    reason_ = std::move(reason);
    return *this;
  }
  Status&& set_reason(std::string reason) && { return std::move(set_reason(std::move(reason))); }
  Status& set_retry_after(std::chrono::seconds s) & {
    retry_after_ = s;
    return *this;
  }
  Status&& set_retry_after(std::chrono::seconds s) && { return std::move(set_retry_after(s)); }
  Status& set_cause(StatusCause cause) & {
    cause_ = cause;
    return *this;
  }
  Status&& set_cause(StatusCause cause) && { return std::move(set_cause(cause)); }

  // Returns a copy whose message is "<context>: <message>", keeping everything else.
  Status WithContext(std::string_view context) const;

  // "not_found: deployments.apps \"web\" not found (404 NotFound)".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.http_code_ == b.http_code_ &&
           a.reason_ == b.reason_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int http_code_ = 0;
  std::string reason_;
  std::optional<std::chrono::seconds> retry_after_;
  StatusCause cause_ = StatusCause::kNone;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

// Constructors for the common codes.
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status ConflictError(std::string message);
Status GoneError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status DataLossError(std::string message);
Status CancelledError(std::string message);
Status InternalError(std::string message);

// Builds the Status a Kubernetes API server means by an HTTP code and (optional) reason. When
// `reason` is empty it is synthesised from the code as client-go does (404 NotFound, 409 Conflict,
// 410 Expired, 422 Invalid, 429 TooManyRequests, 5xx InternalError, ...). A 504 Timeout whose
// message begins "Too large resource version" (or, with kube-apiserver's "Timeout: " prefix,
// continues so) gets the cause kResourceVersionTooLarge: servers before 1.18.6 said so only in
// the message, as client-go's reflector also knows.
Status StatusFromHttp(int http_code, std::string reason, std::string message);

// Predicates, as in apimachinery: reason first, then the bare HTTP code, then our own code.
bool IsNotFound(const Status& s);
bool IsAlreadyExists(const Status& s);
bool IsConflict(const Status& s);
// 410 with reason Expired or Gone (or no reason), or our kGone.
bool IsGone(const Status& s);
bool IsResourceExpired(const Status& s);  // the same test, apimachinery's other name
bool IsUnauthorized(const Status& s);
bool IsForbidden(const Status& s);
bool IsTooManyRequests(const Status& s);
bool IsInvalid(const Status& s);
bool IsTimeout(const Status& s);
bool IsInternalError(const Status& s);
// True when the cause is kResourceVersionTooLarge (the server cannot serve that resourceVersion
// yet); the reflector's next list then asks for resourceVersion "" (B58 in docs/behaviours.md).
bool IsTooLargeResourceVersion(const Status& s);

// Thrown by `Result<T>::value()` on an error: a programming error, never a routine failure.
class BadResultAccess : public std::exception {
 public:
  explicit BadResultAccess(Status status);
  const char* what() const noexcept override { return what_.c_str(); }
  const Status& status() const { return status_; }

 private:
  Status status_;
  std::string what_;
};

// Holds a `T` or a non-OK `Status`. Names follow `std::expected`.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status directly");

 public:
  using value_type = T;

  // From a value.
  Result(const T& v) : v_(std::in_place_index<0>, v) {}        // NOLINT(runtime/explicit)
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT(runtime/explicit)
  template <typename U,
            typename = std::enable_if_t<
                std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Result> &&
                !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& u) : v_(std::in_place_index<0>, std::forward<U>(u)) {}  // NOLINT
  // From an error. An OK status here is a programming error and becomes kInternal.
  Result(Status s) : v_(std::in_place_index<1>, std::move(s)) {  // NOLINT(runtime/explicit)
    if (std::get<1>(v_).ok())
      v_.template emplace<1>(StatusCode::kInternal, "Result built from OK status");
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    Check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    Check();
    return std::get<0>(v_);
  }
  T&& value() && {
    Check();
    return std::move(std::get<0>(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  // The error; OK when this holds a value.
  Status error() const { return has_value() ? Status() : std::get<1>(v_); }
  // Convenience for `RETURN_IF_ERROR`-style code.
  Status status() const { return error(); }

 private:
  void Check() const {
    if (!has_value()) throw BadResultAccess(std::get<1>(v_));
  }
  std::variant<T, Status> v_;
};

}  // namespace kube

#endif  // KUBE_STATUS_H_

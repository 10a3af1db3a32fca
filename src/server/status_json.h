// ApiError and the `Status` bodies the embedded server answers with (protocol §5).
//
// Every failure inside the server is an `ApiError`: the HTTP code, the API `reason`, the message in
// apimachinery's words, and the `details` (name, group, resource, causes) kube-apiserver puts in
// its Status. `StatusJson` renders it; `ToStatus` turns it into the library's `kube::Status` for
// the in-process helpers of `EmbeddedApiServer`.
//
// Reads from: the registry, storage and router. Feeds: HTTP answers and watch ERROR events.
// kube-apiserver: k8s.io/apimachinery/pkg/api/errors/errors.go.
#ifndef KUBE_SERVER_STATUS_JSON_H_
#define KUBE_SERVER_STATUS_JSON_H_

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "kube/status.h"
#include "server/resource_info.h"

namespace kube::server {

// One entry of `details.causes`.
struct StatusCause {
  std::string reason;  // "FieldValueInvalid"
  std::string message;
  std::string field;  // "metadata.name"
};

struct ApiError {
  int code = 500;
  std::string reason;  // "NotFound"
  std::string message;
  // `details`: omitted when all empty. `kind` is the resource ("deployments"), as kube-apiserver
  // sends it.
  std::string name;
  std::string group;
  std::string kind;
  std::vector<StatusCause> causes;
  int retry_after_seconds = 0;  // > 0: `details.retryAfterSeconds` and a `Retry-After` header
  // `metadata.continue` of the Status (410 for an expired continue token carries a fresh one).
  std::string continue_token;
};

// Holds a `T` or an `ApiError`; the server-internal twin of `Result<T>` that keeps the details.
template <typename T>
class [[nodiscard]] ApiOr {
 public:
  ApiOr(T v) : v_(std::in_place_index<0>, std::move(v)) {}         // NOLINT(runtime/explicit)
  ApiOr(ApiError e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT(runtime/explicit)
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

// The Failure Status as compact JSON (one line: it is also a watch ERROR event's object).
std::string StatusJson(const ApiError& e);
// `{"kind":"Status",...,"status":"Success","details":{...}}`: a DELETE's answer for most kinds.
std::string SuccessStatusJson(std::string_view name, std::string_view group,
                              std::string_view resource, std::string_view uid);

// For the in-process helpers: the library's Status with the same code, reason and message.
Status ToStatus(const ApiError& e);
// The reverse, for Status values from the presentation functions (patch, catalog).
ApiError FromStatus(const Status& s);

// --- Constructors, in apimachinery's words -----------------------------------------------------
ApiError NotFound(const ResourceInfo& info, std::string_view name);
ApiError NamespaceNotFound(std::string_view ns);
// 404 for a URL that names no resource: `the server could not find the requested resource`.
ApiError PathNotFound();
ApiError AlreadyExists(const ResourceInfo& info, std::string_view name);
// 409 Conflict: `Operation cannot be fulfilled on <res> "<name>": <detail>`.
ApiError Conflict(const ResourceInfo& info, std::string_view name, std::string_view detail);
// The optimistic-concurrency conflict detail (protocol §4).
inline constexpr std::string_view kObjectModified =
    "the object has been modified; please apply your changes to the latest version and try again";
// 422 Invalid: `<Kind>.<group> "<name>" is invalid: <field>: <cause>` (or `[a, b]` for several).
ApiError Invalid(std::string_view kind, std::string_view group, std::string_view name,
                 std::vector<StatusCause> causes);
// A cause of type FieldValueInvalid: `Invalid value: "<value>": <detail>`.
StatusCause InvalidValueCause(std::string_view field, std::string_view value,
                              std::string_view detail);
StatusCause RequiredCause(std::string_view field, std::string_view detail);
StatusCause ForbiddenCause(std::string_view field, std::string_view detail);
StatusCause UnsupportedValueCause(std::string_view field, std::string_view value,
                                  std::string_view supported);
// 422 on kind ListOptions (group meta.k8s.io, empty name): bad list/watch parameters (§6).
ApiError InvalidListOptions(StatusCause cause);
ApiError BadRequest(std::string message);
ApiError MethodNotAllowed(std::string_view verb, const ResourceInfo& info);
ApiError NotAcceptable();
ApiError UnsupportedMediaType(std::string message);
// 410 Expired.
ApiError Expired(std::string message);
// `too old resource version: <requested> (<oldest retained - 1>)`, as the watch cache says it.
ApiError TooOldResourceVersion(uint64_t requested, uint64_t compacted);
// 504 Timeout `Too large resource version: N, current: M` (cause ResourceVersionTooLarge).
ApiError TooLargeResourceVersion(uint64_t requested, uint64_t current);
ApiError TooManyRequests(int retry_after_seconds);
// 413 RequestEntityTooLarge (a body over the request limit, a JSON patch with too many
// operations), with kube-apiserver's wording: "Request entity too large: limit is 3145728".
ApiError RequestEntityTooLarge(std::string message);
ApiError InternalServerError(std::string detail);
ApiError Unauthorized();

}  // namespace kube::server

#endif  // KUBE_SERVER_STATUS_JSON_H_

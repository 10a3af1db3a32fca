// ResourceClient: get, list, watch and write one resource (any GroupVersionResource). Objects are
// JSON-backed; built-in kinds are read in Kubernetes' protobuf encoding and transcoded.
//
// Reads from: an `HttpClient` (client/http_client.h).
// Feeds: list/watch for the reflector (cache/list_watch.h), users' controllers, `kinf`.
// client-go: dynamic/simple.go (the dynamic client), rest/request.go (URLs, decoding errors),
// rest/watch/decoder.go (via src/watch/watch_decoder.cc).
#ifndef KUBE_CLIENT_REST_CLIENT_H_
#define KUBE_CLIENT_REST_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/group_version.h"
#include "kube/object.h"
#include "kube/status.h"
#include "kube/watch/watch.h"

namespace kube {

enum class ResourceVersionMatch { kUnset, kExact, kNotOlderThan };

// Query parameters of list and watch (metav1.ListOptions). Unset fields are not sent.
struct ListOptions {
  // The `labelSelector=` / `fieldSelector=` text; `LabelSelector::String()` and
  // `FieldSelector::String()` give it from selector objects.
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  ResourceVersionMatch resource_version_match = ResourceVersionMatch::kUnset;
  int64_t limit = 0;  // 0: no limit
  std::string continue_token;
  std::optional<int64_t> timeout_seconds;
  bool allow_watch_bookmarks = false;
  std::optional<bool> send_initial_events;
};

// Query parameters of create, update and patch.
struct WriteOptions {
  std::string field_manager;
  bool dry_run = false;  // dryRun=All
};

// Query parameters of a server-side apply.
struct ApplyOptions {
  std::string field_manager;  // required: the manager that owns what this apply sets
  bool force = false;         // take fields other managers own instead of failing with 409
  bool dry_run = false;       // dryRun=All
};

enum class PropagationPolicy { kDefault, kOrphan, kBackground, kForeground };

// The body of a DELETE (metav1.DeleteOptions).
struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  PropagationPolicy propagation_policy = PropagationPolicy::kDefault;
  // Preconditions: the delete fails with 409 Conflict unless the object still has these.
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

enum class PatchType {
  kMerge,      // application/merge-patch+json (RFC 7386)
  kJson,       // application/json-patch+json (RFC 6902)
  kStrategic,  // application/strategic-merge-patch+json (built-in kinds only)
};

// Cancels a `WatchAsync` on destruction (or on `Cancel()`).
class WatchHandle {
 public:
  WatchHandle() = default;
  explicit WatchHandle(std::unique_ptr<HttpStream> stream) : stream_(std::move(stream)) {}
  WatchHandle(WatchHandle&&) noexcept = default;
  WatchHandle& operator=(WatchHandle&&) noexcept = default;
  ~WatchHandle() = default;  // the stream cancels itself

  // After it returns no callback of the watch runs again (see `HttpStream::Cancel`). Idempotent;
  // may be called from a callback of the watch itself.
  void Cancel() noexcept {
    if (stream_) stream_->Cancel();
  }

 private:
  std::unique_ptr<HttpStream> stream_;
};

// A client for one resource in one namespace (or all namespaces / cluster scope when `ns` is "").
// A cheap value: copy it freely. Thread-safe.
//
// Errors of every call: the server's Status, decoded from the response body into a `Status`
// with its code, reason, message and HTTP code (so `IsNotFound`, `IsConflict`, `IsGone`, ... work),
// and `retry_after` for 429; a non-Status body (say, HTML from a proxy) is classified by its HTTP
// code with the first bytes quoted; transport failures as `HttpClient::Do` describes them;
// kDataLoss when a 2xx body does not decode.
//
// Encoding: reads (get, list, watch) of a built-in group/version (`HasProtobufGroupVersion`) send
// `Accept: application/vnd.kubernetes.protobuf, application/json`, as client-go's typed clients
// do, unless `HttpClient::prefer_protobuf()` is false; custom resources and every write use
// `application/json`. Answers are decoded by their Content-Type: protobuf bodies, watch streams
// and error Statuses are transcoded to the JSON the server would have sent
// (kube/proto/protobuf.h), so results and errors are the same either way. A protobuf answer whose
// kind the transcoder does not know makes the client read this resource as JSON from then on (for
// this client, its copies and `InNamespace` clients), with one warning: a get or list is retried
// at once with JSON; a watch ends with a kDataLoss "malformed watch event" ERROR, after which the
// reflector relists (in JSON).
class ResourceClient {
 public:
  ResourceClient(std::shared_ptr<HttpClient> http, GroupVersionResource gvr, std::string ns = "");

  // The same resource in another namespace ("" = all namespaces / cluster-scoped).
  ResourceClient InNamespace(std::string ns) const;

  const GroupVersionResource& resource() const { return gvr_; }
  const std::string& ns() const { return ns_; }
  const std::shared_ptr<HttpClient>& http() const { return http_; }
  // Whether reads ask for protobuf now (see "Encoding" above).
  bool protobuf() const;

  // GET one object. `resource_version` "" = most recent, "0" = any.
  Result<ObjectPtr> Get(std::string_view name, std::string_view resource_version = "") const;

  // GET one page of the collection. Follow `continue_token` for the next page. The body is decoded
  // while it arrives (through `HttpRequest::body_sink`) and never held whole; the result, or the
  // error, is `DecodeList`'s for that body, and a failed transfer gives no items at all. A page
  // whose continue token is the one it was asked with is kDataLoss (following it never ends).
  Result<ObjectList> List(const ListOptions& options = {}) const;
  // The same, but items are handed to `on_items` in batches of about `batch` while the body
  // arrives, on the HTTP client's I/O thread (which `on_items` must not block), and the result
  // holds only the items not handed on. A body that breaks after some batches is an error as
  // above, but those batches have been delivered: treat them like the pages of a paginated list
  // that failed halfway. A reflector uses this so that a relist never holds a whole second copy.
  // `on_items` may be null (every item is in the result). Once `stop` is requested the request
  // is abandoned, mid-body too, and the call returns kCancelled (`HttpRequest::stop`).
  Result<ObjectList> List(const ListOptions& options,
                          std::function<void(std::vector<ObjectPtr>)> on_items, size_t batch = 500,
                          std::stop_token stop = {}) const;

  // Starts a watch; blocks until the server has answered with headers (at most 60 s, then
  // kDeadlineExceeded). A non-200 answer is returned as the error Status decoded from its body; a
  // 200 gives a `Watch` whose events are decoded as they arrive: the events of `WatchAsyncBatched`,
  // queued for `Next` (the connection pauses while 1024 are queued, until 256 are left).
  // `options.resource_version`
  // "" or "0" starts with synthetic ADDED events (see the protocol notes, §8).
  Result<std::unique_ptr<kube::Watch>> Watch(const ListOptions& options = {}) const;

  // Starts a watch without a consumer thread: `on_event` receives each event on the HTTP
  // client's I/O thread and must not block (hand it to a queue). A non-200 answer arrives as one
  // ERROR event carrying the decoded Status (e.g. 410 Expired). `on_closed` runs once when the
  // stream ends: OK when the server closed it, or the failure (after an ERROR event describing
  // it). Neither runs after the handle is cancelled or destroyed. Returns at once.
  WatchHandle WatchAsync(const ListOptions& options, std::function<void(WatchEvent)> on_event,
                         std::function<void(Status)> on_closed = nullptr) const;
  // As `WatchAsync`, but `on_events` receives every event that one chunk of the stream completes
  // in a single call (in order, never empty; it may move from them): one call, and one wake-up of
  // whatever queue it feeds, per chunk instead of per event.
  WatchHandle WatchAsyncBatched(const ListOptions& options,
                                std::function<void(std::vector<WatchEvent>&)> on_events,
                                std::function<void(Status)> on_closed = nullptr) const;

  // POST. The object's namespace is this client's, or the object's own when the client has none.
  Result<ObjectPtr> Create(const Object& object, const WriteOptions& options = {}) const;
  Result<ObjectPtr> Create(std::string_view json, const WriteOptions& options = {}) const;
  // PUT to the object's name; a `metadata.resourceVersion` makes it conditional (409 Conflict).
  Result<ObjectPtr> Update(const Object& object, const WriteOptions& options = {}) const;
  // PUT to the `status` subresource.
  Result<ObjectPtr> UpdateStatus(const Object& object, const WriteOptions& options = {}) const;
  // PATCH with the body `patch` of `type`; `subresource` "" or e.g. "status", "scale".
  Result<ObjectPtr> Patch(std::string_view name, PatchType type, std::string_view patch,
                          const WriteOptions& options = {},
                          std::string_view subresource = "") const;
  // Server-side apply: PATCH `application/apply-patch+yaml` with the object's JSON (JSON is YAML)
  // to its name, as client-go's `Apply`. The server merges it into the object, or creates the
  // object when absent, and records the fields it sets as owned by `options.field_manager`;
  // fields this manager applied before and no longer sets are removed. Errors: kInvalidArgument
  // before any request when the object has no name or `field_manager` is empty; 409 Conflict
  // (`IsConflict`) when another manager owns a field this apply would change, unless
  // `options.force`; the Status's causes name each field. `subresource` "" or "status".
  Result<ObjectPtr> Apply(const Object& object, const ApplyOptions& options,
                          std::string_view subresource = "") const;
  Result<ObjectPtr> Apply(std::string_view json, const ApplyOptions& options,
                          std::string_view subresource = "") const;
  // DELETE one object. OK whether the server answers with a Status or the (marked) object.
  Status Delete(std::string_view name, const DeleteOptions& options = {}) const;
  // DELETE the collection, filtered by `list_options`' selectors.
  Status DeleteCollection(const DeleteOptions& options = {},
                          const ListOptions& list_options = {}) const;

  // The path of the collection (`/apis/apps/v1/namespaces/default/deployments`) or, with a name,
  // of one object; for tests and messages.
  std::string Path(std::string_view name = "", std::string_view subresource = "",
                   std::string_view ns_override = "") const;

 private:
  // The one watch pump behind `Watch`, `WatchAsync` and `WatchAsyncBatched`: decodes the stream
  // on the I/O thread and hands on every event a chunk completes. `on_answer` (optional) learns
  // the HTTP status when the headers arrive, or 0 and the transport's error when the request
  // failed before them; `*what` (optional) receives "GET <path>" for messages.
  std::unique_ptr<HttpStream> StartWatchStream(
      const ListOptions& options, std::function<void(std::vector<WatchEvent>&)> on_events,
      std::function<void(Status)> on_closed, std::function<void(int, const Status&)> on_answer,
      std::string* what) const;
  Result<ObjectList> ListOnce(const ListOptions& options,
                              const std::function<void(std::vector<ObjectPtr>)>& on_items,
                              size_t batch, std::stop_token stop, bool protobuf,
                              bool* unknown_kind) const;

  std::shared_ptr<HttpClient> http_;
  GroupVersionResource gvr_;
  std::string ns_;
  // Set once a protobuf answer named a kind without a protobuf form; shared by copies.
  std::shared_ptr<std::atomic<bool>> json_only_;
};

// --- Helpers shared with discovery and tools ---------------------------------------------------

// Percent-encodes a query value or path segment (RFC 3986 unreserved characters stay).
std::string PercentEncode(std::string_view s);

// The query string (without '?') of `options`, for a list (`watch` false) or a watch.
std::string ListQuery(const ListOptions& options, bool watch);

// The Status an HTTP error response means: the body's Status when it is one (code, reason,
// message, `details.retryAfterSeconds`), else a Status built from the code with the body's first
// bytes quoted. `retry_after` (the header) is kept when the body has none.
Status StatusFromResponse(const HttpResponse& response, std::string_view what);

}  // namespace kube

#endif  // KUBE_CLIENT_REST_CLIENT_H_

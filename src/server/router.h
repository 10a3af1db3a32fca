// Router: maps one HTTP request of the Kubernetes REST protocol to an answer, without any I/O.
//
// It parses the URL layout (protocol §1), the list and watch parameters (§6-§8), selectors (§9,
// §10) and content negotiation (Tables, aggregated discovery), calls the Registry, Storage and the
// presentation functions (discovery, tables, patches), and returns either a complete response or
// a `WatchPlan` that the HTTP session streams.
//
// Thread-safe: holds no per-request state.
//
// Reads from: the HTTP session (http_session.cc). Feeds: the registry, storage, watch streams.
// kube-apiserver: endpoints/handlers/{get,create,update,patch,delete,watch}.go.
#ifndef KUBE_SERVER_ROUTER_H_
#define KUBE_SERVER_ROUTER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "kube/fields.h"
#include "kube/labels.h"
#include "server/auth.h"
#include "server/registry.h"
#include "server/resource_info.h"
#include "server/storage.h"
#include "server/table.h"

namespace kube::server {

struct HttpRequest {
  std::string method{};                                   // "GET"
  std::string path{};                                     // percent-decoded, without the query
  std::map<std::string, std::string, std::less<>> query;  // decoded; the first value wins
  std::string accept{};
  std::string content_type{};
  std::string host{};        // the Host header, for discovery's serverAddress
  std::string user_agent{};  // names the field manager of writes without `fieldManager`
  std::string body{};
  // Who the request acts as: authenticated (or anonymous), then impersonated (auth.h).
  UserInfo user = AnonymousUser();
  // The session waited for the resourceVersion this request names (`RvWait`) and gave up: the
  // router answers 504 Too large resource version instead of asking to wait again.
  bool rv_wait_over = false;
};

// One item of a protobuf list answer as it appears in the list: the key of the list's field 2
// (`items`), the item's length as a varint and its message (no envelope: items inside a list carry
// none). `field` views bytes that `bytes` keeps alive (shared with the encoding cache).
struct EncodedItem {
  std::shared_ptr<const std::string> bytes;
  std::string_view field;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers;
  // A JSON list goes out without copying its objects: `body` (the list's opening), then each
  // item's stored JSON, comma-separated, then `body_suffix`. Empty for every other answer.
  std::vector<ObjectPtr> items{};
  // A protobuf list goes out the same way: `body` (the envelope up to the list's first item),
  // then each item's `field`, then `body_suffix`. Empty for every other answer; never set
  // together with `items`.
  std::vector<EncodedItem> encoded_items{};
  std::string body_suffix{};

  // The whole body's length in bytes.
  size_t body_size() const;
  // The whole body as one string (tests, small answers).
  std::string FlatBody() const;
};

// The answer to an HTTP failure: the Status body, its code and Retry-After.
HttpResponse ErrorResponse(const ApiError& e);

// Everything a watch stream needs; built by the router, consumed by one session.
struct WatchPlan {
  ResourceInfoPtr info;
  std::string ns{};  // "" = every namespace
  LabelSelector labels = LabelSelector::Everything();
  FieldSelector fields = FieldSelector::Everything();
  std::shared_ptr<Watcher> watcher;  // null when `error_event` is set
  std::vector<ObjectPtr> initial;    // synthetic ADDED events, sent first
  uint64_t start_rv = 0;             // the stream has delivered everything up to this
  bool bookmarks = false;            // allowWatchBookmarks
  bool initial_events_end = false;   // sendInitialEvents=true: annotated bookmark after `initial`
  std::chrono::seconds timeout{1800};
  bool table = false;
  IncludeObject include = IncludeObject::kMetadata;
  // Events go out as protobuf frames (content_type.h); Tables never do.
  bool protobuf = false;
  // A watch that cannot start from its resourceVersion: one ERROR event with this Status, then
  // the end of the stream (HTTP 200, as kube-apiserver answers).
  std::optional<std::string> error_event{};
};

// The request asks for a resourceVersion the server has not reached (a get or list "not older
// than N", a watch from N). As kube-apiserver's watch cache, the session waits for the version
// (up to `HttpServerOptions::rv_wait`, without blocking a thread) and asks the router again:
// answered normally once the version is reached, else with `rv_wait_over` set.
struct RvWait {
  uint64_t rv = 0;
};

using RouteResult = std::variant<HttpResponse, std::shared_ptr<WatchPlan>, RvWait>;

struct RouterOptions {
  // A watch without `timeoutSeconds` ends after this long.
  std::chrono::seconds max_watch_timeout{1800};
  // The request body limit; a YAML body's aliases may expand it to at most this much JSON.
  size_t max_request_body_bytes = size_t{3} << 20;
};

class Router {
 public:
  Router(Registry& registry, RouterOptions options);

  // Answers `req`. For a watch, `watch_notify` is registered with the new watcher (see
  // `Watcher`): it must only schedule the session's next write. Never throws.
  RouteResult Handle(const HttpRequest& req, std::function<void()> watch_notify) const;

  // The authenticator TokenReviews check tokens with (none: no token is valid). Call before the
  // router is shared between threads.
  void SetAuthenticator(const Authenticator* authenticator) { authenticator_ = authenticator; }

  // List requests answered so far (each page counts), and those of them that asked for one item
  // without a continue token (a cheap read of the current resourceVersion).
  struct ListCounts {
    uint64_t all = 0;
    uint64_t single_item = 0;
  };
  ListCounts ListRequestCounts() const {
    return {list_counter_.all.load(std::memory_order_relaxed),
            list_counter_.single_item.load(std::memory_order_relaxed)};
  }
  // What `ListRequestCounts` reads; the list handler counts each request it answers.
  struct ListCounter {
    std::atomic<uint64_t> all{0};
    std::atomic<uint64_t> single_item{0};
    void Count(int64_t limit, bool has_continue) {
      all.fetch_add(1, std::memory_order_relaxed);
      if (limit == 1 && !has_continue) single_item.fetch_add(1, std::memory_order_relaxed);
    }
  };

 private:
  // Routes `req`, whose body content negotiation has already turned into JSON, to its handler.
  // May throw (nlohmann type errors on odd bodies, bad_alloc): `Handle` turns that into a 500.
  RouteResult RouteNegotiated(const HttpRequest& req, std::function<void()> watch_notify) const;

  Registry& registry_;
  const RouterOptions options_;
  const Authenticator* authenticator_ = nullptr;
  mutable ListCounter list_counter_;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_ROUTER_H_

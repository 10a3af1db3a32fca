// EmbeddedApiServer: an in-process server that speaks the Kubernetes REST protocol well enough
// for client-go-style informers, our own client and the real `kubectl`.
//
// It is a test and demo server, not a production API server: no authorization, no admission, no
// controllers (Deployments never create Pods), no persistence, one version per resource. Point
// production code at a real cluster through a kubeconfig. See docs/server.md for what it serves,
// its approximations and its fault injection.
//
// What it serves: built-in core/v1, apps/v1, batch/v1, discovery.k8s.io/v1, coordination.k8s.io/v1
// kinds and CustomResourceDefinitions (plus resources from a file); discovery and a minimal
// OpenAPI v3; get/list/watch/create/update/patch/delete/deletecollection with resourceVersion
// semantics, pagination, selectors, Tables, bookmarks and streaming lists; TLS, client
// certificates and bearer tokens.
//
// Thread-safe: every method may be called from any thread. `Stop` and the destructor block until
// the I/O threads have joined. The in-process helpers bypass HTTP (no auth, no injected faults)
// but go through the same storage, so watchers see their changes.
//
// client-go counterpart: none (kube-apiserver's generic registry and watch cache, in miniature).
#ifndef KUBE_SERVER_API_SERVER_H_
#define KUBE_SERVER_API_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kube/group_version.h"
#include "kube/object.h"
#include "kube/status.h"

namespace kube {

struct ApiServerOptions {
  // Listen address and port; port 0 picks a free one (see `Port()`). Tests bind 127.0.0.1 only.
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  // I/O threads serving every connection (no thread per connection).
  int threads = 1;
  // Events kept for resuming watches, exact-version lists and continue tokens. A watch or
  // continue older than this window gets 410 Expired.
  size_t history_size = 10000;
  // The same window bounded in bytes: each event is charged the memory of the object states it
  // keeps (new and previous), and the oldest events are dropped (compacted: 410 Expired for what
  // needed them) while the total is over this.
  size_t history_bytes = size_t{128} << 20;
  // A get, list ("not older than") or watch naming a resourceVersion the server has not reached
  // waits this long for it, then gets 504 Too large resource version (a watch: an ERROR event),
  // as from kube-apiserver's watch cache. A server that restarted answers so to clients that
  // resume from its previous life's versions; they relist.
  std::chrono::milliseconds resource_version_wait = std::chrono::seconds(3);
  // Events one watcher may lag behind before its stream is closed (the client re-watches).
  size_t watch_queue_limit = 10000;
  // BOOKMARK period for watches with `allowWatchBookmarks=true`; each bookmark carries the
  // server's current resourceVersion (every resource's writes), so an informer whose watch sees
  // no change still learns, within one period, that it is up to date (read-your-writes waits on
  // quiet informers rely on it). Must be positive (`Start` answers kInvalidArgument).
  std::chrono::milliseconds bookmark_interval = std::chrono::seconds(60);
  // A watch without `timeoutSeconds` ends after this long.
  std::chrono::seconds max_watch_timeout = std::chrono::seconds(1800);
  // Create default, kube-system, kube-public and kube-node-lease at start.
  bool default_namespaces = true;
  // kube-apiserver's flags of the same names; TLS when the cert and key are set.
  std::string tls_cert_file{};
  std::string tls_private_key_file{};
  std::string client_ca_file{};
  std::string token_auth_file{};
  // Extra resources to serve (format in docs/server.md); "" for none.
  std::string resources_file{};
  // "" (nothing), "demo" (a few Deployments, Pods, Services in `default`), or a manifest file.
  std::string seed{};
  // Seeds the generator of injected request failures.
  uint64_t fault_seed = 1;

  // --- Limits (docs/reliability.md, "Limits") --------------------------------------------------
  // A request body larger than this gets 413 RequestEntityTooLarge ("Request entity too large:
  // limit is N"), as kube-apiserver's 3 MiB `MaxRequestBodyBytes`. A JSON patch with more than
  // 10,000 operations gets 413 too. The limit also bounds what a body becomes: no write stores an
  // object whose JSON is longer (413), the `copy` operations of one JSON patch copy at most this
  // much (422, as kube-apiserver), and a YAML body's aliases expand to at most this much JSON
  // (400).
  size_t max_request_body_bytes = size_t{3} << 20;
  // Request line and headers larger than this get 431 (kube-apiserver: 1 MiB).
  size_t max_header_bytes = size_t{1} << 20;
  // One deadline for a connection to send its next request whole: an idle keep-alive connection,
  // or one that trickles a request byte by byte (slowloris), is closed when it passes.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(120);
  // A response, or one chunk of a watch stream, that the client does not read within this long
  // closes the connection.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(60);
  // Open connections (watches included) beyond this answer 429 TooManyRequests (Retry-After: 1)
  // to their first request and are closed; health checks are still served. `Start` raises the
  // soft open files limit (RLIMIT_NOFILE) to the hard one and lowers this limit to fit in it
  // (docs/reliability.md).
  size_t max_connections = 10000;

  // --- Exposure (docs/security.md) -------------------------------------------------------------
  // Listening on anything but a loopback address needs authentication (`token_auth_file` or
  // `client_ca_file`); `Start` refuses otherwise unless this is set (`kinf serve
  // --insecure-allow-anonymous`).
  bool allow_anonymous_non_loopback = false;
};

// `--churn`: a deterministic stream of create/update/delete operations, on Pods by default.
struct ChurnOptions {
  double ops_per_second = 10;
  uint64_t seed = 1;
  std::string ns = "default";
  // The churned population of each resource stays at or below this many objects.
  int max_objects = 50;
  // Namespaced resources to churn, by plural, singular or short name ("pods", "deploy"); the
  // operations go to each in turn. Pods and Deployments get realistic specs, other kinds bare
  // objects. An unknown or cluster-scoped resource is kInvalidArgument.
  std::vector<std::string> resources = {"pods"};
};

struct ServerKubeconfigOptions {
  // Bearer token for the user; "" uses the first token of `--token-auth-file`, if any.
  std::string token{};
  // Client certificate and key files for the user (mutual TLS).
  std::string client_certificate_file{};
  std::string client_key_file{};
  // CA bundle that verifies the server; "" embeds the server's own certificate (fine for the
  // self-signed certificates tests and demos use).
  std::string certificate_authority_file{};
  // Skip server verification instead of embedding a CA.
  bool insecure_skip_tls_verify = false;
  std::string context_name = "kinf";
  std::string ns = "default";
};

class EmbeddedApiServer {
 public:
  // Binds, seeds and starts serving; returns once the server accepts connections.
  // Errors: kInvalidArgument (bad options, unreadable seed/TLS/token/resources file, a seed object
  // the server rejects: the message names it; a non-loopback `address` without authentication,
  // see `allow_anonymous_non_loopback`), kUnavailable (the port cannot be bound).
  static Result<std::unique_ptr<EmbeddedApiServer>> Start(ApiServerOptions options);

  // Stops and joins.
  ~EmbeddedApiServer();
  EmbeddedApiServer(const EmbeddedApiServer&) = delete;
  EmbeddedApiServer& operator=(const EmbeddedApiServer&) = delete;

  // Stops churn, stops accepting, ends open watch streams cleanly (up to ~2 s), joins the I/O
  // threads. Idempotent; the in-process helpers keep working on the stored state afterwards.
  void Stop() noexcept;

  uint16_t Port() const;
  // "http://127.0.0.1:PORT" or "https://...".
  std::string Url() const;

  // --- In-process helpers (no HTTP) -----------------------------------------------------------
  // Creates an object from its JSON (apiVersion and kind select the resource). Errors as over
  // HTTP, with the API reason and HTTP code set: 409 AlreadyExists, 422 Invalid, 404 namespace.
  Result<ObjectPtr> Create(std::string_view json);
  // Creates or replaces (unconditionally) an object.
  Result<ObjectPtr> Apply(std::string_view json);
  Result<ObjectPtr> Get(const GroupVersionResource& gvr, std::string_view ns,
                        std::string_view name) const;
  // Deletes (or, with finalizers, marks) an object. kNotFound when absent.
  Status Delete(const GroupVersionResource& gvr, std::string_view ns, std::string_view name);
  // Applies every object of a manifest: YAML (multi-document) or JSON (an object, a `List`, or an
  // array). Missing namespaces are created. Stops at the first rejected object.
  Status LoadManifests(std::string_view text);
  // "demo" or a manifest file path.
  Status Seed(std::string_view demo_or_path);
  // The last committed resourceVersion.
  uint64_t ResourceVersion() const;
  // Open watch streams (for tests that wait until a watch is established).
  size_t WatchCount() const;
  // List requests answered since `Start` (each page counts), and how many of them asked for a
  // single item without a continue token: the cheap read of the current resourceVersion an
  // informer makes when it resumes from a cache snapshot. Full lists = `all - single_item`.
  struct ListRequests {
    uint64_t all = 0;
    uint64_t single_item = 0;
  };
  ListRequests ListRequestCount() const;
  // Requests waiting for a resourceVersion the server has not reached (for tests that wait until
  // one is waiting; see `resource_version_wait`).
  size_t WaitingRequestCount() const;

  // --- Churn ----------------------------------------------------------------------------------
  // Starts (or restarts) the churn generator on its own thread. kInvalidArgument for a
  // non-positive rate or population, or a resource that is unknown or cluster-scoped.
  Status StartChurn(const ChurnOptions& options);
  void StopChurn();

  // --- Fault injection (docs/server.md) -------------------------------------------------------
  // Ends every open watch stream now (cleanly: the final chunk is sent).
  void DropWatches();
  // Forgets the event history: watches resuming from an older resourceVersion get 410 Expired,
  // continue tokens and exact lists from before now too.
  void CompactHistory();
  // Fails `fraction` (0..1) of HTTP requests: `http_code` 429 answers TooManyRequests with
  // `Retry-After: retry_after`; any other code answers 500 InternalError. 0 disables.
  void FailRequests(double fraction, int http_code,
                    std::chrono::seconds retry_after = std::chrono::seconds(1));
  // Delays every HTTP request by `latency` before it is served (0 disables).
  void SetLatency(std::chrono::milliseconds latency);
  // Every open watch stream sends only the first half of its next event, then drops the
  // connection.
  void CutWatchStreams();

  // Writes a kubeconfig whose current context reaches this server.
  Status WriteKubeconfig(const std::string& path,
                         const ServerKubeconfigOptions& options = {}) const;

 private:
  struct Impl;
  explicit EmbeddedApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_SERVER_API_SERVER_H_

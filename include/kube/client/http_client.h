// HttpClient: requests to one API server as one user — TLS, credentials, retries, streaming.
//
// Reads from: a `RestConfig` (config/rest_config.h, config/kubeconfig.h).
// Feeds: the resource client and discovery (client/rest_client.h, client/discovery.h), and
// through them the watch decoder (src/watch/watch_decoder.cc).
// client-go: rest/request.go, rest/with_retry.go, transport/ (TLS, bearer and exec round
// trippers).
//
// `MakeCurlHttpClient` builds the implementation on libcurl: one I/O thread per client drives
// every request and stream through a curl multi handle, so threads do not grow with the number of
// watches; connections are reused, and HTTP/2 is used where a TLS server offers it. Over HTTP/2
// requests and watches share connections as client-go's do: as many streams on one connection as
// the server allows (SETTINGS_MAX_CONCURRENT_STREAMS), a new connection, one at a time, only when
// all are taken; over HTTP/1.1 each concurrent transfer has a connection of its own, so that none
// waits for another to end. Credentials never appear in a Status message or a log line.
#ifndef KUBE_CLIENT_HTTP_CLIENT_H_
#define KUBE_CLIENT_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/config/rest_config.h"
#include "kube/status.h"

namespace kube {

struct HttpRequest {
  std::string method = "GET";
  // Path and query relative to `RestConfig::server` (whose own path prefix is kept):
  // "/api/v1/namespaces/default/pods?limit=500". The query must already be percent-encoded.
  std::string path;
  std::string body;
  std::string content_type;  // sent when non-empty
  std::string accept = "application/json";
  // Extra headers; never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  // Whole-request limit. Negative: `RestConfig::timeout` for `Do`, none for `Stream`. 0: none.
  std::chrono::milliseconds timeout{-1};
  // `Do` only. When set, the body of a 2xx answer is not kept in `HttpResponse::body` (which stays
  // empty) but handed here piece by piece, in order, as it arrives, so that a large list is
  // decoded during the transfer and never held whole. Other answers (errors, retried 429/5xx) are
  // kept whole as usual. Runs on the client's I/O thread: it must return quickly, and the view is
  // valid during the call only. A transfer that fails after some pieces makes `Do` return the
  // error: keep nothing from the pieces until `Do` has returned OK. `max_response_bytes` counts
  // these bytes too. If it throws, `Do` fails with kInternal. An `HttpClient` that cannot stream
  // may ignore it and return the body whole.
  std::function<void(std::string_view)> body_sink;
  // `Do` only. Once stop is requested, the request is abandoned wherever it is (connecting,
  // receiving the body, or waiting to retry) and `Do` returns kCancelled promptly, not when the
  // transfer or its timeout ends. A `body_sink` that waits should wait on this token too. An
  // `HttpClient` may ignore it.
  std::stop_token stop;
};

// A complete response, whatever its HTTP status.
struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  // From the `Retry-After` header (whole seconds), when sent.
  std::optional<std::chrono::seconds> retry_after;
};

// The status line and headers of a streamed response.
struct HttpResponseHead {
  int status = 0;
  std::string content_type;
  std::optional<std::chrono::seconds> retry_after;
};

// What a stream tells its owner. Every callback runs on the client's I/O thread, which serves all
// other requests too: callbacks must return quickly and must never block (hand work to another
// thread). They may call `HttpStream::Cancel`/`Pause`/`Resume` on any stream.
struct StreamCallbacks {
  // Once, when the response headers are complete, before any data.
  std::function<void(const HttpResponseHead&)> on_headers;
  // Each piece of the body, in order; the view is valid during the call only.
  std::function<void(std::string_view)> on_data;
  // Once, last. OK when the server ended the response; otherwise why the transfer failed:
  // kUnavailable (connection refused or broken, TLS failure), kUnauthorized (a credential could not
  // be obtained), kDeadlineExceeded (the request timeout), kCancelled (the client was destroyed).
  // Not called after `Cancel()`.
  std::function<void(Status)> on_done;
};

// A streamed request in flight. Destroying it cancels it.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Abandons the request and releases its connection. Returns at once (it waits at most for a
  // callback of this stream that is running on the I/O thread to return), and once it has
  // returned no callback of this stream runs again. Idempotent; may be called from any thread,
  // including from inside this or another stream's callback. Because it waits out a running
  // callback, never call it while holding a lock that this stream's callbacks take.
  virtual void Cancel() noexcept = 0;
  // Flow control. After `Pause()` no more `on_data` calls come (except for the one running)
  // until `Resume()`; the transport stops reading the connection meanwhile. Thread-safe; the last
  // call wins.
  virtual void Pause() noexcept = 0;
  virtual void Resume() noexcept = 0;
};

// A client's connection counters (`HttpClient::Stats`), for metrics and tests.
struct HttpClientStats {
  // TCP connections opened so far (to the server, or to the proxy), including attempts that failed
  // and connections since closed. Over TLS each is one handshake.
  uint64_t connections_opened = 0;
  // Whether the server's last answer that told came over HTTP/2, so that requests and watches share
  // connections, up to the server's stream limit on each.
  bool http2 = false;
};

// Thread-safe: any number of threads may issue requests at once.
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends a request and waits for the whole response. Any HTTP status is a response: decoding a
  // non-2xx body into an API error is the caller's job (client/rest_client.h).
  //
  // Retries like client-go's REST layer: a 429 or 5xx answer that carries `Retry-After` is retried
  // after that many seconds, up to `HttpClientOptions::max_attempts` attempts in all, and the last
  // answer is returned. An answer asking for more than `HttpClientOptions::max_retry_after` is
  // returned at once. A 401 when credentials come from an exec plugin invalidates the cached
  // credential and retries once.
  //
  // Blocks the calling thread (never call it from a stream callback). Errors: kUnavailable
  // (connection refused or broken, TLS verification failed), kDeadlineExceeded (the timeout),
  // kCancelled (the client is shutting down, or `request.stop` was requested), kInvalidArgument (a
  // malformed request or TLS material), kUnauthorized (a credential could not be loaded, e.g. an
  // unreadable token file or a failing exec plugin).
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;

  // Starts a streamed request (a watch) and returns; `callbacks` report its progress on the I/O
  // thread. Not retried. Never null. Returns at once, except when an exec credential plugin must
  // run first (no cached credential, or it expired). Failures, including a credential that cannot
  // be obtained, arrive through `on_done`.
  virtual std::unique_ptr<HttpStream> Stream(const HttpRequest& request,
                                             StreamCallbacks callbacks) = 0;

  // The server URL requests go to, for messages ("https://10.0.0.1:6443").
  virtual const std::string& server() const = 0;

  // The largest watch event (one JSON frame) a watch over this client accepts; the resource
  // client's decoder ends a watch with one kDataLoss ERROR event at a larger one.
  virtual size_t max_watch_frame_bytes() const { return kDefaultMaxWatchFrameBytes; }
  static constexpr size_t kDefaultMaxWatchFrameBytes = size_t{64} << 20;

  // Whether resource clients over this client ask for Kubernetes' protobuf encoding
  // (`Accept: application/vnd.kubernetes.protobuf, application/json`) when they read built-in
  // kinds (client/rest_client.h). Custom resources are always read as JSON.
  virtual bool prefer_protobuf() const { return true; }

  // Whether resource clients over this client decode list items on the process-wide decode
  // workers (one per core; none on a single-core machine) while this client's I/O thread receives
  // the body and only finds where items end. Lists decode the same either way, errors included;
  // with it, the lists of several informers starting at once decode side by side.
  virtual bool parallel_list_decode() const { return true; }

  // Connection counters; cheap (no lock). An `HttpClient` without them returns zeros.
  virtual HttpClientStats Stats() const { return {}; }
};

struct HttpClientOptions {
  // Attempts per `Do` when the server answers 429/5xx with Retry-After (client-go: 10).
  int max_attempts = 10;
  // The longest Retry-After `Do` waits for. An answer asking for longer (a broken or hostile
  // server's `Retry-After: 999999999`, 31 years) is returned at once instead of retried, so no
  // request sleeps beyond `max_attempts` times this, where nothing could interrupt it.
  std::chrono::seconds max_retry_after{60};
  // Replaces the wait between attempts, e.g. to skip it in tests. Called on the requesting
  // thread with the server's Retry-After; returning false stops retrying (the last answer is
  // returned). Unset: wait that long, interrupted when the client is destroyed.
  std::function<bool(std::chrono::seconds)> retry_wait;

  // --- Limits (docs/reliability.md, "Limits") ----------------------------------------------------
  // The largest body `Do` keeps or hands to `HttpRequest::body_sink` (a list page is one body). A
  // larger one is abandoned as it arrives (never buffered whole) and `Do` fails with kDataLoss
  // "... response body exceeds the client's limit of N bytes". 0: no limit.
  size_t max_response_bytes = size_t{2} << 30;
  // The largest status line plus headers of one response (`Do` or `Stream`); larger fails the
  // request with kDataLoss. 0: no limit (libcurl's own per-header limit still applies).
  size_t max_header_bytes = size_t{1} << 20;
  // See `HttpClient::max_watch_frame_bytes`. 0: the default.
  size_t max_watch_frame_bytes = HttpClient::kDefaultMaxWatchFrameBytes;

  // See `HttpClient::prefer_protobuf`. False: every request asks for JSON only.
  bool prefer_protobuf = true;

  // See `HttpClient::parallel_list_decode`. False: list items are decoded on the I/O thread as
  // they arrive.
  bool parallel_list_decode = true;
};

// Builds the libcurl client for `config`. TLS verification is on unless
// `insecure_skip_tls_verify`; `ca_data` (else `ca_file`, else the system store) verifies the
// server; `tls_server_name` is the name verified (and sent as SNI) instead of the URL's host.
// Credentials, first present wins: exec plugin, `bearer_token_file` (re-read whenever the file
// changes), `bearer_token`, `username`/`password` (basic); a client certificate may be combined
// with a token. `proxy_url` overrides the environment's proxy rules.
//
// Starts the client's I/O thread. Errors: kInvalidArgument for a missing or non-http(s) `server`
// or a bad `proxy_url` scheme (the message names the config's `source`, never a credential).
Result<std::shared_ptr<HttpClient>> MakeCurlHttpClient(const RestConfig& config,
                                                       HttpClientOptions options = {});

}  // namespace kube

#endif  // KUBE_CLIENT_HTTP_CLIENT_H_

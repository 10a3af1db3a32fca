// HttpServer: the embedded server's network side — a listener that hands each accepted socket to
// an asynchronous HTTP/1.1 session (plain or TLS), all on one Boost.Asio io_context.
//
// A session reads a request (with an idle timeout), authenticates it, applies injected latency
// and failures, asks the Router for the answer and writes it (with a write timeout), then reads
// the next request on the same connection. A watch answer switches the session to streaming: the
// 200 header goes out at once, then chunks of event lines as the watcher's queue fills, periodic
// bookmarks, and the final chunk at `timeoutSeconds`. No thread per connection: one or two I/O
// threads serve every session; Beast stays inside http_session.cc.
//
// Thread-safe: `Stop` may be called from any thread, once or more.
//
// Reads from: sockets. Feeds: the Router; streams WatchStream output.
#ifndef KUBE_SERVER_HTTP_SESSION_H_
#define KUBE_SERVER_HTTP_SESSION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kube/status.h"

namespace kube::server {

class Router;
struct HttpRequest;
class Storage;
class Faults;
class Authenticator;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  int threads = 1;
  std::string tls_cert_file{};         // PEM chain; TLS when set
  std::string tls_private_key_file{};  // PEM key
  std::string client_ca_file{};        // verify client certificates against this bundle
  std::chrono::milliseconds bookmark_interval{std::chrono::seconds(60)};
  // How long a request for a resourceVersion the server has not reached waits for it before
  // the router answers 504 Too large resource version (kube-apiserver's watch cache: 3 s).
  std::chrono::milliseconds rv_wait{std::chrono::seconds(3)};
  // Limits (docs/reliability.md, "Limits"). The idle timeout is one deadline for waiting for a
  // request and reading it whole, so a client that sends a byte now and then cannot hold a
  // connection longer (slowloris).
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};  // a response or watch chunk
  size_t max_body_bytes = size_t{3} << 20;    // larger: 413 RequestEntityTooLarge
  size_t max_header_bytes = size_t{1} << 20;  // request line and headers; larger: 431
  // Beyond: 429 TooManyRequests, then close. Lowered at start to what the open files limit
  // leaves room for (see `HttpServer::Start`).
  size_t max_connections = 10000;
};

// Borrowed collaborators; they must outlive the HttpServer.
struct HttpServerContext {
  const Router* router = nullptr;
  Storage* storage = nullptr;
  Faults* faults = nullptr;
  const Authenticator* auth = nullptr;
};

// Fills `req->path` (percent-decoded) and `req->query` (decoded, '+' as space, the first value of
// a repeated key wins) from a request target, as a session does before asking the Router. Exposed
// for the request fuzzer (fuzz/server_request_fuzz.cc), which drives the Router without a socket.
void SplitRequestTarget(std::string_view target, HttpRequest* req);

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. kInvalidArgument for a bad address or TLS files,
  // kUnavailable when the port cannot be bound.
  // Each connection holds a file descriptor, so Start raises the process's soft open files limit
  // (RLIMIT_NOFILE) to its hard limit, as the Go runtime does for kube-apiserver, and lowers the
  // connection limit to that limit minus the descriptors already open and a reserve of 32
  // (logged as a warning when it does). Connections over the limit get 5 s to send a request
  // header; they are answered 429, except health checks (/healthz, /livez, /readyz), which are
  // served. When accept runs out of descriptors anyway, the listener gives up a spare one to
  // accept a waiting connection, answers it 503 ServiceUnavailable (Retry-After: 1) and closes
  // it, and goes on accepting: it never spins, and never stops for good.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                   HttpServerContext context);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  bool tls() const;
  // Open watch streams.
  size_t watch_streams() const;
  // Open connections (sessions), for tests of the connection limit.
  size_t connections() const;
  // The connection limit in force: `max_connections`, or less when the open files limit leaves
  // room for fewer.
  size_t max_connections() const;
  // Connections accepted while out of file descriptors, answered 503 and closed at once.
  size_t shed_connections() const;

  // Stops accepting, ends every watch stream cleanly and closes requests waiting for a
  // resourceVersion (waiting up to `grace` for them to flush),
  // then stops the I/O threads and joins them. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(2)) noexcept;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_HTTP_SESSION_H_

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

#include "kube/status.h"

namespace kube::server {

class Router;
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
  std::chrono::seconds idle_timeout{120};  // a keep-alive connection waiting for a request
  std::chrono::seconds write_timeout{60};  // one response or one watch chunk
  size_t max_body_bytes = size_t{256} << 20;
};

// Borrowed collaborators; they must outlive the HttpServer.
struct HttpServerContext {
  const Router* router = nullptr;
  Storage* storage = nullptr;
  Faults* faults = nullptr;
  const Authenticator* auth = nullptr;
};

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. kInvalidArgument for a bad address or TLS files,
  // kUnavailable when the port cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                   HttpServerContext context);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  bool tls() const;
  // Open watch streams.
  size_t watch_streams() const;

  // Stops accepting, ends every watch stream cleanly (waiting up to `grace` for them to flush),
  // then stops the I/O threads and joins them. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(2)) noexcept;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_HTTP_SESSION_H_

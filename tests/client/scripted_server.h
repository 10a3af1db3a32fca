// ScriptedServer: a tiny HTTP/1.1 server on 127.0.0.1 whose answers a test writes byte by byte.
//
// For what the embedded API server will not do on purpose: hang forever, answer HTML, dribble a
// watch stream in odd pieces, count connections, check a client certificate. One thread per
// connection (tests only). Plain or TLS (OpenSSL), optionally requiring a client certificate.
#ifndef KUBE_TESTS_CLIENT_SCRIPTED_SERVER_H_
#define KUBE_TESTS_CLIENT_SCRIPTED_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kube::testing {

struct ScriptedRequest {
  std::string method;
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string client_cert_subject;  // TLS with a client certificate: its subject, one line
  int connection = 0;               // which accepted connection (1, 2, ...) carried it

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// One client connection, handed to the handler.
class ScriptedConn {
 public:
  virtual ~ScriptedConn() = default;
  // Raw bytes; false once the peer has gone.
  virtual bool Write(std::string_view bytes) = 0;
  // Whether the peer closed the connection within `timeout` (reads and discards input).
  virtual bool WaitPeerClosed(std::chrono::milliseconds timeout) = 0;
  // Closes after the handler returns instead of reading another request.
  void CloseAfter() { close_after_ = true; }
  bool close_after() const { return close_after_; }

  // Helpers.
  bool Respond(int status, std::string_view content_type, std::string_view body,
               const std::vector<std::string>& extra_headers = {});
  bool StartChunked(int status, std::string_view content_type,
                    const std::vector<std::string>& extra_headers = {});
  bool Chunk(std::string_view data);
  bool EndChunked() { return Write("0\r\n\r\n"); }

 private:
  bool close_after_ = false;
};

struct ScriptedServerOptions {
  // TLS when set (PEM files).
  std::string cert_file;
  std::string key_file;
  // Require and verify a client certificate against this CA.
  std::string client_ca_file;
};

class ScriptedServer {
 public:
  using Handler = std::function<void(const ScriptedRequest&, ScriptedConn&)>;

  explicit ScriptedServer(Handler handler, ScriptedServerOptions options = {});
  ~ScriptedServer();  // closes every connection and joins
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT" or https
  int connections() const { return connections_.load(); }
  std::vector<ScriptedRequest> requests() const;
  // Set when the handler should stop blocking (tests hanging a response wait on this).
  void Release();
  bool WaitReleased(std::chrono::milliseconds timeout);

 private:
  void AcceptLoop();
  void Serve(int fd, int number);

  Handler handler_;
  ScriptedServerOptions options_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::vector<ScriptedRequest> requests_;
};

// Test PKI made with the `openssl` command in a temporary directory: a CA, a server certificate
// for 127.0.0.1/localhost and a client certificate (CN=test-user, O=testers), all signed by the CA,
// plus an unrelated CA. Files are removed on destruction.
struct TestPki {
  TestPki();
  ~TestPki();
  bool ok = false;
  std::string dir;
  std::string ca_cert, ca_key;
  std::string server_cert, server_key;
  std::string client_cert, client_key;
  std::string other_ca_cert;
  static std::string Read(const std::string& path);
};

}  // namespace kube::testing

#endif  // KUBE_TESTS_CLIENT_SCRIPTED_SERVER_H_

// ScriptedServer and TestPki: see scripted_server.h.
#include "tests/client/scripted_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kube::testing {
namespace {

class Conn final : public ScriptedConn {
 public:
  Conn(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Conn() override {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }

  bool Write(std::string_view bytes) override {
    while (!bytes.empty()) {
      int n = ssl_ != nullptr
                  ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                  : static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads some bytes; 0 on EOF or error.
  int Read(char* buf, int n) {
    if (ssl_ != nullptr) {
      int r = SSL_read(ssl_, buf, n);
      return r > 0 ? r : 0;
    }
    ssize_t r = ::recv(fd_, buf, static_cast<size_t>(n), 0);
    return r > 0 ? static_cast<int>(r) : 0;
  }

  bool WaitPeerClosed(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN | POLLRDHUP, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0) return true;
      if (r == 0) return false;
      if (Read(buf, sizeof buf) == 0) return true;
    }
  }

  // Reads one request; false on EOF.
  bool ReadRequest(ScriptedRequest* req) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      char buf[8192];
      int n = Read(buf, sizeof buf);
      if (n == 0) return false;
      buffer_.append(buf, static_cast<size_t>(n));
    }
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);
    std::istringstream first(line);
    std::string version;
    first >> req->method >> req->target >> version;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = line.find_first_not_of(' ', colon + 1);
      req->headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    size_t length = 0;
    if (auto it = req->headers.find("content-length"); it != req->headers.end()) {
      length = std::stoul(it->second);
    }
    while (buffer_.size() < length) {
      char buf[8192];
      int n = Read(buf, sizeof buf);
      if (n == 0) return false;
      buffer_.append(buf, static_cast<size_t>(n));
    }
    req->body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return true;
  }

  SSL* ssl() const { return ssl_; }

 private:
  int fd_;
  SSL* ssl_;
  std::string buffer_;
};

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

bool ScriptedConn::Respond(int status, std::string_view content_type, std::string_view body,
                           const std::vector<std::string>& extra_headers) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\n";
  if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const std::string& h : extra_headers) r += h + "\r\n";
  r += "\r\n";
  r += body;
  return Write(r);
}

bool ScriptedConn::StartChunked(int status, std::string_view content_type,
                                const std::vector<std::string>& extra_headers) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\n";
  r += "Content-Type: " + std::string(content_type) + "\r\nTransfer-Encoding: chunked\r\n";
  for (const std::string& h : extra_headers) r += h + "\r\n";
  r += "\r\n";
  return Write(r);
}

bool ScriptedConn::Chunk(std::string_view data) {
  if (data.empty()) return true;
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return Write(std::string(size) + std::string(data) + "\r\n");
}

ScriptedServer::ScriptedServer(Handler handler, ScriptedServerOptions options)
    : handler_(std::move(handler)), options_(std::move(options)) {
  if (!options_.cert_file.empty()) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx, options_.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      SSL_CTX_free(ctx);
      return;
    }
    // HTTP/1.1 only: curl offers h2 via ALPN, and this server must not pretend to speak it.
    if (!options_.client_ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx, options_.client_ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    ssl_ctx_ = ctx;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    return;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

ScriptedServer::~ScriptedServer() {
  stopping_.store(true);
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (std::thread& t : threads) t.join();
  for (int fd : fds_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::string ScriptedServer::url() const {
  return std::string(ssl_ctx_ != nullptr ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(port_);
}

std::vector<ScriptedRequest> ScriptedServer::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

void ScriptedServer::Release() {
  {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
  }
  cv_.notify_all();
}

bool ScriptedServer::WaitReleased(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [this] { return released_; });
}

void ScriptedServer::AcceptLoop() {
  while (!stopping_.load()) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_.load()) return;
      continue;
    }
    int number = ++connections_;
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_.load()) {
      ::close(fd);
      return;
    }
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, number] { Serve(fd, number); });
  }
}

void ScriptedServer::Serve(int fd, int number) {
  // TLS writes to a client that has gone raise SIGPIPE; make them fail instead.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  SSL* ssl = nullptr;
  std::string subject;
  if (ssl_ctx_ != nullptr) {
    ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      SSL_free(ssl);
      ERR_clear_error();
      ::shutdown(fd, SHUT_RDWR);
      return;  // the fd is closed by the destructor's bookkeeping below
    }
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      char line[512];
      X509_NAME_oneline(X509_get_subject_name(cert), line, sizeof line);
      subject = line;
      X509_free(cert);
    }
  }
  {
    Conn conn(fd, ssl);
    for (int i = 0; i < 1000 && !stopping_.load(); ++i) {
      ScriptedRequest req;
      if (!conn.ReadRequest(&req)) break;
      req.client_cert_subject = subject;
      req.connection = number;
      {
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back(req);
      }
      handler_(req, conn);
      if (conn.close_after()) break;
    }
    if (conn.ssl() != nullptr) SSL_shutdown(conn.ssl());
  }
  ::shutdown(fd, SHUT_RDWR);
}

// --- TestPki ---------------------------------------------------------------------------------

namespace {

bool Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

}  // namespace

TestPki::TestPki() {
  char tmpl[] = "/tmp/kube-informer-pki-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return;
  dir = tmpl;
  ca_cert = dir + "/ca.crt";
  ca_key = dir + "/ca.key";
  server_cert = dir + "/server.crt";
  server_key = dir + "/server.key";
  client_cert = dir + "/client.crt";
  client_key = dir + "/client.key";
  other_ca_cert = dir + "/other-ca.crt";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  {
    std::ofstream(dir + "/server.ext")
        << "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kube.test\n";
    std::ofstream(dir + "/client.ext") << "extendedKeyUsage=clientAuth\n";
  }
  ok = Run("openssl req -x509" + ec + " -keyout " + ca_key + " -out " + ca_cert +
           " -subj /CN=test-ca -days 2") &&
       Run("openssl req -x509" + ec + " -keyout " + dir + "/other-ca.key -out " + other_ca_cert +
           " -subj /CN=other-ca -days 2") &&
       Run("openssl req" + ec + " -keyout " + server_key + " -out " + dir +
           "/server.csr -subj /CN=localhost") &&
       Run("openssl x509 -req -in " + dir + "/server.csr -CA " + ca_cert + " -CAkey " + ca_key +
           " -CAcreateserial -out " + server_cert + " -days 2 -extfile " + dir + "/server.ext") &&
       Run("openssl req" + ec + " -keyout " + client_key + " -out " + dir +
           "/client.csr -subj /O=testers/CN=test-user") &&
       Run("openssl x509 -req -in " + dir + "/client.csr -CA " + ca_cert + " -CAkey " + ca_key +
           " -CAcreateserial -out " + client_cert + " -days 2 -extfile " + dir + "/client.ext");
}

TestPki::~TestPki() {
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

std::string TestPki::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace kube::testing

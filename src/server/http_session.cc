// HttpServer: Boost.Beast listener and sessions (plain and TLS); see http_session.h.
//
// Every operation of a session runs on its strand, so a session's members need no lock. Watch
// notifications arrive from writer threads and are posted onto that strand.
//
// Reads from: sockets. Feeds: the Router, WatchStream.
#include "server/http_session.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "base/logging.h"
#include "base/mutex.h"
#include "server/auth.h"
#include "server/content_type.h"
#include "server/faults.h"
#include "server/router.h"
#include "server/storage.h"
#include "server/watch_stream.h"

namespace kube::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr size_t kChunkBytes = 256 * 1024;
constexpr size_t kDrainBytes = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// File descriptors kept free, beyond those open when the server starts, for everything that is
// not a client connection: connections over the limit being answered, the listener's spare
// descriptor, files the process opens later.
constexpr size_t kReservedFds = 32;
// A connection over the limit gets this long (at most the idle timeout) to send its request
// header before it is closed, so that idle connections beyond the limit do not hold descriptors.
constexpr std::chrono::milliseconds kOverLimitReadTimeout = std::chrono::seconds(5);

// State every session shares with the server.
struct Shared {
  HttpServerOptions options;
  HttpServerContext ctx;
  // `options.max_connections`, lowered to what the open files limit leaves room for.
  size_t max_connections = 0;
  std::atomic<size_t> shed_connections{0};  // accepted and answered 503 when out of descriptors
  std::atomic<bool> stopping{false};
  std::atomic<size_t> connections{0};  // live sessions
  internal::Mutex mu;
  std::condition_variable cv;
  size_t watch_sessions KUBE_GUARDED_BY(mu) = 0;

  void WatchStarted() KUBE_EXCLUDES(mu) {
    internal::MutexLock lock(mu);
    ++watch_sessions;
  }
  void WatchEnded() KUBE_EXCLUDES(mu) {
    internal::MutexLock lock(mu);
    --watch_sessions;
    cv.notify_all();
  }
  // Requests parked until a resourceVersion is reached: `Stop` waits for them to close too.
  size_t parked KUBE_GUARDED_BY(mu) = 0;
  void Parked() KUBE_EXCLUDES(mu) {
    internal::MutexLock lock(mu);
    ++parked;
  }
  void Unparked() KUBE_EXCLUDES(mu) {
    internal::MutexLock lock(mu);
    --parked;
    cv.notify_all();
  }
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

void SplitTarget(std::string_view target, HttpRequest* req) {
  size_t q = target.find('?');
  req->path = PercentDecode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    req->query.emplace(std::move(key), std::move(value));  // the first value wins
  }
}

// The verified client certificate's user: its common name, and its organizations as groups
// (as kube-apiserver's x509 authenticator reads them); nullopt when there is none.
std::optional<UserInfo> CertificateUser(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return std::nullopt;
  std::optional<UserInfo> user;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    X509_NAME* subject = X509_get_subject_name(cert);
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn) > 0) {
      user = UserInfo{cn, "", {}, {}};
      for (int i = X509_NAME_get_index_by_NID(subject, NID_organizationName, -1); i >= 0;
           i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) {
        ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        unsigned char* utf8 = nullptr;
        int n = ASN1_STRING_to_UTF8(&utf8, data);
        if (n >= 0) user->groups.emplace_back(reinterpret_cast<const char*>(utf8), n);
        OPENSSL_free(utf8);
      }
    }
  }
  X509_free(cert);
  return user;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The `Impersonate-*` headers of a request.
template <class Fields>
ImpersonationHeaders ImpersonationOf(const Fields& fields) {
  constexpr std::string_view kExtra = "impersonate-extra-";
  ImpersonationHeaders h;
  for (const auto& f : fields) {
    std::string_view name(f.name_string().data(), f.name_string().size());
    std::string value(f.value());
    if (EqualsIgnoringCase(name, "Impersonate-User")) {
      // An empty value is no impersonation, as kube-apiserver reads the header.
      if (!h.user && !value.empty()) h.user = std::move(value);
    } else if (EqualsIgnoringCase(name, "Impersonate-Group")) {
      h.groups.push_back(std::move(value));
    } else if (EqualsIgnoringCase(name, "Impersonate-Uid")) {
      if (!h.uid && !value.empty()) h.uid = std::move(value);
    } else if (name.size() > kExtra.size() &&
               EqualsIgnoringCase(name.substr(0, kExtra.size()), kExtra)) {
      std::string key(name.substr(kExtra.size()));
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      h.extra.emplace_back(std::move(key), std::move(value));
    }
  }
  return h;
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(std::shared_ptr<Shared> shared, Stream&& stream)
      : shared_(std::move(shared)),
        stream_(std::move(stream)),
        timeout_timer_(stream_.get_executor()),
        bookmark_timer_(stream_.get_executor()),
        latency_timer_(stream_.get_executor()),
        rv_timer_(stream_.get_executor()) {
    over_limit_ = ++shared_->connections > shared_->max_connections;
  }

  ~Session() {
    if (rv_waiter_) {
      shared_->ctx.storage->CancelRvWait(rv_waiter_);
      shared_->Unparked();
    }
    EndWatch();
    --shared_->connections;
  }

  // Called on the listener's strand; everything after runs on the session's own strand.
  void Start() {
    net::dispatch(stream_.get_executor(), [self = Self()] {
      if constexpr (kTls) {
        self->Lowest().expires_after(std::chrono::seconds(30));
        self->stream_.async_handshake(ssl::stream_base::server,
                                      beast::bind_front_handler(&Session::OnHandshake, self));
      } else {
        self->Read();
      }
    });
  }

 private:
  std::shared_ptr<Session> Self() { return this->shared_from_this(); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void OnHandshake(beast::error_code ec) {
    if (ec) return Abort();
    if constexpr (kTls) cert_user_ = CertificateUser(stream_.native_handle());
    Read();
  }

  // Reads the request header first: the connection limit, authentication and a Content-Length
  // over the body limit are answered before any of the body is read, so a client that may not
  // send one never makes the server hold it.
  void Read() {
    if (shared_->stopping) return Close();
    parser_.emplace();
    // The body limit applies once the request is let through (`OnHeader`). Not `boost::none`:
    // Beast 1.74 compares a Content-Length with an unset limit as larger.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_->header_limit(
        static_cast<uint32_t>(std::min<size_t>(shared_->options.max_header_bytes, UINT32_MAX)));
    // One deadline for waiting and reading header and body: trickling bytes does not extend it
    // (slowloris).
    read_deadline_ = std::chrono::steady_clock::now() +
                     (over_limit_ ? std::min<std::chrono::milliseconds>(
                                        shared_->options.idle_timeout, kOverLimitReadTimeout)
                                  : shared_->options.idle_timeout);
    Lowest().expires_at(read_deadline_);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, Self()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec == http::error::header_limit) {
      keep_alive_ = false;
      drain_ = true;
      ApiError e = BadRequest("request headers exceed the server's limit of " +
                              std::to_string(shared_->options.max_header_bytes) + " bytes");
      e.code = 431;
      return Respond(ErrorResponse(e));
    }
    if (ec) return ec == http::error::end_of_stream ? Close() : Abort();
    auto& msg = parser_->get();
    req_ = HttpRequest();
    req_.method = std::string(msg.method_string());
    SplitTarget(std::string_view(msg.target().data(), msg.target().size()), &req_);
    req_.accept = std::string(msg[http::field::accept]);
    req_.content_type = std::string(msg[http::field::content_type]);
    req_.host = std::string(msg[http::field::host]);
    req_.user_agent = std::string(msg[http::field::user_agent]);
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    body_unread_ = !parser_->is_done();
    if (over_limit_) {
      // Health checks still get through: they show the server is up, not that it has room.
      keep_alive_ = false;
      if (!IsHealthPath(req_.path)) {
        ApiError e = TooManyRequests(1);
        e.message = "too many open connections (the server's limit is " +
                    std::to_string(shared_->max_connections) + "), please try again later";
        return Refuse(e);
      }
    }
    const Authenticator* auth = shared_->ctx.auth;
    std::optional<UserInfo> user =
        auth ? auth->UserOf(std::string(msg[http::field::authorization]), cert_user_)
             : std::optional<UserInfo>(AnonymousUser());
    if (!user) {
      if (!Authenticator::IsPublicPath(req_.path)) return Refuse(Unauthorized());
      user = AnonymousUser();
    }
    req_.user = *std::move(user);
    if (ImpersonationHeaders imp = ImpersonationOf(msg); !imp.empty()) {
      Result<UserInfo> acting = Impersonate(imp);
      if (!acting) {
        // kube-apiserver's filter answers this in plain text, HTML-escaped.
        HttpResponse r;
        r.status = 500;
        r.content_type = "text/plain; charset=utf-8";
        r.headers.emplace_back("X-Content-Type-Options", "nosniff");
        std::string text = "Internal Server Error: \"" +
                           std::string(msg.target().data(), msg.target().size()) +
                           "\": " + acting.error().message();
        for (char c : text) {
          if (c == '&') {
            r.body += "&amp;";
          } else if (c == '<') {
            r.body += "&lt;";
          } else if (c == '>') {
            r.body += "&gt;";
          } else {
            r.body += c;
          }
        }
        r.body += '\n';
        if (body_unread_) {
          keep_alive_ = false;
          drain_ = true;
        }
        return Respond(std::move(r));
      }
      req_.user = *std::move(acting);
    }
    const size_t limit = shared_->options.max_body_bytes;
    if (auto length = parser_->content_length(); length && *length > limit) {
      return Refuse(
          RequestEntityTooLarge("Request entity too large: limit is " + std::to_string(limit)));
    }
    parser_->body_limit(limit);  // a chunked body is counted as it arrives
    if (!body_unread_) return OnRead({}, 0);
    if (beast::iequals(msg[http::field::expect], "100-continue")) {
      // The client waits for this before it sends the body (curl does, for large ones).
      Lowest().expires_after(shared_->options.write_timeout);
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = Self()](beast::error_code wec, size_t) {
                                if (wec) return self->Abort();
                                self->Lowest().expires_at(self->read_deadline_);
                                self->ReadBody();
                              });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, Self()));
  }

  // Answers before the body is read, in the encoding the request's Accept asks for. A connection
  // with an unread body is closed after the answer (draining first, so that the client reads the
  // answer instead of a connection reset).
  void Refuse(const ApiError& e) {
    if (body_unread_) {
      keep_alive_ = false;
      drain_ = true;
    }
    Respond(ErrorAnswer(req_.accept, e));
  }

  static bool IsHealthPath(std::string_view path) {
    return path == "/healthz" || path == "/livez" || path == "/readyz";
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      // A chunked body past the limit: the rest is not read.
      return Refuse(RequestEntityTooLarge("Request entity too large: limit is " +
                                          std::to_string(shared_->options.max_body_bytes)));
    }
    if (ec) return ec == http::error::end_of_stream ? Close() : Abort();
    body_unread_ = false;
    req_.body = std::move(parser_->get().body());
    auto latency = shared_->ctx.faults->latency();
    if (latency.count() > 0) {
      latency_timer_.expires_after(latency);
      latency_timer_.async_wait([self = Self()](beast::error_code tec) {
        if (!tec) self->Serve();
      });
      return;
    }
    Serve();
  }

  void Serve() {
    if (auto failure = shared_->ctx.faults->MaybeFail(req_.path)) {
      return Respond(ErrorResponse(*failure));
    }
    Route();
  }

  void Route() {
    RouteResult result = shared_->ctx.router->Handle(req_, MakeNotify());
    if (auto* response = std::get_if<HttpResponse>(&result)) {
      return Respond(std::move(*response));
    }
    if (auto* wait = std::get_if<RvWait>(&result)) return AwaitRv(wait->rv);
    StartWatch(std::get<std::shared_ptr<WatchPlan>>(std::move(result)));
  }

  // --- Waiting for a resourceVersion --------------------------------------------------------

  // Parks the request until Storage reaches `rv`, `rv_wait` passes or the server stops, then
  // routes it again. No thread waits: Storage posts the wake-up onto this session's strand.
  void AwaitRv(uint64_t rv) {
    if (shared_->stopping) return Close();
    const uint64_t seq = ++rv_wait_seq_;
    std::weak_ptr<Session> weak = this->weak_from_this();
    auto ex = stream_.get_executor();
    rv_waiter_ = shared_->ctx.storage->AwaitRv(rv, [weak, ex, seq] {
      net::post(ex, [weak, seq] {
        if (auto self = weak.lock()) self->OnRvWaitEnded(seq, /*expired=*/false);
      });
    });
    if (!rv_waiter_) return Route();  // reached in the meantime
    shared_->Parked();
    rv_timer_.expires_after(shared_->options.rv_wait);
    rv_timer_.async_wait([self = Self(), seq](beast::error_code ec) {
      if (!ec) self->OnRvWaitEnded(seq, /*expired=*/true);
    });
  }

  void OnRvWaitEnded(uint64_t seq, bool expired) {
    if (seq != rv_wait_seq_ || !rv_waiter_ || closed_) return;
    EndRvWaitRegistration();
    if (shared_->stopping) return Close();
    if (expired) req_.rv_wait_over = true;
    Route();
  }

  void EndRvWaitRegistration() {
    if (!rv_waiter_) return;
    rv_timer_.cancel();
    shared_->ctx.storage->CancelRvWait(rv_waiter_);
    rv_waiter_.reset();
    shared_->Unparked();
  }

  std::function<void()> MakeNotify() {
    std::weak_ptr<Session> weak = this->weak_from_this();
    auto ex = stream_.get_executor();
    return [weak, ex] {
      net::post(ex, [weak] {
        if (auto self = weak.lock()) self->Pump();
      });
    };
  }

  void Respond(HttpResponse r) {
    if (!r.items.empty() || !r.encoded_items.empty()) return RespondScattered(std::move(r));
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    response_ = res;
    Lowest().expires_after(shared_->options.write_timeout);
    http::async_write(stream_, *res, beast::bind_front_handler(&Session::OnWritten, Self()));
  }

  // A list: the header, then the stored objects' bytes (JSON, or protobuf list entries) as a
  // scatter list, never copied into one body (a 100,000-Pod list would otherwise be assembled in
  // a fresh 400 MB string first). The body goes out in slices of at most `kSliceBuffers` buffers
  // or `kSliceBytes` bytes, each under its own write timeout, so a large list to a slow but
  // reading client is not cut at the write timeout, and a client that stops reading is.
  static constexpr size_t kSliceBuffers = 1024;
  static constexpr size_t kSliceBytes = size_t{4} << 20;

  struct Scattered {
    HttpResponse r;
    http::response<http::empty_body> res;
    std::optional<http::response_serializer<http::empty_body>> header;
    std::vector<net::const_buffer> buffers;
    size_t next = 0;                         // the first buffer not yet written
    std::vector<net::const_buffer> slice{};  // the buffers being written
  };

  void RespondScattered(HttpResponse r) {
    auto out = std::make_shared<Scattered>();
    out->r = std::move(r);
    out->res = http::response<http::empty_body>(static_cast<http::status>(out->r.status), version_);
    out->res.set(http::field::content_type, out->r.content_type);
    out->res.set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : out->r.headers) out->res.set(k, v);
    out->res.keep_alive(keep_alive_);
    out->res.content_length(out->r.body_size());
    out->header.emplace(out->res);
    const std::vector<ObjectPtr>& items = out->r.items;
    const std::vector<EncodedItem>& encoded = out->r.encoded_items;
    out->buffers.reserve(2 * (items.size() + encoded.size()) + 2);
    out->buffers.emplace_back(net::buffer(out->r.body));
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out->buffers.emplace_back(",", 1);
      std::string_view json = items[i]->json();
      out->buffers.emplace_back(json.data(), json.size());
    }
    for (const EncodedItem& e : encoded) out->buffers.emplace_back(e.field.data(), e.field.size());
    out->buffers.emplace_back(net::buffer(out->r.body_suffix));
    scattered_ = out;
    Lowest().expires_after(shared_->options.write_timeout);
    http::async_write_header(stream_, *out->header,
                             [self = Self(), out](beast::error_code ec, size_t) {
                               if (ec) return self->OnWritten(ec, 0);
                               self->WriteSlice(out);
                             });
  }

  // Writes the next slice of a scattered body; the last one ends the response.
  void WriteSlice(const std::shared_ptr<Scattered>& out) {
    if (out->next == out->buffers.size()) return OnWritten({}, 0);
    out->slice.clear();
    size_t bytes = 0;
    while (out->next < out->buffers.size() && out->slice.size() < kSliceBuffers &&
           (out->slice.empty() || bytes + out->buffers[out->next].size() <= kSliceBytes)) {
      bytes += out->buffers[out->next].size();
      out->slice.push_back(out->buffers[out->next++]);
    }
    Lowest().expires_after(shared_->options.write_timeout);
    net::async_write(stream_, out->slice, [self = Self(), out](beast::error_code ec, size_t) {
      if (ec) return self->OnWritten(ec, 0);
      self->WriteSlice(out);
    });
  }

  void OnWritten(beast::error_code ec, size_t) {
    response_.reset();
    scattered_.reset();
    if (ec) return Abort();
    if (drain_) return Drain();
    if (!keep_alive_) return Close();
    Read();
  }

  // After answering a request whose body was not read: stop sending, discard what the client is
  // still sending (for at most the write timeout), then close.
  void Drain() {
    if constexpr (kTls) {
      return Close();
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Lowest().expires_after(shared_->options.write_timeout);
      drain_buffer_ = std::make_unique<char[]>(kDrainBytes);
      DrainSome();
    }
  }

  void DrainSome() {
    Lowest().async_read_some(net::buffer(drain_buffer_.get(), kDrainBytes),
                             [self = Self()](beast::error_code ec, size_t) {
                               if (ec) return self->Abort();
                               self->DrainSome();
                             });
  }

  // --- Watch streaming --------------------------------------------------------------------

  void StartWatch(std::shared_ptr<WatchPlan> plan) {
    watcher_ = plan->watcher;
    watch_ = std::make_unique<WatchStream>(plan);
    shared_->WatchStarted();
    counted_ = true;
    watch_response_.emplace(http::status::ok, version_);
    watch_response_->set(http::field::content_type, std::string(WatchContentType(*plan)));
    watch_response_->set(http::field::cache_control, "no-cache, private");
    watch_response_->keep_alive(false);
    watch_response_->chunked(true);
    header_serializer_.emplace(*watch_response_);
    writing_ = true;
    Lowest().expires_after(shared_->options.write_timeout);
    http::async_write_header(stream_, *header_serializer_,
                             beast::bind_front_handler(&Session::OnWatchHeader, Self()));
  }

  void OnWatchHeader(beast::error_code ec, size_t) {
    writing_ = false;
    if (ec) return Abort();
    Lowest().expires_never();
    header_sent_ = true;
    timeout_timer_.expires_after(watch_->plan().timeout);
    timeout_timer_.async_wait([self = Self()](beast::error_code tec) {
      if (tec) return;
      self->finishing_ = true;
      self->Pump();
    });
    if (watch_->plan().bookmarks && !watch_->plan().error_event) ScheduleBookmark();
    Probe();
    Pump();
  }

  void ScheduleBookmark() {
    bookmark_timer_.expires_after(shared_->options.bookmark_interval);
    bookmark_timer_.async_wait([self = Self()](beast::error_code ec) {
      if (ec || self->closed_) return;
      self->bookmark_due_ = true;
      self->Pump();
      self->ScheduleBookmark();
    });
  }

  // A read that completes only when the client goes away (it sends nothing on a watch), so the
  // watcher is released promptly instead of at the next write.
  void Probe() {
    stream_.async_read_some(net::buffer(probe_), [self = Self()](beast::error_code ec, size_t) {
      if (self->closed_ || ec == net::error::operation_aborted) return;
      self->Abort();
    });
  }

  void Pump() {
    if (writing_ && watcher_ && watcher_->end() == Watcher::End::kOverflow) {
      // Slow-client policy: the client does not read (the write is stuck) and fell more than the
      // queue limit behind. The final chunk cannot get through either: drop the connection now
      // rather than at the write timeout; the client re-watches from its last resourceVersion.
      return Abort();
    }
    if (!watch_ || closed_ || writing_ || !header_sent_ || finished_) return;
    if (finishing_) return FinishWatch();
    WatchStream::Output out;
    if (bookmark_due_ && !watch_->in_initial()) {
      bookmark_due_ = false;
      watch_->FillWithBookmark(&out, shared_->ctx.storage->CurrentRv());
    } else {
      watch_->Fill(&out, kChunkBytes);
    }
    if (watch_->cut_requested() && !out.line_starts.empty()) return CutMidEvent(out);
    if (!out.empty()) return WriteChunk(std::move(out));
    if (watch_->ended()) FinishWatch();
  }

  void WriteChunk(WatchStream::Output out) {
    in_flight_ = std::move(out);
    buffers_.clear();
    buffers_.reserve(in_flight_.pieces.size());
    for (std::string_view p : in_flight_.pieces) buffers_.emplace_back(p.data(), p.size());
    writing_ = true;
    Lowest().expires_after(shared_->options.write_timeout);
    net::async_write(stream_, http::make_chunk(buffers_),
                     [self = Self()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       self->in_flight_.Clear();
                       if (ec) return self->Abort();
                       self->Lowest().expires_never();
                       self->Pump();
                     });
  }

  // Fault injection: half of the first event's bytes, then the connection drops.
  void CutMidEvent(const WatchStream::Output& out) {
    size_t end = out.line_starts.size() > 1 ? out.line_starts[1] : out.pieces.size();
    std::string line;
    for (size_t i = out.line_starts[0]; i < end; ++i) line += out.pieces[i];
    cut_bytes_ = line.substr(0, line.size() / 2);
    writing_ = true;
    Lowest().expires_after(shared_->options.write_timeout);
    net::async_write(stream_, http::make_chunk(net::buffer(cut_bytes_)),
                     [self = Self()](beast::error_code, size_t) {
                       self->writing_ = false;
                       self->Abort();
                     });
  }

  void FinishWatch() {
    if (finished_) return;
    finished_ = true;
    writing_ = true;
    Lowest().expires_after(shared_->options.write_timeout);
    net::async_write(stream_, http::make_chunk_last(),
                     [self = Self()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->Abort();
                       self->Close();
                     });
  }

  void EndWatch() {
    if (watcher_) {
      shared_->ctx.storage->Unwatch(watcher_);
      watcher_.reset();
    }
    if (counted_) {
      counted_ = false;
      shared_->WatchEnded();
    }
  }

  // --- Closing ------------------------------------------------------------------------------

  void StopTimers() {
    timeout_timer_.cancel();
    bookmark_timer_.cancel();
    latency_timer_.cancel();
    EndRvWaitRegistration();
  }

  // Orderly close: TLS close_notify, then the socket.
  void Close() {
    if (closed_) return;
    closed_ = true;
    StopTimers();
    EndWatch();
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = Self()](beast::error_code) {
        beast::error_code ignored;
        self->Lowest().socket().close(ignored);
      });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Lowest().socket().close(ignored);
    }
  }

  // Abrupt close: errors, disconnected clients, cut streams.
  void Abort() {
    if (closed_) return;
    closed_ = true;
    StopTimers();
    EndWatch();
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().socket().close(ignored);
  }

  std::shared_ptr<Shared> shared_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest req_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool over_limit_ = false;   // opened beyond max_connections: answer 429 and close
  bool body_unread_ = false;  // the current request's body is still on the wire
  std::chrono::steady_clock::time_point read_deadline_;  // for the whole request, header and body
  bool drain_ = false;                    // the request was refused unread: drain, then close
  std::unique_ptr<char[]> drain_buffer_;  // allocated only when draining
  std::optional<UserInfo> cert_user_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::shared_ptr<void> scattered_;  // the list being written by RespondScattered
  net::steady_timer timeout_timer_;
  net::steady_timer bookmark_timer_;
  net::steady_timer latency_timer_;
  net::steady_timer rv_timer_;
  std::shared_ptr<RvWaiter> rv_waiter_;  // set while the request waits for a resourceVersion
  uint64_t rv_wait_seq_ = 0;             // tells a stale wake-up from the current wait's
  bool closed_ = false;

  // Watch state.
  std::shared_ptr<Watcher> watcher_;
  std::unique_ptr<WatchStream> watch_;
  bool counted_ = false;
  std::optional<http::response<http::empty_body>> watch_response_;
  std::optional<http::response_serializer<http::empty_body>> header_serializer_;
  bool header_sent_ = false;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  bool bookmark_due_ = false;
  WatchStream::Output in_flight_;
  std::vector<net::const_buffer> buffers_;
  std::string cut_bytes_;
  std::array<char, 1> probe_{};
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, std::shared_ptr<Shared> shared, ssl::context* tls)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        retry_(acceptor_.get_executor()),
        shared_(std::move(shared)),
        tls_(tls) {
    spare_fd_ = OpenSpare();
    ApiError e = TooManyRequests(1);
    e.code = 503;
    e.reason = "ServiceUnavailable";
    e.message =
        "the server is out of file descriptors (its open files limit), please try again later";
    std::string body = StatusJson(e);
    shed_response_ =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Cache-Control: no-cache, private\r\nRetry-After: 1\r\nConnection: close\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  ~Listener() {
    if (spare_fd_ >= 0) ::close(spare_fd_);
  }

  Status Open(const std::string& address, uint16_t port) {
    beast::error_code ec;
    auto ip = net::ip::make_address(address, ec);
    if (ec) return InvalidArgumentError("bad listen address " + address + ": " + ec.message());
    tcp::endpoint ep(ip, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return UnavailableError("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                              ec.message());
    }
    port_ = acceptor_.local_endpoint(ec).port();
    return Status::Ok();
  }

  uint16_t port() const { return port_; }

  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  // Stops accepting; callable from any thread (the acceptor is only touched on its strand).
  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (OutOfDescriptors(ec) && ShedOne()) {
      return Accept();
    }
    if (ec) {  // e.g. no spare descriptor either: try again shortly rather than spin
      retry_.expires_after(std::chrono::milliseconds(50));
      retry_.async_wait([self = shared_from_this()](beast::error_code tec) {
        if (!tec) self->Accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls_) {
      using TlsStream = beast::ssl_stream<beast::tcp_stream>;
      std::make_shared<Session<TlsStream>>(shared_, TlsStream(std::move(socket), *tls_))->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(shared_, beast::tcp_stream(std::move(socket)))
          ->Start();
    }
    Accept();
  }

  // EMFILE or ENFILE from accept. Compares the raw errno: matching an error condition goes
  // through the category's virtual `equivalent`, which UBSan's vptr check rejects for Boost
  // 1.74's constant-initialised system category.
  static bool OutOfDescriptors(const beast::error_code& ec) {
    return ec.category() == boost::system::system_category() &&
           (ec.value() == EMFILE || ec.value() == ENFILE);
  }

  static int OpenSpare() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

  // Out of file descriptors, with connections waiting: gives the spare descriptor up to accept
  // one of them, answers it 503 (plain HTTP; a TLS client just sees the connection close) and
  // closes it, then takes the spare back. Without this the waiting clients would hang until a
  // descriptor frees up. False when there is no spare (the caller retries after a pause).
  bool ShedOne() {
    if (spare_fd_ < 0) spare_fd_ = OpenSpare();
    if (spare_fd_ < 0) return false;
    ::close(spare_fd_);
    int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    int err = errno;
    if (fd >= 0) {
      // What the client sent so far is read first, so that closing does not reset the connection
      // before the answer arrives; all of it is best effort and never blocks.
      char buf[4096];
      for (int i = 0; i < 16 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; ++i) {
      }
      if (!tls_) {
        (void)::send(fd, shed_response_.data(), shed_response_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      ::shutdown(fd, SHUT_WR);
      for (int i = 0; i < 16 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; ++i) {
      }
      ::close(fd);
      shared_->shed_connections.fetch_add(1);
    }
    spare_fd_ = OpenSpare();
    return fd >= 0 || err == EAGAIN || err == EWOULDBLOCK;
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  std::shared_ptr<Shared> shared_;
  ssl::context* tls_;
  uint16_t port_ = 0;
  int spare_fd_ = -1;  // given up to accept a connection when out of descriptors
  std::string shed_response_;
};

// Descriptors open now (Linux: /proc/self/fd; elsewhere a guess).
size_t OpenFdCount() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 16;
  size_t n = 0;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the directory's own descriptor
}

// Raises the soft open files limit (RLIMIT_NOFILE) to the hard one, as the Go runtime does for
// kube-apiserver, and returns the soft limit in force (0 when unknown or unlimited). Each
// connection holds a descriptor, and the usual soft default of 1024 would otherwise stop the
// server near a thousand connections.
rlim_t RaiseOpenFilesLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  const rlim_t before = lim.rlim_cur;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < lim.rlim_max) {
    rlimit want = lim;
    if (want.rlim_max == RLIM_INFINITY) {
      // Linux refuses more than fs.nr_open.
      want.rlim_cur = 1 << 20;
      if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
        unsigned long long nr_open = 0;
        if (std::fscanf(f, "%llu", &nr_open) == 1 && nr_open > 0) want.rlim_cur = nr_open;
        std::fclose(f);
      }
    } else {
      want.rlim_cur = want.rlim_max;
    }
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) {
      lim = want;
      KUBE_LOG(kInfo, "server") << "raised the open files limit (RLIMIT_NOFILE) from " << before
                                << " to " << lim.rlim_cur;
    }
  }
  return lim.rlim_cur == RLIM_INFINITY ? 0 : lim.rlim_cur;
}

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const HttpServerOptions& o) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) return InvalidArgumentError("tls cert file " + o.tls_cert_file + ": " + ec.message());
  ctx->use_private_key_file(o.tls_private_key_file, ssl::context::pem, ec);
  if (ec) {
    return InvalidArgumentError("tls private key file " + o.tls_private_key_file + ": " +
                                ec.message());
  }
  if (!o.client_ca_file.empty()) {
    ctx->load_verify_file(o.client_ca_file, ec);
    if (ec) return InvalidArgumentError("client CA file " + o.client_ca_file + ": " + ec.message());
    // Ask for a certificate but accept clients without one: they may bring a token instead.
    ctx->set_verify_mode(ssl::verify_peer, ec);
  }
  return ctx;
}

}  // namespace

void SplitRequestTarget(std::string_view target, HttpRequest* req) { SplitTarget(target, req); }

// Declaration order is destruction order reversed: sessions die with `ioc` (their pending
// handlers), after the listener and before the TLS context they were created from.
struct HttpServer::Impl {
  std::unique_ptr<ssl::context> tls;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::shared_ptr<Shared> shared;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};

  explicit Impl(int n) : ioc(n) {}
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      HttpServerContext context) {
  int threads = std::max(1, options.threads);
  auto impl = std::make_unique<Impl>(threads);
  if (!options.tls_cert_file.empty() || !options.tls_private_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_private_key_file.empty()) {
      return InvalidArgumentError("TLS needs both a certificate and a private key file");
    }
    auto tls = MakeTlsContext(options);
    if (!tls) return tls.error();
    impl->tls = std::move(tls).value();
  } else if (!options.client_ca_file.empty()) {
    return InvalidArgumentError("--client-ca-file needs TLS (--tls-cert-file)");
  }
  impl->shared = std::make_shared<Shared>();
  impl->shared->options = options;
  impl->shared->ctx = context;
  impl->shared->max_connections = options.max_connections;
  {
    rlimit before{};
    ::getrlimit(RLIMIT_NOFILE, &before);
    rlim_t open_files = RaiseOpenFilesLimit();
    size_t reserve = OpenFdCount() + kReservedFds;
    if (open_files > 0) {
      size_t room = open_files > reserve + 1 ? static_cast<size_t>(open_files) - reserve : 1;
      if (room < options.max_connections) {
        impl->shared->max_connections = room;
        KUBE_LOG(kWarning, "server")
            << "the open files limit (RLIMIT_NOFILE) is " << open_files
            << (before.rlim_cur != open_files
                    ? " (raised from " + std::to_string(before.rlim_cur) + ")"
                    : std::string())
            << ": serving at most " << room << " connections instead of "
            << options.max_connections;
      }
    }
  }
  impl->listener = std::make_shared<Listener>(impl->ioc, impl->shared, impl->tls.get());
  if (Status s = impl->listener->Open(options.address, options.port); !s.ok()) return s;
  impl->listener->Accept();
  impl->work.emplace(impl->ioc.get_executor());
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] {
      // Handlers do not throw; if one does anyway, keep serving the other sessions.
      for (int attempts = 0; attempts < 1000; ++attempts) {
        try {
          ioc->run();
          return;
        } catch (const std::exception&) {
        }
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->listener->port(); }
bool HttpServer::tls() const { return impl_->tls != nullptr; }

size_t HttpServer::connections() const { return impl_->shared->connections.load(); }

size_t HttpServer::max_connections() const { return impl_->shared->max_connections; }

size_t HttpServer::shed_connections() const { return impl_->shared->shed_connections.load(); }

size_t HttpServer::watch_streams() const {
  internal::MutexLock lock(impl_->shared->mu);
  return impl_->shared->watch_sessions;
}

void HttpServer::Stop(std::chrono::milliseconds grace) noexcept {
  if (impl_->stopped.exchange(true)) return;
  Shared& shared = *impl_->shared;
  shared.stopping = true;
  impl_->listener->Stop();
  shared.ctx.storage->CloseAllWatchers(Watcher::End::kDropped);
  // Requests waiting for a resourceVersion wake up, see `stopping` and close.
  shared.ctx.storage->ReleaseRvWaiters();
  {
    internal::MutexLock lock(shared.mu);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (shared.watch_sessions > 0 || shared.parked > 0) {
      if (!lock.WaitUntil(shared.cv, deadline)) break;
    }
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  // Watches started during the grace period: make sure no writer posts to this context again.
  shared.ctx.storage->CloseAllWatchers(Watcher::End::kDropped);
}

}  // namespace kube::server

// CurlHttpClient: the HttpClient on libcurl — one I/O thread per client drives a curl multi handle.
//
// Reads from: RestConfig (credentials, TLS, proxy) and exec credential plugins
// (config/exec_credential.h).
// Feeds: the resource client, discovery and the watch decoder (via `Stream`).
// client-go: rest/request.go (request, retry on Retry-After), rest/with_retry.go,
// transport/round_trippers.go (bearer, basic, impersonation, user agent), transport/cache.go
// (one transport per config, so connections are shared), plugin/pkg/client/auth/exec.
//
// Threads: requests are built on the caller's thread, then handed to the loop as commands
// (`curl_multi_wakeup` makes the loop see them at once). Only the loop touches the multi handle
// and the easy handles while they are in it. A `Do` caller waits on its transfer's condition
// variable; a stream's callbacks, and a `Do` body sink, run on the loop.
//
// The stream guarantee — no callback after `Cancel()` returns — comes from `Transfer::cb_mu`:
// every stream callback runs holding it and first checks `cancelled`; `Cancel` from another
// thread sets `cancelled` and then takes the lock once, which waits out a callback in progress.
// On the loop thread no other callback can be running, so `Cancel` there only sets the flag.
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/logging.h"
#include "base/mutex.h"
#include "base/strings.h"
#include "base/thread_annotations.h"
#include "kube/client/http_client.h"
#include "kube/config/exec_credential.h"

namespace kube {
namespace {

using internal::Trim;

// Trimmed from header lines, token files and curl's error text.
constexpr std::string_view kHeaderSpace = " \t\r\n";

using internal::Mutex;
using internal::MutexLock;

constexpr std::string_view kComponent = "http";
// The receive buffer of a streaming transfer (a watch): see where it is set.
constexpr long kStreamBufferBytes = 256 * 1024;  // NOLINT(runtime/int): curl takes a long

void GlobalInitOnce() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)rc;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Retry-After as whole seconds (client-go reads only that form, not an HTTP date).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view v) {
  v = Trim(v, kHeaderSpace);
  if (v.empty() || v.size() > 9) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return std::chrono::seconds(n);
}

// --- Credentials ----------------------------------------------------------------------------

// A bearer token file, re-read whenever it changes (service-account token rotation replaces the
// file or the symlink it is reached through, so identity, size and mtime are all compared).
class TokenFile {
 public:
  explicit TokenFile(std::string path) : path_(std::move(path)) {}

  Result<std::string> Token() KUBE_EXCLUDES(mu_) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      int err = errno;
      return Status(StatusCode::kUnauthorized,
                    "reading bearer token file " + path_ + ": " + internal::ErrnoText(err));
    }
    Key key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    MutexLock l(mu_);
    if (loaded_ && key == key_) return token_;
    std::ifstream in(path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) {
      return Status(StatusCode::kUnauthorized, "reading bearer token file " + path_ + " failed");
    }
    std::string text = ss.str();
    token_ = std::string(Trim(text, kHeaderSpace));
    if (token_.empty()) {
      loaded_ = false;
      return Status(StatusCode::kUnauthorized, "bearer token file " + path_ + " is empty");
    }
    key_ = key;
    loaded_ = true;
    return token_;
  }

 private:
  struct Key {
    dev_t dev;
    ino_t ino;
    off_t size;
    time_t sec;
    long nsec;  // NOLINT(runtime/int): timespec's type
    bool operator==(const Key&) const = default;
  };
  const std::string path_;
  Mutex mu_;
  bool loaded_ KUBE_GUARDED_BY(mu_) = false;
  Key key_ KUBE_GUARDED_BY(mu_){};
  std::string token_ KUBE_GUARDED_BY(mu_);
};

// What one attempt authenticates with.
struct Auth {
  std::string bearer;
  std::string cert_pem;
  std::string key_pem;
  std::optional<ExecCredential> exec;  // the credential used, for InvalidateIfCurrent
};

// --- Connection sharing -----------------------------------------------------------------------
//
// Left alone, libcurl 7.88 opens a connection for every transfer that finds no established HTTP/2
// connection with a free stream: each watch started while the first TLS handshake is under way
// gets a connection of its own, and so does each one after the first connection's streams (the
// server's SETTINGS_MAX_CONCURRENT_STREAMS) are taken. `CURLOPT_PIPEWAIT` ("wait for a connection
// that may multiplex") covers the first case only; it lets libcurl put transfers on a new
// connection before the server's SETTINGS have said how many streams it takes (the excess then
// waits inside nghttp2 for other streams to end); and against an HTTP/1.1 server it parks a
// transfer until another transfer ends, which for a watch may be never. So for a TLS server (the
// only kind HTTP/2 is negotiated with, by ALPN) the loop steers:
// - while a connection is being opened (from its socket to its first response), every other
//   transfer that needs one is held out of curl, and handed back when the connection has
//   answered: by then the server's SETTINGS have arrived and its protocol is known;
// - HTTP/1.1: the connection limit is lifted and transfers go without PIPEWAIT, each on a
//   connection of its own, so that none waits for another to end;
// - HTTP/2: transfers go with PIPEWAIT and take free streams. Those left without one, when no
//   connection is being opened, raise the limit (`CURLMOPT_MAX_HOST_CONNECTIONS`, 1 at first) by
//   one, and one of them opens the new connection while the others are held: one new connection
//   at a time. The limit never falls, so after connections close it may allow up to as many as
//   were once needed at the same time.
// Transfers held for a connection share its fate: when opening it fails (refused, unreachable,
// TLS), they fail with the same error, as requests waiting for one dial do in Go's HTTP/2
// transport, rather than each trying again in turn. Time held does not count towards a request's
// timeout; it is bounded by the opening connection's `connect_timeout`.
struct ConnectionPool {
  enum class Protocol { kUnknown, kHttp1, kHttp2 };
  bool tls = false;  // HTTP/2 possible; otherwise nothing here applies
  Protocol protocol = Protocol::kUnknown;
  long host_limit = 1;           // NOLINT(runtime/int): CURLMOPT_MAX_HOST_CONNECTIONS
  int waiting = 0;               // in curl with PIPEWAIT, no connection yet
  int connecting = 0;            // opened a connection that has not answered yet
  int held = 0;                  // held out of curl until a connection answers
  bool growing = false;          // host_limit raised; the new connection is not open yet
  bool switch_to_http1 = false;  // learned HTTP/1.1: lift the limit, release without PIPEWAIT
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<bool> http2{false};
};

// --- Transfers ------------------------------------------------------------------------------

struct Transfer {
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::shared_ptr<curl_slist> connect_to;  // shared with the client; curl does not copy it
  std::string url;
  std::string method;
  std::string body;
  std::string display;  // "GET https://host/path", for messages: no credentials
  char errbuf[CURL_ERROR_SIZE] = {};

  // Response, written on the loop thread; read by a `Do` caller after `done`.
  int status = 0;
  std::string content_type;
  std::optional<std::chrono::seconds> retry_after;
  bool head_done = false;
  std::string response_body;
  size_t body_bytes = 0;                            // received so far, kept or sunk
  std::optional<size_t> content_length;             // of the current response, if sent
  std::function<void(std::string_view)> body_sink;  // `HttpRequest::body_sink`
  bool sink_threw = false;                          // loop thread only
  // Limits (HttpClientOptions); 0 = none. A transfer that passes one ends with kDataLoss.
  size_t max_response_bytes = 0;
  size_t max_header_bytes = 0;
  size_t header_bytes = 0;
  std::string limit_error;  // set when a limit ended the transfer

  // Blocking (`Do`) completion.
  Mutex mu;
  std::condition_variable cv;
  bool done KUBE_GUARDED_BY(mu) = false;
  Status result KUBE_GUARDED_BY(mu);

  // Streams.
  bool streaming = false;
  StreamCallbacks callbacks;
  Mutex cb_mu;  // held while a stream callback runs
  std::atomic<bool> cancelled{false};
  std::atomic<bool> want_pause{false};
  bool paused_in_curl = false;  // loop thread only
  bool callback_threw = false;  // loop thread only

  // Connection sharing (loop thread only; ConnectionPool).
  ConnectionPool* pool = nullptr;  // set while in the loop's multi handle
  bool pool_waiting = false;       // counted in `pool->waiting`
  bool pool_connecting = false;    // counted in `pool->connecting`
  bool pool_held = false;          // counted in `pool->held`; not in the multi handle
  bool answered = false;           // a status line arrived
};

Status StatusForCurl(CURLcode rc, const Transfer& t) {
  std::string detail =
      t.errbuf[0] != '\0' ? std::string(Trim(t.errbuf, kHeaderSpace)) : curl_easy_strerror(rc);
  std::string message = t.display + ": " + detail;
  switch (rc) {
    case CURLE_OK:
      return Status();
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(std::move(message));
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return InvalidArgumentError(std::move(message));
    default:
      return UnavailableError(std::move(message));
  }
}

// --- The loop ---------------------------------------------------------------------------------

class Loop {
 public:
  enum class Op { kAdd, kRemove, kUnpause, kFail, kCancel };
  struct Command {
    Op op;
    std::shared_ptr<Transfer> transfer;
    Status status;  // kFail, kCancel
  };

  // `tls`: the server is reached over TLS, so HTTP/2 may be negotiated (ConnectionPool).
  static std::shared_ptr<Loop> Start(bool tls) {
    auto loop = std::make_shared<Loop>(tls);
    loop->thread_ = std::thread([loop] {
      pthread_setname_np(pthread_self(), "kube-http");  // for profilers and /proc
      loop->Run();
    });
    return loop;
  }

  explicit Loop(bool tls) : multi_(curl_multi_init()) {
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, long{CURLPIPE_MULTIPLEX});
    // libcurl's default caps streams per connection at 100; let the server's
    // SETTINGS_MAX_CONCURRENT_STREAMS decide (kube-apiserver: 250), as Go's transport does up to
    // 1,000.
    curl_multi_setopt(multi_, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
    pool_.tls = tls;
    if (tls) curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, pool_.host_limit);
  }

  HttpClientStats Stats() const {
    HttpClientStats s;
    s.connections_opened = pool_.connections_opened.load(std::memory_order_relaxed);
    s.http2 = pool_.http2.load(std::memory_order_relaxed);
    return s;
  }

  // Queues a command for the loop; false once shutting down.
  bool Post(Command cmd) KUBE_EXCLUDES(mu_) {
    // The wake-up happens under the lock so that it never races with the loop's final
    // curl_multi_cleanup (which runs only after `stopping_` was seen under the same lock).
    MutexLock l(mu_);
    if (stopping_) return false;
    commands_.push_back(std::move(cmd));
    curl_multi_wakeup(multi_);
    return true;
  }

  bool OnLoopThread() const { return current_loop == this; }

  // Waits `d` unless shutdown or a stop of `stop` comes first; returns false if one did.
  bool SleepFor(std::chrono::steady_clock::duration d, std::stop_token stop) KUBE_EXCLUDES(mu_) {
    auto deadline = std::chrono::steady_clock::now() + d;
    std::stop_callback wake(stop, [this] {
      { MutexLock l(mu_); }  // a waiter is either before its check or inside the wait
      stop_cv_.notify_all();
    });
    MutexLock l(mu_);
    while (!stopping_ && !stop.stop_requested()) {
      if (!l.WaitUntil(stop_cv_, deadline)) return !stopping_ && !stop.stop_requested();
    }
    return false;
  }

  void Shutdown() noexcept KUBE_EXCLUDES(mu_) {
    {
      MutexLock l(mu_);
      if (stopping_) return;
      stopping_ = true;
      curl_multi_wakeup(multi_);
    }
    stop_cv_.notify_all();
    // From a callback on the loop itself (the last owner went away there) the thread cannot join
    // itself: it finishes on its own, holding the Loop alive through its own reference.
    if (OnLoopThread()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

 private:
  static thread_local const Loop* current_loop;

  void Run() KUBE_EXCLUDES(mu_) {
    current_loop = this;
    // Every socket write happens on this thread. Writing to a connection the peer has closed
    // raises SIGPIPE, which kills the process by default, and libcurl with CURLOPT_NOSIGNAL (needed
    // with threads) does not guard TLS writes against it. Blocking it here, for this thread only,
    // turns it into an EPIPE error without touching the application's signal handling.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    std::vector<Command> commands;
    while (true) {
      bool stopping;
      {
        MutexLock l(mu_);
        commands.swap(commands_);
        stopping = stopping_;
      }
      for (Command& c : commands) Handle(c, stopping);
      commands.clear();
      if (stopping) break;
      int running = 0;
      curl_multi_perform(multi_, &running);
      ReapFinished();
      Balance();
      // Waits for socket activity, curl's own timers or a wake-up; the 1 s cap only bounds how
      // long a lost wake-up could go unnoticed.
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    // Shutdown: every transfer still in flight ends with kCancelled.
    for (auto& [easy, t] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
      Forget(*t);
      Complete(*t, CancelledError(t->display + ": the HTTP client was shut down"));
    }
    transfers_.clear();
    curl_multi_cleanup(multi_);  // no Post touches multi_ once stopping_ is set
    current_loop = nullptr;
  }

  void Handle(Command& c, bool stopping) {
    Transfer& t = *c.transfer;
    switch (c.op) {
      case Op::kAdd:
        if (stopping) {
          Complete(t, CancelledError(t.display + ": the HTTP client was shut down"));
        } else if (t.cancelled.load()) {
          // Cancelled before it started: nothing to report.
        } else if (CURLMcode mc = Admit(t); mc != CURLM_OK) {
          Complete(t, InternalError(t.display + ": " + curl_multi_strerror(mc)));
        } else {
          transfers_.emplace(t.easy, c.transfer);
        }
        break;
      case Op::kRemove:
        if (auto it = transfers_.find(t.easy); it != transfers_.end()) {
          curl_multi_remove_handle(multi_, t.easy);
          Forget(t);
          transfers_.erase(it);
        }
        break;
      case Op::kUnpause:
        if (t.paused_in_curl && !t.want_pause.load() && transfers_.count(t.easy) != 0) {
          t.paused_in_curl = false;
          curl_easy_pause(t.easy, CURLPAUSE_CONT);
        }
        break;
      case Op::kFail:
        Complete(t, std::move(c.status));
        break;
      case Op::kCancel:
        // Only a transfer still in flight: one that has completed has reported already.
        if (auto it = transfers_.find(t.easy); it != transfers_.end()) {
          curl_multi_remove_handle(multi_, t.easy);
          Forget(t);
          transfers_.erase(it);
          Complete(t, std::move(c.status));
        }
        break;
    }
  }

  void ReapFinished() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;
      auto it = transfers_.find(easy);
      if (it == transfers_.end()) continue;
      std::shared_ptr<Transfer> t = std::move(it->second);
      transfers_.erase(it);
      curl_multi_remove_handle(multi_, easy);
      bool opened_failed_connection = t->pool_connecting && IsConnectionFailure(rc);
      Forget(*t);
      if (opened_failed_connection) FailWaiting(rc, *t);
      Status s = StatusForCurl(rc, *t);
      if (!t->limit_error.empty()) s = DataLossError(t->display + ": " + t->limit_error);
      if (t->callback_threw) s = InternalError(t->display + ": a stream callback threw");
      if (t->sink_threw) s = InternalError(t->display + ": the response body sink threw");
      Complete(*t, std::move(s));
    }
  }

  // Hands `t` to curl, telling it whether to wait for a connection that may multiplex; or, while a
  // connection is being opened and unless `opens` (it is to open the next one), holds it.
  CURLMcode Admit(Transfer& t, bool opens = false) {
    t.pool = &pool_;
    bool steer = pool_.tls && pool_.protocol != ConnectionPool::Protocol::kHttp1;
    if (steer && !opens && (pool_.connecting > 0 || pool_.growing)) {
      Hold(t);  // until the connection being opened answers
      return CURLM_OK;
    }
    curl_easy_setopt(t.easy, CURLOPT_PIPEWAIT, steer ? 1L : 0L);
    if (steer) {
      t.pool_waiting = true;
      ++pool_.waiting;
    }
    CURLMcode mc = curl_multi_add_handle(multi_, t.easy);
    if (mc != CURLM_OK) Forget(t);
    return mc;
  }

  // `t` has left the multi handle.
  void Forget(Transfer& t) {
    if (t.pool_waiting) --pool_.waiting;
    if (t.pool_connecting) --pool_.connecting;
    if (t.pool_held) --pool_.held;
    t.pool_waiting = false;
    t.pool_connecting = false;
    t.pool_held = false;
    t.pool = nullptr;
  }

  // Errors that mean a connection could not be opened, which transfers waiting for it share.
  static bool IsConnectionFailure(CURLcode rc) {
    switch (rc) {
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
        return true;
      default:
        return false;
    }
  }

  // The connection `opener` was opening failed with `rc`: every transfer held or waiting for a
  // connection fails with the same error instead of trying again one after another.
  void FailWaiting(CURLcode rc, const Transfer& opener) {
    if (pool_.protocol == ConnectionPool::Protocol::kHttp1) return;
    std::vector<std::shared_ptr<Transfer>> failed;
    for (auto it = transfers_.begin(); it != transfers_.end();) {
      Transfer& w = *it->second;
      if (!w.pool_held && !(w.pool_waiting && !w.pool_connecting)) {
        ++it;
        continue;
      }
      if (!w.pool_held) curl_multi_remove_handle(multi_, w.easy);
      Forget(w);
      failed.push_back(std::move(it->second));
      it = transfers_.erase(it);
    }
    for (const std::shared_ptr<Transfer>& w : failed) {
      std::memcpy(w->errbuf, opener.errbuf, sizeof(w->errbuf));
      Complete(*w, StatusForCurl(rc, *w));
    }
  }

  // Takes the transfers waiting in curl for a connection (other than those opening one) out of
  // the multi handle, to be released once a connection answers. `keep_one`: leave the first in
  // curl, to open the connection.
  void HoldWaiting(bool keep_one) {
    for (auto& [easy, t] : transfers_) {
      if (!t->pool_waiting || t->pool_connecting) continue;
      if (keep_one) {
        // Restarted, so that curl sees the raised limit (a transfer parked by the limit is
        // otherwise looked at again only when another transfer ends).
        keep_one = false;
        curl_multi_remove_handle(multi_, easy);
        Forget(*t);
        if (Admit(*t, /*opens=*/true) != CURLM_OK) Hold(*t);
        continue;
      }
      curl_multi_remove_handle(multi_, easy);
      Forget(*t);
      Hold(*t);
    }
  }

  void Hold(Transfer& t) {
    t.pool = &pool_;
    t.pool_held = true;
    ++pool_.held;
  }

  // Hands every held transfer back to curl (see Admit).
  void ReleaseHeld() {
    std::vector<std::shared_ptr<Transfer>> failed;
    for (auto it = transfers_.begin(); it != transfers_.end();) {
      Transfer& t = *it->second;
      if (!t.pool_held) {
        ++it;
        continue;
      }
      Forget(t);
      if (CURLMcode mc = Admit(t); mc != CURLM_OK) {
        std::string message = t.display + ": " + curl_multi_strerror(mc);
        failed.push_back(std::move(it->second));
        it = transfers_.erase(it);
        Complete(*failed.back(), InternalError(std::move(message)));
        continue;
      }
      ++it;
    }
  }

  // After each round of I/O: see ConnectionPool.
  void Balance() {
    ConnectionPool& p = pool_;
    if (!p.tls) return;
    if (p.switch_to_http1) {
      // Waiting transfers restart without PIPEWAIT, each opening its own connection.
      p.switch_to_http1 = false;
      curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
      HoldWaiting(/*keep_one=*/false);
      ReleaseHeld();
      return;
    }
    if (p.protocol == ConnectionPool::Protocol::kHttp1) return;
    if (p.connecting > 0) {
      // Nothing else goes onto a connection before the one being opened has answered.
      if (p.waiting > 0) HoldWaiting(/*keep_one=*/false);
      return;
    }
    if (p.held > 0) {
      if (p.growing && p.waiting > 0) return;  // the new connection is still being set up
      p.growing = false;
      ReleaseHeld();
      return;
    }
    if (p.waiting == 0) {
      p.growing = false;
      return;
    }
    if (p.protocol != ConnectionPool::Protocol::kHttp2 || p.growing) return;
    // Transfers wait in curl after every connection has answered: all streams are taken. Allow
    // one more connection; one transfer opens it, the others are held until it answers.
    ++p.host_limit;
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, p.host_limit);
    p.growing = true;
    KUBE_LOG(kDebug, kComponent) << "HTTP/2: " << p.waiting
                                 << " transfers wait for a stream; opening connection "
                                 << p.host_limit;
    HoldWaiting(/*keep_one=*/true);
  }

  static void Complete(Transfer& t, Status s) {
    if (!t.streaming) {
      {
        MutexLock l(t.mu);
        t.done = true;
        t.result = std::move(s);
      }
      t.cv.notify_all();
      return;
    }
    MutexLock l(t.cb_mu);
    if (t.cancelled.load()) return;
    t.cancelled.store(true);  // nothing may follow on_done
    if (t.callbacks.on_done) {
      try {
        t.callbacks.on_done(std::move(s));
      } catch (...) {
        KUBE_LOG(kError, kComponent) << t.display << ": on_done threw; ignored";
      }
    }
  }

  CURLM* multi_;
  std::thread thread_;
  Mutex mu_;
  std::condition_variable stop_cv_;
  std::vector<Command> commands_ KUBE_GUARDED_BY(mu_);
  bool stopping_ KUBE_GUARDED_BY(mu_) = false;
  std::unordered_map<CURL*, std::shared_ptr<Transfer>> transfers_;  // loop thread only
  ConnectionPool pool_;  // loop thread only, except its atomic counters
};

thread_local const Loop* Loop::current_loop = nullptr;

// --- curl callbacks (loop thread) -------------------------------------------------------------

// Whether the body of `t`'s response goes to `body_sink` rather than into `response_body`: only a
// 2xx answer's, so that error bodies stay whole for the caller to decode.
bool SinksBody(const Transfer& t) { return t.body_sink && t.status >= 200 && t.status < 300; }

// The first status line of a transfer: the connection it went out on has answered, and says which
// protocol the server speaks (ConnectionPool).
void NoteAnswer(Transfer& t, std::string_view status_line) {
  t.answered = true;
  ConnectionPool* p = t.pool;
  if (p == nullptr || !p->tls) return;
  if (status_line.substr(0, 7) == "HTTP/1.") {
    if (p->protocol != ConnectionPool::Protocol::kHttp1) {
      p->protocol = ConnectionPool::Protocol::kHttp1;
      p->http2.store(false, std::memory_order_relaxed);
      p->switch_to_http1 = true;
    }
  } else if (status_line.substr(0, 6) == "HTTP/2" &&
             p->protocol == ConnectionPool::Protocol::kUnknown) {
    p->protocol = ConnectionPool::Protocol::kHttp2;
    p->http2.store(true, std::memory_order_relaxed);
  }
  if (t.pool_connecting) {
    t.pool_connecting = false;
    --p->connecting;
  }
}

// Called just before `t`'s request is sent: it has a connection.
int OnPrereq(void* user, char* /*primary_ip*/, char* /*local_ip*/, int /*primary_port*/,
             int /*local_port*/) {
  auto* t = static_cast<Transfer*>(user);
  if (t->pool_waiting) {
    t->pool_waiting = false;
    --t->pool->waiting;
  }
  return CURL_PREREQFUNC_OK;
}

// Called for each socket curl opens for `t`: a new connection.
int OnSocketOpened(void* user, curl_socket_t /*fd*/, curlsocktype purpose) {
  auto* t = static_cast<Transfer*>(user);
  ConnectionPool* p = t->pool;
  if (purpose != CURLSOCKTYPE_IPCXN || p == nullptr) return CURL_SOCKOPT_OK;
  p->connections_opened.fetch_add(1, std::memory_order_relaxed);
  if (p->tls && p->protocol != ConnectionPool::Protocol::kHttp1 && !t->pool_connecting &&
      !t->answered) {
    t->pool_connecting = true;
    ++p->connecting;
    p->growing = false;
  }
  return CURL_SOCKOPT_OK;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  t->header_bytes += len;
  if (t->max_header_bytes > 0 && t->header_bytes > t->max_header_bytes) {
    t->limit_error = "response headers exceed the client's limit of " +
                     std::to_string(t->max_header_bytes) + " bytes";
    return 0;  // ends the transfer
  }
  std::string_view line(data, len);
  if (line.substr(0, 5) == "HTTP/") {  // a new response (after 100 Continue, say)
    if (!t->answered) NoteAnswer(*t, line);
    t->content_type.clear();
    t->retry_after.reset();
    t->content_length.reset();
    return len;
  }
  if (Trim(line, kHeaderSpace).empty()) {
    long code = 0;  // NOLINT(runtime/int): curl's type
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200) return len;  // an interim response; the real one follows
    t->status = static_cast<int>(code);
    t->head_done = true;
    if (!t->streaming && t->content_length && !SinksBody(*t)) {
      // Size the body once: a large list otherwise grows by doubling, copying itself each time
      // and peaking at up to twice its size. Bounded, so a lying header cannot reserve much.
      constexpr size_t kMaxReserve = size_t{256} << 20;
      t->response_body.reserve(std::min(*t->content_length, kMaxReserve));
    }
    if (t->streaming && t->callbacks.on_headers) {
      MutexLock l(t->cb_mu);
      if (t->cancelled.load()) return len;
      try {
        t->callbacks.on_headers(HttpResponseHead{t->status, t->content_type, t->retry_after});
      } catch (...) {
        t->callback_threw = true;
        return 0;
      }
    }
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string_view name = Trim(line.substr(0, colon), kHeaderSpace);
  std::string_view value = Trim(line.substr(colon + 1), kHeaderSpace);
  if (EqualsIgnoreCase(name, "Content-Type")) {
    t->content_type.assign(value);
  } else if (EqualsIgnoreCase(name, "Retry-After")) {
    t->retry_after = ParseRetryAfter(value);
  } else if (!t->streaming && EqualsIgnoreCase(name, "Content-Length")) {
    size_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc() && end == value.data() + value.size() &&
        (t->max_response_bytes == 0 || length <= t->max_response_bytes)) {
      t->content_length = length;  // reserved for once the status is known (SinksBody)
    }
  }
  return len;
}

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (!t->streaming) {
    if (t->max_response_bytes > 0 && t->body_bytes + len > t->max_response_bytes) {
      t->limit_error = "response body exceeds the client's limit of " +
                       std::to_string(t->max_response_bytes) +
                       " bytes (HttpClientOptions::max_response_bytes)";
      t->response_body.clear();
      t->response_body.shrink_to_fit();
      return CURL_WRITEFUNC_ERROR;
    }
    t->body_bytes += len;
    if (SinksBody(*t)) {
      try {
        t->body_sink(std::string_view(data, len));
      } catch (...) {
        t->sink_threw = true;
        return CURL_WRITEFUNC_ERROR;
      }
      return len;
    }
    t->response_body.append(data, len);
    return len;
  }
  if (t->cancelled.load()) return CURL_WRITEFUNC_ERROR;
  if (t->want_pause.load()) {
    t->paused_in_curl = true;
    return CURL_WRITEFUNC_PAUSE;  // curl keeps these bytes and offers them again on unpause
  }
  if (!t->callbacks.on_data) return len;
  MutexLock l(t->cb_mu);
  if (t->cancelled.load()) return CURL_WRITEFUNC_ERROR;
  try {
    t->callbacks.on_data(std::string_view(data, len));
  } catch (...) {
    t->callback_threw = true;
    return CURL_WRITEFUNC_ERROR;
  }
  return len;
}

// --- The stream handle -----------------------------------------------------------------------

class CurlStream final : public HttpStream {
 public:
  CurlStream(std::shared_ptr<Loop> loop, std::shared_ptr<Transfer> t)
      : loop_(std::move(loop)), t_(std::move(t)) {}
  ~CurlStream() override { Cancel(); }

  void Cancel() noexcept override {
    bool first = !t_->cancelled.exchange(true);
    if (!loop_->OnLoopThread()) {
      // Wait out a callback of this stream running right now on the loop.
      MutexLock l(t_->cb_mu);
    }
    if (first) loop_->Post({Loop::Op::kRemove, t_, Status()});
  }
  void Pause() noexcept override { t_->want_pause.store(true); }
  void Resume() noexcept override {
    t_->want_pause.store(false);
    loop_->Post({Loop::Op::kUnpause, t_, Status()});
  }

 private:
  std::shared_ptr<Loop> loop_;
  std::shared_ptr<Transfer> t_;
};

// --- The client -------------------------------------------------------------------------------

class CurlHttpClient final : public HttpClient {
 public:
  static Result<std::shared_ptr<HttpClient>> Create(const RestConfig& config,
                                                    HttpClientOptions options) {
    GlobalInitOnce();
    auto client = std::shared_ptr<CurlHttpClient>(new CurlHttpClient(config, std::move(options)));
    if (Status s = client->Init(); !s.ok()) return s;
    client->loop_ = Loop::Start(client->tls_);
    return std::shared_ptr<HttpClient>(std::move(client));
  }

  ~CurlHttpClient() override {
    if (loop_) loop_->Shutdown();
  }

  const std::string& server() const override { return display_base_; }

  size_t max_watch_frame_bytes() const override {
    return options_.max_watch_frame_bytes > 0 ? options_.max_watch_frame_bytes
                                              : kDefaultMaxWatchFrameBytes;
  }

  bool prefer_protobuf() const override { return options_.prefer_protobuf; }
  bool parallel_list_decode() const override { return options_.parallel_list_decode; }

  HttpClientStats Stats() const override { return loop_->Stats(); }

  Result<HttpResponse> Do(const HttpRequest& request) override {
    const int max_attempts = std::max(1, options_.max_attempts);
    bool reauthenticated = false;
    // Bounded: each pass either returns or uses up an attempt (or the single re-authentication).
    for (int attempt = 1; attempt <= max_attempts + 1; ++attempt) {
      Result<Auth> auth = Authenticate();
      if (!auth) return auth.error();
      std::shared_ptr<Transfer> t = MakeTransfer(request, *auth, /*streaming=*/false);
      if (request.stop.stop_requested()) return CancelledError(t->display + ": cancelled");
      if (!loop_->Post({Loop::Op::kAdd, t, Status()})) {
        return CancelledError(t->display + ": the HTTP client was shut down");
      }
      Status result;
      {
        // A stop abandons the transfer on the loop (commands run in order, so after its add).
        std::stop_callback cancel(request.stop, [this, t] {
          loop_->Post({Loop::Op::kCancel, t, CancelledError(t->display + ": cancelled")});
        });
        MutexLock l(t->mu);
        while (!t->done) l.Wait(t->cv);
        result = t->result;
      }
      if (!result.ok()) return result;
      KUBE_LOG(kDebug, kComponent) << t->display << " -> " << t->status;
      HttpResponse response{t->status, std::move(t->response_body), std::move(t->content_type),
                            t->retry_after};
      if (response.status == 401 && auth->exec && !reauthenticated) {
        // client-go: a refused exec credential is dropped and the request retried once.
        exec_->InvalidateIfCurrent(*auth->exec);
        reauthenticated = true;
        --attempt;
        continue;
      }
      bool retriable = (response.status == 429 || response.status >= 500) && response.retry_after &&
                       *response.retry_after <= options_.max_retry_after;
      if (!retriable || attempt >= max_attempts) return response;
      KUBE_LOG(kInfo, kComponent) << t->display << " answered " << response.status
                                  << "; retrying in " << response.retry_after->count() << "s";
      if (options_.retry_wait) {
        if (!options_.retry_wait(*response.retry_after)) return response;
      } else if (!loop_->SleepFor(*response.retry_after, request.stop)) {
        return CancelledError(t->display + (request.stop.stop_requested()
                                                ? ": cancelled"
                                                : ": the HTTP client was shut down"));
      }
    }
    return InternalError("unreachable: retry loop ended");
  }

  std::unique_ptr<HttpStream> Stream(const HttpRequest& request,
                                     StreamCallbacks callbacks) override {
    Result<Auth> auth = Authenticate();
    std::shared_ptr<Transfer> t = MakeTransfer(request, auth ? *auth : Auth{}, true);
    t->callbacks = std::move(callbacks);
    if (auth && auth->exec) {
      // A 401 on a stream also drops the refused exec credential; the caller retries.
      ExecCredential used = *auth->exec;
      std::shared_ptr<ExecCredentialProvider> exec = exec_;
      auto on_headers = std::move(t->callbacks.on_headers);
      t->callbacks.on_headers = [exec, used, on_headers](const HttpResponseHead& head) {
        if (head.status == 401) exec->InvalidateIfCurrent(used);
        if (on_headers) on_headers(head);
      };
    }
    Loop::Command cmd{auth ? Loop::Op::kAdd : Loop::Op::kFail, t, auth.error()};
    if (!loop_->Post(std::move(cmd))) {
      // Only while the client is being destroyed: report on this thread, there is no loop left.
      if (t->callbacks.on_done) {
        t->callbacks.on_done(CancelledError(t->display + ": the HTTP client was shut down"));
      }
      t->cancelled.store(true);
    }
    return std::make_unique<CurlStream>(loop_, std::move(t));
  }

 private:
  CurlHttpClient(const RestConfig& config, HttpClientOptions options)
      : config_(config), options_(std::move(options)) {}

  Status Init() {
    std::string where = config_.source.empty() ? "" : " (" + config_.source + ")";
    if (config_.server.empty()) return InvalidArgumentError("no server URL" + where);
    CURLU* u = curl_url();
    std::unique_ptr<CURLU, void (*)(CURLU*)> guard(u, curl_url_cleanup);
    if (curl_url_set(u, CURLUPART_URL, config_.server.c_str(), 0) != CURLUE_OK) {
      return InvalidArgumentError("server URL is not a valid URL" + where);
    }
    auto get = [u](CURLUPart part, unsigned flags = 0) {
      char* v = nullptr;
      std::string out;
      if (curl_url_get(u, part, &v, flags) == CURLUE_OK && v != nullptr) out = v;
      curl_free(v);
      return out;
    };
    std::string scheme = get(CURLUPART_SCHEME);
    if (scheme != "http" && scheme != "https") {
      return InvalidArgumentError("server URL scheme must be http or https, not " + scheme + where);
    }
    // Userinfo in the URL is a credential: never keep it in the URL we print or send.
    curl_url_set(u, CURLUPART_USER, nullptr, 0);
    curl_url_set(u, CURLUPART_PASSWORD, nullptr, 0);
    curl_url_set(u, CURLUPART_QUERY, nullptr, 0);
    curl_url_set(u, CURLUPART_FRAGMENT, nullptr, 0);
    std::string host = get(CURLUPART_HOST);
    std::string port = get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    std::string path = get(CURLUPART_PATH);
    while (!path.empty() && path.back() == '/') path.pop_back();
    tls_ = scheme == "https";
    display_base_ = scheme + "://" + host + (get(CURLUPART_PORT).empty() ? "" : ":" + port) + path;
    base_url_ = display_base_;
    if (!config_.tls_server_name.empty() && scheme == "https") {
      // Verify (and send SNI for) tls_server_name while connecting to the URL's host, keeping the
      // Host header of the URL, as Go's tls.Config.ServerName does.
      base_url_ = scheme + "://" + config_.tls_server_name + ":" + port + path;
      connect_to_ = config_.tls_server_name + ":" + port + ":" + host + ":" + port;
      host_header_ = "Host: " + host + (get(CURLUPART_PORT).empty() ? "" : ":" + port);
      connect_to_list_ = std::shared_ptr<curl_slist>(
          curl_slist_append(nullptr, connect_to_.c_str()), curl_slist_free_all);
    }
    if (!config_.proxy_url.empty()) {
      std::string_view p = config_.proxy_url;
      if (p.substr(0, 7) != "http://" && p.substr(0, 8) != "https://" &&
          p.substr(0, 9) != "socks5://" && p.substr(0, 10) != "socks5h://") {
        return InvalidArgumentError("proxy-url must use http, https, socks5 or socks5h" + where);
      }
    }
    if (config_.exec) {
      exec_ = std::make_shared<ExecCredentialProvider>(config_);
    } else if (!config_.bearer_token_file.empty()) {
      token_file_ = std::make_unique<TokenFile>(config_.bearer_token_file);
    }
    return Status();
  }

  Result<Auth> Authenticate() {
    Auth auth;
    if (exec_) {
      Result<ExecCredential> cred = exec_->Get();
      if (!cred) {
        Status s = cred.error();
        return Status(StatusCode::kUnauthorized, "getting credentials: " + s.message());
      }
      auth.bearer = cred->token;
      auth.cert_pem = cred->client_certificate_data;
      auth.key_pem = cred->client_key_data;
      auth.exec = *std::move(cred);
    } else if (token_file_) {
      Result<std::string> token = token_file_->Token();
      if (!token) return token.error();
      auth.bearer = *std::move(token);
    } else {
      auth.bearer = config_.bearer_token;
    }
    if (auth.cert_pem.empty()) {
      auth.cert_pem = config_.client_certificate_data;
      auth.key_pem = config_.client_key_data;
    }
    return auth;
  }

  std::shared_ptr<Transfer> MakeTransfer(const HttpRequest& req, const Auth& auth, bool streaming) {
    auto t = std::make_shared<Transfer>();
    t->streaming = streaming;
    t->max_response_bytes = options_.max_response_bytes;
    t->max_header_bytes = options_.max_header_bytes;
    t->method = req.method.empty() ? "GET" : req.method;
    std::string path = req.path;
    if (!path.empty() && path.front() != '/') path.insert(path.begin(), '/');
    t->url = base_url_ + path;
    t->display = t->method + " " + display_base_ + path;
    t->body = req.body;
    if (!streaming) t->body_sink = req.body_sink;
    CURL* e = curl_easy_init();
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnWrite);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_2TLS});
    // CURLOPT_PIPEWAIT is set by the loop, per transfer, from what it knows of the server's
    // protocol (ConnectionPool): never against an HTTP/1.1 server, where libcurl 7.88 would park a
    // new transfer behind a busy connection until another transfer (a watch) ends.
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &OnPrereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t.get());
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, &OnSocketOpened);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, t.get());
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 30L);
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, config_.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(config_.connect_timeout.count()));  // NOLINT
    std::chrono::milliseconds timeout = req.timeout;
    if (timeout.count() < 0) timeout = streaming ? std::chrono::milliseconds(0) : config_.timeout;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));  // NOLINT
    // A watch that falls behind reads its backlog in pieces this big rather than curl's 16 KB:
    // each piece is one batch for the decoder, one push into the delta FIFO and at most one
    // wake-up of the informer, so a burst costs fewer wake-ups, system calls and frames cut in
    // two. An idle stream touches only the first pages (the buffer is allocated untouched).
    if (streaming) curl_easy_setopt(e, CURLOPT_BUFFERSIZE, kStreamBufferBytes);

    // Method and body.
    if (t->method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (t->method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      if (t->method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method.c_str());
      if (!t->body.empty() || t->method == "POST" || t->method == "PUT" || t->method == "PATCH") {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
      }
    }

    // TLS.
    if (config_.insecure_skip_tls_verify) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (!config_.ca_data.empty()) {
      // Trust exactly this bundle, not the system store as well.
      curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
      curl_blob blob{const_cast<char*>(config_.ca_data.data()), config_.ca_data.size(),
                     CURL_BLOB_COPY};
      curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    } else if (!config_.ca_file.empty()) {
      curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
      curl_easy_setopt(e, CURLOPT_CAINFO, config_.ca_file.c_str());
    }
    if (!auth.cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(auth.cert_pem.data()), auth.cert_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
      if (!auth.key_pem.empty()) {
        curl_blob key{const_cast<char*>(auth.key_pem.data()), auth.key_pem.size(), CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
      }
    } else if (!config_.client_certificate_file.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLCERT, config_.client_certificate_file.c_str());
      curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
      if (!config_.client_key_file.empty()) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, config_.client_key_file.c_str());
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
      }
    }
    if (connect_to_list_) {
      t->connect_to = connect_to_list_;
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, connect_to_list_.get());
    }
    if (!config_.proxy_url.empty()) curl_easy_setopt(e, CURLOPT_PROXY, config_.proxy_url.c_str());

    // Headers. Authorization is built here and handed to curl only: never logged.
    curl_slist* h = nullptr;
    auto add = [&h](const std::string& line) { h = curl_slist_append(h, line.c_str()); };
    if (!req.accept.empty()) add("Accept: " + req.accept);
    if (!req.content_type.empty()) add("Content-Type: " + req.content_type);
    add("Expect:");  // no 100-continue round trip for large bodies
    if (!auth.bearer.empty()) {
      add("Authorization: Bearer " + auth.bearer);
    } else if (!config_.username.empty() || !config_.password.empty()) {
      curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(e, CURLOPT_USERNAME, config_.username.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, config_.password.c_str());
    }
    if (!config_.impersonate_user.empty()) add("Impersonate-User: " + config_.impersonate_user);
    if (!host_header_.empty()) add(host_header_);
    for (const auto& [name, value] : req.headers) add(name + ": " + value);
    t->headers = h;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    return t;
  }

  const RestConfig config_;
  const HttpClientOptions options_;
  bool tls_ = false;          // https
  std::string base_url_;      // where requests go (may name tls_server_name)
  std::string display_base_;  // the server as configured, for messages
  std::string connect_to_;
  std::string host_header_;
  std::shared_ptr<curl_slist> connect_to_list_;  // built in Init, read-only afterwards
  std::unique_ptr<TokenFile> token_file_;
  std::shared_ptr<ExecCredentialProvider> exec_;
  std::shared_ptr<Loop> loop_;
};

}  // namespace

Result<std::shared_ptr<HttpClient>> MakeCurlHttpClient(const RestConfig& config,
                                                       HttpClientOptions options) {
  return CurlHttpClient::Create(config, std::move(options));
}

}  // namespace kube

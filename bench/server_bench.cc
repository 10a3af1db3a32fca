// The embedded API server's figures: list throughput, watch fan-out, idle watch
// streams and seed load time, over HTTP on loopback.
//
//   server_bench [--pods N] [--reps N] [--watchers N] [--idle-watchers N] [--threads N]
//                [--fanout-seconds S] [--only seed,list,watch] [--json FILE]
//                [--server OTHER_SERVER_BENCH]   (serve with another build: old vs new)
// `--only list,no-table` leaves out the (slow) Table lists.
//
// The server runs in a child process (this binary re-executed with `--serve-child`), so its
// threads, resident memory and file descriptors are read from /proc without the client's, and
// the client never shares its heap. The parent is the client: plain blocking sockets for lists
// and one epoll thread for every watch stream, with a minimal chunked decoder, so the server
// stays the bottleneck (nothing is parsed as JSON in the timed parts).
//
// Measurements (each repeated `--reps` times; the table shows medians):
//   seed     `Seed(FILE)` of a JSON `List` of N realistic Pods (bench/pod_generator.h), each on a
//            fresh server; the server's RSS afterwards.
//   list     GET /api/v1/pods (everything in one body), at resourceVersion=0, with limit=500 and
//            continue tokens, each in JSON and in protobuf (client-go's Accept; the first
//            protobuf list, which encodes every object, on its own row), and kubectl's Table
//            request (Accept: as=Table) whole and paginated. MB/s and objects/s on the wall
//            clock, the server's CPU time per list (MB_per_server_cpu_s) and the time from the
//            request to the first byte of the answer.
//   fan-out  `--watchers` watches of one namespace's ConfigMaps; the server process updates one
//            ConfigMap at a fixed rate, stamping each write with CLOCK_MONOTONIC (shared by both
//            processes); each watcher reads the stamp from every event it receives. Events
//            delivered per second in total, p50/p99 from write to receipt.
//   idle     threads, RSS and fds of the server with 0, `--watchers` and `--idle-watchers` open
//            watches; then a few writes that every watcher must receive.
//   writes   (`--only writes`) `--writes` HTTP creates, PUTs and merge PATCHes (a label and an
//            annotation) of generated 4 KB Pods, pipelined on one keep-alive connection, and as
//            many in-process `Apply`s of a 3.8 KB ConfigMap, each with one watcher that must
//            receive every event; writes per second of wall time and of server CPU time.
// SERVER_BENCH_WRITE_CASE=TEXT runs only the write cases whose name holds TEXT (for perf).
// Any lost event, unexpected HTTP status or ended stream is reported as a FAILURE and the
// program exits 1.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/server/api_server.h"
#include "pod_generator.h"

namespace kube::bench {
namespace {

int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// "1-minute load average" of the machine, printed with the figures: they are only comparable
// at similar loads.
double LoadAverage() {
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Percentile(std::vector<int64_t>* v, double p) {
  if (v->empty()) return 0;
  size_t i = std::min(v->size() - 1, static_cast<size_t>(p * static_cast<double>(v->size())));
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(i), v->end());
  return static_cast<double>((*v)[i]);
}

void RaiseFdLimit() {
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::vector<std::string> failures;

void Fail(const std::string& what) {
  std::fprintf(stderr, "FAILURE: %s\n", what.c_str());
  failures.push_back(what);
}

// --- The server process ------------------------------------------------------------------------
// Reads one command per line on stdin, answers one line on stdout:
//   seed PATH                  -> "ok SECONDS"       Seed(PATH), timed
//   write NS COUNT RATE BYTES  -> "ok SECONDS"       COUNT updates of ConfigMap NS/fanout at RATE/s
//   watches                    -> "ok N"             open watch streams
//   quit

std::string ConfigMapJson(const std::string& ns, int64_t seq, int64_t stamp,
                          const std::string& padding) {
  std::string j =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fanout","namespace":")";
  j += ns;
  j += R"(","labels":{"app":"bench"},"annotations":{"kinf.io/bench-t":")";
  j += std::to_string(stamp);
  j += R"("}},"data":{"seq":")";
  j += std::to_string(seq);
  j += R"(","padding":")";
  j += padding;
  j += R"("}})";
  return j;
}

int ServeChild(int threads) {
  RaiseFdLimit();
  signal(SIGPIPE, SIG_IGN);
  auto server = EmbeddedApiServer::Start({.threads = threads});
  if (!server) {
    std::printf("err %s\n", server.error().ToString().c_str());
    return 1;
  }
  std::printf("port %u\n", static_cast<unsigned>((*server)->Port()));
  std::fflush(stdout);
  char line[4096];
  while (std::fgets(line, sizeof line, stdin) != nullptr) {
    std::string cmd(line);
    while (!cmd.empty() && (cmd.back() == '\n' || cmd.back() == '\r')) cmd.pop_back();
    char a[2048] = {};
    long long count = 0, bytes = 0;  // NOLINT(runtime/int)
    double rate = 0;
    if (std::sscanf(cmd.c_str(), "seed %2047s", a) == 1) {
      int64_t t0 = MonoNs();
      int64_t cpu0 = ThreadCpuNs();
      Status s = (*server)->Seed(a);
      double secs = static_cast<double>(MonoNs() - t0) / 1e9;
      double cpu = static_cast<double>(ThreadCpuNs() - cpu0) / 1e9;
      if (s.ok()) {
        std::printf("ok %.6f %.6f\n", secs, cpu);
      } else {
        std::printf("err %s\n", s.ToString().c_str());
      }
    } else if (std::sscanf(cmd.c_str(), "write %2047s %lld %lf %lld", a, &count, &rate, &bytes) ==
               4) {
      const std::string ns = a;
      const std::string padding(static_cast<size_t>(bytes), 'x');
      (void)(*server)->Create(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + ns +
                              R"("}})");
      const int64_t period = static_cast<int64_t>(1e9 / rate);
      const int64_t start = MonoNs();
      std::string error;
      for (long long i = 0; i < count; ++i) {  // NOLINT(runtime/int)
        const int64_t due = start + i * period;
        for (int64_t now = MonoNs(); now < due; now = MonoNs()) {
          timespec ts{0, static_cast<long>(std::min<int64_t>(due - now, 1000000))};  // NOLINT
          nanosleep(&ts, nullptr);
        }
        auto r = (*server)->Apply(ConfigMapJson(ns, i, MonoNs(), padding));
        if (!r && error.empty()) error = r.error().ToString();
      }
      double secs = static_cast<double>(MonoNs() - start) / 1e9;
      if (error.empty()) {
        std::printf("ok %.6f\n", secs);
      } else {
        std::printf("err %s\n", error.c_str());
      }
    } else if (cmd == "watches") {
      std::printf("ok %zu\n", (*server)->WatchCount());
    } else if (cmd == "quit") {
      break;
    } else {
      std::printf("err unknown command %s\n", cmd.c_str());
    }
    std::fflush(stdout);
  }
  (*server)->Stop();
  return 0;
}

// The binary run as the server: this one, or another build of server_bench (`--server`), so
// that two builds of the server are measured by the same client.
const char* g_server_binary = "/proc/self/exe";

class ServerProcess {
 public:
  // Starts `g_server_binary --serve-child THREADS` with pipes on its stdin/stdout.
  explicit ServerProcess(int threads) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) std::abort();
    pid_ = fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[0]);
      close(in[1]);
      close(out[0]);
      close(out[1]);
      std::string t = std::to_string(threads);
      execl(g_server_binary, "server_bench", "--serve-child", t.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
    std::string first = ReadLine();
    unsigned port = 0;
    if (std::sscanf(first.c_str(), "port %u", &port) != 1) {
      std::fprintf(stderr, "server did not start: %s\n", first.c_str());
      std::exit(1);
    }
    port_ = static_cast<uint16_t>(port);
  }
  ~ServerProcess() {
    std::fputs("quit\n", to_);
    std::fflush(to_);
    std::fclose(to_);
    std::fclose(from_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  int reply_fd() const { return fileno(from_); }

  void Send(const std::string& cmd) {
    std::fputs((cmd + "\n").c_str(), to_);
    std::fflush(to_);
  }
  std::string ReadLine() {
    char buf[4096];
    if (std::fgets(buf, sizeof buf, from_) == nullptr) return "err server exited";
    std::string s(buf);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  // Sends a command and returns the number after "ok", or -1 (the error is recorded).
  double Call(const std::string& cmd) {
    Send(cmd);
    return Parse(cmd, ReadLine());
  }
  static double Parse(const std::string& cmd, const std::string& reply) {
    double v = 0;
    if (std::sscanf(reply.c_str(), "ok %lf", &v) == 1) return v;
    Fail(cmd + ": " + reply);
    return -1;
  }

  struct Stats {
    int64_t threads = 0;
    int64_t rss_kb = 0;
    int64_t fds = 0;
    double cpu_s = 0;  // user + system
  };
  Stats ReadStats() const {
    Stats s;
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string key;
    while (status >> key) {
      if (key == "Threads:") status >> s.threads;
      if (key == "VmRSS:") status >> s.rss_kb;
      status.ignore(1 << 20, '\n');
    }
    if (DIR* d = opendir(("/proc/" + std::to_string(pid_) + "/fd").c_str())) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') ++s.fds;
      }
      closedir(d);
    }
    // On-CPU nanoseconds of every thread (schedstat is exact; /proc/PID/stat counts ticks).
    if (DIR* d = opendir(("/proc/" + std::to_string(pid_) + "/task").c_str())) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream sched("/proc/" + std::to_string(pid_) + "/task/" + e->d_name + "/schedstat");
        double ns = 0;
        if (sched >> ns) s.cpu_s += ns / 1e9;
      }
      closedir(d);
    }
    return s;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// --- A blocking keep-alive HTTP/1.1 client ----------------------------------------------------

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port) : port_(port), buf_(1 << 20) {}
  ~HttpConnection() {
    if (fd_ >= 0) close(fd_);
  }

  struct Response {
    int status = 0;
    size_t bytes = 0;           // body bytes
    std::string body;           // kept only when asked for
    int64_t first_byte_ns = 0;  // from sending the request to the first byte of the answer
  };

  // GET with Content-Length framing (the server frames every non-watch answer that way).
  // `keep` keeps the body; otherwise only its first `keep_prefix` bytes.
  Response Get(const std::string& target, const std::string& accept, bool keep,
               size_t keep_prefix = 0) {
    Response r;
    if (fd_ < 0) fd_ = ConnectLoopback(port_);
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + accept +
                      "\r\nUser-Agent: server_bench\r\n\r\n";
    const int64_t sent = MonoNs();
    if (fd_ < 0 || !SendAll(fd_, req)) return r;
    std::string head;
    size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
      if (n <= 0) return r;
      if (head.empty()) r.first_byte_ns = MonoNs() - sent;
      head.append(buf_.data(), static_cast<size_t>(n));
      head_end = head.find("\r\n\r\n");
    }
    std::sscanf(head.c_str(), "HTTP/1.1 %d", &r.status);
    size_t length = 0;
    for (std::string_view name : {"Content-Length: ", "content-length: "}) {
      if (size_t p = head.find(name); p != std::string::npos) {
        length = std::strtoull(head.c_str() + p + name.size(), nullptr, 10);
      }
    }
    std::string_view rest = std::string_view(head).substr(head_end + 4);
    auto take = [&](std::string_view piece) {
      if (keep) {
        r.body.append(piece);
      } else if (r.body.size() < keep_prefix) {
        r.body.append(piece.substr(0, keep_prefix - r.body.size()));
      }
      r.bytes += piece.size();
    };
    if (keep) r.body.reserve(length);
    take(rest);
    while (r.bytes < length) {
      ssize_t n = recv(fd_, buf_.data(), std::min(buf_.size(), length - r.bytes), 0);
      if (n <= 0) {
        r.status = 0;
        return r;
      }
      take(std::string_view(buf_.data(), static_cast<size_t>(n)));
    }
    return r;
  }

 private:
  uint16_t port_;
  int fd_ = -1;
  std::vector<char> buf_;
};

// The value of `"continue":"..."` in a list's metadata, or "".
std::string ContinueToken(std::string_view body) {
  constexpr std::string_view kKey = R"("continue":")";
  size_t p = body.find(kKey);
  if (p == std::string_view::npos) return "";
  size_t end = body.find('"', p + kKey.size());
  return std::string(body.substr(p + kKey.size(), end - p - kKey.size()));
}

// The continue token of a protobuf list (`k8s\0`, Unknown{typeMeta, raw: List{metadata: ListMeta
// {selfLink, resourceVersion, continue}}}) from its first bytes, or "".
std::string ProtobufContinueToken(std::string_view body) {
  size_t p = 4;  // the magic
  auto varint = [&]() -> uint64_t {
    uint64_t v = 0;
    for (int shift = 0; p < body.size() && shift < 64; shift += 7) {
      uint8_t b = static_cast<uint8_t>(body[p++]);
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  };
  // Walks the length-delimited fields of [p, end) for `number`; leaves `p` at its payload.
  auto find = [&](size_t end, uint64_t number) -> std::optional<size_t> {
    while (p < end) {
      uint64_t key = varint();
      if ((key & 7) != 2) return std::nullopt;
      uint64_t len = varint();
      if ((key >> 3) == number) return p + len;
      p += len;
    }
    return std::nullopt;
  };
  auto raw_end = find(body.size(), 2);  // Unknown.raw
  if (!raw_end) return "";
  auto meta_end = find(*raw_end, 1);  // List.metadata
  if (!meta_end) return "";
  auto cont_end = find(*meta_end, 3);  // ListMeta.continue
  if (!cont_end || *cont_end > body.size()) return "";
  return std::string(body.substr(p, *cont_end - p));
}

size_t CountOccurrences(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string_view::npos;
       p = text.find(needle, p + needle.size())) {
    ++n;
  }
  return n;
}

// --- Watch streams on one epoll thread --------------------------------------------------------

class WatchFleet {
 public:
  WatchFleet() : epfd_(epoll_create1(EPOLL_CLOEXEC)), buf_(1 << 18) {}
  ~WatchFleet() {
    for (auto& c : conns_) close(c->fd);
    close(epfd_);
  }

  // Opens `n` more watches of `target`; returns false if one could not connect or send.
  bool Open(uint16_t port, const std::string& target, size_t n) {
    const std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: server_bench\r\n\r\n";
    for (size_t i = 0; i < n; ++i) {
      int fd = ConnectLoopback(port);
      if (fd < 0 || !SendAll(fd, req)) {
        Fail("cannot open watch " + std::to_string(conns_.size()) + ": " + std::strerror(errno));
        return false;
      }
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c.get();
      epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
      conns_.push_back(std::move(c));
      // Keep the server's accept queue short: drain what has arrived every so often.
      if (i % 256 == 255) Poll(0);
    }
    return true;
  }

  // Reads whatever arrives for up to `timeout_ms` (0: only what is ready now).
  void Poll(int timeout_ms) {
    epoll_event events[256];
    int n = epoll_wait(epfd_, events, 256, timeout_ms);
    for (int i = 0; i < n; ++i) Read(static_cast<Conn*>(events[i].data.ptr));
  }

  // Polls until `done()` or `timeout` passes; `extra_fd` readable also ends the wait.
  template <class Done>
  bool PollUntil(Done done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      Poll(10);
    }
    return true;
  }

  size_t size() const { return conns_.size(); }
  size_t headers_received() const {
    size_t n = 0;
    for (const auto& c : conns_) n += c->status != 0;
    return n;
  }
  size_t ended() const {
    size_t n = 0;
    for (const auto& c : conns_) n += c->ended;
    return n;
  }
  size_t bad_status() const {
    size_t n = 0;
    for (const auto& c : conns_) n += c->status != 0 && c->status != 200;
    return n;
  }
  // Events with the bench stamp received since the last `ResetCounts`.
  int64_t total_events() const { return total_events_; }
  int64_t min_events() const {
    int64_t m = INT64_MAX;
    for (const auto& c : conns_) m = std::min(m, c->events);
    return conns_.empty() ? 0 : m;
  }
  int64_t max_events() const {
    int64_t m = 0;
    for (const auto& c : conns_) m = std::max(m, c->events);
    return m;
  }
  int64_t last_receipt_ns() const { return last_receipt_ns_; }
  std::vector<int64_t>& latencies() { return latencies_; }
  void ResetCounts() {
    for (auto& c : conns_) c->events = 0;
    total_events_ = 0;
    latencies_.clear();
    last_receipt_ns_ = 0;
  }

 private:
  struct Conn {
    int fd = -1;
    int status = 0;
    bool ended = false;
    enum class State { kHeader, kSize, kData, kDataEnd } state = State::kHeader;
    std::string pending;  // header bytes, a chunk-size line, or a partial event line
    size_t chunk_left = 0;
    int64_t events = 0;
  };

  void Read(Conn* c) {
    for (;;) {
      ssize_t n = recv(c->fd, buf_.data(), buf_.size(), 0);
      if (n > 0) {
        Feed(c, std::string_view(buf_.data(), static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      c->ended = true;  // closed by the server (or an error)
      epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      return;
    }
  }

  // HTTP/1.1 response head, then chunked framing; the decoded bytes are event lines.
  void Feed(Conn* c, std::string_view in) {
    while (!in.empty()) {
      switch (c->state) {
        case Conn::State::kHeader: {
          c->pending.append(in);
          in = {};
          size_t end = c->pending.find("\r\n\r\n");
          if (end == std::string::npos) break;
          std::sscanf(c->pending.c_str(), "HTTP/1.1 %d", &c->status);
          std::string rest = c->pending.substr(end + 4);
          c->pending.clear();
          c->state = Conn::State::kSize;
          if (!rest.empty()) Feed(c, rest);
          return;
        }
        case Conn::State::kSize: {
          size_t nl = in.find('\n');
          c->pending.append(in.substr(0, nl));
          if (nl == std::string_view::npos) return;
          in.remove_prefix(nl + 1);
          c->chunk_left = std::strtoull(c->pending.c_str(), nullptr, 16);
          c->pending.clear();
          if (c->chunk_left == 0) {
            c->ended = true;  // the final chunk
            return;
          }
          c->state = Conn::State::kData;
          break;
        }
        case Conn::State::kData: {
          size_t take = std::min(c->chunk_left, in.size());
          Lines(c, in.substr(0, take));
          in.remove_prefix(take);
          c->chunk_left -= take;
          if (c->chunk_left == 0) c->state = Conn::State::kDataEnd;
          break;
        }
        case Conn::State::kDataEnd: {
          size_t nl = in.find('\n');
          if (nl == std::string_view::npos) return;  // the rest of "\r\n" comes next
          in.remove_prefix(nl + 1);
          c->state = Conn::State::kSize;
          break;
        }
      }
    }
  }

  void Lines(Conn* c, std::string_view data) {
    while (!data.empty()) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        c->pending.append(data);
        return;
      }
      if (c->pending.empty()) {
        Event(c, data.substr(0, nl));
      } else {
        c->pending.append(data.substr(0, nl));
        Event(c, c->pending);
        c->pending.clear();
      }
      data.remove_prefix(nl + 1);
    }
  }

  void Event(Conn* c, std::string_view line) {
    constexpr std::string_view kStamp = R"("kinf.io/bench-t":")";
    if (line.starts_with(R"({"type":"ERROR")")) {
      Fail("a watch received an ERROR event: " + std::string(line.substr(0, 300)));
      return;
    }
    size_t p = line.find(kStamp);
    if (p == std::string_view::npos) return;
    int64_t stamp = std::strtoll(line.data() + p + kStamp.size(), nullptr, 10);
    int64_t now = MonoNs();
    latencies_.push_back(now - stamp);
    last_receipt_ns_ = now;
    ++c->events;
    ++total_events_;
  }

  int epfd_;
  std::vector<char> buf_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int64_t total_events_ = 0;
  int64_t last_receipt_ns_ = 0;
  std::vector<int64_t> latencies_;
};

// --- Reporting ----------------------------------------------------------------------------------

struct Row {
  std::string name;
  std::map<std::string, double> values;  // medians
};
std::vector<Row> rows;

void Report(const std::string& name, std::map<std::string, std::vector<double>> samples) {
  Row row{name, {}};
  samples["load_avg"].push_back(LoadAverage());
  std::printf("%-34s", name.c_str());
  for (auto& [k, v] : samples) {
    row.values[k] = Median(v);
    std::printf("  %s=%.6g", k.c_str(), row.values[k]);
  }
  std::printf("\n");
  std::fflush(stdout);
  rows.push_back(std::move(row));
}

std::string Json() {
  std::string j = "{\n  \"rows\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    j += "    {\"name\": \"" + rows[i].name + "\"";
    for (const auto& [k, v] : rows[i].values) {
      char num[64];
      std::snprintf(num, sizeof num, "%.6g", v);
      j += ", \"" + k + "\": " + num;
    }
    j += i + 1 < rows.size() ? "},\n" : "}\n";
  }
  j += "  ],\n  \"failures\": [";
  for (size_t i = 0; i < failures.size(); ++i) {
    std::string f;
    for (char ch : failures[i]) {
      if (ch == '"' || ch == '\\') f += '\\';
      f += ch;
    }
    j += (i ? ", \"" : "\"") + f + "\"";
  }
  j += "]\n}\n";
  return j;
}

// --- The measurements ---------------------------------------------------------------------------

struct Flags {
  size_t pods = 100000;
  int reps = 3;
  size_t watchers = 1000;
  size_t idle_watchers = 5000;
  int threads = 1;
  double fanout_seconds = 3;
  int64_t writes = 3000;  // per write case and rep
  std::string only = "seed,list,watch";
  std::string json_path;
};

constexpr std::string_view kJsonAccept = "application/json";
constexpr std::string_view kProtobufAccept =
    "application/vnd.kubernetes.protobuf, application/json";
constexpr std::string_view kTableAccept =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta."
    "k8s.io,application/json";

std::string WriteSeedFile(size_t pods) {
  std::string path = "/tmp/server_bench_pods_" + std::to_string(getpid()) + ".json";
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) std::abort();
  std::fputs(R"({"apiVersion":"v1","kind":"List","metadata":{},"items":[)", f);
  for (size_t i = 0; i < pods; ++i) {
    if (i) std::fputc(',', f);
    std::string pod = MakePodJson(i);
    std::fwrite(pod.data(), 1, pod.size(), f);
  }
  std::fputs("]}\n", f);
  std::fclose(f);
  return path;
}

// A full list, and paginated: `limit` 0 is one request.
struct ListRun {
  double seconds = 0;
  double server_cpu = 0;
  size_t bytes = 0;
  size_t pages = 0;
  std::string first_body;  // the whole body of a one-request list (for the item count)
  int status = 0;
  double first_byte_s = 0;  // of the first request
};

ListRun RunList(ServerProcess& server, std::string_view accept, size_t limit, bool keep,
                std::string_view query = "") {
  ListRun run;
  HttpConnection conn(server.port());
  const double cpu0 = server.ReadStats().cpu_s;
  const int64_t t0 = MonoNs();
  std::string cont;
  do {
    std::string target = "/api/v1/pods";
    if (limit > 0) target += "?limit=" + std::to_string(limit);
    if (!cont.empty()) target += "&continue=" + cont;
    if (!query.empty())
      target += (target.find('?') == std::string::npos ? "?" : "&") + std::string(query);
    HttpConnection::Response r =
        conn.Get(target, std::string(accept), keep && limit == 0, 64 << 10);
    run.status = r.status;
    if (r.status != 200) {
      Fail("list " + target + " answered " + std::to_string(r.status));
      break;
    }
    run.bytes += r.bytes;
    if (run.pages == 0) run.first_byte_s = static_cast<double>(r.first_byte_ns) / 1e9;
    ++run.pages;
    cont = limit == 0                  ? ""
           : accept == kProtobufAccept ? ProtobufContinueToken(r.body)
                                       : ContinueToken(r.body);
    if (limit == 0) run.first_body = std::move(r.body);
  } while (!cont.empty());
  run.seconds = static_cast<double>(MonoNs() - t0) / 1e9;
  run.server_cpu = server.ReadStats().cpu_s - cpu0;
  return run;
}

void BenchSeedAndList(const Flags& flags) {
  std::printf("# generating a List of %zu Pods...\n", flags.pods);
  std::fflush(stdout);
  const std::string path = WriteSeedFile(flags.pods);
  std::unique_ptr<ServerProcess> server;
  std::map<std::string, std::vector<double>> seed;
  // `--only list` seeds once, for the lists.
  const int seed_reps = flags.only.find("seed") != std::string::npos ? flags.reps : 1;
  for (int rep = 0; rep < seed_reps; ++rep) {
    server = std::make_unique<ServerProcess>(flags.threads);
    server->Send("seed " + path);
    const std::string reply = server->ReadLine();
    double secs = 0, cpu = 0;
    if (std::sscanf(reply.c_str(), "ok %lf %lf", &secs, &cpu) != 2) {
      Fail("seed: " + reply);
      break;
    }
    auto stats = server->ReadStats();
    seed["seconds"].push_back(secs);
    seed["cpu_s"].push_back(cpu);
    seed["objects_per_cpu_s"].push_back(static_cast<double>(flags.pods) / cpu);
    seed["rss_MB"].push_back(static_cast<double>(stats.rss_kb) / 1024);
  }
  std::ifstream file(path, std::ios::ate);
  const double file_mb = static_cast<double>(file.tellg()) / 1e6;
  seed["file_MB"].push_back(file_mb);
  Report("seed: JSON List of " + std::to_string(flags.pods) + " Pods", seed);
  std::remove(path.c_str());
  if (flags.only.find("list") == std::string::npos || !server) return;

  struct Case {
    std::string name;
    std::string_view accept;
    size_t limit;
    std::string_view query = "";
  };
  // The first protobuf list encodes every object (then cached): its first repetition is
  // reported on its own row.
  const Case cases[] = {
      {"list: JSON, one body", kJsonAccept, 0},
      {"list: JSON, resourceVersion=0", kJsonAccept, 0, "resourceVersion=0"},
      {"list: JSON, limit=500", kJsonAccept, 500},
      {"list: protobuf, one body", kProtobufAccept, 0},
      {"list: protobuf, resourceVersion=0", kProtobufAccept, 0, "resourceVersion=0"},
      {"list: protobuf, limit=500", kProtobufAccept, 500},
      {"list: Table, one body", kTableAccept, 0},
      {"list: Table, limit=500 (kubectl)", kTableAccept, 500},
  };
  for (const Case& c : cases) {
    if (c.accept == kTableAccept && flags.only.find("no-table") != std::string::npos) continue;
    std::map<std::string, std::vector<double>> m;
    const bool first_protobuf = &c == &cases[3];
    for (int rep = 0; rep < flags.reps + (first_protobuf ? 1 : 0); ++rep) {
      ListRun run = RunList(*server, c.accept, c.limit, rep == 0, c.query);
      if (run.status != 200) break;
      if (rep == 0 && c.limit == 0 && c.accept == kJsonAccept) {
        // Each stored Pod carries its kind once; ownerReferences name a ReplicaSet.
        size_t items = CountOccurrences(run.first_body, R"("kind":"Pod")");
        if (items != flags.pods) {
          Fail("the list held " + std::to_string(items) + " Pods, not " +
               std::to_string(flags.pods));
        }
      }
      m["MB_per_s"].push_back(static_cast<double>(run.bytes) / run.seconds / 1e6);
      m["objects_per_s"].push_back(static_cast<double>(flags.pods) / run.seconds);
      m["seconds"].push_back(run.seconds);
      m["server_cpu_s"].push_back(run.server_cpu);
      m["MB_per_server_cpu_s"].push_back(static_cast<double>(run.bytes) / run.server_cpu / 1e6);
      m["body_MB"].push_back(static_cast<double>(run.bytes) / 1e6);
      m["requests"].push_back(static_cast<double>(run.pages));
      m["first_byte_s"].push_back(run.first_byte_s);
      if (first_protobuf && rep == 0) {
        Report(c.name + ", first (encodes every object)", std::move(m));
        m.clear();
      }
    }
    Report(c.name, std::move(m));
  }
}

std::map<std::string, std::vector<double>> StatsRow(const ServerProcess& server) {
  auto s = server.ReadStats();
  return {{"threads", {static_cast<double>(s.threads)}},
          {"rss_MB", {static_cast<double>(s.rss_kb) / 1024}},
          {"fds", {static_cast<double>(s.fds)}}};
}

// Waits until the server counts `n` watch streams and every one has its 200 header.
bool WaitForWatches(ServerProcess& server, WatchFleet& fleet, size_t n) {
  bool ok = fleet.PollUntil([&] { return fleet.headers_received() >= fleet.size(); },
                            std::chrono::seconds(60));
  for (int i = 0; ok && i < 600; ++i) {
    if (static_cast<size_t>(server.Call("watches")) >= n) break;
    fleet.Poll(100);
  }
  if (!ok || fleet.bad_status() > 0) {
    Fail(std::to_string(fleet.bad_status()) + " watches answered other than 200; " +
         std::to_string(fleet.size() - fleet.headers_received()) + " got no header");
    return false;
  }
  return true;
}

// Sends `count` writes at `rate` and reads until every watcher has them all (or 60 s pass).
// Returns false on loss.
struct FanoutRun {
  double write_seconds = 0;
  double deliver_seconds = 0;  // first write to the last receipt
  int64_t delivered = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  bool complete = false;
};

FanoutRun RunWrites(ServerProcess& server, WatchFleet& fleet, int64_t count, double rate,
                    int64_t bytes) {
  FanoutRun run;
  fleet.ResetCounts();
  const int64_t t0 = MonoNs();
  server.Send("write fanout " + std::to_string(count) + " " + std::to_string(rate) + " " +
              std::to_string(bytes));
  // Read the streams while the server writes; its reply ends the writing phase.
  pollfd reply{server.reply_fd(), POLLIN, 0};
  while (poll(&reply, 1, 0) == 0) fleet.Poll(5);
  run.write_seconds = ServerProcess::Parse("write", server.ReadLine());
  const int64_t expected = count * static_cast<int64_t>(fleet.size());
  run.complete =
      fleet.PollUntil([&] { return fleet.total_events() >= expected; }, std::chrono::seconds(60));
  // A moment more, to see duplicates if there were any.
  fleet.Poll(50);
  run.delivered = fleet.total_events();
  run.deliver_seconds = static_cast<double>(fleet.last_receipt_ns() - t0) / 1e9;
  run.p50_ms = Percentile(&fleet.latencies(), 0.50) / 1e6;
  run.p99_ms = Percentile(&fleet.latencies(), 0.99) / 1e6;
  run.max_ms = Percentile(&fleet.latencies(), 1.0) / 1e6;
  if (!run.complete || fleet.min_events() != count || fleet.max_events() != count ||
      fleet.ended() > 0) {
    Fail("fan-out of " + std::to_string(count) + " writes at " + std::to_string(rate) + "/s to " +
         std::to_string(fleet.size()) + " watchers: delivered " + std::to_string(run.delivered) +
         " of " + std::to_string(expected) + " within 60 s (per watcher min " +
         std::to_string(fleet.min_events()) + ", max " + std::to_string(fleet.max_events()) +
         "), " + std::to_string(fleet.ended()) + " streams ended");
    // Let the backlog drain (until 1 s passes without an event) so it does not count towards
    // the next measurement.
    for (int i = 0; i < 300; ++i) {
      const int64_t before = fleet.total_events();
      fleet.PollUntil([] { return false; }, std::chrono::seconds(1));
      if (fleet.total_events() == before) break;
    }
  }
  return run;
}

void BenchWatch(const Flags& flags) {
  ServerProcess server(flags.threads);
  // Create the namespace and the ConfigMap before any watch, so watches start from the current
  // state (no resourceVersion: one synthetic ADDED each, which carries a stamp and is reset).
  server.Call("write fanout 1 1000 10");
  Report("idle: 0 watches", StatsRow(server));

  const std::string target = "/api/v1/namespaces/fanout/configmaps?watch=true";
  WatchFleet fleet;
  if (!fleet.Open(server.port(), target, flags.watchers) ||
      !WaitForWatches(server, fleet, flags.watchers)) {
    return;
  }
  fleet.PollUntil([&] { return fleet.min_events() >= 1; }, std::chrono::seconds(30));
  Report("idle: " + std::to_string(flags.watchers) + " watches", StatsRow(server));

  struct Case {
    double rate;
    int64_t bytes;
  };
  for (const Case& c : {Case{100, 400}, Case{1000, 400}, Case{100, 3800}}) {
    const auto count = static_cast<int64_t>(c.rate * flags.fanout_seconds);
    std::map<std::string, std::vector<double>> m;
    for (int rep = 0; rep < flags.reps; ++rep) {
      const double cpu0 = server.ReadStats().cpu_s;
      FanoutRun run = RunWrites(server, fleet, count, c.rate, c.bytes);
      m["events_per_s"].push_back(static_cast<double>(run.delivered) / run.deliver_seconds);
      m["p50_ms"].push_back(run.p50_ms);
      m["p99_ms"].push_back(run.p99_ms);
      m["max_ms"].push_back(run.max_ms);
      m["undelivered_60s"].push_back(
          static_cast<double>(count * static_cast<int64_t>(fleet.size()) - run.delivered));
      const double cpu = server.ReadStats().cpu_s - cpu0;
      m["server_cpu_s"].push_back(cpu);
      m["events_per_server_cpu_s"].push_back(static_cast<double>(run.delivered) / cpu);
      m["deliver_s"].push_back(run.deliver_seconds);
      m["write_s"].push_back(run.write_seconds);
      if (!run.complete) break;
    }
    char name[128];
    std::snprintf(name, sizeof name, "fan-out: %zu watchers, %g writes/s, %lld B", fleet.size(),
                  c.rate, static_cast<long long>(c.bytes));  // NOLINT(runtime/int)
    Report(name, std::move(m));
  }

  if (flags.idle_watchers > fleet.size()) {
    if (!fleet.Open(server.port(), target, flags.idle_watchers - fleet.size()) ||
        !WaitForWatches(server, fleet, flags.idle_watchers)) {
      return;
    }
    // Every watch starts with one synthetic ADDED; let them all arrive before counting writes.
    fleet.PollUntil([&] { return fleet.min_events() >= 1; }, std::chrono::seconds(30));
    auto idle = StatsRow(server);
    FanoutRun run = RunWrites(server, fleet, 10, 10, 400);
    idle["check_events_lost"] = {
        static_cast<double>(10 * static_cast<int64_t>(fleet.size()) - run.delivered)};
    idle["check_p99_ms"] = {run.p99_ms};
    Report("idle: " + std::to_string(fleet.size()) + " watches (+10 writes)", std::move(idle));
  }
  auto zero = StatsRow(server);
  if (zero["threads"][0] > 8) {
    Fail("the server runs " + std::to_string(zero["threads"][0]) + " threads with " +
         std::to_string(fleet.size()) + " watches");
  }
}

// --- Writes with one watcher ---------------------------------------------------------------------

// A generated Pod (bench/pod_generator.h) in namespace `writes`, without a resourceVersion,
// carrying `stamp` in the `kinf.io/bench-t` annotation.
std::string BenchPod(size_t index, int64_t stamp) {
  std::string pod = MakePodJson(index);
  constexpr std::string_view kNs = R"("namespace":")";
  size_t p = pod.find(kNs);
  size_t end = pod.find('"', p + kNs.size());
  pod.replace(p + kNs.size(), end - p - kNs.size(), "writes");
  constexpr std::string_view kRv = R"(,"resourceVersion":")";
  p = pod.find(kRv);
  end = pod.find('"', p + kRv.size());
  pod.erase(p, end + 1 - p);
  constexpr std::string_view kAnn = R"("annotations":{)";
  p = pod.find(kAnn) + kAnn.size();
  pod.insert(p, R"("kinf.io/bench-t":")" + std::to_string(stamp) + R"(",)");
  return pod;
}

std::string PodName(const std::string& pod) {
  constexpr std::string_view kName = R"("name":")";
  size_t p = pod.find(kName) + kName.size();
  return pod.substr(p, pod.find('"', p) - p);
}

// Sends `requests` on one keep-alive connection from a sender thread (pipelined: the server
// answers them in order) and reads the answers; counts those with a 2xx status.
class PipelinedWriter {
 public:
  explicit PipelinedWriter(uint16_t port) : fd_(ConnectLoopback(port)) {}
  ~PipelinedWriter() {
    if (sender_.joinable()) sender_.join();
    if (fd_ >= 0) close(fd_);
  }
  void Start(std::function<std::string(int64_t)> make, int64_t count) {
    count_ = count;
    sender_ = std::thread([this, make = std::move(make)] {
      for (int64_t i = 0; i < count_; ++i) {
        if (!SendAll(fd_, make(i))) return;
      }
    });
  }
  // Reads answers that arrive within a millisecond; returns true once all `count` have arrived
  // (or the connection broke).
  bool ReadSome() {
    if (done()) return true;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 1) <= 0) return done();
    char buf[1 << 16];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      broken_ = true;
      return true;
    }
    in_.append(buf, static_cast<size_t>(n));
    while (true) {
      size_t head_end = in_.find("\r\n\r\n");
      if (head_end == std::string::npos) break;
      size_t length = 0;
      size_t cl = in_.find("Content-Length: ");
      if (cl == std::string::npos || cl > head_end) cl = in_.find("content-length: ");
      if (cl != std::string::npos && cl < head_end) {
        length = std::strtoull(in_.c_str() + cl + 16, nullptr, 10);
      }
      if (in_.size() < head_end + 4 + length) break;
      int status = 0;
      std::sscanf(in_.c_str(), "HTTP/1.1 %d", &status);
      if (status >= 200 && status < 300) {
        ++ok_;
      } else if (first_error_.empty()) {
        first_error_ = in_.substr(0, std::min<size_t>(head_end + 4 + length, 600));
      }
      ++answered_;
      in_.erase(0, head_end + 4 + length);
    }
    return done();
  }
  bool done() const { return broken_ || answered_ >= count_; }
  int64_t ok() const { return ok_; }
  const std::string& first_error() const { return first_error_; }

 private:
  int fd_;
  int64_t count_ = 0;
  std::thread sender_;
  std::string in_;
  int64_t answered_ = 0;
  int64_t ok_ = 0;
  bool broken_ = false;
  std::string first_error_;
};

std::string HttpRequestText(std::string_view method, const std::string& target,
                            std::string_view content_type, const std::string& body) {
  std::string r(method);
  r += ' ';
  r += target;
  r += " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: server_bench/1\r\nAccept: application/json\r\n"
       "Content-Type: ";
  r += content_type;
  r += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

void BenchWrites(const Flags& flags) {
  const int64_t n = flags.writes;
  constexpr size_t kPods = 100;  // updates go round robin over these
  struct Case {
    const char* name;
    // The request for write `i` (HTTP), or nullptr for in-process writes.
    std::function<std::string(int64_t)> make;
  };
  const std::string base = "/api/v1/namespaces/writes/pods";
  std::vector<std::string> names;
  for (size_t i = 0; i < kPods; ++i) names.push_back(PodName(BenchPod(i, 0)));
  const Case cases[] = {
      {"writes: create Pod (POST)",
       [&](int64_t i) {
         std::string pod = BenchPod(kPods + static_cast<size_t>(i), MonoNs());
         return HttpRequestText("POST", base, "application/json", pod);
       }},
      {"writes: update Pod (PUT)",
       [&](int64_t i) {
         const size_t k = static_cast<size_t>(i) % kPods;
         return HttpRequestText("PUT", base + "/" + names[k], "application/json",
                                BenchPod(k, MonoNs()));
       }},
      {"writes: label patch of a Pod (merge PATCH)",
       [&](int64_t i) {
         const size_t k = static_cast<size_t>(i) % kPods;
         std::string patch = R"({"metadata":{"labels":{"bench-seq":")" + std::to_string(i) +
                             R"("},"annotations":{"kinf.io/bench-t":")" + std::to_string(MonoNs()) +
                             R"("}}})";
         return HttpRequestText("PATCH", base + "/" + names[k], "application/merge-patch+json",
                                patch);
       }},
      {"writes: in-process Apply of a ConfigMap", nullptr},
  };
  for (const Case& c : cases) {
    if (const char* only = std::getenv("SERVER_BENCH_WRITE_CASE");
        only != nullptr && std::string_view(c.name).find(only) == std::string_view::npos) {
      continue;
    }
    std::map<std::string, std::vector<double>> m;
    for (int rep = 0; rep < flags.reps; ++rep) {
      ServerProcess server(flags.threads);
      WatchFleet fleet;
      if (c.make) {
        HttpConnection setup(server.port());
        PipelinedWriter ns(server.port());
        ns.Start(
            [&](int64_t i) {
              if (i == 0) {
                return HttpRequestText("POST", "/api/v1/namespaces", "application/json",
                                       R"({"apiVersion":"v1","kind":"Namespace",)"
                                       R"("metadata":{"name":"writes"}})");
              }
              return HttpRequestText("POST", base, "application/json",
                                     BenchPod(static_cast<size_t>(i - 1), 0));
            },
            kPods + 1);
        while (!ns.ReadSome()) {
        }
        if (ns.ok() != kPods + 1) Fail(std::string(c.name) + ": setup: " + ns.first_error());
        // Watch from now: no synthetic ADDED events (a list first gives the resourceVersion).
        HttpConnection::Response list = setup.Get(base + "?limit=1", "application/json", true);
        constexpr std::string_view kRv = R"("resourceVersion":")";
        size_t p = list.body.find(kRv);
        std::string rv =
            p == std::string::npos
                ? "0"
                : list.body.substr(p + kRv.size(),
                                   list.body.find('"', p + kRv.size()) - p - kRv.size());
        if (!fleet.Open(server.port(), base + "?watch=true&resourceVersion=" + rv, 1) ||
            !WaitForWatches(server, fleet, 1)) {
          return;
        }
        fleet.ResetCounts();
        const double cpu0 = server.ReadStats().cpu_s;
        const int64_t t0 = MonoNs();
        PipelinedWriter writer(server.port());
        writer.Start(c.make, n);
        bool all = false;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (!all && std::chrono::steady_clock::now() < deadline) {
          bool answered = writer.ReadSome();
          fleet.Poll(answered ? 10 : 0);
          all = answered && fleet.total_events() >= n;
        }
        const double wall = static_cast<double>(MonoNs() - t0) / 1e9;
        const double cpu = server.ReadStats().cpu_s - cpu0;
        if (writer.ok() != n || fleet.total_events() != n) {
          Fail(std::string(c.name) + ": " + std::to_string(writer.ok()) + " of " +
               std::to_string(n) + " answered 2xx, " + std::to_string(fleet.total_events()) +
               " events watched; first error: " + writer.first_error());
        }
        m["writes_per_s_wall"].push_back(static_cast<double>(n) / wall);
        m["writes_per_server_cpu_s"].push_back(static_cast<double>(n) / cpu);
        m["server_cpu_us_per_write"].push_back(cpu * 1e6 / static_cast<double>(n));
      } else {
        server.Call("write fanout 1 1000 3800");
        if (!fleet.Open(server.port(), "/api/v1/namespaces/fanout/configmaps?watch=true", 1) ||
            !WaitForWatches(server, fleet, 1)) {
          return;
        }
        fleet.PollUntil([&] { return fleet.min_events() >= 1; }, std::chrono::seconds(30));
        const double cpu0 = server.ReadStats().cpu_s;
        FanoutRun run = RunWrites(server, fleet, n, 1e9, 3800);
        const double cpu = server.ReadStats().cpu_s - cpu0;
        m["writes_per_s_wall"].push_back(static_cast<double>(n) / run.deliver_seconds);
        m["writes_per_server_cpu_s"].push_back(static_cast<double>(n) / cpu);
        m["server_cpu_us_per_write"].push_back(cpu * 1e6 / static_cast<double>(n));
        m["watch_p50_ms"].push_back(run.p50_ms);
        m["watch_p99_ms"].push_back(run.p99_ms);
      }
    }
    Report(c.name, std::move(m));
  }
}

int Main(int argc, char** argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "--serve-child") {
    return ServeChild(std::atoi(argv[2]));
  }
  Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--pods") {
      flags.pods = std::strtoull(v, nullptr, 10);
    } else if (k == "--reps") {
      flags.reps = std::atoi(v);
    } else if (k == "--watchers") {
      flags.watchers = std::strtoull(v, nullptr, 10);
    } else if (k == "--idle-watchers") {
      flags.idle_watchers = std::strtoull(v, nullptr, 10);
    } else if (k == "--threads") {
      flags.threads = std::atoi(v);
    } else if (k == "--fanout-seconds") {
      flags.fanout_seconds = std::atof(v);
    } else if (k == "--writes") {
      flags.writes = std::strtoll(v, nullptr, 10);
    } else if (k == "--only") {
      flags.only = v;
    } else if (k == "--json") {
      flags.json_path = v;
    } else if (k == "--server") {
      g_server_binary = v;
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--pods N] [--reps N] [--watchers N] [--idle-watchers N] "
          "[--threads N] [--fanout-seconds S] [--writes N] [--only seed,list,watch,writes] "
          "[--json FILE] [--server OTHER_SERVER_BENCH]\n",
          argv[0]);
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "%s: every flag takes a value\n", argv[0]);
    return 2;
  }
  RaiseFdLimit();
  signal(SIGPIPE, SIG_IGN);
  std::printf("# server_bench: %zu Pods, %d reps, %d server I/O thread(s), %u cores; medians\n",
              flags.pods, flags.reps, flags.threads, std::thread::hardware_concurrency());
  if (flags.only.find("seed") != std::string::npos || flags.only.find("list") != std::string::npos)
    BenchSeedAndList(flags);
  if (flags.only.find("watch") != std::string::npos) BenchWatch(flags);
  if (flags.only.find("writes") != std::string::npos) BenchWrites(flags);
  const std::string json = Json();
  if (!flags.json_path.empty()) {
    std::ofstream(flags.json_path) << json;
  } else {
    std::fputs(json.c_str(), stdout);
  }
  if (!failures.empty()) {
    std::fprintf(stderr, "%zu FAILURE(S)\n", failures.size());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace kube::bench

int main(int argc, char** argv) { return kube::bench::Main(argc, argv); }

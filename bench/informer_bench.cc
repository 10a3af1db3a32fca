// informer_bench: our side of the end-to-end benchmark (bench/run.sh, docs/benchmarks.md).
//
// One binary, two roles, always in separate processes:
//
//   informer_bench serve --pods N --control SOCK --kubeconfig PATH [--crds K]
//       The embedded API server seeded with N realistic Pods (bench/pod_generator.h), 100 small
//       "watch" Pods in namespace `bench-watch`, and K CustomResourceDefinitions with a few
//       objects each. Prints `ready url=... pods=... json_bytes=...` on stdout, then answers
//       one-line commands on the Unix socket SOCK (see `HandleCommand`): forcing a relist,
//       writing Pods at a fixed rate with the write time in an annotation. The peers
//       (bench/peers/) use the same server through the kubeconfig.
//
//   informer_bench client FIGURE --kubeconfig PATH --control SOCK [...]
//       One measurement in a fresh process, printed as one JSON object on stdout:
//       `sync` (time to synced, RSS per object, peak RSS during the list and during a forced
//       relist, Lister queries/s), `watch` (latency at a fixed rate, then throughput),
//       built-in kinds read in protobuf (`--json`: in JSON),
//       `factory` (threads and RSS of 50 informers with 2 handlers each).
//
// Why a separate server process: RSS and VmHWM are per process. In one process the server's
// stored objects and the list body it serializes would be counted with the client's cache, and
// the peers (Node, Python, kubectl) can only be measured as separate processes anyway. Write
// times travel in an annotation as CLOCK_MONOTONIC nanoseconds, a clock shared by every process
// on the machine (std::chrono::steady_clock, Node's process.hrtime, Python's time.monotonic_ns).
//
// bench/e2e.py runs both roles and the peers, repeats, takes medians; bench/run.sh is the one
// command (docs/benchmarks.md).
#include <malloc.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/config/kubeconfig.h"
#include "kube/informers/factory.h"
#include "kube/labels.h"
#include "kube/object.h"
#include "kube/server/api_server.h"
#include "pod_generator.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration;

constexpr std::string_view kWatchNamespace = "bench-watch";
constexpr size_t kWatchPods = 100;
constexpr std::string_view kTimeAnnotation = "bench.kube-informer.io/written-ns";

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "informer_bench: %s\n", message.c_str());
  std::exit(1);
}

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// --- /proc/self/status --------------------------------------------------------------------------

// A field of /proc/self/status in bytes (kB fields) or as a count (Threads).
int64_t ProcStatus(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      int64_t v = std::strtoll(line.c_str() + field.size() + 1, nullptr, 10);
      return line.find("kB") != std::string::npos ? v * 1024 : v;
    }
  }
  return -1;
}

// RSS after returning freed heap to the kernel, so the figure is what the cache holds.
int64_t TrimmedRss() {
  malloc_trim(0);
  return ProcStatus("VmRSS");
}

// Resets VmHWM to the current RSS (Linux >= 4.0: "5" in clear_refs).
void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

// --- flags --------------------------------------------------------------------------------------

struct Flags {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& name, const std::string& def = "") const {
    auto it = values.find(name);
    return it == values.end() ? def : it->second;
  }
  int64_t Int(const std::string& name, int64_t def) const {
    auto it = values.find(name);
    return it == values.end() ? def : std::strtoll(it->second.c_str(), nullptr, 10);
  }
  bool Has(const std::string& name) const { return values.count(name) > 0; }
};

// `--name value` and `--name` (boolean) pairs.
Flags ParseFlags(int argc, char** argv, int first) {
  Flags f;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) Die("unexpected argument " + a);
    a = a.substr(2);
    if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) {
      f.values[a] = argv[++i];
    } else {
      f.values[a] = "true";
    }
  }
  return f;
}

// --- the control socket -------------------------------------------------------------------------

sockaddr_un SocketAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) Die("control socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Sends one command to the server's control socket and returns its one-line answer.
std::string Control(const std::string& path, const std::string& command) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = SocketAddress(path);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Die("cannot connect to control socket " + path);
  }
  WriteAll(fd, command + "\n");
  std::string answer = ReadLine(fd);
  ::close(fd);
  return answer;
}

// --- serve --------------------------------------------------------------------------------------

std::string ReplaceFirst(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

class BenchServer {
 public:
  BenchServer(kube::EmbeddedApiServer& server, size_t pods) : server_(server) { Seed(pods); }

  void Seed(size_t pods) {
    for (const char* ns : {"prod", "staging", "team-a", "team-b", "platform", "observability",
                           "data", "edge", "bench-watch", "bench-crd"}) {
      Check(server_.Create(
          std::string(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")") + ns +
          R"("}})"));
    }
    for (size_t i = 0; i < pods; ++i) {
      kube::Result<kube::ObjectPtr> pod = server_.Create(kube::bench::MakePodJson(i));
      Check(pod);
      json_bytes_ += (*pod)->json().size();
    }
    // The watch Pods: realistic too, in their own namespace so a watch benchmark lists only them.
    for (size_t i = 0; i < kWatchPods; ++i) {
      kube::Result<kube::ObjectPtr> p = kube::Object::Parse(kube::bench::MakePodJson(1000000 + i));
      Check(p);
      std::string json = ReplaceFirst(std::string((*p)->json()),
                                      "\"namespace\":\"" + std::string((*p)->ns()) + "\"",
                                      "\"namespace\":\"" + std::string(kWatchNamespace) + "\"");
      json = ReplaceFirst(json, "\"name\":\"" + std::string((*p)->name()) + "\"",
                          "\"name\":\"w-" + std::to_string(i) + "\"");
      kube::Result<kube::ObjectPtr> created = server_.Create(json);
      Check(created);
      json_bytes_ += (*created)->json().size();
      watch_templates_.push_back(std::string((*created)->json()));
    }
  }

  void CreateCrds(int count) {
    for (int i = 0; i < count; ++i) {
      const std::string plural = "things" + std::to_string(i);
      const std::string kind = "Thing" + std::to_string(i);
      Check(server_.Create(
          R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",)"
          R"("metadata":{"name":")" +
          plural +
          R"(.bench.example.com"},"spec":{"group":"bench.example.com","scope":"Namespaced",)"
          R"("names":{"plural":")" +
          plural + R"(","singular":"thing)" + std::to_string(i) + R"(","kind":")" + kind +
          R"("},"versions":[{"name":"v1","served":true,"storage":true,)"
          R"("schema":{"openAPIV3Schema":{"type":"object"}}}]}})"));
      for (int j = 0; j < 10; ++j) {
        Check(server_.Create(R"({"apiVersion":"bench.example.com/v1","kind":")" + kind +
                             R"(","metadata":{"name":"t-)" + std::to_string(j) +
                             R"(","namespace":"bench-crd","labels":{"app":"bench"}},)"
                             R"("spec":{"size":)" +
                             std::to_string(j) + "}}"));
      }
    }
  }

  size_t json_bytes() const { return json_bytes_; }

  // Commands (one line in, one line out):
  //   compact           forget the history and drop every watch: informers relist after a 410
  //   write RATE COUNT  update the watch Pods COUNT times, RATE per second (0: as fast as
  //                     possible), each carrying its write time; answers with the achieved rate
  //   rv                the last committed resourceVersion
  //   rss               the server's own RSS
  std::string HandleCommand(const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    if (verb == "compact") {
      // A watch resuming at the newest version is not expired; one write elsewhere (a
      // ConfigMap, which a Pod informer never sees) makes the Pod informer's version older than
      // the compaction point, so its re-watch gets 410 and it relists.
      Check(server_.Apply(
          R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"relist-marker",)"
          R"("namespace":"bench-crd"},"data":{"n":")" +
          std::to_string(++compactions_) + R"("}})"));
      server_.CompactHistory();
      server_.DropWatches();
      return "ok";
    }
    if (verb == "write") {
      double rate = 0;
      size_t count = 0;
      in >> rate >> count;
      return Write(rate, count);
    }
    if (verb == "rv") return std::to_string(server_.ResourceVersion());
    if (verb == "rss") return "rss=" + std::to_string(ProcStatus("VmRSS"));
    return "error unknown command " + verb;
  }

 private:
  template <typename T>
  static void Check(const kube::Result<T>& r) {
    if (!r) Die("seeding: " + r.error().ToString());
  }

  std::string Write(double rate, size_t count) {
    const std::string marker = "\"annotations\":{";
    const auto start = Clock::now();
    for (size_t i = 0; i < count; ++i) {
      if (rate > 0) {
        std::this_thread::sleep_until(start + duration<double>(static_cast<double>(i) / rate));
      }
      const std::string& tmpl = watch_templates_[i % watch_templates_.size()];
      std::string json = tmpl;
      size_t at = json.find(marker);
      json.insert(at + marker.size(), "\"" + std::string(kTimeAnnotation) + "\":\"" +
                                          std::to_string(MonotonicNs()) + "\",");
      kube::Result<kube::ObjectPtr> r = server_.Apply(json);
      if (!r) return "error " + r.error().ToString();
    }
    double seconds = duration<double>(Clock::now() - start).count();
    char buf[128];
    std::snprintf(buf, sizeof buf, "done count=%zu seconds=%.6f rate=%.1f", count, seconds,
                  static_cast<double>(count) / seconds);
    return buf;
  }

  kube::EmbeddedApiServer& server_;
  size_t json_bytes_ = 0;
  int compactions_ = 0;
  std::vector<std::string> watch_templates_;
};

int Serve(const Flags& flags) {
  const std::string control = flags.Get("control");
  if (control.empty()) Die("serve needs --control SOCK");
  kube::ApiServerOptions options;
  options.threads = static_cast<int>(flags.Int("threads", 1));
  options.history_size = static_cast<size_t>(flags.Int("history", 1000000));
  options.watch_queue_limit = static_cast<size_t>(flags.Int("watch-queue-limit", 1000000));
  options.default_namespaces = true;
  auto server = kube::EmbeddedApiServer::Start(options);
  if (!server) Die(server.error().ToString());
  BenchServer bench(**server, static_cast<size_t>(flags.Int("pods", 10000)));
  bench.CreateCrds(static_cast<int>(flags.Int("crds", 33)));
  if (flags.Has("kubeconfig")) {
    kube::Status s = (*server)->WriteKubeconfig(flags.Get("kubeconfig"));
    if (!s.ok()) Die(s.ToString());
  }

  ::unlink(control.c_str());
  int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = SocketAddress(control);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0) {
    Die("cannot listen on " + control);
  }
  std::printf("ready url=%s pods=%lld json_bytes=%zu rss=%lld\n", (*server)->Url().c_str(),
              static_cast<long long>(flags.Int("pods", 10000)), bench.json_bytes(),
              static_cast<long long>(ProcStatus("VmRSS")));
  std::fflush(stdout);
  // Commands are served one at a time; the benchmark never sends two at once.
  while (true) {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    std::string line = ReadLine(fd);
    if (line == "quit") {
      WriteAll(fd, "ok\n");
      ::close(fd);
      break;
    }
    WriteAll(fd, bench.HandleCommand(line) + "\n");
    ::close(fd);
  }
  ::close(listener);
  ::unlink(control.c_str());
  (*server)->Stop();
  return 0;
}

// --- client -------------------------------------------------------------------------------------

std::shared_ptr<kube::HttpClient> MakeClient(const Flags& flags) {
  kube::Result<kube::RestConfig> config =
      kube::LoadKubeconfig({.explicit_path = flags.Get("kubeconfig")});
  if (!config) Die(config.error().ToString());
  // Built-in kinds are read in protobuf unless `--json` (docs/benchmarks.md, both columns).
  kube::Result<std::shared_ptr<kube::HttpClient>> client =
      kube::MakeCurlHttpClient(*config, {.prefer_protobuf = !flags.Has("json")});
  if (!client) Die(client.error().ToString());
  return *client;
}

const kube::GroupVersionResource kPods{"", "v1", "pods"};

// Counts adds, and records watch latency from the write-time annotation.
class BenchHandler : public kube::ResourceEventHandler {
 public:
  void OnAdd(const kube::ObjectPtr& obj, bool is_in_initial_list) override {
    (void)obj;
    (void)is_in_initial_list;
    adds_.fetch_add(1, std::memory_order_relaxed);
  }
  void OnUpdate(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) override {
    (void)old_obj;
    const int64_t now = MonotonicNs();
    if (record_) {
      if (std::optional<std::string_view> v = new_obj->annotations().Get(kTimeAnnotation)) {
        int64_t written = 0;
        std::from_chars(v->data(), v->data() + v->size(), written);
        if (latencies_.size() < latencies_.capacity()) latencies_.push_back(now - written);
      }
    }
    uint64_t n = updates_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (n == 1) first_ns_ = now;
    last_ns_.store(now, std::memory_order_relaxed);
    std::lock_guard<std::mutex> l(mu_);
    if (n >= target_) cv_.notify_all();
  }
  void OnResync(const kube::ObjectPtr& obj) override { (void)obj; }

  // Resets counters and waits for `count` updates (false on timeout).
  void Expect(uint64_t count, bool record) {
    std::lock_guard<std::mutex> l(mu_);
    record_ = record;
    latencies_.clear();
    latencies_.reserve(record ? count : 0);
    updates_ = 0;
    target_ = count;
  }
  bool Wait(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return updates_.load() >= target_; });
  }
  uint64_t adds() const { return adds_.load(); }
  uint64_t updates() const { return updates_.load(); }
  int64_t first_ns() const { return first_ns_; }
  int64_t last_ns() const { return last_ns_.load(); }
  std::vector<int64_t>& latencies() { return latencies_; }

 private:
  std::atomic<uint64_t> adds_{0};
  std::atomic<uint64_t> updates_{0};
  std::atomic<int64_t> last_ns_{0};
  int64_t first_ns_ = 0;  // written and read by the delivering thread / after Wait
  std::atomic<bool> record_{false};
  std::vector<int64_t> latencies_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t target_ = ~uint64_t{0};
};

// A tiny JSON object writer for flat results.
class JsonOut {
 public:
  void Num(const std::string& key, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    Add(key, buf);
  }
  void Str(const std::string& key, const std::string& v) { Add(key, "\"" + v + "\""); }
  void Print() const { std::printf("{%s}\n", body_.c_str()); }

 private:
  void Add(const std::string& key, const std::string& v) {
    if (!body_.empty()) body_ += ",";
    body_ += "\"" + key + "\":" + v;
  }
  std::string body_;
};

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]);
}

// Time to synced, RSS per object, peak RSS during the list and during a forced relist, Lister
// queries/s.
int ClientSync(const Flags& flags) {
  const bool drop = flags.Has("drop-managed-fields");
  const double json_bytes = static_cast<double>(flags.Int("json-bytes", 0));
  std::shared_ptr<kube::HttpClient> client = MakeClient(flags);
  kube::SharedInformerFactoryOptions options;
  if (drop) options.transform = [](kube::ObjectPtr o) { return kube::DropManagedFields(o); };
  auto factory = kube::SharedInformerFactory::Create(client, std::move(options));
  kube::GenericInformer pods = factory->ForResource(kPods, {.namespaced = true, .kind = "Pod"});
  auto handler = std::make_shared<BenchHandler>();
  if (!pods.Informer()->AddEventHandler(handler)) Die("AddEventHandler failed");

  const int64_t rss_before = TrimmedRss();
  ResetPeakRss();
  const auto start = Clock::now();
  factory->Start();
  if (!pods.Informer()->WaitForHandlersSync(std::chrono::minutes(10))) Die("sync timed out");
  const double sync_s = duration<double>(Clock::now() - start).count();
  const int64_t peak_list = ProcStatus("VmHWM");
  const double objects = static_cast<double>(pods.Informer()->GetIndexer()->List().size());
  const int64_t rss_synced = TrimmedRss();

  JsonOut out;
  out.Str("figure", drop ? "sync_drop_managed_fields" : "sync");
  out.Num("objects", objects);
  out.Num("handler_adds", static_cast<double>(handler->adds()));
  out.Num("sync_seconds", sync_s);
  out.Num("objects_per_second", objects / sync_s);
  out.Num("json_mb_per_second", json_bytes / 1e6 / sync_s);
  out.Num("rss_before", static_cast<double>(rss_before));
  out.Num("rss_synced", static_cast<double>(rss_synced));
  out.Num("rss_per_object", static_cast<double>(rss_synced - rss_before) / objects);
  if (json_bytes > 0) {
    out.Num("rss_per_object_to_json", static_cast<double>(rss_synced - rss_before) / json_bytes);
  }
  out.Num("peak_rss_list", static_cast<double>(peak_list));
  out.Num("peak_list_over_synced", static_cast<double>(peak_list - rss_before) /
                                       static_cast<double>(rss_synced - rss_before));

  // A full relist: the server forgets its history and drops the watch; the re-watch gets 410.
  const uint64_t lists_before = pods.Informer()->Stats().lists;
  ResetPeakRss();
  const auto relist_start = Clock::now();
  if (Control(flags.Get("control"), "compact") != "ok") Die("compact failed");
  while (pods.Informer()->Stats().lists <= lists_before) {
    if (Clock::now() - relist_start > std::chrono::minutes(5)) Die("relist timed out");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The relisted objects reach the cache through the delta queue; the relist is over when the
  // informer's counters stop moving for 50 ms and the handler's queue is empty (the figure
  // below subtracts that window).
  constexpr auto kQuiet = std::chrono::milliseconds(50);
  auto progress = [&] {
    kube::InformerStats stats = pods.Informer()->Stats();
    size_t pending = 0;
    for (const auto& h : stats.handlers) pending += h.queue_depth;
    return std::make_pair(
        stats.adds + stats.updates + stats.deletes + stats.resyncs + stats.store_write_locks,
        pending);
  };
  for (auto last = progress();;) {
    std::this_thread::sleep_for(kQuiet);
    auto now = progress();
    if (now == last && now.second == 0) break;
    last = now;
  }
  const double relist_s = duration<double>(Clock::now() - relist_start - kQuiet).count();
  const int64_t peak_relist = ProcStatus("VmHWM");
  out.Num("relist_seconds", relist_s);
  out.Num("relists_after_gone", static_cast<double>(pods.Informer()->Stats().relists_after_gone));
  out.Num("peak_rss_relist", static_cast<double>(peak_relist));
  out.Num("peak_relist_over_synced", static_cast<double>(peak_relist - rss_before) /
                                         static_cast<double>(rss_synced - rss_before));

  // Lister: namespace + label selector.
  kube::Result<kube::LabelSelector> selector = kube::LabelSelector::Parse("app=checkout");
  if (!selector) Die(selector.error().ToString());
  kube::Lister lister = pods.GetLister();
  size_t matched = 0;
  uint64_t queries = 0;
  const auto q_start = Clock::now();
  const char* kNs[] = {"prod", "staging", "team-a", "team-b"};
  while (Clock::now() - q_start < std::chrono::seconds(1)) {
    for (int i = 0; i < 16; ++i) {
      matched += lister.Namespace(kNs[queries % 4]).List(*selector).size();
      ++queries;
    }
  }
  const double q_s = duration<double>(Clock::now() - q_start).count();
  out.Num("lister_queries_per_second", static_cast<double>(queries) / q_s);
  out.Num("lister_matches_per_query", static_cast<double>(matched) / static_cast<double>(queries));
  out.Print();
  factory->Shutdown();
  return 0;
}

// Latency at a fixed rate, then throughput with the server writing as fast as it can.
int ClientWatch(const Flags& flags) {
  std::shared_ptr<kube::HttpClient> client = MakeClient(flags);
  auto factory = kube::SharedInformerFactory::Create(client, {.ns = std::string(kWatchNamespace)});
  kube::GenericInformer pods = factory->ForResource(kPods, {.namespaced = true, .kind = "Pod"});
  auto handler = std::make_shared<BenchHandler>();
  if (!pods.Informer()->AddEventHandler(handler)) Die("AddEventHandler failed");
  factory->Start();
  if (!pods.Informer()->WaitForHandlersSync(std::chrono::minutes(1))) Die("sync timed out");
  const std::string control = flags.Get("control");
  JsonOut out;
  out.Str("figure", "watch");

  const double rate = static_cast<double>(flags.Int("rate", 10000));
  const uint64_t latency_events = static_cast<uint64_t>(flags.Int("latency-events", 20000));
  handler->Expect(latency_events, true);
  std::string answer =
      Control(control, "write " + std::to_string(rate) + " " + std::to_string(latency_events));
  if (!handler->Wait(std::chrono::seconds(60))) Die("latency phase timed out");
  std::vector<int64_t>& lat = handler->latencies();
  out.Num("latency_rate", rate);
  out.Num("latency_events", static_cast<double>(lat.size()));
  out.Num("latency_p50_us", Percentile(lat, 0.50) / 1e3);
  out.Num("latency_p99_us", Percentile(lat, 0.99) / 1e3);
  out.Num("latency_max_us", Percentile(lat, 1.0) / 1e3);

  factory->Shutdown();

  // Throughput: the server writes the burst first, then a second informer lists the state as it
  // was before the burst (resourceVersionMatch=Exact) and watches from there, so the server
  // replays the whole burst from its history as fast as the client takes it. The writes' own
  // speed is not in the figure.
  const uint64_t burst = static_cast<uint64_t>(flags.Int("burst-events", 200000));
  const std::string rv0 = Control(control, "rv");
  answer = Control(control, "write 0 " + std::to_string(burst));
  double server_rate = 0;
  if (size_t at = answer.find("rate="); at != std::string::npos) {
    server_rate = std::strtod(answer.c_str() + at + 5, nullptr);
  }
  auto replay = kube::SharedInformerFactory::Create(
      client,
      {.ns = std::string(kWatchNamespace), .tweak_list_options = [rv0](kube::ListOptions& o) {
         if (o.resource_version.empty() || o.resource_version == "0") {
           o.resource_version = rv0;
           o.resource_version_match = kube::ResourceVersionMatch::kExact;
         }
       }});
  kube::GenericInformer replay_pods =
      replay->ForResource(kPods, {.namespaced = true, .kind = "Pod"});
  auto counter = std::make_shared<BenchHandler>();
  counter->Expect(burst, false);
  if (!replay_pods.Informer()->AddEventHandler(counter)) Die("AddEventHandler failed");
  const int64_t t0 = MonotonicNs();
  replay->Start();
  if (!counter->Wait(std::chrono::seconds(300))) Die("throughput phase timed out");
  const double seconds = static_cast<double>(counter->last_ns() - t0) / 1e9;
  out.Num("throughput_events", static_cast<double>(counter->updates()));
  out.Num("throughput_seconds", seconds);
  out.Num("throughput_events_per_second", static_cast<double>(counter->updates()) / seconds);
  out.Num("server_write_rate", server_rate);
  out.Print();
  replay->Shutdown();
  return 0;
}

// 50 informers with 2 handlers each: 17 built-in kinds (Pods excluded: their RSS is the sync
// figure) and 33 custom resources.
int ClientFactory(const Flags& flags) {
  const int64_t threads_before = ProcStatus("Threads");
  const int64_t rss_before = TrimmedRss();
  std::shared_ptr<kube::HttpClient> client = MakeClient(flags);
  auto factory = kube::SharedInformerFactory::Create(client);
  std::vector<std::pair<kube::GroupVersionResource, bool>> resources = {
      {{"", "v1", "namespaces"}, false},
      {{"", "v1", "services"}, true},
      {{"", "v1", "endpoints"}, true},
      {{"", "v1", "configmaps"}, true},
      {{"", "v1", "secrets"}, true},
      {{"", "v1", "nodes"}, false},
      {{"", "v1", "events"}, true},
      {{"", "v1", "serviceaccounts"}, true},
      {{"apps", "v1", "deployments"}, true},
      {{"apps", "v1", "replicasets"}, true},
      {{"apps", "v1", "statefulsets"}, true},
      {{"apps", "v1", "daemonsets"}, true},
      {{"discovery.k8s.io", "v1", "endpointslices"}, true},
      {{"batch", "v1", "jobs"}, true},
      {{"batch", "v1", "cronjobs"}, true},
      {{"coordination.k8s.io", "v1", "leases"}, true},
      {{"apiextensions.k8s.io", "v1", "customresourcedefinitions"}, false},
  };
  const int crds =
      static_cast<int>(flags.Int("informers", 50)) - static_cast<int>(resources.size());
  for (int i = 0; i < crds; ++i) {
    resources.push_back({{"bench.example.com", "v1", "things" + std::to_string(i)}, true});
  }
  std::vector<std::shared_ptr<BenchHandler>> handlers;
  for (const auto& [gvr, namespaced] : resources) {
    auto informer = factory->ForResource(gvr, {.namespaced = namespaced}).Informer();
    for (int h = 0; h < 2; ++h) {
      handlers.push_back(std::make_shared<BenchHandler>());
      if (!informer->AddEventHandler(handlers.back())) Die("AddEventHandler failed");
    }
  }
  const auto start = Clock::now();
  factory->Start();
  for (const auto& [gvr, ok] : factory->WaitForHandlersSync(std::chrono::minutes(2))) {
    if (!ok) Die("not synced: " + gvr.ToString());
  }
  const double sync_s = duration<double>(Clock::now() - start).count();
  uint64_t adds = 0;
  for (const auto& h : handlers) adds += h->adds();
  JsonOut out;
  out.Str("figure", "factory");
  out.Num("informers", static_cast<double>(resources.size()));
  out.Num("handlers", static_cast<double>(handlers.size()));
  out.Num("handler_adds", static_cast<double>(adds));
  out.Num("sync_seconds", sync_s);
  out.Num("threads_before", static_cast<double>(threads_before));
  out.Num("threads", static_cast<double>(ProcStatus("Threads")));
  out.Num("factory_threads", static_cast<double>(factory->ThreadCount()));
  out.Num("rss", static_cast<double>(TrimmedRss()));
  out.Num("rss_delta", static_cast<double>(TrimmedRss() - rss_before));
  out.Print();
  factory->Shutdown();
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: informer_bench serve --pods N --control SOCK [--kubeconfig PATH] "
               "[--crds K]\n"
               "       informer_bench client sync|watch|factory --kubeconfig PATH --control "
               "SOCK [--json-bytes B] [--drop-managed-fields] [--rate R] [--json]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string role = argv[1];
  if (role == "serve") return Serve(ParseFlags(argc, argv, 2));
  if (role == "client" && argc >= 3) {
    const std::string figure = argv[2];
    Flags flags = ParseFlags(argc, argv, 3);
    if (figure == "sync") return ClientSync(flags);
    if (figure == "watch") return ClientWatch(flags);
    if (figure == "factory") return ClientFactory(flags);
  }
  return Usage();
}

// pipeline_profile: one stage of the informer pipeline at a time, in-process, for `perf record`.
//
// Not the benchmark suite (that is `bench/run.sh`): a small driver that runs one scenario against
// the embedded server and prints a few figures, so a profiler sees only that scenario.
//
//   pipeline_profile sync N [--drop-managed-fields] [--page-size=P]
//                                                     list N Pods through a factory informer
//                                                     (P = 1000000: one page, as a watch cache)
//   pipeline_profile decode N                         DecodeList vs simdjson DOM on one N-Pod body
//   pipeline_profile decode-file BODY                 the same on a list body saved from a server
//   pipeline_profile watch N RATE                     N updates at RATE/s (0 = as fast as possible)
//   pipeline_profile threads INFORMERS                INFORMERS informers, 2 handlers each
//
// Built-in kinds travel in protobuf, as by default; `--json` (anywhere after the mode) reads them
// in JSON, for the JSON column.
//
// Figures: wall time, MB/s of JSON, RSS delta per object (/proc/self/statm), threads
// (/proc/self/task), handler latency percentiles.
#include <dirent.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kube/cache/shared_informer.h"
#include "kube/client/http_client.h"
#include "kube/informers/factory.h"
#include "kube/object.h"
#include "kube/server/api_server.h"
#include "pod_generator.h"

namespace kube::bench {

// `--json`: the client asks for JSON only.
bool g_json = false;

namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

size_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;  // NOLINT(runtime/int): the file's format
  if (std::fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

size_t Threads() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "pipeline_profile: %s\n", what.c_str());
  std::exit(1);
}

const GroupVersionResource kPods{"", "v1", "pods"};

struct Cluster {
  std::unique_ptr<EmbeddedApiServer> server;
  std::shared_ptr<HttpClient> client;
};

Cluster StartCluster(size_t pods, size_t* json_bytes, const std::string& resources_file = "") {
  Cluster c;
  ApiServerOptions options;
  options.resources_file = resources_file;
  options.history_size = 1000;
  options.watch_queue_limit = 1000000;
  auto server = EmbeddedApiServer::Start(options);
  if (!server) Die(server.error().ToString());
  c.server = *std::move(server);
  for (const char* ns :
       {"prod", "staging", "team-a", "team-b", "platform", "observability", "data", "edge"}) {
    (void)c.server->Create(std::string(R"({"apiVersion":"v1","kind":"Namespace","metadata":)") +
                           R"({"name":")" + ns + R"("}})");
  }
  size_t bytes = 0;
  for (size_t i = 0; i < pods; ++i) {
    auto obj = c.server->Create(MakePodJson(i));
    if (!obj) Die(obj.error().ToString());
    bytes += (*obj)->json().size();
  }
  if (json_bytes != nullptr) *json_bytes = bytes;
  RestConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(c.server->Port());
  auto client = MakeCurlHttpClient(config, {.prefer_protobuf = !g_json});
  if (!client) Die(client.error().ToString());
  c.client = *std::move(client);
  return c;
}

int Sync(size_t n, bool drop, int64_t page_size) {
  size_t json_bytes = 0;
  Cluster c = StartCluster(n, &json_bytes);
  size_t rss0 = RssBytes();
  size_t threads0 = Threads();
  std::fprintf(stderr, "seeded %zu\n", n);  // a profiler may attach now
  if (const char* wait = std::getenv("PIPELINE_PROFILE_WAIT")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(wait)));
  }
  SharedInformerFactoryOptions options;
  options.reflector.page_size = page_size;
  if (drop) options.transform = [](ObjectPtr o) { return DropManagedFields(o); };
  auto factory = SharedInformerFactory::Create(c.client, options);
  auto informer = factory->InformerFor(kPods);
  std::atomic<size_t> adds{0};
  (void)informer->AddEventHandler(
      ResourceEventHandlerFuncs{.add = [&](const ObjectPtr&, bool) { adds.fetch_add(1); }});
  auto start = SteadyClock::now();
  factory->Start();
  factory->WaitForCacheSync(std::chrono::minutes(10));
  factory->WaitForHandlersSync(std::chrono::minutes(10));
  double secs = SecondsSince(start);
  size_t rss1 = RssBytes();
  std::printf("sync n=%zu drop=%d page=%lld seconds=%.3f objects_per_s=%.0f MBps=%.1f adds=%zu\n",
              n, drop, static_cast<long long>(page_size), secs, n / secs,  // NOLINT(runtime/int)
              json_bytes / secs / 1e6, adds.load());
  std::printf("rss_delta_per_object=%.0f json_per_object=%.0f ratio=%.2f threads=%zu (+%zu)\n",
              static_cast<double>(rss1 - rss0) / n, static_cast<double>(json_bytes) / n,
              static_cast<double>(rss1 - rss0) / json_bytes, Threads(), Threads() - threads0);
  factory->Shutdown();
  return 0;
}

int Decode(size_t n, std::string body) {
  simdjson::padded_string padded(body);
  simdjson::dom::parser parser;
  std::vector<double> ours, dom;
  for (int rep = 0; rep < 3; ++rep) {
    auto t = SteadyClock::now();
    auto list = DecodeList(body);
    ours.push_back(SecondsSince(t));
    if (!list || list->items.size() != n) Die("decode failed");
    t = SteadyClock::now();
    simdjson::dom::element root;
    if (parser.parse(padded).get(root)) Die("dom failed");
    dom.push_back(SecondsSince(t));
  }
  std::sort(ours.begin(), ours.end());
  std::sort(dom.begin(), dom.end());
  std::printf("decode n=%zu MB=%.1f ours_MBps=%.0f dom_MBps=%.0f ratio=%.2f\n", n,
              body.size() / 1e6, body.size() / ours[1] / 1e6, body.size() / dom[1] / 1e6,
              dom[1] / ours[1]);
  return 0;
}

int Watch(size_t n, double rate) {
  Cluster c = StartCluster(0, nullptr);
  auto factory = SharedInformerFactory::Create(c.client);
  auto informer = factory->InformerFor(kPods);
  std::vector<SteadyClock::time_point> sent(n), got(n);
  std::atomic<size_t> seen{0};
  auto on = [&](const ObjectPtr& o) {
    std::string_view name = o->name();
    size_t i = std::strtoul(std::string(name.substr(name.rfind('-') + 1)).c_str(), nullptr, 10);
    if (i < n) got[i] = SteadyClock::now();
    seen.fetch_add(1, std::memory_order_release);
  };
  (void)informer->AddEventHandler(ResourceEventHandlerFuncs{
      .add = [&](const ObjectPtr& o, bool) { on(o); },
  });
  factory->Start();
  factory->WaitForCacheSync(std::chrono::minutes(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the watch is open
  std::vector<std::string> docs;
  docs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string j = MakePodJson(i);
    // A distinct name per event: "w-<i>".
    size_t p = j.find(R"("name":")", j.find(R"("metadata")"));
    size_t e = j.find('"', p + 8);
    j.replace(p + 8, e - (p + 8), "w-" + std::to_string(i));
    docs.push_back(std::move(j));
  }
  auto start = SteadyClock::now();
  for (size_t i = 0; i < n; ++i) {
    if (rate > 0) std::this_thread::sleep_until(start + std::chrono::duration<double>(i / rate));
    sent[i] = SteadyClock::now();
    auto obj = c.server->Create(docs[i]);
    if (!obj) Die(obj.error().ToString());
  }
  double send_secs = SecondsSince(start);
  while (seen.load(std::memory_order_acquire) < n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (SecondsSince(start) > 120) Die("events missing");
  }
  double secs = SecondsSince(start);
  std::vector<double> lat;
  for (size_t i = 0; i < n; ++i) {
    lat.push_back(std::chrono::duration<double, std::micro>(got[i] - sent[i]).count());
  }
  std::sort(lat.begin(), lat.end());
  std::printf(
      "watch n=%zu rate=%.0f send_s=%.3f total_s=%.3f events_per_s=%.0f p50_us=%.0f "
      "p99_us=%.0f max_us=%.0f\n",
      n, rate, send_secs, secs, n / secs, lat[n / 2], lat[n * 99 / 100], lat.back());
  factory->Shutdown();
  return 0;
}

int ThreadsScenario(size_t informers) {
  // `informers` custom resources, served empty.
  std::string file = "/tmp/pipeline_profile_resources." + std::to_string(getpid()) + ".yaml";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    if (f == nullptr) Die("cannot write " + file);
    for (size_t i = 0; i < informers; ++i) {
      std::fprintf(f, "- {group: example.com, version: v1, resource: things%zu, kind: Thing%zu}\n",
                   i, i);
    }
    std::fclose(f);
  }
  Cluster c = StartCluster(0, nullptr, file);
  std::remove(file.c_str());
  size_t t0 = Threads();
  auto factory = SharedInformerFactory::Create(c.client);
  for (size_t i = 0; i < informers; ++i) {
    auto inf = factory->InformerFor({"example.com", "v1", "things" + std::to_string(i)});
    for (int h = 0; h < 2; ++h) (void)inf->AddEventHandler(ResourceEventHandlerFuncs{});
  }
  factory->Start();
  auto synced = factory->WaitForCacheSync(std::chrono::minutes(1));
  size_t ok = 0;
  for (const auto& [gvr, s] : synced) ok += s;
  std::this_thread::sleep_for(std::chrono::seconds(3));  // let extra workers retire
  std::printf("threads informers=%zu synced=%zu before=%zu after=%zu factory_workers=%zu\n",
              informers, ok, t0, Threads(), factory->ThreadCount());
  factory->Shutdown();
  return 0;
}

}  // namespace
}  // namespace kube::bench

int main(int argc, char** argv) {
  using namespace kube::bench;  // NOLINT(build/namespaces)
  std::string mode = argc > 1 ? argv[1] : "sync";
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) g_json = true;
  }
  size_t n = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100000;
  if (mode == "sync") {
    bool drop = false;
    int64_t page = 0;  // the reflector's rule (B13): pages of 500 for a first list
    for (int i = 3; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--drop-managed-fields") drop = true;
      if (a.rfind("--page-size=", 0) == 0) page = std::atoll(a.c_str() + 12);
    }
    return Sync(n, drop, page);
  }
  if (mode == "decode") return Decode(n, MakePodListJson(n));
  if (mode == "decode-file" && argc > 2) {
    // A list body saved from a server (`curl .../api/v1/pods > F`): the same comparison.
    std::FILE* f = std::fopen(argv[2], "rb");
    if (f == nullptr) Die(std::string("cannot open ") + argv[2]);
    std::string body;
    char buf[1 << 16];
    for (size_t got; (got = std::fread(buf, 1, sizeof(buf), f)) > 0;) body.append(buf, got);
    std::fclose(f);
    auto list = kube::DecodeList(body);
    if (!list) Die("not a list: " + list.error().message());
    return Decode(list->items.size(), std::move(body));
  }
  if (mode == "watch") return Watch(n, argc > 3 ? std::atof(argv[3]) : 0);
  if (mode == "threads") return ThreadsScenario(n);
  std::fprintf(stderr, "usage: pipeline_profile sync|decode|watch|threads N [...]\n");
  return 2;
}

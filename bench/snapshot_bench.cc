// Warm restarts from a cache snapshot (docs/benchmarks.md, "Warm restarts"): an informer over N
// Pods on the embedded server (in this process), restarted cold (list) and warm (snapshot, then a
// resumed watch), alternately, R times each; list requests counted by the server. Then the
// snapshot format alone (sizes, encode and decode CPU, with and without deflate), and the CPU the
// snapshot thread spends while the server changes E Pods per second.
//
//   snapshot_bench [--pods N] [--rounds R] [--events-per-second E] [--seconds S]
//                  [--interval-seconds I] [--compress 0|1]
//
// Prints one `key value` line per result; medians over the rounds.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cache/snapshot.h"
#include "kube/client/http_client.h"
#include "kube/config/rest_config.h"
#include "kube/informers/factory.h"
#include "kube/server/api_server.h"
#include "pod_generator.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration;

const kube::GroupVersionResource kPods{"", "v1", "pods"};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "snapshot_bench: %s\n", why.c_str());
  std::exit(1);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double ProcessCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

long Arg(int argc, char** argv, const std::string& name, long def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + name) return std::atol(argv[i + 1]);
  }
  return def;
}

// Pod `index` with a label that changes with `rev` and no resourceVersion (an unconditional
// update of the same Pod).
std::string ChangedPod(size_t index, uint64_t rev) {
  std::string json = kube::bench::MakePodJson(index);
  const std::string rv_field = "\"resourceVersion\":\"";
  if (size_t at = json.find(rv_field); at != std::string::npos) {
    const size_t end = json.find('"', at + rv_field.size());
    json.erase(at, end + 2 - at);  // the field and its comma
  }
  const std::string labels = "\"labels\":{";
  if (size_t at = json.find(labels); at != std::string::npos) {
    json.insert(at + labels.size(), "\"bench-rev\":\"" + std::to_string(rev) + "\",");
  }
  return json;
}

bool g_compress = false;  // --compress 1: deflated snapshots
bool Compress() { return g_compress; }

struct Run {
  double sync_seconds = 0;
  double loaded_seconds = 0;  // warm: the snapshot was in the cache
  // CPU of the whole process (the informer and the in-process server) from Start to synced.
  double cpu_seconds = 0;
  uint64_t full_lists = 0;
  uint64_t probes = 0;
  bool warm = false;
  size_t objects = 0;
};

Run StartAndSync(kube::EmbeddedApiServer& server, std::shared_ptr<kube::HttpClient> client,
                 const std::string& dir) {
  kube::SharedInformerFactoryOptions fo;
  fo.snapshot_dir = dir;
  fo.snapshot_interval = std::chrono::milliseconds(0);  // at Shutdown
  fo.snapshot_compress = Compress();
  auto factory = kube::SharedInformerFactory::Create(client, fo);
  auto informer = factory->InformerFor(kPods, {.namespaced = true, .kind = "Pod"});
  const auto before = server.ListRequestCount();
  const double cpu0 = ProcessCpuSeconds();
  const auto start = Clock::now();
  factory->Start();
  // When the snapshot's objects are in the cache (warm starts only).
  double loaded_s = 0;
  while (!informer->HasSynced()) {
    if (loaded_s == 0 && informer->Stats().started_from_snapshot) {
      loaded_s = duration<double>(Clock::now() - start).count();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Run r;
  r.sync_seconds = duration<double>(Clock::now() - start).count();
  r.cpu_seconds = ProcessCpuSeconds() - cpu0;
  r.loaded_seconds = loaded_s;
  const auto after = server.ListRequestCount();
  r.full_lists = (after.all - after.single_item) - (before.all - before.single_item);
  r.probes = after.single_item - before.single_item;
  r.warm = informer->Stats().started_from_snapshot;
  r.objects = informer->GetIndexer()->Size();
  factory->Shutdown();  // writes the snapshot
  if (informer->Stats().snapshots_written != 1) Die("no snapshot written at Shutdown");
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const long pods = Arg(argc, argv, "pods", 100000);
  const long rounds = Arg(argc, argv, "rounds", 3);
  const long eps = Arg(argc, argv, "events-per-second", 1000);
  const long seconds = Arg(argc, argv, "seconds", 30);
  const long interval = Arg(argc, argv, "interval-seconds", 10);
  g_compress = Arg(argc, argv, "compress", 0) != 0;

  kube::ApiServerOptions so;
  so.history_size = 1000000;  // the changes made while the informer is down stay in the window
  so.default_namespaces = true;
  auto started = kube::EmbeddedApiServer::Start(so);
  if (!started) Die(started.error().ToString());
  kube::EmbeddedApiServer& server = **started;
  for (const char* ns :
       {"prod", "staging", "team-a", "team-b", "platform", "observability", "data", "edge"}) {
    auto created =
        server.Create(std::string(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")") +
                      ns + R"("}})");
    if (!created) Die(created.error().ToString());
  }
  for (long i = 0; i < pods; ++i) {
    auto created = server.Create(kube::bench::MakePodJson(static_cast<size_t>(i)));
    if (!created) Die(created.error().ToString());
  }
  kube::RestConfig config;
  config.server = server.Url();
  config.timeout = std::chrono::minutes(5);
  auto client = kube::MakeCurlHttpClient(config);
  if (!client) Die(client.error().ToString());

  const std::string dir = "/tmp/snapshot_bench_" + std::to_string(::getpid());
  double load[3];
  ::getloadavg(load, 3);
  std::printf("compress %d\n", g_compress ? 1 : 0);
  std::printf("pods %ld\nload_average %.2f %.2f %.2f\n", pods, load[0], load[1], load[2]);

  // Cold and warm, alternately. Between a cold start and the warm one, 100 Pods change (within
  // the server's history window).
  std::vector<double> cold, warm, cold_cpu, warm_cpu;
  uint64_t cold_lists = 0, warm_lists = 0, warm_probes = 0;
  for (long round = 0; round < rounds; ++round) {
    std::filesystem::remove_all(dir);
    Run c = StartAndSync(server, *client, dir);
    if (c.warm || c.objects != static_cast<size_t>(pods)) Die("cold start was not cold");
    for (int i = 0; i < 100; ++i) {
      auto applied = server.Apply(ChangedPod(static_cast<size_t>(i), 2 + round));
      if (!applied) Die(applied.error().ToString());
    }
    Run w = StartAndSync(server, *client, dir);
    if (!w.warm || w.objects != static_cast<size_t>(pods)) {
      Die("warm start was not warm: " + std::to_string(w.warm) + " " + std::to_string(w.objects));
    }
    cold.push_back(c.sync_seconds);
    warm.push_back(w.sync_seconds);
    cold_cpu.push_back(c.cpu_seconds);
    warm_cpu.push_back(w.cpu_seconds);
    cold_lists += c.full_lists;
    warm_lists += w.full_lists;
    warm_probes += w.probes;
    std::printf(
        "round %ld cold_sync_s %.3f warm_sync_s %.3f (snapshot loaded at %.3f) "
        "cold_cpu_s %.3f warm_cpu_s %.3f\n",
        round, c.sync_seconds, w.sync_seconds, w.loaded_seconds, c.cpu_seconds, w.cpu_seconds);
  }
  std::printf("cold_sync_s_median %.3f\nwarm_sync_s_median %.3f\nspeedup %.1f\n", Median(cold),
              Median(warm), Median(cold) / std::max(1e-9, Median(warm)));
  std::printf("cold_cpu_s_median %.3f\nwarm_cpu_s_median %.3f\ncpu_ratio %.1f\n", Median(cold_cpu),
              Median(warm_cpu), Median(cold_cpu) / std::max(1e-9, Median(warm_cpu)));
  std::printf(
      "full_list_requests_cold_total %llu\nfull_list_requests_warm_total %llu\n"
      "version_probe_requests_warm_total %llu\n",
      static_cast<unsigned long long>(cold_lists), static_cast<unsigned long long>(warm_lists),
      static_cast<unsigned long long>(warm_probes));

  // The format alone, on the cache the informer holds (protobuf Pods), compressed or not.
  {
    kube::SharedInformerFactoryOptions fo;
    auto factory = kube::SharedInformerFactory::Create(*client, fo);
    auto informer = factory->InformerFor(kPods, {.namespaced = true, .kind = "Pod"});
    factory->Start();
    if (!informer->WaitForCacheSync(std::chrono::minutes(10))) Die("sync timed out");
    std::vector<kube::ObjectPtr> objects = informer->GetIndexer()->List();
    factory->Shutdown();
    for (bool compress : {false, true}) {
      std::vector<double> enc, dec;
      size_t bytes = 0;
      for (long round = 0; round < rounds; ++round) {
        double t0 = ThreadCpuSeconds();
        std::string s =
            kube::internal::EncodeSnapshotToString({"id", "pods", "1"}, objects, compress);
        double t1 = ThreadCpuSeconds();
        auto back = kube::internal::DecodeSnapshot(s, {});
        double t2 = ThreadCpuSeconds();
        if (!back) Die(back.error().ToString());
        bytes = s.size();
        enc.push_back(t1 - t0);
        dec.push_back(t2 - t1);
      }
      std::printf("%s bytes %zu bytes_per_pod %.0f encode_cpu_s %.3f decode_cpu_s %.3f\n",
                  compress ? "deflate" : "plain", bytes,
                  static_cast<double>(bytes) / static_cast<double>(objects.size()), Median(enc),
                  Median(dec));
    }
  }

  // The snapshot thread's CPU while the server changes `eps` Pods per second.
  {
    kube::SharedInformerFactoryOptions fo;
    fo.snapshot_dir = dir;
    fo.snapshot_interval = std::chrono::seconds(interval);
    fo.snapshot_compress = Compress();
    auto factory = kube::SharedInformerFactory::Create(*client, fo);
    auto informer = factory->InformerFor(kPods, {.namespaced = true, .kind = "Pod"});
    factory->Start();
    if (!informer->WaitForCacheSync(std::chrono::minutes(10))) Die("sync timed out");
    const auto cpu0 = informer->Stats().snapshot_write_cpu;
    const uint64_t writes0 = informer->Stats().snapshots_written;
    const double proc0 = ProcessCpuSeconds();
    const auto start = Clock::now();
    long applied = 0;
    while (Clock::now() - start < std::chrono::seconds(seconds)) {
      const auto due = start + std::chrono::microseconds(applied * 1000000 / eps);
      std::this_thread::sleep_until(due);
      auto updated = server.Apply(
          ChangedPod(static_cast<size_t>(applied % pods), 1000 + static_cast<uint64_t>(applied)));
      if (!updated) Die(updated.error().ToString());
      ++applied;
    }
    const double wall = duration<double>(Clock::now() - start).count();
    const double proc = ProcessCpuSeconds() - proc0;
    const auto stats = informer->Stats();
    const double write_cpu = duration<double>(stats.snapshot_write_cpu - cpu0).count();
    std::printf("churn_events %ld churn_seconds %.1f interval_s %ld snapshots_written %llu\n",
                applied, wall, interval,
                static_cast<unsigned long long>(stats.snapshots_written - writes0));
    std::printf("snapshot_write_cpu_s %.3f share_of_one_core %.4f share_of_process_cpu %.4f\n",
                write_cpu, write_cpu / wall, write_cpu / std::max(1e-9, proc));
    factory->Shutdown();
  }
  std::filesystem::remove_all(dir);
  return 0;
}

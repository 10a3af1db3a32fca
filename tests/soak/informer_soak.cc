// informer_soak: informers against the embedded API server under steady churn and periodic
// faults, for a long time.
//
// Several informers (two factories: all namespaces, and one namespace with a label selector and
// the managedFields transform), each with several handlers (one of them slow), watch Pods churned
// by the server's generator and ConfigMaps churned by this program. Every `--fault-every` a fault
// is injected (dropped watches, compacted history -> 410 and relists, cut streams, failing
// requests). Every `--check-every` the churn pauses and the program checks that every cache and
// every handler's replayed state equals what the server lists, with no event out of order. Every
// `--sample-every` it records resident memory, threads and open descriptors to a CSV file.
//
// Exit status 0 when every check passed (and, with `--max-rss-growth-pct`, memory stayed flat).
// `--short` is the CI mode (about 20 s); docs/reliability.md shows a 30-minute run.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "kube/config/rest_config.h"
#include "kube/informers/factory.h"
#include "kube/server/api_server.h"
#include "tests/testing/convergence.h"

namespace kube::soak {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::KeyVersions;
using testing::ReplayHandler;

const GroupVersionResource kPods{"", "v1", "pods"};
const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};

struct Flags {
  std::chrono::seconds duration{1800};
  std::chrono::seconds check_every{30};
  std::chrono::seconds sample_every{5};
  std::chrono::seconds fault_every{10};
  double pod_ops = 100;        // server churn, operations/s
  double configmap_ops = 100;  // this program's churn, operations/s
  int max_pods = 1000;
  int configmaps_per_namespace = 500;
  std::string csv = "soak.csv";
  double max_rss_growth_pct = -1;  // < 0: report only
};

void Usage() {
  std::cerr
      << "usage: informer_soak [--short] [--duration=S] [--check-every=S] [--sample-every=S]\n"
         "                     [--fault-every=S] [--pod-ops=N] [--configmap-ops=N]\n"
         "                     [--max-pods=N] [--configmaps=N] [--csv=FILE]\n"
         "                     [--max-rss-growth-pct=P]\n";
}

bool ParseFlags(int argc, char** argv, Flags& f) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    std::string value = eq == std::string_view::npos ? "" : std::string(arg.substr(eq + 1));
    try {
      if (name == "--short") {
        f.duration = 20s;
        f.check_every = 5s;
        f.sample_every = 1s;
        f.fault_every = 1s;
        f.max_pods = 200;
        f.configmaps_per_namespace = 100;
      } else if (name == "--duration") {
        f.duration = std::chrono::seconds(std::stol(value));
      } else if (name == "--check-every") {
        f.check_every = std::chrono::seconds(std::stol(value));
      } else if (name == "--sample-every") {
        f.sample_every = std::chrono::seconds(std::stol(value));
      } else if (name == "--fault-every") {
        f.fault_every = std::chrono::seconds(std::stol(value));
      } else if (name == "--pod-ops") {
        f.pod_ops = std::stod(value);
      } else if (name == "--configmap-ops") {
        f.configmap_ops = std::stod(value);
      } else if (name == "--max-pods") {
        f.max_pods = std::stoi(value);
      } else if (name == "--configmaps") {
        f.configmaps_per_namespace = std::stoi(value);
      } else if (name == "--csv") {
        f.csv = value;
      } else if (name == "--max-rss-growth-pct") {
        f.max_rss_growth_pct = std::stod(value);
      } else {
        std::cerr << "informer_soak: unknown flag " << arg << "\n";
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << "informer_soak: bad value in " << arg << "\n";
      return false;
    }
  }
  if (f.check_every.count() <= 0 || f.sample_every.count() <= 0 || f.fault_every.count() <= 0) {
    std::cerr << "informer_soak: intervals must be positive\n";
    return false;
  }
  return true;
}

// --- Process resources ------------------------------------------------------------------------

long StatusField(const char* name) {  // NOLINT(runtime/int): /proc's kB values
  std::ifstream in("/proc/self/status");
  std::string line;
  std::string prefix = std::string(name) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stol(line.substr(prefix.size()));
  }
  return -1;
}

size_t CountEntries(const char* dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

struct Sample {
  double elapsed_s;
  long rss_kb;  // NOLINT(runtime/int)
  size_t threads;
  size_t fds;
  size_t cached;
  uint64_t notifications;
  int checks_ok;
  int checks_failed;
};

// --- What is watched --------------------------------------------------------------------------

struct Watched {
  std::string name;
  std::shared_ptr<SharedIndexInformer> informer;
  ResourceClient server_view;  // lists what the cache must equal
  std::string label_selector;
  std::vector<std::shared_ptr<ReplayHandler>> handlers;
};

class Soak {
 public:
  explicit Soak(Flags flags) : flags_(std::move(flags)) {}

  int Run() {
    if (!StartServer()) return 2;
    if (!StartInformers()) return 2;
    std::ofstream csv(flags_.csv);
    csv << "elapsed_s,rss_kb,threads,fds,cached_objects,notifications,checks_ok,checks_failed\n";

    std::atomic<bool> stop_churn{false};
    StartChurn(stop_churn);

    auto start = Clock::now();
    auto next_fault = start + flags_.fault_every;
    auto next_check = start + flags_.check_every;
    auto next_sample = start;
    auto end = start + flags_.duration;
    std::mt19937 rng(42);
    int fault = 0;
    while (Clock::now() < end) {
      auto now = Clock::now();
      if (now >= next_sample) {
        WriteSample(csv, Take(start));
        next_sample = now + flags_.sample_every;
      }
      if (now >= next_fault) {
        InjectFault(fault++, rng);
        next_fault += flags_.fault_every;
      }
      if (now >= next_check) {
        StopChurn(stop_churn);
        Check(start);
        stop_churn = false;
        StartChurn(stop_churn);
        // The pause is not counted against the fault and sample schedules.
        next_check = Clock::now() + flags_.check_every;
        next_fault = std::max(next_fault, Clock::now());
      }
      std::this_thread::sleep_for(50ms);
    }
    StopChurn(stop_churn);
    Check(start);
    WriteSample(csv, Take(start));
    Shutdown();
    return Report();
  }

 private:
  bool StartServer() {
    ApiServerOptions o;
    o.history_size = 2000;  // small enough that compaction and resumes from old versions happen
    o.bookmark_interval = 1s;
    auto server = EmbeddedApiServer::Start(o);
    if (!server) {
      std::cerr << "informer_soak: server: " << server.error() << "\n";
      return false;
    }
    server_ = std::move(*server);
    for (const char* ns : {"soak-a", "soak-b"}) {
      auto created =
          server_->Create(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" +
                          std::string(ns) + "\"}}");
      if (!created) {
        std::cerr << "informer_soak: namespace " << ns << ": " << created.error() << "\n";
        return false;
      }
    }
    RestConfig config;
    config.server = server_->Url();
    config.timeout = 10s;
    auto http = MakeCurlHttpClient(config);
    if (!http) {
      std::cerr << "informer_soak: client: " << http.error() << "\n";
      return false;
    }
    http_ = *http;
    return true;
  }

  bool StartInformers() {
    SharedInformerFactoryOptions all;
    all.default_resync = 10s;
    all.reflector.backoff_initial = 50ms;
    all.reflector.backoff_cap = 1s;
    all_ = SharedInformerFactory::Create(http_, all);

    SharedInformerFactoryOptions scoped = all;
    scoped.ns = "soak-a";
    scoped.tweak_list_options = [](ListOptions& o) { o.label_selector = "tier=even"; };
    scoped.transform = [](ObjectPtr o) { return DropManagedFields(o); };
    scoped_ = SharedInformerFactory::Create(http_, scoped);

    auto add = [&](std::string name, std::shared_ptr<SharedIndexInformer> informer,
                   ResourceClient view, std::string selector) {
      Watched w{std::move(name), std::move(informer), std::move(view), std::move(selector), {}};
      for (auto delay : {0us, 0us, 200us}) {  // the last one is slow
        auto h = std::make_shared<ReplayHandler>(delay);
        if (!w.informer->AddEventHandler(h)) return false;
        w.handlers.push_back(h);
      }
      watched_.push_back(std::move(w));
      return true;
    };
    bool ok =
        add("pods (all namespaces)", all_->InformerFor(kPods, {.kind = "Pod"}),
            ResourceClient(http_, kPods), "") &&
        add("configmaps (all namespaces)", all_->InformerFor(kConfigMaps, {.kind = "ConfigMap"}),
            ResourceClient(http_, kConfigMaps), "") &&
        add("configmaps (soak-a, tier=even)",
            scoped_->InformerFor(kConfigMaps, {.kind = "ConfigMap"}),
            ResourceClient(http_, kConfigMaps, "soak-a"), "tier=even");
    if (!ok) {
      std::cerr << "informer_soak: could not add handlers\n";
      return false;
    }
    all_->Start();
    scoped_->Start();
    for (auto* f : {all_.get(), scoped_.get()}) {
      for (const auto& [gvr, synced] : f->WaitForCacheSync(60s)) {
        if (!synced) {
          std::cerr << "informer_soak: " << gvr.resource << " did not sync\n";
          return false;
        }
      }
    }
    return true;
  }

  void StartChurn(std::atomic<bool>& stop) {
    ChurnOptions pods;
    pods.ops_per_second = flags_.pod_ops;
    pods.seed = ++churn_round_;
    pods.max_objects = flags_.max_pods;
    if (Status s = server_->StartChurn(pods); !s.ok()) {
      std::cerr << "informer_soak: churn: " << s << "\n";
    }
    configmap_churn_ = std::thread([this, &stop] { ChurnConfigMaps(stop); });
  }

  void StopChurn(std::atomic<bool>& stop) {
    stop = true;
    if (configmap_churn_.joinable()) configmap_churn_.join();
    server_->StopChurn();
  }

  // Creates, updates (moving objects in and out of `tier=even`) and deletes ConfigMaps.
  void ChurnConfigMaps(const std::atomic<bool>& stop) {
    std::mt19937 rng(static_cast<uint32_t>(churn_round_));
    auto period = std::chrono::duration<double>(1.0 / flags_.configmap_ops);
    auto next = Clock::now();
    while (!stop) {
      std::string ns = rng() % 2 ? "soak-a" : "soak-b";
      std::string name = "cm-" + std::to_string(rng() % flags_.configmaps_per_namespace);
      if (rng() % 10 < 2) {
        (void)server_->Delete(kConfigMaps, ns, name);
      } else {
        std::string tier = rng() % 2 ? "even" : "odd";
        (void)server_->Apply(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" +
                             name + R"(","namespace":")" + ns + R"(","labels":{"tier":")" + tier +
                             R"("}},"data":{"n":")" + std::to_string(++writes_) + "\"}}");
      }
      next += std::chrono::duration_cast<Clock::duration>(period);
      std::this_thread::sleep_until(next);
    }
  }

  void InjectFault(int n, std::mt19937& rng) {
    server_->FailRequests(0, 500);  // a previous failure window ends here
    switch (n % 5) {
      case 0:
        server_->DropWatches();
        break;
      case 1:
        // Watches lose the event in flight, and the history they would resume from is gone:
        // 410 Expired and a relist.
        server_->CutWatchStreams();
        std::this_thread::sleep_for(50ms);
        server_->CompactHistory();
        break;
      case 2:
        server_->CutWatchStreams();  // half an event, then a dropped connection
        break;
      case 3:
        server_->FailRequests(0.3, 500);
        break;
      case 4:
        server_->FailRequests(0.3, 429, std::chrono::seconds(rng() % 2));
        break;
    }
    faults_++;
  }

  // Waits until every cache and handler equals the server; records the outcome.
  void Check(Clock::time_point start) {
    server_->FailRequests(0, 500);
    auto began = Clock::now();
    auto deadline = began + 60s;
    std::string failure;
    for (;;) {
      failure.clear();
      for (const Watched& w : watched_) {
        auto want = testing::ServerState(w.server_view, w.label_selector);
        if (!want) {
          failure = w.name + ": server list failed: " + want.error().ToString();
          break;
        }
        if (testing::CacheState(*w.informer) != *want) {
          failure = w.name + ": cache differs from the server (" +
                    std::to_string(testing::CacheState(*w.informer).size()) + " vs " +
                    std::to_string(want->size()) + " objects)";
          break;
        }
        for (size_t i = 0; i < w.handlers.size(); ++i) {
          if (w.handlers[i]->state() != *want) {
            failure = w.name + ": handler " + std::to_string(i) + " differs from the server";
            break;
          }
          if (w.handlers[i]->out_of_order() != 0) {
            failure = w.name + ": handler " + std::to_string(i) + " saw events out of order";
            break;
          }
        }
        if (!failure.empty()) break;
      }
      if (failure.empty() || Clock::now() > deadline) break;
      std::this_thread::sleep_for(50ms);
    }
    double t = std::chrono::duration<double>(Clock::now() - start).count();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
    if (failure.empty()) {
      checks_ok_++;
      max_converge_ = std::max(max_converge_, took);
      std::cout << "t=" << static_cast<long>(t) << "s check ok (converged in " << took.count()
                << " ms, " << TotalCached() << " objects cached)\n";
    } else {
      checks_failed_++;
      std::cout << "t=" << static_cast<long>(t) << "s CHECK FAILED: " << failure << "\n";
    }
    std::cout.flush();
  }

  size_t TotalCached() const {
    size_t n = 0;
    for (const Watched& w : watched_) n += w.informer->GetIndexer()->List().size();
    return n;
  }

  Sample Take(Clock::time_point start) {
    malloc_trim(0);  // RSS should show what is held, not what the allocator keeps cached
    uint64_t notifications = 0;
    for (const Watched& w : watched_) {
      for (const auto& h : w.handlers) notifications += h->notifications();
    }
    Sample s{std::chrono::duration<double>(Clock::now() - start).count(),
             StatusField("VmRSS"),
             CountEntries("/proc/self/task"),
             CountEntries("/proc/self/fd"),
             TotalCached(),
             notifications,
             checks_ok_,
             checks_failed_};
    samples_.push_back(s);
    return s;
  }

  static void WriteSample(std::ofstream& csv, const Sample& s) {
    csv << s.elapsed_s << ',' << s.rss_kb << ',' << s.threads << ',' << s.fds << ',' << s.cached
        << ',' << s.notifications << ',' << s.checks_ok << ',' << s.checks_failed << '\n';
    csv.flush();
  }

  void Shutdown() {
    scoped_->Shutdown();
    all_->Shutdown();
    server_->Stop();
  }

  // Memory, threads and descriptors after warm-up (the first quarter) versus the last quarter.
  int Report() {
    size_t n = samples_.size();
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.empty() ? 0.0 : v[v.size() / 2];
    };
    std::vector<double> early, late;
    size_t max_threads = 0, min_threads = SIZE_MAX, max_fds = 0, min_fds = SIZE_MAX;
    for (size_t i = n / 4; i < n; ++i) {
      const Sample& s = samples_[i];
      if (i < n / 2) early.push_back(static_cast<double>(s.rss_kb));
      if (i >= n - n / 4) late.push_back(static_cast<double>(s.rss_kb));
      max_threads = std::max(max_threads, s.threads);
      min_threads = std::min(min_threads, s.threads);
      max_fds = std::max(max_fds, s.fds);
      min_fds = std::min(min_fds, s.fds);
    }
    double growth = early.empty() ? 0 : 100.0 * (median(late) - median(early)) / median(early);
    uint64_t relists = 0, watches = 0;
    for (const Watched& w : watched_) {
      relists += w.informer->Stats().relists_after_gone;
      watches += w.informer->Stats().watches;
    }
    std::cout << "{\"duration_s\":" << flags_.duration.count() << ",\"checks_ok\":" << checks_ok_
              << ",\"checks_failed\":" << checks_failed_ << ",\"faults\":" << faults_
              << ",\"configmap_writes\":" << writes_ << ",\"watches_opened\":" << watches
              << ",\"relists_after_gone\":" << relists
              << ",\"max_converge_ms\":" << max_converge_.count()
              << ",\"rss_kb_early_median\":" << median(early)
              << ",\"rss_kb_late_median\":" << median(late) << ",\"rss_growth_pct\":" << growth
              << ",\"threads_min\":" << min_threads << ",\"threads_max\":" << max_threads
              << ",\"fds_min\":" << min_fds << ",\"fds_max\":" << max_fds << "}\n";
    if (checks_failed_ > 0 || checks_ok_ == 0) return 1;
    if (flags_.max_rss_growth_pct >= 0 && growth > flags_.max_rss_growth_pct) {
      std::cout << "informer_soak: resident memory grew " << growth << "% (limit "
                << flags_.max_rss_growth_pct << "%)\n";
      return 1;
    }
    return 0;
  }

  Flags flags_;
  std::unique_ptr<EmbeddedApiServer> server_;
  std::shared_ptr<HttpClient> http_;
  std::unique_ptr<SharedInformerFactory> all_;
  std::unique_ptr<SharedInformerFactory> scoped_;
  std::vector<Watched> watched_;
  std::thread configmap_churn_;
  uint64_t churn_round_ = 0;
  uint64_t writes_ = 0;  // only the churn thread writes; read after it joined
  int faults_ = 0;
  int checks_ok_ = 0;
  int checks_failed_ = 0;
  std::chrono::milliseconds max_converge_{0};
  std::vector<Sample> samples_;
};

}  // namespace
}  // namespace kube::soak

int main(int argc, char** argv) {
  kube::soak::Flags flags;
  if (!kube::soak::ParseFlags(argc, argv, flags)) {
    kube::soak::Usage();
    return 2;
  }
  return kube::soak::Soak(flags).Run();
}

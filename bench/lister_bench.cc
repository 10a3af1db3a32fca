// Lister queries over an in-memory store of realistic Pods: the label index against the scan it
// replaced, Get by key, and readers in parallel with a writer.
//
//   build/bench/lister_bench [--pods 10000,100000] [--reps 3] [--seconds 1]
//
// For each N, Pods `0 .. N-1` of bench/pod_generator.h are put in namespaces of 2,000 Pods each
// (`ns-0`, `ns-1`, ...) and filed in a `ThreadSafeStore` with the namespace index, as an informer
// does. The selector `app=checkout` matches 1 Pod in 10 (200 per namespace). Figures, each the
// median of `--reps` windows of `--seconds`:
//   scan        `ByIndexMatching(kNamespaceIndex, ns, app=checkout)`: the namespace's objects,
//               each checked against the selector (what `NamespaceLister::List` did before the
//               label index), one thread
//   index       `lister.Namespace(ns).List(app=checkout)`: the label index
//   get         `lister.Namespace(ns).Get(name)` over every Pod in turn
// `index` and `get` run with 1, 2 and 4 reader threads, without and with a writer thread that
// updates Pods (a re-decoded copy of each, so the store swaps objects) as fast as it can; the
// figures are queries per second per reader thread and in total (wall clock), and queries per
// CPU second of the reader threads (CLOCK_THREAD_CPUTIME_ID: what a query costs, whatever else
// the machine runs; if readers slowed each other down through shared cache lines or the lock, it
// would fall as readers are added). The writer's updates per second are printed beside them.
// This machine has 2 cores, so 2 readers and a writer share them.
// Output: one line per figure, then a JSON object with every raw window.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <latch>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/cache/lister.h"
#include "kube/cache/store.h"
#include "kube/cache/thread_safe_store.h"
#include "kube/labels.h"
#include "kube/object.h"
#include "pod_generator.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kPerNamespace = 2000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "lister_bench: %s\n", what.c_str());
  std::exit(1);
}

// Pod `i` with its namespace replaced by `ns-<i / 2000>`.
std::string PodJson(size_t i) {
  std::string json = kube::bench::MakePodJson(i);
  constexpr std::string_view kField = "\"namespace\":\"";
  const size_t at = json.find(kField);
  if (at == std::string::npos) Die("generated Pod has no namespace");
  const size_t start = at + kField.size();
  const size_t end = json.find('"', start);
  json.replace(start, end - start, "ns-" + std::to_string(i / kPerNamespace));
  return json;
}

struct Fixture {
  std::shared_ptr<kube::ThreadSafeStore> store;
  std::vector<kube::ObjectPtr> pods;     // as stored
  std::vector<kube::ObjectPtr> updates;  // a second decoding of each, for the writer
  size_t namespaces = 0;
};

Fixture Build(size_t n) {
  Fixture f;
  f.pods.reserve(n);
  f.updates.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string json = PodJson(i);
    kube::Result<kube::ObjectPtr> a = kube::Object::Parse(json);
    kube::Result<kube::ObjectPtr> b = kube::Object::Parse(json);
    if (!a || !b) Die("parse failed");
    f.pods.push_back(*a);
    f.updates.push_back(*b);
  }
  f.namespaces = (n + kPerNamespace - 1) / kPerNamespace;
  f.store = kube::ThreadSafeStore::Create(
      {{std::string(kube::kNamespaceIndex), kube::MetaNamespaceIndexFunc}});
  if (!f.store->Replace(f.pods, "1").ok()) Die("Replace failed");
  return f;
}

// This thread's CPU time in seconds.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Window {
  double per_thread = 0;  // operations per second per reader thread
  double per_cpu = 0;     // operations per CPU second of the reader threads
  double writes = 0;      // writer updates per second (0 without a writer)
  double results = 0;     // objects returned per query (queries only)
};

enum class Op { kScan, kIndex, kGet };

// Runs `readers` threads doing `op` (and a writer when `writer`) for `seconds`.
Window Run(const Fixture& f, Op op, int readers, bool writer, double seconds) {
  const kube::LabelSelector selector = *kube::LabelSelector::Parse("app=checkout");
  const kube::Lister lister(f.store, {.group = "", .resource = "pod"});
  std::vector<std::string> ns_names;
  for (size_t i = 0; i < f.namespaces; ++i) ns_names.push_back("ns-" + std::to_string(i));
  std::vector<kube::NamespaceLister> ns_listers;
  for (const std::string& ns : ns_names) ns_listers.push_back(lister.Namespace(ns));

  std::atomic<bool> stop{false};
  std::latch start(readers + (writer ? 1 : 0) + 1);
  std::vector<uint64_t> ops(readers, 0);
  std::vector<uint64_t> results(readers, 0);
  std::vector<double> cpu(readers, 0);
  uint64_t writes = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      const double cpu0 = ThreadCpuSeconds();
      uint64_t n = 0, got = 0;
      size_t i = static_cast<size_t>(r) * 7919;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 16; ++k, ++n, ++i) {
          switch (op) {
            case Op::kScan: {
              const std::string& ns = ns_names[i % ns_names.size()];
              got += f.store->ByIndexMatching(kube::kNamespaceIndex, ns, selector)->size();
              break;
            }
            case Op::kIndex:
              got += ns_listers[i % ns_listers.size()].List(selector).size();
              break;
            case Op::kGet: {
              const kube::ObjectPtr& pod = f.pods[(i * 7919) % f.pods.size()];
              got +=
                  ns_listers[(i * 7919) % f.pods.size() / kPerNamespace].Get(pod->name()) ? 1 : 0;
              break;
            }
          }
        }
      }
      ops[r] = n;
      results[r] = got;
      cpu[r] = ThreadCpuSeconds() - cpu0;
    });
  }
  if (writer) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      uint64_t n = 0;
      size_t i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // Alternate the two decodings of each Pod, so every write swaps the stored object.
        const size_t k = (i * 104729) % f.pods.size();
        const auto& from = (i / f.pods.size()) % 2 == 0 ? f.updates : f.pods;
        if (!f.store->Update(from[k]).ok()) Die("Update failed");
        ++n;
        ++i;
      }
      writes = n;
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  Window w;
  uint64_t total = 0, got = 0;
  double cpu_s = 0;
  for (int r = 0; r < readers; ++r) {
    total += ops[r];
    got += results[r];
    cpu_s += cpu[r];
  }
  w.per_cpu = static_cast<double>(total) / cpu_s;
  w.per_thread = static_cast<double>(total) / s / readers;
  w.writes = static_cast<double>(writes) / s;
  w.results = total == 0 ? 0 : static_cast<double>(got) / static_cast<double>(total);
  // Leave the store as built: the writer may have left the other decoding of some Pods.
  if (writer && !f.store->Replace(f.pods, "1").ok()) Die("Replace failed");
  return w;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<size_t> ParseSizes(const char* text) {
  std::vector<size_t> out;
  for (const char* p = text; *p != '\0';) {
    out.push_back(std::strtoul(p, const_cast<char**>(&p), 10));
    if (*p == ',') ++p;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {10000, 100000};
  int reps = 3;
  double seconds = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--pods") {
      sizes = ParseSizes(argv[i + 1]);
    } else if (flag == "--reps") {
      reps = std::atoi(argv[i + 1]);
    } else if (flag == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else {
      Die("unknown flag " + std::string(flag));
    }
  }
  if (reps < 1 || seconds <= 0) Die("--reps and --seconds must be positive");

  struct Case {
    const char* name;
    Op op;
    int readers;
    bool writer;
  };
  const Case cases[] = {
      {"scan", Op::kScan, 1, false},         {"index", Op::kIndex, 1, false},
      {"index", Op::kIndex, 2, false},       {"index", Op::kIndex, 4, false},
      {"index+writer", Op::kIndex, 1, true}, {"index+writer", Op::kIndex, 2, true},
      {"index+writer", Op::kIndex, 4, true}, {"get", Op::kGet, 1, false},
      {"get", Op::kGet, 2, false},           {"get", Op::kGet, 4, false},
      {"get+writer", Op::kGet, 1, true},     {"get+writer", Op::kGet, 2, true},
      {"get+writer", Op::kGet, 4, true},
  };
  std::string json = "{\"runs\":[";
  for (size_t n : sizes) {
    const Fixture f = Build(n);
    std::printf("N=%zu, %zu namespaces of %zu Pods, selector app=checkout\n", n, f.namespaces,
                kPerNamespace);
    for (const Case& c : cases) {
      std::vector<double> per_thread, per_cpu, writes, results;
      for (int r = 0; r < reps; ++r) {
        Window w = Run(f, c.op, c.readers, c.writer, seconds);
        per_thread.push_back(w.per_thread);
        per_cpu.push_back(w.per_cpu);
        writes.push_back(w.writes);
        results.push_back(w.results);
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "%s{\"pods\":%zu,\"case\":\"%s\",\"readers\":%d,\"rep\":%d,"
                      "\"per_thread_per_s\":%.0f,\"per_cpu_s\":%.0f,\"writes_per_s\":%.0f,"
                      "\"results\":%.1f}",
                      json.back() == '[' ? "" : ",", n, c.name, c.readers, r, w.per_thread,
                      w.per_cpu, w.writes, w.results);
        json += buf;
      }
      std::printf(
          "  %-13s readers=%d  %10.0f /s per thread  %10.0f /s total  %10.0f per CPU s  "
          "(%.0f results each)",
          c.name, c.readers, Median(per_thread), Median(per_thread) * c.readers, Median(per_cpu),
          Median(results));
      if (c.writer) std::printf("  writer %.0f updates/s", Median(writes));
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  json += "]}";
  std::printf("%s\n", json.c_str());
  return 0;
}

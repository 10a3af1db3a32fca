// Decoding and memory of `kube::Object` on realistic Pods, against simdjson's DOM parser.
//
// Times are this thread's CPU time (see `Clock`). Counters (read the medians of
// `--benchmark_repetitions=3
// --benchmark_report_aggregates_only=true`):
//   Parse/N           parse_MBps, dom_MBps, ratio = Object::Parse throughput / DOM throughput
//                     over the same N Pod documents (each iteration runs both, interleaved, so
//                     machine noise hits them alike). Aim: ratio >= 0.5.
//   DecodeList/N      the same for one PodList body of N Pods.
//   HeldBytes/N       bytes allocated per live object (counted by the replaced operator new,
//                     glibc chunk overhead included) over its minified JSON: ratio (aim <= 1.2),
//                     and after DropManagedFields: dropped_ratio (over the original JSON) and
//                     dropped_own_ratio (over the JSON it keeps). usage_ratio is what
//                     Object::MemoryUsage reports, over the counted bytes.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <new>
#include <string>
#include <vector>

#include "kube/object.h"
#include "pod_generator.h"

// --- Allocation counting ---------------------------------------------------------------------
// Every operator new in this binary goes through here, so the live byte count includes what
// glibc really hands out (usable size plus its 8-byte chunk header).

namespace {
std::atomic<int64_t> g_live_bytes{0};

void* CountedAlloc(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p) + 8),
                         std::memory_order_relaxed);
  return p;
}

void CountedFree(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p) + 8),
                         std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(size_t n) { return CountedAlloc(n); }
void* operator new[](size_t n) { return CountedAlloc(n); }
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t) noexcept { CountedFree(p); }

namespace kube::bench {
namespace {

// This thread's CPU time: the machine is shared, and wall time would charge both sides of a
// ratio with whatever else ran meanwhile.
struct Clock {
  using duration = std::chrono::nanoseconds;
  static std::chrono::nanoseconds now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

const std::vector<std::string>& Pods(size_t n) {
  static std::vector<std::string> pods;
  while (pods.size() < n) pods.push_back(MakePodJson(pods.size()));
  return pods;
}

void BM_Parse(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::vector<std::string> pods(Pods(n).begin(), Pods(n).begin() + n);
  std::vector<simdjson::padded_string> padded;
  size_t bytes = 0;
  for (const auto& p : pods) {
    padded.emplace_back(p);
    bytes += p.size();
  }
  simdjson::dom::parser parser;
  std::vector<ObjectPtr> objects;
  objects.reserve(n);
  double dom_s = 0, parse_s = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    for (const auto& p : padded) {
      simdjson::dom::element e;
      if (parser.parse(p).get(e)) state.SkipWithError("simdjson failed");
      benchmark::DoNotOptimize(e);
    }
    auto t1 = Clock::now();
    for (const auto& p : pods) objects.push_back(Object::Parse(p).value());
    auto t2 = Clock::now();
    objects.clear();  // frees outside the timed parts
    dom_s += Seconds(t1 - t0);
    parse_s += Seconds(t2 - t1);
    state.SetIterationTime(Seconds(t2 - t1));
  }
  const double total = static_cast<double>(bytes) * static_cast<double>(state.iterations());
  state.counters["parse_MBps"] = total / parse_s / 1e6;
  state.counters["dom_MBps"] = total / dom_s / 1e6;
  state.counters["ratio"] = dom_s / parse_s;
  state.counters["bytes_per_pod"] = static_cast<double>(bytes) / static_cast<double>(n);
  state.SetBytesProcessed(static_cast<int64_t>(total));
  state.SetItemsProcessed(static_cast<int64_t>(n) * state.iterations());
}
BENCHMARK(BM_Parse)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_DecodeList(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string body = MakePodListJson(n);
  const simdjson::padded_string padded(body);
  simdjson::dom::parser parser;
  double dom_s = 0, decode_s = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    simdjson::dom::element e;
    if (parser.parse(padded).get(e)) state.SkipWithError("simdjson failed");
    benchmark::DoNotOptimize(e);
    auto t1 = Clock::now();
    auto list = DecodeList(body);
    auto t2 = Clock::now();
    if (!list || list->items.size() != n) state.SkipWithError("DecodeList failed");
    dom_s += Seconds(t1 - t0);
    decode_s += Seconds(t2 - t1);
    state.SetIterationTime(Seconds(t2 - t1));
  }
  const double total = static_cast<double>(body.size()) * static_cast<double>(state.iterations());
  state.counters["decode_MBps"] = total / decode_s / 1e6;
  state.counters["dom_MBps"] = total / dom_s / 1e6;
  state.counters["ratio"] = dom_s / decode_s;
  state.SetBytesProcessed(static_cast<int64_t>(total));
  state.SetItemsProcessed(static_cast<int64_t>(n) * state.iterations());
}
BENCHMARK(BM_DecodeList)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_HeldBytes(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::vector<std::string>& pods = Pods(n);
  (void)Object::Parse(pods[0]);  // the thread's scratch is allocated before counting
  double json = 0, held = 0, usage = 0, dropped_json = 0, dropped_held = 0;
  for (auto _ : state) {
    std::vector<ObjectPtr> objects;
    objects.reserve(n);
    const int64_t before = g_live_bytes.load();
    for (size_t i = 0; i < n; ++i) objects.push_back(Object::Parse(pods[i]).value());
    const int64_t after = g_live_bytes.load();
    json = held = usage = dropped_json = 0;
    for (const auto& o : objects) {
      json += static_cast<double>(o->json().size());
      usage += static_cast<double>(o->MemoryUsage());
    }
    held = static_cast<double>(after - before);
    // The informer's transform: the dropped copy replaces the original.
    for (auto& o : objects) o = DropManagedFields(o);
    dropped_held = static_cast<double>(g_live_bytes.load() - before);
    for (const auto& o : objects) dropped_json += static_cast<double>(o->json().size());
  }
  state.counters["json_per_obj"] = json / static_cast<double>(n);
  state.counters["held_per_obj"] = held / static_cast<double>(n);
  state.counters["ratio"] = held / json;
  state.counters["usage_ratio"] = usage / held;
  state.counters["dropped_ratio"] = dropped_held / json;
  state.counters["dropped_own_ratio"] = dropped_held / dropped_json;
}
BENCHMARK(BM_HeldBytes)->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_DropManagedFields(benchmark::State& state) {
  std::vector<ObjectPtr> objects;
  for (size_t i = 0; i < 1000; ++i) objects.push_back(Object::Parse(Pods(1000)[i]).value());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(DropManagedFields(objects[i++ % objects.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DropManagedFields);

void BM_GetString(benchmark::State& state, const char* path) {
  std::vector<ObjectPtr> objects;
  for (size_t i = 0; i < 1000; ++i) objects.push_back(Object::Parse(Pods(1000)[i]).value());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(objects[i++ % objects.size()]->GetString(path));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_GetString, spec_nodeName, "spec.nodeName");
BENCHMARK_CAPTURE(BM_GetString, status_podIP, "status.podIP");
BENCHMARK_CAPTURE(BM_GetString, container_image, "/spec/containers/1/image");

void BM_LabelLookup(benchmark::State& state) {
  std::vector<ObjectPtr> objects;
  for (size_t i = 0; i < 1000; ++i) objects.push_back(Object::Parse(Pods(1000)[i]).value());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(objects[i++ % objects.size()]->labels().Get("pod-template-hash"));
  }
}
BENCHMARK(BM_LabelLookup);

}  // namespace
}  // namespace kube::bench

int main(int argc, char** argv) {
  benchmark::AddCustomContext("simdjson_implementation",
                              simdjson::get_active_implementation()->name());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Where a cached object's bytes go: objects, the transform, the store.
//
//   build/bench/cache_memory N [--drop-managed-fields] [--streaming] [--protobuf]
//
// `--protobuf` decodes the same list encoded in protobuf with the client's streaming protobuf
// list decoder (64 KB pieces), whose objects keep their protobuf message; ratios stay over the
// objects' JSON bytes.
// Decodes a PodList of N realistic Pods (bench/pod_generator.h) as the reflector does, applies
// `DropManagedFields` when asked (by default as the informer does today: the whole list is
// decoded, then each object is transformed as it enters the queue, then the list is released;
// `--streaming` drops each item right after it is decoded, as a streaming list decoder would),
// and files the objects in a `ThreadSafeStore` with the namespace index, as an informer does.
// After each step it prints, per object and as a ratio to the original JSON bytes:
//   heap   bytes held, counted by the replaced operator new (malloc_usable_size + 8-byte header)
//   rss    the process's RSS delta after malloc_trim(0), from before the list was decoded
// and, for one Pod, each allocation its decoding keeps (malloc_usable_size). Single thread, no
// server: the figures hold only the cache, without the HTTP and queue machinery of `bench/run.sh`.
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/protobuf_list_decoder.h"
#include "kube/cache/store.h"
#include "kube/cache/thread_safe_store.h"
#include "kube/object.h"
#include "kube/proto/protobuf.h"
#include "pod_generator.h"

namespace {
std::atomic<int64_t> g_live_bytes{0};
std::atomic<bool> g_trace{false};
// The allocations made while `g_trace` is on, and whether they were freed since (at most 64;
// single-threaded use).
struct Traced {
  void* p;
  size_t usable;
  bool freed;
};
Traced g_traced[64];
std::atomic<size_t> g_trace_count{0};

void* CountedAlloc(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  const size_t usable = malloc_usable_size(p);
  g_live_bytes.fetch_add(static_cast<int64_t>(usable + 8), std::memory_order_relaxed);
  if (g_trace.load(std::memory_order_relaxed)) {
    size_t i = g_trace_count.fetch_add(1, std::memory_order_relaxed);
    if (i < 64) g_traced[i] = {p, usable, false};
  }
  return p;
}

void CountedFree(void* p) noexcept {
  if (p == nullptr) return;
  for (size_t i = 0; i < std::min<size_t>(g_trace_count, 64); ++i) {
    if (g_traced[i].p == p) g_traced[i].freed = true;
  }
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

namespace {

int64_t TrimmedRss() {
  malloc_trim(0);
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "cache_memory: %s\n", what);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kube;  // NOLINT(build/namespaces)
  if (argc < 2) Die("usage: cache_memory N [--drop-managed-fields] [--streaming] [--protobuf]");
  const size_t n = std::strtoull(argv[1], nullptr, 10);
  bool drop = false, streaming = false, protobuf = false;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--drop-managed-fields") == 0) drop = true;
    if (std::strcmp(argv[i], "--streaming") == 0) streaming = true;
    if (std::strcmp(argv[i], "--protobuf") == 0) protobuf = true;
  }

  // One Pod's allocations that outlive its decoding (malloc_usable_size each), kept and dropped.
  {
    const std::string pod = bench::MakePodJson(7);
    (void)DropManagedFields(Object::Parse(pod).value());  // warm the thread's scratch
    auto traced = [](const char* what, auto make) {
      g_trace_count = 0;
      g_trace = true;
      ObjectPtr obj = make();
      g_trace = false;
      std::printf("%s: json=%zu MemoryUsage=%zu kept allocations:", what, obj->json().size(),
                  obj->MemoryUsage());
      for (size_t i = 0; i < std::min<size_t>(g_trace_count, 64); ++i) {
        if (!g_traced[i].freed) std::printf(" %zu", g_traced[i].usable);
      }
      std::printf("\n");
      g_trace_count = 0;
      return obj;
    };
    ObjectPtr obj = traced("one pod", [&] { return Object::Parse(pod).value(); });
    traced("one pod dropped", [&] { return DropManagedFields(obj); });
    const std::string pb = JsonToProtobuf(pod).value();
    (void)DecodeProtobufObject(pb).value();  // warm the thread's scratch
    ObjectPtr pobj =
        traced("one pod from protobuf", [&] { return DecodeProtobufObject(pb).value(); });
    std::printf("  its protobuf body: %zu bytes\n", pb.size());
    traced("one pod from protobuf dropped", [&] { return DropManagedFields(pobj); });
  }

  const int64_t rss0 = TrimmedRss();
  const int64_t heap0 = g_live_bytes.load();
  std::string body = bench::MakePodListJson(n);
  std::vector<ObjectPtr> objects;
  double json_bytes = 0;
  auto report = [&](const char* step) {
    const double heap = static_cast<double>(g_live_bytes.load() - heap0) / static_cast<double>(n);
    const double rss = static_cast<double>(TrimmedRss() - rss0) / static_cast<double>(n);
    const double json = json_bytes / static_cast<double>(n);
    std::printf("%-28s heap/obj=%7.0f (%.3fx)  rss/obj=%7.0f (%.3fx)\n", step, heap, heap / json,
                rss, rss / json);
  };

  if (protobuf) {
    // Encoded, and measured in JSON, on a thread of its own: the encoder's thread-local scratch
    // (as large as the body) goes with the thread.
    std::string pb;
    std::thread([&] {
      pb = JsonToProtobuf(body).value();
      auto list = DecodeList(body);  // only for the JSON bytes the ratios are over
      if (!list) Die("DecodeList failed");
      for (const auto& o : list->items) json_bytes += static_cast<double>(o->json().size());
    }).join();
    std::string().swap(body);
    internal::ProtobufListDecoder decoder;
    if (drop) {
      // The transform runs as each batch is handed on, as the informer applies it.
      decoder.SetItemSink(
          [&](std::vector<ObjectPtr> batch) {
            for (auto& o : batch) objects.push_back(DropManagedFields(o));
          },
          500);
    }
    constexpr size_t kPiece = 64 << 10;
    for (size_t i = 0; i < pb.size(); i += kPiece)
      decoder.Feed(std::string_view(pb).substr(i, kPiece));
    auto list = decoder.Finish();
    if (!list) Die("ProtobufListDecoder failed");
    for (auto& o : list->items) objects.push_back(drop ? DropManagedFields(o) : std::move(o));
    list->items.clear();
    std::string().swap(pb);
    size_t kept = 0, usage = 0;
    for (const auto& o : objects) {
      kept += ObjectKeepsProtobuf(*o) ? 1 : 0;
      usage += o->MemoryUsage();
    }
    std::printf("objects keeping protobuf: %zu of %zu; MemoryUsage/obj=%zu\n", kept, objects.size(),
                usage / std::max<size_t>(objects.size(), 1));
    report(drop ? "decoded+dropped (protobuf)" : "decoded (protobuf)");
  } else if (!streaming) {
    auto list = DecodeList(body);
    if (!list) Die("DecodeList failed");
    objects = std::move(list->items);
    for (const auto& o : objects) json_bytes += static_cast<double>(o->json().size());
    std::string().swap(body);
    report("decoded");
    if (drop) {
      // As the informer does today: the transform runs as each object enters the queue, and the
      // list's originals are released together afterwards.
      std::vector<ObjectPtr> out;
      out.reserve(objects.size());
      for (const auto& o : objects) out.push_back(DropManagedFields(o));
      report("dropped, originals alive");
      objects = std::move(out);
      report("dropped");
    }
  } else {
    // Item by item, dropping each right away (what a streaming decoder plus the transform give).
    auto list = DecodeList(body);  // only to cut the body into items
    if (!list) Die("DecodeList failed");
    std::vector<std::string> items;
    items.reserve(list->items.size());
    for (const auto& o : list->items) items.emplace_back(o->json());
    list->items.clear();
    std::string().swap(body);
    objects.reserve(n);
    for (const auto& item : items) {
      ObjectPtr o = Object::Parse(item).value();
      json_bytes += static_cast<double>(o->json().size());
      objects.push_back(drop ? DropManagedFields(o) : o);
    }
    // The item texts stand in for the stream's buffers: released before measuring.
    std::vector<std::string>().swap(items);
    report(drop ? "decoded+dropped per item" : "decoded per item");
  }

  auto store =
      ThreadSafeStore::Create(Indexers{{std::string(kNamespaceIndex), MetaNamespaceIndexFunc}});
  if (!store->Replace(std::move(objects), "1").ok()) Die("Replace failed");
  objects.clear();
  report("in the store (+ns index)");
  std::printf("json/obj=%.0f n=%zu\n", json_bytes / static_cast<double>(n), n);
  return 0;
}

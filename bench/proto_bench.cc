// Protobuf list decoding against the JSON path (docs/protobuf.md, "Speed"; docs/benchmarks.md).
//
//   ProtobufListDecoder/N   the client's streaming protobuf list decoder (what informers run):
//                           each item becomes an Object that keeps its protobuf message
//   JsonListDecoder/N       the client's streaming JSON list decoder on the same list's JSON
//   JsonList/N              DecodeList on the same JSON (the whole body at once)
//   ProtobufList/N          DecodeProtobufList + Object::Parse per item: transcode, then the JSON
//                           path (the eager way, what every protobuf object cost before objects
//                           kept their protobuf)
//   ProtobufToJson/N        DecodeProtobufList alone: the transcoding, no Objects
//   ProtobufJson/N          ProtobufListDecoder, then json() of every object (lazy transcoding)
//   JsonToProtobuf/N        JsonToProtobuf of the whole JSON list: what the embedded server pays
//                           to encode stored objects for a protobuf answer
// N = 0 is list/pods.pb recorded from kube-apiserver v1.32 (tests/proto/testdata) and its JSON
// twin; other N are N generated Pods (pod_generator.h), encoded with JsonToProtobuf.
// Times are per list; items_per_second gives the per-object rate. Run with
// --benchmark_repetitions=3 --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "client/list_decoder.h"
#include "client/protobuf_list_decoder.h"
#include "kube/object.h"
#include "kube/proto/protobuf.h"
#include "pod_generator.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Bodies {
  std::string pb;
  std::string json;
};

Bodies Load(int64_t n) {
  Bodies b;
  if (n == 0) {
    std::string dir = std::string(KUBE_PROTO_TESTDATA) + "/list/";
    b.pb = ReadFile(dir + "pods.pb");
    b.json = ReadFile(dir + "pods.json");
    return b;
  }
  b.json = kube::bench::MakePodListJson(static_cast<size_t>(n));
  auto pb = kube::JsonToProtobuf(b.json);
  if (pb) b.pb = std::move(*pb);
  return b;
}

void BM_ProtobufList(benchmark::State& state) {
  const Bodies b = Load(state.range(0));
  size_t items = 0;
  for (auto _ : state) {
    std::vector<kube::ObjectPtr> objects;
    kube::ProtobufListMeta meta;
    kube::Status st = kube::DecodeProtobufList(
        b.pb,
        [&](std::string_view item) {
          auto obj = kube::Object::Parse(item);
          if (!obj) return obj.error();
          objects.push_back(std::move(*obj));
          return kube::Status();
        },
        &meta);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    items = objects.size();
    benchmark::DoNotOptimize(objects);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items) * state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(b.pb.size()) * state.iterations());
}

void BM_ProtobufToJson(benchmark::State& state) {
  const Bodies b = Load(state.range(0));
  size_t items = 0;
  for (auto _ : state) {
    size_t bytes = 0;
    items = 0;
    kube::ProtobufListMeta meta;
    kube::Status st = kube::DecodeProtobufList(
        b.pb,
        [&](std::string_view item) {
          bytes += item.size();
          ++items;
          return kube::Status();
        },
        &meta);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items) * state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(b.pb.size()) * state.iterations());
}

void BM_JsonList(benchmark::State& state) {
  const Bodies b = Load(state.range(0));
  size_t items = 0;
  for (auto _ : state) {
    auto list = kube::DecodeList(b.json);
    if (!list) state.SkipWithError(list.error().message().c_str());
    items = list->items.size();
    benchmark::DoNotOptimize(list);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items) * state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(b.json.size()) * state.iterations());
}

// Feeds `body` in 64 KB pieces, as the HTTP client hands a body on.
template <typename Decoder>
kube::Result<kube::ObjectList> Stream(Decoder* d, std::string_view body) {
  constexpr size_t kPiece = 64 << 10;
  for (size_t i = 0; i < body.size(); i += kPiece) d->Feed(body.substr(i, kPiece));
  return d->Finish();
}

void BM_ProtobufListDecoder(benchmark::State& state) {
  const Bodies b = Load(state.range(0));
  size_t items = 0;
  for (auto _ : state) {
    kube::internal::ProtobufListDecoder d;
    auto list = Stream(&d, b.pb);
    if (!list) state.SkipWithError(list.error().message().c_str());
    items = list->items.size();
    benchmark::DoNotOptimize(list);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items) * state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(b.pb.size()) * state.iterations());
}

void BM_JsonListDecoder(benchmark::State& state) {
  const Bodies b = Load(state.range(0));
  size_t items = 0;
  for (auto _ : state) {
    kube::internal::ListDecoder d;
    auto list = Stream(&d, b.json);
    if (!list) state.SkipWithError(list.error().message().c_str());
    items = list->items.size();
    benchmark::DoNotOptimize(list);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items) * state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(b.json.size()) * state.iterations());
}

void BM_ProtobufJson(benchmark::State& state) {
  const Bodies b = Load(state.range(0));
  size_t items = 0;
  for (auto _ : state) {
    kube::internal::ProtobufListDecoder d;
    auto list = Stream(&d, b.pb);
    if (!list) state.SkipWithError(list.error().message().c_str());
    size_t bytes = 0;
    for (const kube::ObjectPtr& o : list->items) bytes += o->json().size();
    items = list->items.size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items) * state.iterations());
}

void BM_JsonToProtobuf(benchmark::State& state) {
  const Bodies b = Load(state.range(0));
  kube::ProtobufListMeta meta;
  size_t items = 0;
  kube::Status st = kube::DecodeProtobufList(
      b.pb, [&](std::string_view) { return ++items, kube::Status(); }, &meta);
  if (!st.ok()) state.SkipWithError(st.message().c_str());
  for (auto _ : state) {
    auto pb = kube::JsonToProtobuf(b.json);
    if (!pb) state.SkipWithError(pb.error().message().c_str());
    benchmark::DoNotOptimize(pb);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items) * state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(b.json.size()) * state.iterations());
}

// Arg 0 is the recorded list; others are generated Pods.
BENCHMARK(BM_ProtobufListDecoder)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JsonListDecoder)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JsonList)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ProtobufList)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ProtobufToJson)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ProtobufJson)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JsonToProtobuf)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

// Protobuf list decoding against the JSON path (docs/protobuf.md, "Speed").
//
//   ProtobufList/recorded   list/pods.pb recorded from kube-apiserver v1.32 (tests/proto/testdata):
//                           DecodeProtobufList, each item made an Object (Object::Parse)
//   JsonList/recorded       DecodeList on the same list's JSON twin
//   ProtobufToJson/recorded DecodeProtobufList alone: the transcoding, no Objects
//   .../N                   the same for N generated Pods (pod_generator.h), encoded with
//                           JsonToProtobuf
// Times are per list; items_per_second gives the per-object rate. Run with
// --benchmark_repetitions=3 --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

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

// Arg 0 is the recorded list; others are generated Pods.
BENCHMARK(BM_ProtobufList)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ProtobufToJson)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JsonList)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

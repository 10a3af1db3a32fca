// ListDecoder (src/client/list_decoder.h): a list body decoded while it arrives must give exactly
// what `DecodeList` gives for the whole body — the same list, or the same error — however the
// body is cut into pieces, and must not hold the body meanwhile.
#include "client/list_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/executor.h"
#include "kube/object.h"
#include "tests/testing/mutate_json.h"
#include "tests/testing/objects.h"

namespace kube::internal {
namespace {

using ::kube::testing::MakePod;
using ::kube::testing::PodOptions;

// A Pod as kubectl prints it: escapes, numbers, literals, nesting, whitespace.
constexpr std::string_view kPrettyPod = R"({
  "metadata": {
    "name": "web-7d4b9c8f5-x2x9q", "namespace": "prod", "resourceVersion": "123456",
    "generation": 3, "labels": {"app": "web", "tier": "fr\u00f8nt"},
    "annotations": {"note": "a \"quoted\" \\ value"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                         "uid": "u1", "controller": true}],
    "managedFields": [{"manager": "kcm", "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}}]
  },
  "spec": {"nodeName": "node-1", "ratio": 0.5, "paused": false, "nothing": null,
           "containers": [{"name": "main", "image": "nginx:1.25", "args": ["-g", "daemon off;"]}]},
  "status": {"phase": "Running"}
})";

std::string PodListBody(size_t n,
                        std::string_view header = R"("kind":"PodList","apiVersion":"v1",)"
                                                  R"("metadata":{"resourceVersion":"9"})") {
  std::string body = "{" + std::string(header) + R"(,"items":[)";
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) body += ',';
    body +=
        MakePod("default", "pod-" + std::to_string(i), PodOptions{.rv = std::to_string(i)})->json();
  }
  return body + "]}";
}

// Feeds `body` in pieces of `piece` bytes (0: whole).
Result<ObjectList> Stream(std::string_view body, size_t piece, ListDecoder* d) {
  if (piece == 0) piece = body.size() + 1;
  for (size_t i = 0; i < body.size(); i += piece) d->Feed(body.substr(i, piece));
  return d->Finish();
}

// The decoder under test decodes on the feeding thread, or, inside a `WithWorkers` scope, on
// a pool of workers with batches of `batch_items` items (small, so that a short list spans many
// batches in flight).
struct Workers {
  std::shared_ptr<Executor> pool;
  size_t batch_items = 0;
};
Workers g_workers;

class WithWorkers {
 public:
  explicit WithWorkers(size_t batch_items) {
    g_workers = {Executor::Create({.threads = 3, .max_threads = 3}), batch_items};
  }
  ~WithWorkers() { g_workers = {}; }
};

void Configure(ListDecoder* d) {
  if (g_workers.pool != nullptr) d->UseWorkers(g_workers.pool, g_workers.batch_items);
}

Result<ObjectList> Stream(std::string_view body, size_t piece) {
  ListDecoder d;
  Configure(&d);
  return Stream(body, piece, &d);
}

// The decoder's answer equals DecodeList's, field by field, or error by error.
void ExpectSameAsDecodeList(std::string_view body, const Result<ObjectList>& got) {
  Result<ObjectList> want = DecodeList(body);
  ASSERT_EQ(got.has_value(), want.has_value())
      << (want ? got.error().message() : want.error().message());
  if (!want) {
    EXPECT_EQ(got.error().code(), want.error().code());
    EXPECT_EQ(got.error().message(), want.error().message());
    return;
  }
  EXPECT_EQ(got->api_version, want->api_version);
  EXPECT_EQ(got->kind, want->kind);
  EXPECT_EQ(got->resource_version, want->resource_version);
  EXPECT_EQ(got->continue_token, want->continue_token);
  EXPECT_EQ(got->remaining_item_count, want->remaining_item_count);
  ASSERT_EQ(got->items.size(), want->items.size());
  for (size_t i = 0; i < want->items.size(); ++i) {
    EXPECT_EQ(got->items[i]->json(), want->items[i]->json()) << i;
    EXPECT_EQ(got->items[i]->kind(), want->items[i]->kind()) << i;
    EXPECT_EQ(got->items[i]->name(), want->items[i]->name()) << i;
  }
}

void ExpectSameInAnyPieces(std::string_view body) {
  for (size_t piece : {size_t{0}, size_t{1}, size_t{7}, size_t{64}}) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    ExpectSameAsDecodeList(body, Stream(body, piece));
  }
}

void CheckListsAndBadLists() {
  const std::string pod(kPrettyPod);
  const std::string_view cases[] = {
      // DecodeListTest's inputs.
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"991","continue":"tok",)"
      R"("remainingItemCount":42},"items":[{"metadata":{"name":"a","namespace":"ns"}},)"
      R"({"apiVersion":"v9","kind":"Custom","metadata":{"name":"b"}},{"kind":"Other"}]})",
      R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]})",
      R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[ ]})",
      R"({"kind":"PodList","apiVersion":"v1","items":null})",
      R"({"items":null,"kind":"PodList"})",
      R"({"kind":"List","apiVersion":"v1","items":[{}]})",
      R"({"kind":"PodList","apiVersion":"v1","it\u0065ms":[{"metadata":{"name":"a"}}]})",
      R"({"kind":"PodList","items":[{},{"metadata":{"name":1}}]})",
      R"({"kind":"PodList","items":[{},{},3]})",
      R"({"kind":"PodList","items":[{},{"a":tru}]})",
      R"({"kind":"PodList"})",
      R"({})",
      R"({"items":{}})",
      R"({"items":"x"})",
      R"([])",
      R"({"items":[],"metadata":{"resourceVersion":5}})",
      R"({"items":[],"metadata":{"remainingItemCount":"5"}})",
      R"({"items":[],"kind":1})",
      R"({"items":[],"metadata":[]})",
      R"({"items":[{} {}]})",
      R"({"items":[{},]})",
      R"({"items":[{}]} x)",
      R"({"items":[{}],})",
      R"({"items":[{}], "kind":tru})",
      R"({"items":[{}]])",
      "",
      "   ",
      R"({"kind":"PodList","apiVersion":"v\u0031","items":[{}]})",
      R"({"kind":"PodList","apiVersion":"v1","kind":"NodeList","items":[{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{"metadata":{"name":1}}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":1}}],"x":tru})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":1}} {}]})",
      // The streamed path: header first, then odd items, separators and endings.
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{}],"metadata":{"resourceVersion":"3"}})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{}],"metadata":{"resourceVersion":3}})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{},]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{}})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{}],})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},[],{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},"x",{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{"a":01},{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{},{"a":1},{"a":01}],"x":tru})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{}],"items":[{"b":2}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{}],"\u0069tems":[{"b":2}]})",
      R"({"kind":"PodList","apiVersion":"v1","\u0069tems":[{"b":2}],"items":[{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{}],"apiVersion":"v2","kind":"X"})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{}],"\u006bind":"X"})",
      R"({"kind":"PodList","apiVersion":1,"items":[{}]})",
      R"({"kind":"PodList","apiVersion":null,"items":[{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a\ud800"}}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]} )",
      R"( { "kind" : "PodList" , "apiVersion" : "v1" , "items" : [ { } , { } ] } )",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"s":"]}\"{["},{}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"a":"\x01"}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"a":1}}]})",
      R"({"kind":"PodList","apiVersion":"v1","items":[{"a":[}]})",
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"continue":"c"},"items":[{"b":1}])",
  };
  for (std::string_view body : cases) {
    SCOPED_TRACE(body);
    ExpectSameInAnyPieces(body);
  }
  const std::string pretty = R"({ "kind": "PodList", "apiVersion": "v1", "items": [
    )" + pod + ",\n    " + pod +
                             "\n  ],\n  \"metadata\": {\"resourceVersion\": \"12\"}\n}\n";
  SCOPED_TRACE(pretty);
  ExpectSameInAnyPieces(pretty);
}

TEST(ListDecoderTest, MatchesDecodeListOnListsAndBadLists) { CheckListsAndBadLists(); }

TEST(ListDecoderTest, WithWorkersMatchesDecodeListOnListsAndBadLists) {
  for (size_t batch_items : {size_t{1}, size_t{2}, size_t{128}}) {
    SCOPED_TRACE("batch_items " + std::to_string(batch_items));
    WithWorkers workers(batch_items);
    CheckListsAndBadLists();
  }
}

void CheckMutatedPodLists() {
  // As ObjectTest.AcceptsExactlyWhatSimdjsonAccepts does for one object: random edits anywhere
  // in a list of realistic Pods, fed in random pieces. Most edits break the JSON; the rest change
  // values, keys or the header.
  const std::string pod(kPrettyPod);
  const std::string base = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":)"
                           R"("5","continue":"x"},"items":[)" +
                           pod + "," + pod + "," + pod + "]}";
  std::mt19937 rng(7);
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    const std::string doc = ::kube::testing::MutateJson(base, rng);
    ListDecoder d;
    Configure(&d);
    for (size_t i = 0; i < doc.size();) {
      size_t piece = 1 + rng() % 300;
      d.Feed(std::string_view(doc).substr(i, piece));
      i += piece;
    }
    Result<ObjectList> got = d.Finish();
    accepted += got.has_value();
    SCOPED_TRACE(doc);
    ExpectSameAsDecodeList(doc, got);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 100);  // enough edits leave a valid list to compare
}

TEST(ListDecoderTest, MatchesDecodeListOnMutatedPodLists) { CheckMutatedPodLists(); }

TEST(ListDecoderTest, WithWorkersMatchesDecodeListOnMutatedPodLists) {
  WithWorkers workers(1);  // each Pod a batch of its own
  CheckMutatedPodLists();
}

void CheckEveryTruncation() {
  const std::string body = PodListBody(3);
  ASSERT_TRUE(DecodeList(body).has_value());
  for (size_t len = 0; len <= body.size(); ++len) {
    SCOPED_TRACE(len);
    std::string_view cut = std::string_view(body).substr(0, len);
    Result<ObjectList> got = Stream(cut, 5);
    EXPECT_EQ(got.has_value(), len == body.size());
    ExpectSameAsDecodeList(cut, got);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(ListDecoderTest, MatchesDecodeListOnEveryTruncation) { CheckEveryTruncation(); }

TEST(ListDecoderTest, WithWorkersMatchesDecodeListOnEveryTruncation) {
  WithWorkers workers(1);
  CheckEveryTruncation();
}

TEST(ListDecoderTest, HeaderAfterItemsDecodesTheSame) {
  // Not how API servers write lists: the decoder keeps the body and decodes it at the end.
  const std::string body =
      R"({"items":[{"metadata":{"name":"a"}}],"metadata":{"resourceVersion":"7"},)"
      R"("apiVersion":"v1","kind":"PodList"})";
  Result<ObjectList> got = Stream(body, 3);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->items.at(0)->json(),
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}})");
  ExpectSameAsDecodeList(body, got);
}

TEST(ListDecoderTest, DecodesItemsWhileTheBodyArrivesAndHoldsLittleOfIt) {
  const std::string body = PodListBody(2000);
  ListDecoder d;
  constexpr size_t kPiece = 16 * 1024;  // libcurl's write size
  for (size_t i = 0; i < body.size(); i += kPiece) {
    d.Feed(std::string_view(body).substr(i, kPiece));
    if (i == body.size() / 2 / kPiece * kPiece) {
      EXPECT_GT(d.items_decoded(), 900u) << "items wait for the end of the body";
    }
  }
  Result<ObjectList> list = d.Finish();
  ASSERT_TRUE(list) << list.error();
  ASSERT_EQ(list->items.size(), 2000u);
  EXPECT_EQ(list->items[1999]->name(), "pod-1999");
  EXPECT_EQ(list->items[1999]->kind(), "Pod");
  EXPECT_EQ(list->resource_version, "9");
  // A piece, the item in progress and the header: far below the body's size.
  EXPECT_LT(d.peak_held_bytes(), 4 * kPiece) << "body " << body.size();
  EXPECT_GT(body.size(), 20 * kPiece);
}

TEST(ListDecoderTest, AnItemInManySmallPiecesIsFoundOnce) {
  // A 1 MiB item in 100-byte pieces: the end is searched for each time the item doubles, so
  // it holds at most about twice the item.
  const std::string big =
      R"({"metadata":{"name":"big"},"data":{"k":")" + std::string(size_t{1} << 20, 'x') + R"("}})";
  const std::string body = R"({"kind":"ConfigMapList","apiVersion":"v1","items":[{},)" + big +
                           R"(,{}],"metadata":{"resourceVersion":"4"}})";
  ListDecoder d;
  Result<ObjectList> got = Stream(body, 100, &d);
  ASSERT_TRUE(got) << got.error();
  ASSERT_EQ(got->items.size(), 3u);
  EXPECT_EQ(got->items[1]->name(), "big");
  EXPECT_EQ(got->items[1]->kind(), "ConfigMap");
  EXPECT_LT(d.peak_held_bytes(), 3 * big.size());
  ExpectSameAsDecodeList(body, got);
}

// A huge member before `items` (a server's, or an attacker's 100 MB `metadata`) in small pieces:
// it is searched again only each time it doubles, so the work is linear (re-searching it at every
// piece took 5 s for 16 MiB and hours for the body limit).
std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ListDecoderTest, AHugeHeaderMemberInManySmallPiecesIsScannedLinearly) {
  const std::string filler(size_t{4} << 20, 'a');
  for (const std::string& member :
       {R"("metadata":{"resourceVersion":"4","x":")" + filler + R"("})",
        R"("x)" + filler + R"(":1)", R"("x":[)" + Repeat("1,", filler.size() / 2) + "1]"}) {
    const std::string body = R"({"kind":"ConfigMapList","apiVersion":"v1",)" + member +
                             R"(,"items":[{"metadata":{"name":"a"}}]})";
    ListDecoder d;
    Result<ObjectList> got = Stream(body, 1000, &d);
    ASSERT_TRUE(got) << got.error();
    ASSERT_EQ(got->items.size(), 1u);
    EXPECT_EQ(got->items[0]->name(), "a");
    EXPECT_LT(d.HeaderBytesScannedForTesting(), 4 * body.size());
    ExpectSameAsDecodeList(body, got);
  }
}

void CheckDeepItems();

TEST(ListDecoderTest, DeepItemsGiveTheSameVerdict) { CheckDeepItems(); }

TEST(ListDecoderTest, WithWorkersDeepItemsGiveTheSameVerdict) {
  WithWorkers workers(1);
  CheckDeepItems();
}

void CheckDeepItems() {
  // An item 1,023 levels deep decodes alone, but not inside a list body under simdjson's DOM
  // (1,024 levels): whether a later fault reports "malformed JSON" for the depth or for the
  // fault must match DecodeList, so the decoder keeps such items instead of dropping them.
  const std::string deep = R"({"a":)" + std::string(1022, '[') + std::string(1022, ']') + "}";
  const std::string head = R"({"kind":"PodList","apiVersion":"v1","items":[{},)";
  // Brackets inside strings do not nest: such an item is streamed like any other.
  const std::string braces =
      R"({"data":")" + std::string(3000, '{') + std::string(3000, '[') + R"(","more":{"x":[1]}})";
  for (const std::string& body :
       {head + deep + "]}", head + deep + R"(],"x":tru})", head + deep + R"(,{}] x)",
        head + "{}," + deep + "]}}", head + braces + "]}", head + braces + R"(],"x":tru})"}) {
    SCOPED_TRACE(body.substr(body.size() - 20));
    ExpectSameInAnyPieces(body);
  }
}

// With a sink, the items handed on in batches and then the ones `Finish` returns are exactly
// DecodeList's, in order; a broken body gives DecodeList's error.
void ExpectSameWithSink(std::string_view body, size_t piece, size_t batch) {
  ListDecoder d;
  Configure(&d);
  std::vector<ObjectPtr> handed;
  size_t batches = 0;
  d.SetItemSink(
      [&](std::vector<ObjectPtr> items) {
        EXPECT_FALSE(items.empty());
        EXPECT_LE(items.size(), batch);
        ++batches;
        for (ObjectPtr& o : items) handed.push_back(std::move(o));
      },
      batch);
  Result<ObjectList> got = Stream(body, piece, &d);
  Result<ObjectList> want = DecodeList(body);
  ASSERT_EQ(got.has_value(), want.has_value());
  if (!want) {
    EXPECT_EQ(got.error().message(), want.error().message());
    return;
  }
  EXPECT_EQ(got->resource_version, want->resource_version);
  EXPECT_EQ(got->continue_token, want->continue_token);
  for (ObjectPtr& o : got->items) handed.push_back(std::move(o));
  ASSERT_EQ(handed.size(), want->items.size());
  for (size_t i = 0; i < handed.size(); ++i) EXPECT_EQ(handed[i]->json(), want->items[i]->json());
}

TEST(ListDecoderTest, SinkGetsBatchesWhileTheBodyArrives) {
  const std::string body = PodListBody(2100);
  ListDecoder d;
  std::vector<size_t> sizes;
  d.SetItemSink([&](std::vector<ObjectPtr> items) { sizes.push_back(items.size()); }, 500);
  const size_t piece = 16 * 1024;
  size_t fed = 0;
  for (; fed + piece < body.size(); fed += piece) d.Feed(std::string_view(body).substr(fed, piece));
  // Before the last piece the batches are out: nothing waited for the end of the body.
  EXPECT_GE(sizes.size(), 3u);
  d.Feed(std::string_view(body).substr(fed));
  Result<ObjectList> list = d.Finish();
  ASSERT_TRUE(list.has_value()) << list.error();
  EXPECT_EQ(sizes, (std::vector<size_t>{500, 500, 500, 500}));
  ASSERT_EQ(list->items.size(), 100u);
  EXPECT_EQ(list->items.front()->name(), "pod-2000");
  EXPECT_EQ(list->items.back()->name(), "pod-2099");
}

void CheckSinkAndFinish() {
  for (size_t batch : {size_t{1}, size_t{2}, size_t{500}}) {
    for (size_t piece : {size_t{0}, size_t{1}, size_t{64}}) {
      SCOPED_TRACE("batch " + std::to_string(batch) + ", piece " + std::to_string(piece));
      ExpectSameWithSink(PodListBody(5), piece, batch);
      ExpectSameWithSink(PodListBody(0), piece, batch);
      // An item that fails after some were handed on: DecodeList's error, nothing else returned.
      std::string broken = PodListBody(5);
      broken.insert(broken.size() - 2, ",{\"x\":tru}");
      ExpectSameWithSink(broken, piece, batch);
      // A body cut inside the third item.
      const std::string full = PodListBody(5);
      ExpectSameWithSink(std::string_view(full).substr(0, full.size() * 3 / 5), piece, batch);
      // An item nested so deep the decoder keeps the rest of the body (placeholders).
      std::string deep = PodListBody(4);
      const std::string nest =
          "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"deep\"},\"x\":" + std::string(1100, '[') +
          std::string(1100, ']') + "}";
      deep.insert(deep.size() - 2, "," + nest);
      ExpectSameWithSink(deep, piece, batch);
    }
  }
}

TEST(ListDecoderTest, SinkAndFinishTogetherMatchDecodeList) { CheckSinkAndFinish(); }

TEST(ListDecoderTest, WithWorkersSinkAndFinishTogetherMatchDecodeList) {
  for (size_t batch_items : {size_t{1}, size_t{3}}) {
    SCOPED_TRACE("batch_items " + std::to_string(batch_items));
    WithWorkers workers(batch_items);
    CheckSinkAndFinish();
  }
}

TEST(ListDecoderTest, WithWorkersItemsKeepListOrderAndSinkBatches) {
  // Many small batches on three workers finish in any order; the list's order holds, the sink
  // gets full batches, and what is in flight stays bounded.
  const std::string body = PodListBody(10100);
  for (size_t batch_items : {size_t{1}, size_t{7}, size_t{128}}) {
    SCOPED_TRACE("batch_items " + std::to_string(batch_items));
    WithWorkers workers(batch_items);
    ListDecoder d;
    Configure(&d);
    std::vector<ObjectPtr> handed;
    std::vector<size_t> sizes;
    d.SetItemSink(
        [&](std::vector<ObjectPtr> items) {
          sizes.push_back(items.size());
          for (ObjectPtr& o : items) handed.push_back(std::move(o));
        },
        500);
    Result<ObjectList> list = Stream(body, 16 * 1024, &d);
    ASSERT_TRUE(list) << list.error();
    EXPECT_EQ(sizes, std::vector<size_t>(20, 500));
    for (ObjectPtr& o : list->items) handed.push_back(std::move(o));
    ASSERT_EQ(handed.size(), 10100u);
    for (size_t i = 0; i < handed.size(); ++i) {
      ASSERT_EQ(handed[i]->name(), "pod-" + std::to_string(i));
      ASSERT_EQ(handed[i]->kind(), "Pod");
    }
    EXPECT_EQ(list->resource_version, "9");
    // At most the window's batches, the piece and the item in progress: far below the body.
    EXPECT_LT(d.peak_held_bytes(), body.size() / 4) << "body " << body.size();
  }
}

TEST(ListDecoderTest, WithWorkersADecoderDroppedMidListLeavesNothingBehind) {
  // A list abandoned while batches are in flight (the request was stopped): the decoder goes
  // without waiting; queued batches are skipped, a running one finishes on its worker.
  auto pool = Executor::Create({.threads = 2, .max_threads = 2});
  const std::string body = PodListBody(500);
  for (size_t cut : {body.size() / 3, body.size() / 2, body.size() - 10}) {
    auto d = std::make_unique<ListDecoder>();
    d->UseWorkers(pool, 1);
    size_t handed = 0;
    d->SetItemSink([&](std::vector<ObjectPtr> items) { handed += items.size(); }, 10);
    for (size_t i = 0; i < cut; i += 4096) {
      d->Feed(std::string_view(body).substr(i, std::min<size_t>(4096, cut - i)));
    }
    d.reset();
  }
  // Every task has run (skipped or finished) once the pool has drained: under ASan or TSan a
  // batch freed too early, or raced on, fails here.
  pool->Shutdown();
}

}  // namespace
}  // namespace kube::internal

// Tests for ProtobufListDecoder: recorded kube-apiserver protobuf lists decoded while they arrive
// give the same list as the whole body transcoded and decoded at once, split at every byte;
// one item is held at a time; truncation, corruption and unknown kinds are typed errors.
#include "client/protobuf_list_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/executor.h"
#include "kube/proto/protobuf.h"
#include "proto/wire.h"

namespace kube::internal {
namespace {

using ::testing::HasSubstr;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(KUBE_PROTO_TESTDATA) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The list as the whole-body path decodes it: transcoded to JSON, then `DecodeList`.
Result<ObjectList> WholeBody(std::string_view body) {
  Result<std::string> json = ProtobufToJson(body);
  if (!json) return json.error();
  return DecodeList(*json);
}

Result<ObjectList> Streamed(std::string_view body, const std::vector<size_t>& cuts,
                            ProtobufListDecoder* decoder = nullptr) {
  ProtobufListDecoder local;
  ProtobufListDecoder& d = decoder != nullptr ? *decoder : local;
  size_t at = 0;
  for (size_t cut : cuts) {
    d.Feed(body.substr(at, cut - at));
    at = cut;
  }
  d.Feed(body.substr(at));
  return d.Finish();
}

// Items compared by what a consumer reads: TypeMeta (the whole-body JSON omits it in items and
// `DecodeList` fills it in), metadata and the whole object's other members.
void ExpectSameList(const ObjectList& got, const ObjectList& want) {
  EXPECT_EQ(got.api_version, want.api_version);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.resource_version, want.resource_version);
  EXPECT_EQ(got.continue_token, want.continue_token);
  EXPECT_EQ(got.remaining_item_count, want.remaining_item_count);
  ASSERT_EQ(got.items.size(), want.items.size());
  for (size_t i = 0; i < got.items.size(); ++i) {
    SCOPED_TRACE("item " + std::to_string(i));
    const Object& g = *got.items[i];
    const Object& w = *want.items[i];
    EXPECT_EQ(g.kind(), w.kind());
    EXPECT_EQ(g.api_version(), w.api_version());
    EXPECT_EQ(g.ns(), w.ns());
    EXPECT_EQ(g.name(), w.name());
    EXPECT_EQ(g.uid(), w.uid());
    EXPECT_EQ(g.resource_version(), w.resource_version());
    EXPECT_EQ(g.json(), w.json());  // the same object, byte for byte
  }
}

std::vector<std::string> ListSamples() {
  std::vector<std::string> names;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(KUBE_PROTO_TESTDATA) + "/list")) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".pb")) names.push_back("list/" + name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ProtobufListDecoderTest, RecordedListsDecodeAsTheWholeBodyDoes) {
  int lists = 0;
  for (const std::string& name : ListSamples()) {
    SCOPED_TRACE(name);
    std::string body = ReadTestdata(name);
    Result<ObjectList> want = WholeBody(body);
    Result<ObjectList> got = Streamed(body, {});
    ASSERT_EQ(got.has_value(), want.has_value()) << (got ? want.error() : got.error());
    if (!want) {
      EXPECT_EQ(got.error().code(), want.error().code());  // a Status body is not a list
      continue;
    }
    ++lists;
    ExpectSameList(*got, *want);
  }
  EXPECT_GE(lists, 20);
}

TEST(ProtobufListDecoderTest, SplitAtEveryByteGivesTheSameList) {
  for (const char* name : {"list/pods.limit2.pb", "list/configmaps.limit2.page2.pb"}) {
    SCOPED_TRACE(name);
    std::string body = ReadTestdata(name);
    Result<ObjectList> want = WholeBody(body);
    ASSERT_TRUE(want) << want.error();
    for (size_t cut = 0; cut <= body.size(); ++cut) {
      SCOPED_TRACE("cut at " + std::to_string(cut));
      Result<ObjectList> got = Streamed(body, {cut});
      ASSERT_TRUE(got) << got.error();
      ExpectSameList(*got, *want);
    }
    // And one byte at a time.
    std::vector<size_t> every(body.size());
    for (size_t i = 0; i < body.size(); ++i) every[i] = i;
    Result<ObjectList> got = Streamed(body, every);
    ASSERT_TRUE(got) << got.error();
    ExpectSameList(*got, *want);
  }
}

TEST(ProtobufListDecoderTest, TruncatedAtEveryByteIsAnErrorNamingWhere) {
  std::string body = ReadTestdata("list/pods.limit2.pb");
  // The envelope ends with empty contentEncoding and contentType fields (3 and 4). A body without
  // them is complete (they are empty by default), as for Go's decoder; everything before them is
  // needed.
  const std::string kTail("\x1a\x00\x22\x00", 4);
  ASSERT_TRUE(body.ends_with(kTail));
  const size_t raw_end = body.size() - kTail.size();
  EXPECT_TRUE(Streamed(body.substr(0, raw_end), {}));
  EXPECT_FALSE(Streamed(body.substr(0, raw_end + 1), {}));  // inside a field header
  EXPECT_TRUE(Streamed(body.substr(0, raw_end + 2), {}));
  EXPECT_FALSE(Streamed(body.substr(0, raw_end + 3), {}));
  for (size_t n = 0; n < raw_end; ++n) {
    SCOPED_TRACE("truncated to " + std::to_string(n));
    Result<ObjectList> got = Streamed(body.substr(0, n), {n / 2});
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(got.error().message(), HasSubstr("protobuf"));
  }
  Result<ObjectList> mid = Streamed(body.substr(0, body.size() - 100), {});
  ASSERT_FALSE(mid);
  EXPECT_THAT(mid.error().message(), HasSubstr("truncated at byte"));
  EXPECT_THAT(mid.error().message(), HasSubstr("items[1]"));
}

// A PodList of `n` Pods, each with a distinct name and a sizeable label, in protobuf.
std::string BigPodList(int n, size_t* largest_item) {
  std::string json =
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[)";
  for (int i = 0; i < n; ++i) {
    if (i > 0) json += ',';
    json += R"({"metadata":{"name":"pod-)" + std::to_string(i) +
            R"(","namespace":"default","labels":{"blob":")" + std::string(200, 'x') +
            R"("}},"spec":{"containers":[{"name":"c","image":"nginx"}]}})";
  }
  json += "]}";
  Result<std::string> body = JsonToProtobuf(json);
  EXPECT_TRUE(body) << body.error();
  *largest_item = 400;  // well above one Pod's message (~260 bytes)
  return body ? *body : std::string();
}

TEST(ProtobufListDecoderTest, HoldsOneItemAtATime) {
  size_t largest_item = 0;
  std::string body = BigPodList(500, &largest_item);
  ASSERT_GT(body.size(), size_t{100000});
  ProtobufListDecoder decoder;
  std::vector<size_t> cuts;
  for (size_t at = 1000; at < body.size(); at += 1000) cuts.push_back(at);
  Result<ObjectList> got = Streamed(body, cuts, &decoder);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->items.size(), 500u);
  EXPECT_EQ(got->resource_version, "9");
  EXPECT_EQ(got->items[499]->name(), "pod-499");
  EXPECT_LT(decoder.peak_held_bytes(), largest_item + 200);
}

TEST(ProtobufListDecoderTest, ItemSinkGetsBatchesWhileTheBodyArrives) {
  size_t largest_item = 0;
  std::string body = BigPodList(100, &largest_item);
  ProtobufListDecoder decoder;
  std::vector<size_t> batch_sizes;
  size_t fed_at_first_batch = 0;
  size_t fed = 0;
  decoder.SetItemSink(
      [&](std::vector<ObjectPtr> items) {
        if (batch_sizes.empty()) fed_at_first_batch = fed;
        batch_sizes.push_back(items.size());
      },
      30);
  for (size_t at = 0; at < body.size(); at += 512) {
    fed = at;
    decoder.Feed(std::string_view(body).substr(at, 512));
  }
  EXPECT_EQ(decoder.items_decoded(), 100u);
  Result<ObjectList> rest = decoder.Finish();
  ASSERT_TRUE(rest) << rest.error();
  EXPECT_THAT(batch_sizes, ::testing::ElementsAre(30, 30, 30));
  EXPECT_EQ(rest->items.size(), 10u);  // the items not handed on
  EXPECT_EQ(rest->items.back()->name(), "pod-99");
  EXPECT_LT(fed_at_first_batch, body.size() / 2);
}

// A body whose envelope names (apiVersion, kind) over `raw`.
std::string Enveloped(std::string_view api_version, std::string_view kind, std::string_view raw) {
  std::string type_meta;
  proto::PutBytesField(1, api_version, &type_meta);
  proto::PutBytesField(2, kind, &type_meta);
  std::string body(kProtobufMagic);
  proto::PutBytesField(1, type_meta, &body);
  proto::PutBytesField(2, raw, &body);
  return body;
}

TEST(ProtobufListDecoderTest, UnknownKindIsNotFoundAndFlagged) {
  ProtobufListDecoder decoder;
  decoder.Feed(Enveloped("v1", "FrobList", "\x0a\x00"));
  Result<ObjectList> got = decoder.Finish();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(got.error().message(), HasSubstr("\"FrobList\""));
  EXPECT_TRUE(decoder.unknown_kind());
}

TEST(ProtobufListDecoderTest, CorruptItemNamesTheItemAndTheField) {
  size_t largest_item = 0;
  std::string body = BigPodList(3, &largest_item);
  // The second item's `metadata.name` (field 1, length-delimited: tag 0x0a, length 5, "pod-1")
  // becomes a varint field.
  size_t second = body.find("pod-1");
  ASSERT_NE(second, std::string::npos);
  ASSERT_EQ(body.substr(second - 2, 2), std::string("\x0a\x05"));
  body[second - 2] = '\x08';
  Result<ObjectList> got = Streamed(body, {body.size() / 3});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message(), HasSubstr("PodList: items[1]"));
  EXPECT_THAT(got.error().message(), HasSubstr("Pod.metadata"));
}

TEST(ProtobufListDecoderTest, DeclaredLengthsAreCheckedBeforeAnythingIsBuffered) {
  std::string type_meta;
  proto::PutBytesField(1, "v1", &type_meta);
  proto::PutBytesField(2, "PodList", &type_meta);
  std::string head(kProtobufMagic);
  proto::PutBytesField(1, type_meta, &head);
  {
    // raw declares 2^40 bytes: refused when its length is read.
    std::string body = head;
    proto::PutTag(2, proto::kBytes, &body);
    proto::PutVarint(uint64_t{1} << 40, &body);
    ProtobufListDecoder decoder;
    decoder.Feed(body);
    EXPECT_LT(decoder.peak_held_bytes(), size_t{100});
    Result<ObjectList> got = decoder.Finish();
    ASSERT_FALSE(got);
    EXPECT_THAT(got.error().message(), HasSubstr("over the limit"));
  }
  {
    // An item that declares more bytes than its list message has.
    std::string raw;
    proto::PutTag(2, proto::kBytes, &raw);
    proto::PutVarint(1000, &raw);
    raw += "abc";
    ProtobufListDecoder decoder;
    decoder.Feed(Enveloped("v1", "PodList", raw));
    Result<ObjectList> got = decoder.Finish();
    ASSERT_FALSE(got);
    EXPECT_THAT(got.error().message(), HasSubstr("declares 1000 bytes, but only 3 remain"));
  }
}

TEST(ProtobufListDecoderTest, NotProtobufIsAnError) {
  Result<ObjectList> got = Streamed(R"({"kind":"PodList"})", {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message(), HasSubstr("magic"));
  EXPECT_FALSE(Streamed("k8", {}));
}

// Found by fuzz/protobuf_list_decoder_fuzz.cc: the envelope's fields 1-4 with another wire type
// were skipped as unknown fields, where the whole-body path refuses them.
TEST(ProtobufListDecoderTest, EnvelopeFieldsOfTheWrongWireTypeAreRefusedAsTheWholeBodyDoes) {
  const std::string list = ReadTestdata("list/configmaps.pb");
  for (uint8_t number : {1, 2, 3, 4}) {
    for (std::string_view field :
         {std::string_view("\x00\x01", 2), std::string_view("\x05\x00\x00\x00\x00", 5)}) {
      std::string body = list;
      body.push_back(static_cast<char>((number << 3) | field[0]));
      body.append(field.substr(1));
      SCOPED_TRACE(std::to_string(number) + " wire " + std::to_string(field[0]));
      Result<ObjectList> want = WholeBody(body);
      ASSERT_FALSE(want.has_value());
      Result<ObjectList> got = Streamed(body, {});
      ASSERT_FALSE(got.has_value());
      EXPECT_EQ(got.error().message(), want.error().message());
    }
  }
}

TEST(ProtobufPiecesTest, KnowsBuiltInGroupVersionsAndListShapes) {
  EXPECT_TRUE(HasProtobufGroupVersion("v1"));
  EXPECT_TRUE(HasProtobufGroupVersion("apps/v1"));
  EXPECT_TRUE(HasProtobufGroupVersion("coordination.k8s.io/v1"));
  EXPECT_FALSE(HasProtobufGroupVersion("example.com/v1"));
  EXPECT_FALSE(HasProtobufGroupVersion("apps/v1beta9"));
  EXPECT_FALSE(HasProtobufGroupVersion(""));

  Result<ProtobufListShape> pods = LookupProtobufListShape("v1", "PodList");
  ASSERT_TRUE(pods) << pods.error();
  EXPECT_EQ(pods->items_field, 2u);
  EXPECT_EQ(pods->item_kind, "Pod");
  EXPECT_FALSE(pods->items_have_type_meta);
  Result<ProtobufListShape> meta =
      LookupProtobufListShape("meta.k8s.io/v1", "PartialObjectMetadataList");
  ASSERT_TRUE(meta) << meta.error();
  EXPECT_TRUE(meta->items_have_type_meta);
  for (auto [av, kind] : {std::pair<const char*, const char*>{"v1", "Pod"},
                          {"v1", "FrobList"},
                          {"example.com/v1", "WidgetList"},
                          {"v1", "List"}}) {
    SCOPED_TRACE(kind);
    Result<ProtobufListShape> none = LookupProtobufListShape(av, kind);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
  }
}

TEST(ProtobufPiecesTest, MessageDecoderWritesOneItemWithOrWithoutTypeMeta) {
  const std::string body = ReadTestdata("get/configmap.pb");  // the envelope's views point into it
  Result<ProtobufEnvelope> env = ParseProtobufEnvelope(body);
  ASSERT_TRUE(env) << env.error();
  ProtobufMessageDecoder decoder;
  std::string with, without;
  ASSERT_TRUE(decoder.AppendAsJson("v1", "ConfigMap", env->raw, &with).ok());
  ASSERT_TRUE(decoder.AppendAsJson("v1", "ConfigMap", env->raw, &without, false).ok());
  Result<std::string> whole = ProtobufToJson(ReadTestdata("get/configmap.pb"));
  ASSERT_TRUE(whole);
  EXPECT_EQ(with, *whole);
  EXPECT_EQ(R"({"kind":"ConfigMap","apiVersion":"v1",)" + without.substr(1), with);
  std::string out;
  Status unknown = decoder.AppendAsJson("v1", "Frob", env->raw, &out);
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  Status bad = decoder.AppendAsJson("v1", "ConfigMap",
                                    std::string_view("\x0a\x05"
                                                     "ab",
                                                     4),
                                    &out);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("ConfigMap"));
}

TEST(ProtobufListDecoderTest, RecognisesProtobufContentTypes) {
  EXPECT_TRUE(IsProtobufContentType("application/vnd.kubernetes.protobuf"));
  EXPECT_TRUE(IsProtobufContentType("application/vnd.kubernetes.protobuf;stream=watch"));
  EXPECT_TRUE(IsProtobufContentType("Application/VND.kubernetes.protobuf ; charset=x"));
  EXPECT_FALSE(IsProtobufContentType("application/json"));
  EXPECT_FALSE(IsProtobufContentType(""));
  EXPECT_FALSE(IsProtobufContentType("application/vnd.kubernetes.protobuf-x"));
}

}  // namespace
}  // namespace kube::internal

namespace kube::internal {
namespace {

// The same body decoded on the feeding thread and on workers (in batches of `batch_items`, cut
// at `cuts`): the same list, or the same error (code and message), and the same items handed on.
void ExpectWorkersDecodeAsSerial(std::string_view body, const std::vector<size_t>& cuts,
                                 const std::shared_ptr<Executor>& pool, size_t batch_items) {
  ProtobufListDecoder serial;
  ProtobufListDecoder parallel;
  parallel.UseWorkers(pool, batch_items);
  std::vector<std::string> serial_handed;
  std::vector<std::string> parallel_handed;
  serial.SetItemSink(
      [&](std::vector<ObjectPtr> items) {
        for (const ObjectPtr& o : items) serial_handed.emplace_back(o->name());
      },
      3);
  parallel.SetItemSink(
      [&](std::vector<ObjectPtr> items) {
        for (const ObjectPtr& o : items) parallel_handed.emplace_back(o->name());
      },
      3);
  Result<ObjectList> want = Streamed(body, cuts, &serial);
  Result<ObjectList> got = Streamed(body, cuts, &parallel);
  ASSERT_EQ(got.has_value(), want.has_value()) << (got ? want.error() : got.error());
  EXPECT_EQ(parallel.unknown_kind(), serial.unknown_kind());
  EXPECT_EQ(parallel_handed, serial_handed);
  if (!want) {
    EXPECT_EQ(got.error().code(), want.error().code());
    EXPECT_EQ(got.error().message(), want.error().message());
    return;
  }
  ExpectSameList(*got, *want);
}

TEST(ProtobufListDecoderTest, WithWorkersRecordedListsDecodeAsSerially) {
  auto pool = Executor::Create({.threads = 3, .max_threads = 3});
  for (const std::string& name : ListSamples()) {
    SCOPED_TRACE(name);
    const std::string body = ReadTestdata(name);
    for (size_t batch_items : {size_t{1}, size_t{128}}) {
      ExpectWorkersDecodeAsSerial(body, {}, pool, batch_items);
      ExpectWorkersDecodeAsSerial(body, {body.size() / 3, body.size() / 2}, pool, batch_items);
      std::vector<size_t> sevens;
      for (size_t at = 7; at < body.size(); at += 7) sevens.push_back(at);
      ExpectWorkersDecodeAsSerial(body, sevens, pool, batch_items);
    }
  }
}

TEST(ProtobufListDecoderTest, WithWorkersEveryCorruptOrTruncatedBodyFailsAsSerially) {
  // Each byte of a 12-Pod list flipped, and the list cut at every byte: whatever fails first in
  // body order (an item's decode on a worker, or the framing on the feeding thread) is the
  // error, as without workers.
  auto pool = Executor::Create({.threads = 3, .max_threads = 3});
  size_t largest_item = 0;
  const std::string body = BigPodList(12, &largest_item);
  for (size_t i = 0; i < body.size(); ++i) {
    SCOPED_TRACE("byte " + std::to_string(i));
    std::string bad = body;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    ExpectWorkersDecodeAsSerial(bad, {}, pool, 2);
    ExpectWorkersDecodeAsSerial(std::string_view(body).substr(0, i), {i / 2}, pool, 1);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(ProtobufListDecoderTest, WithWorkersAnItemErrorWinsOverALaterBrokenBody) {
  auto pool = Executor::Create({.threads = 2, .max_threads = 2});
  size_t largest_item = 0;
  std::string body = BigPodList(300, &largest_item);
  const size_t at = body.find("pod-1");
  ASSERT_EQ(body.substr(at - 2, 2), std::string("\x0a\x05"));
  body[at - 2] = '\x08';  // items[1]'s metadata.name becomes a varint
  // ... and the body is cut short far later: the item error still wins.
  body.resize(body.size() - 1000);
  ProtobufListDecoder decoder;
  decoder.UseWorkers(pool, 1);
  Result<ObjectList> got = Streamed(body, {body.size() / 2}, &decoder);
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message(), HasSubstr("PodList: items[1]"));
}

TEST(ProtobufListDecoderTest, WithWorkersItemsKeepListOrder) {
  auto pool = Executor::Create({.threads = 3, .max_threads = 3});
  size_t largest_item = 0;
  const std::string body = BigPodList(5000, &largest_item);
  for (size_t batch_items : {size_t{1}, size_t{5}, size_t{128}}) {
    ProtobufListDecoder decoder;
    decoder.UseWorkers(pool, batch_items);
    std::vector<ObjectPtr> handed;
    decoder.SetItemSink(
        [&](std::vector<ObjectPtr> items) {
          EXPECT_EQ(items.size(), 300u);
          for (ObjectPtr& o : items) handed.push_back(std::move(o));
        },
        300);
    std::vector<size_t> cuts;
    for (size_t at = 16384; at < body.size(); at += 16384) cuts.push_back(at);
    Result<ObjectList> got = Streamed(body, cuts, &decoder);
    ASSERT_TRUE(got) << got.error();
    for (ObjectPtr& o : got->items) handed.push_back(std::move(o));
    ASSERT_EQ(handed.size(), 5000u);
    for (size_t i = 0; i < handed.size(); ++i) {
      ASSERT_EQ(handed[i]->name(), "pod-" + std::to_string(i));
    }
    // The window's batches and the batch being gathered: far below the body.
    EXPECT_LT(decoder.peak_held_bytes(), body.size() / 4) << body.size();
  }
}

TEST(ProtobufListDecoderTest, WithWorkersADecoderDroppedMidListLeavesNothingBehind) {
  auto pool = Executor::Create({.threads = 2, .max_threads = 2});
  size_t largest_item = 0;
  const std::string body = BigPodList(400, &largest_item);
  for (size_t cut : {body.size() / 3, body.size() - 10}) {
    auto decoder = std::make_unique<ProtobufListDecoder>();
    decoder->UseWorkers(pool, 1);
    decoder->Feed(std::string_view(body).substr(0, cut));
    decoder.reset();
  }
  pool->Shutdown();  // every task ran or was skipped: ASan/TSan see any early free or race
}

}  // namespace
}  // namespace kube::internal

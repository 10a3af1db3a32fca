// Objects decoded from protobuf (DecodeProtobufObject, ProtobufMessageDecoder::DecodeObject,
// ProtobufWatchDecoder's objects) against the JSON path on the same recorded bodies: the same
// metadata, JSON, path reads, equality and transforms, whether the object keeps the protobuf
// message or was transcoded eagerly.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kube/object.h"
#include "kube/proto/protobuf.h"

namespace kube {
namespace {

std::string ReadFile(const std::string& rel) {
  std::ifstream in(std::string(KUBE_PROTO_TESTDATA) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(in.good()) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The recorded bodies (not watch streams) of samples.tsv.
std::vector<std::string> RecordedBodies() {
  std::vector<std::string> out;
  std::istringstream in(ReadFile("samples.tsv"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::string pb, twin, kind;
    std::getline(cols, pb, '\t');
    std::getline(cols, twin, '\t');
    std::getline(cols, kind, '\t');
    if (kind == "body") out.push_back(pb);
  }
  return out;
}

std::string Describe(const Result<std::string>& r) {
  return r ? "value " + *r
           : "error " + std::string(StatusCodeName(r.error().code())) + ": " + r.error().message();
}

// Every accessor of `got` gives what it gives on `want`.
void ExpectSameObject(const Object& got, const Object& want) {
  EXPECT_EQ(got.json(), want.json());
  EXPECT_TRUE(got == want);
  EXPECT_TRUE(want == got);
  EXPECT_EQ(got.api_version(), want.api_version());
  EXPECT_EQ(got.kind(), want.kind());
  EXPECT_EQ(got.name(), want.name());
  EXPECT_EQ(got.ns(), want.ns());
  EXPECT_EQ(got.generate_name(), want.generate_name());
  EXPECT_EQ(got.uid(), want.uid());
  EXPECT_EQ(got.resource_version(), want.resource_version());
  EXPECT_EQ(got.generation(), want.generation());
  EXPECT_EQ(got.creation_timestamp(), want.creation_timestamp());
  EXPECT_EQ(got.deletion_timestamp(), want.deletion_timestamp());
  EXPECT_EQ(got.has_managed_fields(), want.has_managed_fields());
  EXPECT_EQ(std::vector(got.labels().begin(), got.labels().end()),
            std::vector(want.labels().begin(), want.labels().end()));
  EXPECT_EQ(std::vector(got.annotations().begin(), got.annotations().end()),
            std::vector(want.annotations().begin(), want.annotations().end()));
  EXPECT_EQ(std::vector(got.finalizers().begin(), got.finalizers().end()),
            std::vector(want.finalizers().begin(), want.finalizers().end()));
  ASSERT_EQ(got.owner_references().size(), want.owner_references().size());
  for (size_t i = 0; i < got.owner_references().size(); ++i) {
    const OwnerReference& a = got.owner_references()[i];
    const OwnerReference& b = want.owner_references()[i];
    EXPECT_EQ(a.api_version, b.api_version);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.uid, b.uid);
    EXPECT_EQ(a.controller, b.controller);
    EXPECT_EQ(a.block_owner_deletion, b.block_owner_deletion);
  }
}

TEST(ProtobufObjectTest, RecordedBodiesGiveTheObjectsOfTheirJson) {
  int kept = 0;
  for (const std::string& name : RecordedBodies()) {
    SCOPED_TRACE(name);
    const std::string body = ReadFile(name);
    Result<std::string> json = ProtobufToJson(body);
    Result<ObjectPtr> got = DecodeProtobufObject(body);
    ASSERT_EQ(got.has_value(), json.has_value()) << (got ? "" : got.error().message());
    if (!json) {
      EXPECT_EQ(got.error().code(), json.error().code());
      EXPECT_EQ(got.error().message(), json.error().message());
      continue;
    }
    Result<ObjectPtr> want = Object::Parse(*json);
    ASSERT_TRUE(want.has_value()) << want.error();
    kept += ObjectKeepsProtobuf(**got) ? 1 : 0;
    ExpectSameObject(**got, **want);
  }
  // Objects with ObjectMeta keep the protobuf; lists, Status, reviews and discovery do not.
  EXPECT_GE(kept, 40);
}

TEST(ProtobufObjectTest, ListItemsEqualDecodeListOfTheJsonTwin) {
  for (const char* name : {"list/pods.limit2", "list/configmaps", "list/pods.metadata-only",
                           "list/deployments", "list/pods"}) {
    SCOPED_TRACE(name);
    auto want = DecodeList(ReadFile(std::string(name) + ".json"));
    ASSERT_TRUE(want.has_value()) << want.error();
    std::vector<ObjectPtr> items;
    ProtobufListMeta meta;
    const std::string body = ReadFile(std::string(name) + ".pb");
    auto env = ParseProtobufEnvelope(body);
    ASSERT_TRUE(env.has_value());
    auto shape = LookupProtobufListShape(env->api_version, env->kind);
    ASSERT_TRUE(shape.has_value()) << shape.error();
    // The items' messages, taken from the list message.
    ProtobufMessageDecoder decoder;
    std::string_view raw = env->raw;
    size_t pos = 0;
    while (pos < raw.size()) {
      auto byte = [&] { return static_cast<uint8_t>(raw[pos++]); };
      uint64_t tag = 0, len = 0;
      for (int shift = 0;; shift += 7) {
        uint8_t b = byte();
        tag |= uint64_t{b & 0x7Fu} << shift;
        if (b < 0x80) break;
      }
      ASSERT_EQ(tag & 7, 2u);
      for (int shift = 0;; shift += 7) {
        uint8_t b = byte();
        len |= uint64_t{b & 0x7Fu} << shift;
        if (b < 0x80) break;
      }
      if ((tag >> 3) == shape->items_field) {
        auto obj = decoder.DecodeObject(env->api_version, shape->item_kind, raw.substr(pos, len),
                                        shape->items_have_type_meta);
        ASSERT_TRUE(obj.has_value()) << obj.error();
        EXPECT_TRUE(ObjectKeepsProtobuf(**obj));
        items.push_back(*obj);
      }
      pos += len;
    }
    ASSERT_EQ(items.size(), want->items.size());
    for (size_t i = 0; i < items.size(); ++i) ExpectSameObject(*items[i], *want->items[i]);
  }
}

TEST(ProtobufObjectTest, PathReadsMatchTheJsonObject) {
  for (const char* name : {"get/pod.pb", "get/deployment.pb", "get/node.pb", "get/service.pb"}) {
    SCOPED_TRACE(name);
    const std::string body = ReadFile(name);
    auto pb = DecodeProtobufObject(body);
    ASSERT_TRUE(pb.has_value()) << pb.error();
    ASSERT_TRUE(ObjectKeepsProtobuf(**pb));
    auto json = Object::Parse(*ProtobufToJson(body));
    ASSERT_TRUE(json.has_value());
    const Object& a = **pb;
    const Object& b = **json;
    for (const char* path : {"",
                             "kind",
                             "apiVersion",
                             "metadata",
                             "metadata.name",
                             "metadata.labels",
                             "metadata.creationTimestamp",
                             "metadata.managedFields[0].fieldsV1",
                             "spec",
                             "spec.containers[0].image",
                             "/spec/containers/0/name",
                             "spec.containers[1]",
                             "spec.template.spec.containers[0].image",
                             "spec.replicas",
                             "spec.nodeName",
                             "status.phase",
                             "status.conditions[0].type",
                             "status.capacity[cpu]",
                             "spec.nope",
                             "metadata.name.x",
                             "spec.containers.x",
                             "a..b",
                             "spec[",
                             "/spec/~2"}) {
      SCOPED_TRACE(path);
      EXPECT_EQ(a.Has(path), b.Has(path));
      EXPECT_EQ(Describe(a.GetJson(path)), Describe(b.GetJson(path)));
      EXPECT_EQ(Describe(a.GetString(path)), Describe(b.GetString(path)));
      auto ia = a.GetInt64(path);
      auto ib = b.GetInt64(path);
      ASSERT_EQ(ia.has_value(), ib.has_value());
      if (ia) {
        EXPECT_EQ(*ia, *ib);
      } else {
        EXPECT_EQ(ia.error().message(), ib.error().message());
      }
    }
    EXPECT_EQ(a.GetStringMap("metadata.labels").value_or(StringMap{}),
              b.GetStringMap("metadata.labels").value_or(StringMap{}));
  }
}

TEST(ProtobufObjectTest, DropManagedFieldsKeepsProtobufAndEqualsTheJsonPath) {
  const std::string body = ReadFile("get/pod.pb");
  auto pb = DecodeProtobufObject(body);
  ASSERT_TRUE(pb.has_value()) << pb.error();
  ASSERT_TRUE((*pb)->has_managed_fields());
  auto json = Object::Parse(*ProtobufToJson(body));
  ASSERT_TRUE(json.has_value());
  ObjectPtr a = DropManagedFields(*pb);
  ObjectPtr b = DropManagedFields(*json);
  ASSERT_NE(a, *pb);
  EXPECT_TRUE(ObjectKeepsProtobuf(*a));
  EXPECT_FALSE(a->has_managed_fields());
  EXPECT_LT(a->MemoryUsage(), (*pb)->MemoryUsage());
  ExpectSameObject(*a, *b);
  // Without managedFields, the same object has nothing more to drop.
  EXPECT_EQ(DropManagedFields(a), a);
}

TEST(ProtobufObjectTest, KeepsFewerBytesThanJsonUntilJsonIsAskedFor) {
  const std::string body = ReadFile("get/pod.pb");
  auto pb = DecodeProtobufObject(body);
  ASSERT_TRUE(pb.has_value()) << pb.error();
  auto json = Object::Parse(*ProtobufToJson(body));
  ASSERT_TRUE(json.has_value());
  const size_t before = (*pb)->MemoryUsage();
  EXPECT_LT(before, (*json)->MemoryUsage());
  // Path reads transcode without keeping the JSON; json() keeps it.
  EXPECT_TRUE((*pb)->GetString("spec.nodeName").has_value());
  EXPECT_EQ((*pb)->MemoryUsage(), before);
  EXPECT_EQ((*pb)->json(), (*json)->json());
  EXPECT_GT((*pb)->MemoryUsage(), before);
}

TEST(ProtobufObjectTest, JsonIsTheSameViewForEveryThread) {
  auto pb = DecodeProtobufObject(ReadFile("get/pod.pb"));
  ASSERT_TRUE(pb.has_value()) << pb.error();
  const Object& obj = **pb;
  std::vector<const char*> seen(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = obj.json().data(); });
  }
  for (std::thread& t : threads) t.join();
  for (const char* p : seen) EXPECT_EQ(p, obj.json().data());
}

TEST(ProtobufObjectTest, WatchStreamObjectsEqualTheirJson) {
  for (const char* name : {"watch/configmaps.pb", "watch/pods.pb", "watch/configmaps.watchlist.pb",
                           "watch/configmaps.too-old-rv.pb"}) {
    SCOPED_TRACE(name);
    const std::string stream = ReadFile(name);
    ProtobufWatchDecoder as_json;
    ProtobufWatchDecoder as_objects({}, ProtobufWatchDecoder::Kind::kObjects);
    std::vector<ProtobufWatchEvent> want, got;
    ASSERT_TRUE(as_json.Feed(stream, &want).ok());
    ASSERT_TRUE(as_objects.Feed(stream, &got).ok());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].type, want[i].type);
      ASSERT_NE(got[i].object, nullptr);
      auto obj = Object::Parse(want[i].object_json);
      ASSERT_TRUE(obj.has_value());
      ExpectSameObject(*got[i].object, **obj);
    }
  }
}

// Corrupting any byte of a recorded Pod gives what the JSON path gives: the same error, or an
// equal object (kept as protobuf or, when the check refuses it, transcoded eagerly).
TEST(ProtobufObjectTest, CorruptedBodiesDecodeAsTheJsonPathDoes) {
  const std::string body = ReadFile("get/pod.pb");
  for (size_t i = 4; i < body.size(); ++i) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
      std::string bad = body;
      bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ x);
      Result<std::string> json = ProtobufToJson(bad);
      Result<ObjectPtr> want = json ? Object::Parse(*json) : Result<ObjectPtr>(json.error());
      Result<ObjectPtr> got = DecodeProtobufObject(bad);
      ASSERT_EQ(got.has_value(), want.has_value())
          << "byte " << i << " ^ " << int{x} << ": " << (got ? want.error() : got.error());
      if (got) {
        EXPECT_EQ((*got)->json(), (*want)->json()) << "byte " << i;
        EXPECT_EQ((*got)->name(), (*want)->name());
        EXPECT_EQ(std::vector((*got)->labels().begin(), (*got)->labels().end()),
                  std::vector((*want)->labels().begin(), (*want)->labels().end()));
      }
    }
  }
}

}  // namespace
}  // namespace kube

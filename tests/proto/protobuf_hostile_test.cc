// The protobuf transcoder on hostile and unusual input: every error names where it failed, nothing
// crashes, limits hold (tests/proto/protobuf_test.cc covers the recorded samples).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kube/object.h"
#include "kube/proto/protobuf.h"
#include "proto/wire.h"

namespace kube {
namespace {

using internal::proto::PutBytesField;
using internal::proto::PutTag;
using internal::proto::PutVarint;
using nlohmann::json;

std::string ReadSample(const std::string& rel) {
  std::ifstream in(std::string(KUBE_PROTO_TESTDATA) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(in.good()) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Envelope(std::string_view api_version, std::string_view kind, std::string_view raw) {
  std::string tm, out(kProtobufMagic);
  PutBytesField(1, api_version, &tm);
  PutBytesField(2, kind, &tm);
  PutBytesField(1, tm, &out);
  PutBytesField(2, raw, &out);
  PutBytesField(3, "", &out);
  PutBytesField(4, "", &out);
  return out;
}

std::string Field(uint32_t number, std::string_view payload) {
  std::string out;
  PutBytesField(number, payload, &out);
  return out;
}

std::string VarintField(uint32_t number, uint64_t v) {
  std::string out;
  PutTag(number, 0, &out);
  PutVarint(v, &out);
  return out;
}

std::string MapEntry(std::string_view key, std::string_view value) {
  return Field(1, key) + Field(2, value);
}

std::string Frame(std::string_view event) {
  uint32_t n = static_cast<uint32_t>(event.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out.append(event);
}

std::string WatchEventMessage(std::string_view type, std::string_view enveloped) {
  return Field(1, type) + Field(2, Field(1, enveloped));
}

Status DecodeStatus(std::string_view body, const ProtobufOptions& options = {}) {
  std::string out;
  return AppendProtobufAsJson(body, &out, options);
}

TEST(ProtobufHostileInputTest, TruncationAtEveryByteGivesAnErrorOrValidJson) {
  for (const char* name : {"get/pod.pb", "get/customresourcedefinition.pb", "list/pods.limit2.pb",
                           "errors/create.422-invalid.pb", "discovery/api-v1.pb"}) {
    SCOPED_TRACE(name);
    std::string body = ReadSample(name);
    int errors = 0;
    for (size_t cut = 0; cut < body.size(); ++cut) {
      std::string prefix = body.substr(0, cut);  // a copy, so ASan sees reads past the end
      auto got = ProtobufToJson(prefix);
      if (got.has_value()) {
        EXPECT_TRUE(json::accept(*got)) << cut;
      } else {
        ++errors;
        // kNotFound: a cut inside the envelope's typeMeta names no kind.
        EXPECT_TRUE(got.error().code() == StatusCode::kInvalidArgument ||
                    got.error().code() == StatusCode::kNotFound)
            << got.error();
      }
    }
    // Only cuts between the envelope's trailing empty strings leave a whole body.
    EXPECT_GE(errors, static_cast<int>(body.size()) - 4);
  }
}

TEST(ProtobufHostileInputTest, CorruptedBytesGiveAnErrorOrValidJson) {
  std::string body = ReadSample("get/pod.pb");
  for (size_t i = 0; i < body.size(); ++i) {
    for (char v : {'\x00', '\x7f', '\x80', '\xff'}) {
      std::string mutated = body;
      mutated[i] = v;
      auto got = ProtobufToJson(mutated);
      if (got.has_value()) {
        // What the decoder writes is valid JSON that the object model accepts.
        auto obj = Object::Parse(*got);
        EXPECT_TRUE(obj.has_value()) << i << ": " << obj.error() << "\n" << *got;
      }
    }
  }
}

TEST(ProtobufHostileInputTest, MissingMagicIsInvalidArgument) {
  for (std::string body : {std::string(""), std::string("k8s"), std::string("{\"kind\":\"Pod\"}"),
                           std::string("k8s\x01", 4) + "xx"}) {
    Status st = DecodeStatus(body);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(st.message(), "protobuf: not a Kubernetes protobuf body (no k8s\\0 magic)");
  }
}

TEST(ProtobufHostileInputTest, ForeignContentTypeOrEncodingIsRefused) {
  std::string body = Envelope("v1", "ConfigMap", "");
  body.resize(body.size() - 2);
  body += Field(4, "application/json");
  Status st = DecodeStatus(body);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("contentType"), std::string::npos) << st;
  std::string gz = Envelope("v1", "ConfigMap", "") + Field(3, "gzip");
  EXPECT_NE(DecodeStatus(gz).message().find("contentEncoding"), std::string::npos);
}

TEST(ProtobufHostileInputTest, KindsWithoutProtobufFormAreNotFound) {
  Status st = DecodeStatus(Envelope("example.com/v1", "Widget", ""));
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st;
  EXPECT_NE(st.message().find("example.com/v1"), std::string::npos);
  EXPECT_EQ(DecodeStatus(Envelope("meta.k8s.io/v1", "Table", "")).code(), StatusCode::kNotFound);
  auto enc = JsonToProtobuf(R"({"apiVersion":"example.com/v1","kind":"Widget","spec":{}})");
  ASSERT_FALSE(enc.has_value());
  EXPECT_EQ(enc.error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(JsonToProtobuf(R"({"apiVersion":"meta.k8s.io/v1","kind":"Table"})").has_value());
}

TEST(ProtobufHostileInputTest, HasProtobufFormKnowsTheBuiltInKinds) {
  struct Case {
    const char* api_version;
    const char* kind;
    bool want;
  } cases[] = {{"v1", "Pod", true},
               {"v1", "PodList", true},
               {"apps/v1", "Deployment", true},
               {"apps/v1", "DeleteOptions", true},
               {"v1", "Status", true},
               {"", "APIResourceList", true},
               {"meta.k8s.io/v1", "PartialObjectMetadataList", true},
               {"apiextensions.k8s.io/v1", "CustomResourceDefinition", true},
               {"meta.k8s.io/v1", "Table", false},
               {"example.com/v1", "Widget", false},
               {"apps/v1", "Pod", false},
               {"v1", "", false}};
  for (const Case& c : cases) {
    EXPECT_EQ(HasProtobufForm(c.api_version, c.kind), c.want) << c.api_version << " " << c.kind;
  }
}

TEST(ProtobufHostileInputTest, WrongWireTypeNamesTheTypeFieldPathAndOffset) {
  // Pod.metadata (1) as a varint.
  Status st = DecodeStatus(Envelope("v1", "Pod", VarintField(1, 5)));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("Pod.metadata"), std::string::npos) << st;
  EXPECT_NE(st.message().find("at byte"), std::string::npos) << st;
  // Pod.spec.containers[1].name (1) as a varint.
  std::string containers = Field(2, Field(1, "a")) + Field(2, VarintField(1, 7));
  st = DecodeStatus(Envelope("v1", "Pod", Field(2, containers)));
  EXPECT_NE(st.message().find("Pod.spec.containers[1].name: wire type varint"), std::string::npos)
      << st;
}

TEST(ProtobufHostileInputTest, LengthPastTheEndIsAnError) {
  std::string raw = Field(1, Field(1, "name"));
  raw[1] = 0x7f;  // metadata claims 127 bytes
  Status st = DecodeStatus(Envelope("v1", "ConfigMap", raw));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("past the end"), std::string::npos) << st;
  // A varint that never ends.
  std::string body = Envelope("v1", "ConfigMap", "") + std::string(12, '\xff');
  EXPECT_EQ(DecodeStatus(body).code(), StatusCode::kInvalidArgument);
  // Field number 0 and groups.
  EXPECT_NE(DecodeStatus(Envelope("v1", "ConfigMap", std::string("\x00\x00", 2)))
                .message()
                .find("field number"),
            std::string::npos);
  EXPECT_NE(DecodeStatus(Envelope("v1", "ConfigMap", "\x0b")).message().find("wire type"),
            std::string::npos);
}

TEST(ProtobufHostileInputTest, UnknownFieldsAreSkipped) {
  std::string meta = Field(1, "cm") + VarintField(99, 5) + Field(100, "junk");
  std::string fixed = std::string("\xa1\x06", 2) + std::string(8, '\x01') +  // 100: fixed64
                      std::string("\xad\x06", 2) + std::string(4, '\x02');   // 101: fixed32
  auto got = ProtobufToJson(Envelope("v1", "ConfigMap", Field(1, meta) + fixed));
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_EQ(
      *got,
      R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm","creationTimestamp":null}})");
}

TEST(ProtobufHostileInputTest, InvalidUtf8BecomesReplacementCharacters) {
  auto got = ProtobufToJson(
      Envelope("v1", "ConfigMap", Field(1, "") + Field(2, MapEntry("k", "a\xff<b>"))));
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_NE(got->find(R"("data":{"k":"a\ufffd\u003cb\u003e"})"), std::string::npos) << *got;
}

TEST(ProtobufHostileInputTest, MapKeysAreSortedAndTheLastDuplicateWins) {
  std::string raw = Field(1, "") + Field(2, MapEntry("b", "1")) + Field(2, MapEntry("a", "2")) +
                    Field(2, MapEntry("b", "3")) + Field(3, Field(1, "bin"));
  auto got = ProtobufToJson(Envelope("v1", "ConfigMap", raw));
  ASSERT_TRUE(got.has_value()) << got.error();
  // A bytes map value without a value is []byte{}: "".
  EXPECT_NE(got->find(R"("data":{"a":"2","b":"3"},"binaryData":{"bin":""})"), std::string::npos)
      << *got;
}

TEST(ProtobufHostileInputTest, PackedRepeatedVarintsAreAccepted) {
  std::string packed;
  PutVarint(80, &packed);
  PutVarint(443, &packed);
  auto got = ProtobufToJson(
      Envelope("v1", "PodPortForwardOptions", Field(1, packed) + VarintField(1, 8080)));
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_EQ(*got, R"({"kind":"PodPortForwardOptions","apiVersion":"v1","ports":[80,443,8080]})");
}

TEST(ProtobufHostileInputTest, SpecialTypesRefuseImpossibleValues) {
  // ServicePort.targetPort (4) with IntOrString type 2.
  std::string port = Field(4, VarintField(1, 2));
  Status st = DecodeStatus(Envelope("v1", "Service", Field(2, Field(1, port))));
  EXPECT_NE(st.message().find("Service.spec.ports[0].targetPort: IntOrString type 2"),
            std::string::npos)
      << st;
  // managedFields[0].fieldsV1 holding text that is not JSON.
  std::string entry = Field(7, Field(1, "{not json"));
  st = DecodeStatus(Envelope("v1", "ConfigMap", Field(1, Field(17, entry))));
  EXPECT_NE(st.message().find("ConfigMap.metadata.managedFields[0].fieldsV1"), std::string::npos)
      << st;
  // A creationTimestamp in year 300000.
  st = DecodeStatus(Envelope("v1", "ConfigMap", Field(1, Field(8, VarintField(1, 9000000000000)))));
  EXPECT_NE(st.message().find("creationTimestamp"), std::string::npos) << st;
}

TEST(ProtobufHostileInputTest, NegativeInt32sAreTenByteVarints) {
  auto pb = JsonToProtobuf(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{},"spec":{"replicas":-1}})");
  ASSERT_TRUE(pb.has_value()) << pb.error();
  EXPECT_NE(pb->find(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11)),
            std::string::npos);
  auto back = ProtobufToJson(*pb);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_NE(back->find(R"("replicas":-1)"), std::string::npos) << *back;
}

// A CRD whose schema nests `not` `levels` deep.
std::string DeepCrd(int levels) {
  std::string schema = "{}";
  for (int i = 0; i < levels; ++i) schema = "{\"not\":" + schema + "}";
  return R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"x"},"spec":{"versions":[{"name":"v1","schema":{"openAPIV3Schema":)" +
         schema + "}}]}}";
}

TEST(ProtobufHostileInputTest, NestingBeyondTheLimitIsRefused) {
  ProtobufOptions deep;
  deep.max_depth = 2000;
  std::string crd = DeepCrd(500);
  EXPECT_EQ(JsonToProtobuf(crd).error().code(), StatusCode::kInvalidArgument);
  auto pb = JsonToProtobuf(crd, deep);
  ASSERT_TRUE(pb.has_value()) << pb.error();
  Status st = DecodeStatus(*pb);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("nesting deeper than 128"), std::string::npos) << st;
  auto json_text = ProtobufToJson(*pb, deep);
  ASSERT_TRUE(json_text.has_value()) << json_text.error();
  EXPECT_EQ(json::parse(*json_text)["spec"]["versions"][0]["name"], "v1");
  // Recursion of raw bytes far past the limit: 20,000 nested `not` messages.
  std::string props;
  for (int i = 0; i < 20000; ++i) props = Field(28, props);
  std::string raw = Field(2, Field(7, Field(4, Field(1, props))));
  EXPECT_EQ(
      DecodeStatus(Envelope("apiextensions.k8s.io/v1", "CustomResourceDefinition", raw)).code(),
      StatusCode::kInvalidArgument);
}

TEST(ProtobufHostileInputTest, SizeLimitsAreEnforced) {
  std::string body = ReadSample("get/pod.pb");
  ProtobufOptions small;
  small.max_body_bytes = 100;
  EXPECT_NE(DecodeStatus(body, small).message().find("exceeds"), std::string::npos);
  ProtobufOptions little_json;
  little_json.max_json_bytes = 1000;
  EXPECT_NE(DecodeStatus(body, little_json).message().find("JSON output exceeds"),
            std::string::npos);
  // Many empty items expand: each decodes to a whole zero Pod.
  std::string items;
  for (int i = 0; i < 1000; ++i) items += Field(2, "");
  little_json.max_json_bytes = 10000;
  EXPECT_EQ(DecodeStatus(Envelope("v1", "PodList", items), little_json).code(),
            StatusCode::kInvalidArgument);
}

TEST(ProtobufHostileInputTest, JsonOfTheWrongShapeNamesTheFieldPath) {
  struct Case {
    const char* json;
    const char* want;
  } cases[] = {
      {R"({"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a"},{"name":5}]}})",
       "Pod.spec.containers[1].name: want a string, got an integer"},
      {R"({"apiVersion":"v1","kind":"Pod","spec":{"containers":{}}})",
       "Pod.spec.containers: want an array, got an object"},
      {R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":1.5}})",
       "Deployment.spec.replicas: number 1.5 is not an int32"},
      {R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":4294967296}})",
       "Deployment.spec.replicas: number 4294967296 is not an int32"},
      {R"({"apiVersion":"v1","kind":"Secret","data":{"k":"!!"}})",
       "Secret.data: bytes are not valid base64"},
      {R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"creationTimestamp":"yesterday"}})",
       "ConfigMap.metadata.creationTimestamp: \"yesterday\" is not an RFC 3339 time"},
      {R"({"apiVersion":"v1","kind":"ConfigMap","metadata":[]})",
       "ConfigMap.metadata: want an object, got an array"},
      {R"({"apiVersion":"v1","kind":"Pod",)", "malformed JSON"},
      {R"([1,2])", "not an object"},
      {R"({"apiVersion":1,"kind":"Pod"})", "want a string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto got = JsonToProtobuf(c.json);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.error().message().find(c.want), std::string::npos) << got.error();
  }
}

TEST(ProtobufHostileInputTest, JsonMembersTheTypeLacksAreIgnored) {
  auto a = JsonToProtobuf(
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","bogus":[1,{"y":2}]},"extra":true})");
  auto b = JsonToProtobuf(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}})");
  ASSERT_TRUE(a.has_value()) << a.error();
  ASSERT_TRUE(b.has_value()) << b.error();
  EXPECT_EQ(*a, *b);
}

// --- Watch framing -----------------------------------------------------------------------------

TEST(ProtobufWatchDecoderTest, TruncatedStreamIsDataLoss) {
  std::string stream = ReadSample("watch/configmaps.pb");
  for (size_t cut : {size_t{1}, size_t{3}, size_t{4}, size_t{10}, stream.size() - 1}) {
    ProtobufWatchDecoder dec;
    std::vector<ProtobufWatchEvent> events;
    ASSERT_TRUE(dec.Feed(std::string_view(stream).substr(0, cut), &events).ok());
    Status st = dec.Finish();
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << cut;
    EXPECT_NE(st.message().find("truncated"), std::string::npos) << st;
  }
}

TEST(ProtobufWatchDecoderTest, OversizedFrameIsRefusedBeforeItIsBuffered) {
  ProtobufOptions options;
  options.max_body_bytes = 1 << 20;
  ProtobufWatchDecoder dec(options);
  std::vector<ProtobufWatchEvent> events;
  // The header alone (2 GiB declared) is enough to refuse the frame.
  Status st = dec.Feed(std::string("\x80\x00\x00\x00", 4), &events);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("over the limit"), std::string::npos) << st;
  // Sticky.
  EXPECT_EQ(dec.Feed("more", &events), st);
  EXPECT_EQ(dec.Finish(), st);
  EXPECT_TRUE(events.empty());
}

TEST(ProtobufWatchDecoderTest, GarbageFramesAreDataLoss) {
  std::string cm = Envelope("v1", "ConfigMap", Field(1, Field(1, "a")));
  struct Case {
    std::string stream;
    const char* want;
  } cases[] = {
      {Frame("\xff\xff\xff"), "malformed"},
      {Frame(Field(1, "ADDED")), "no object"},
      {Frame(WatchEventMessage("EXPLODED", cm)), "invalid watch event type: EXPLODED"},
      {Frame(WatchEventMessage("ADDED", "{\"kind\":\"ConfigMap\"}")), "not an enveloped"},
      {Frame(WatchEventMessage("ADDED", cm.substr(0, cm.size() - 3))), "frame 0"},
      {Frame(WatchEventMessage("ADDED", cm)) + Frame(VarintField(2, 1)), "frame 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    ProtobufWatchDecoder dec;
    std::vector<ProtobufWatchEvent> events;
    Status st = dec.Feed(c.stream, &events);
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st;
    EXPECT_NE(st.message().find(c.want), std::string::npos) << st;
  }
}

TEST(ProtobufWatchDecoderTest, ObjectsOfKindsWithoutProtobufAreNotFound) {
  ProtobufWatchDecoder dec;
  std::vector<ProtobufWatchEvent> events;
  Status st = dec.Feed(Frame(WatchEventMessage("ADDED", Envelope("example.com/v1", "Widget", ""))),
                       &events);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st;
}

TEST(ProtobufWatchDecoderTest, EncodedFramesDecodeBack) {
  std::string stream;
  const char* cm =
      R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","creationTimestamp":null},"data":{"k":"v"}})";
  ASSERT_TRUE(AppendProtobufWatchFrame("ADDED", cm, &stream).ok());
  ASSERT_TRUE(AppendProtobufWatchFrame("DELETED", cm, &stream).ok());
  ProtobufWatchDecoder dec;
  std::vector<ProtobufWatchEvent> events;
  ASSERT_TRUE(dec.Feed(stream, &events).ok());
  ASSERT_TRUE(dec.Finish().ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "ADDED");
  EXPECT_EQ(events[1].type, "DELETED");
  EXPECT_EQ(events[1].object_json, cm);
  EXPECT_EQ(
      AppendProtobufWatchFrame("ADDED", R"({"kind":"Widget","apiVersion":"x/v1"})", &stream).code(),
      StatusCode::kNotFound);
}

}  // namespace
}  // namespace kube

// Request bodies and parameters kube-apiserver's decoder refuses (docs/reliability.md, "Bad
// input"): nesting too deep for any path that parses outside bytes, preconditions and metadata of
// the wrong JSON type, labels and annotations that do not validate, numbers no stored value can
// keep, and query parameters that are not numbers. Each answers with kube-apiserver's Status; none
// is a 500, none changes what is stored, and the server keeps serving.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/strings.h"
#include "kube/object.h"
#include "server/router.h"
#include "server/seed.h"
#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";
constexpr char kCm[] = "/api/v1/namespaces/default/configmaps/cm";

// `depth` levels of `open` (`[` or `{"a":`) around `inner`, closed again.
std::string Nest(size_t depth, std::string_view open, std::string_view inner = "") {
  std::string out;
  out.reserve(depth * (open.size() + 1) + inner.size());
  for (size_t i = 0; i < depth; ++i) out += open;
  out += inner;
  const char close = open[0] == '[' ? ']' : '}';
  out.append(depth, close);
  return out;
}

// A ConfigMap whose field `x` nests so that the whole body is `depth` levels deep.
std::string DeepConfigMap(size_t depth, std::string_view open = "[") {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"x":)" +
         Nest(depth - 1, open) + "}";
}

class ApiServerBadInputTest : public ApiServerFixture {
 protected:
  void SetUp() override {
    ApiServerFixture::SetUp();
    MustCreate(R"({"apiVersion":"v1","kind":"ConfigMap",
                   "metadata":{"name":"cm","namespace":"default"},"data":{"k":"v"}})");
  }

  // The stored ConfigMap `cm`.
  json Stored() const { return Get(kCm).Json(); }

  // `r` is an error Status with `code` (and the HTTP status is that code).
  static void ExpectStatus(const HttpResult& r, int code, const std::string& reason,
                           const std::string& message_part = "") {
    EXPECT_EQ(r.code, code) << r.body.substr(0, 400);
    json s = r.Json();
    ASSERT_TRUE(s.is_object()) << r.body.substr(0, 400);
    EXPECT_EQ(s["kind"], "Status");
    EXPECT_EQ(s["code"], code);
    EXPECT_EQ(s["reason"], reason);
    if (!message_part.empty()) {
      EXPECT_THAT(s.value("message", ""), HasSubstr(message_part));
    }
  }

  void ExpectStillServing() const {
    HttpResult v = Get("/version");
    EXPECT_EQ(v.code, 200) << v.error;
  }
};

TEST_F(ApiServerBadInputTest, DeeplyNestedCreateIsBadRequestInKubeApiserversWords) {
  HttpResult r = Post(kConfigMaps, DeepConfigMap(100000));
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_EQ(r.Json()["message"],
            "the object provided is unrecognized (must be of type ConfigMap): couldn't get "
            "version/kind; json parse error: exceeded max depth "
            R"(({"apiVersion":"v1","kind":"Con ...))");
  ExpectStillServing();
}

TEST_F(ApiServerBadInputTest, DeeplyNestedBodiesAreBadRequestOnEveryPath) {
  // Just past the limit, past Go's (10,000), where nlohmann's dump failed (50,000), and where the
  // stack overflowed (60,000 and more); arrays and objects.
  for (size_t depth : {1001, 10001, 50000, 100000}) {
    for (std::string_view open : {"[", R"({"a":)"}) {
      SCOPED_TRACE(std::to_string(depth) + " levels of " + std::string(open));
      const std::string deep = Nest(depth - 1, open);
      const std::string body = DeepConfigMap(depth, open);
      ExpectStatus(Post(kConfigMaps, body), 400, "BadRequest", "exceeded max depth");
      ExpectStatus(Post(std::string(kConfigMaps) + "?dryRun=All", body), 400, "BadRequest",
                   "exceeded max depth");
      ExpectStatus(Put(kCm, body), 400, "BadRequest", "exceeded max depth");
      ExpectStatus(client().Request("POST", kConfigMaps, body, {"Content-Type: application/yaml"}),
                   400, "BadRequest");
      ExpectStatus(Patch(kCm, R"({"x":)" + deep + "}"), 400, "BadRequest", "Invalid JSON Patch");
      ExpectStatus(Patch(kCm, R"({"x":)" + deep + "}", "application/strategic-merge-patch+json"),
                   400, "BadRequest", "exceeded max depth");
      ExpectStatus(Patch(kCm, R"([{"op":"add","path":"/x","value":)" + deep + "}]",
                         "application/json-patch+json"),
                   400, "BadRequest", "exceeded max depth");
      ExpectStatus(Put("/apis/apps/v1/namespaces/default/deployments/d/scale", body), 400,
                   "BadRequest", "exceeded max depth");
      ExpectStatus(Delete(kCm, R"({"preconditions":)" + deep + "}"), 400, "BadRequest",
                   "exceeded max depth");
      ExpectStatus(Delete(kConfigMaps, R"({"x":)" + deep + "}"), 400, "BadRequest",
                   "exceeded max depth");
      const std::string token =
          internal::Base64UrlEncode(R"({"rv":1,"start":"a","x":)" + deep + "}");
      ExpectStatus(Get(std::string(kConfigMaps) + "?limit=1&continue=" + token), 400, "BadRequest",
                   "continue key is not valid: exceeded max depth");
    }
  }
  EXPECT_EQ(Stored()["data"], json({{"k", "v"}}));
  EXPECT_FALSE(Stored().contains("x"));
  ExpectStillServing();
}

TEST(ApiServerSeedDepthTest, DeeplyNestedJsonManifestIsAnError) {
  Result<std::vector<json>> manifests = server::ParseManifests("[" + DeepConfigMap(100000) + "]");
  ASSERT_FALSE(manifests);
  EXPECT_EQ(manifests.error().message(), "manifest JSON: exceeded max depth");
  Result<std::vector<json>> nested_lists = server::ParseManifests(Nest(100000, "["));
  ASSERT_FALSE(nested_lists);
}

TEST_F(ApiServerBadInputTest, BodyAtTheDepthLimitIsStoredAndServed) {
  // 1,000 levels: accepted, stored, and readable by the client library through a list (which
  // adds two levels around each item).
  HttpResult created = Put(kCm, DeepConfigMap(1000));
  ASSERT_EQ(created.code, 200) << created.body.substr(0, 400);
  HttpResult got = Get(kCm);
  ASSERT_EQ(got.code, 200);
  Result<ObjectPtr> parsed = Object::Parse(got.body);
  ASSERT_TRUE(parsed) << parsed.error().message();
  HttpResult list = Get(kConfigMaps);
  ASSERT_EQ(list.code, 200);
  Result<ObjectList> items = DecodeList(list.body);
  ASSERT_TRUE(items) << items.error().message();
}

TEST_F(ApiServerBadInputTest, JsonPatchThatWouldNestTooDeepIsRefusedBeforeItRuns) {
  // Each `copy` of /x into its own deepest point doubles the depth: 20 of them would reach a
  // million levels (and a million copies of the value).
  std::string ops = R"([{"op":"add","path":"/x","value":)" + Nest(600, "[") + "}";
  std::string path = "/x";
  for (int i = 0; i < 20; ++i) {
    std::string to = path;
    for (int j = 0; j < 600; ++j) to += "/0";
    ops += R"(,{"op":"copy","from":")" + path + R"(","path":")" + to + R"("})";
  }
  ops += "]";
  ExpectStatus(Patch(kCm, ops, "application/json-patch+json"), 422, "Invalid",
               "exceeded max depth");
  EXPECT_FALSE(Stored().contains("x"));
  ExpectStillServing();
}

TEST_F(ApiServerBadInputTest, PreconditionThatIsNotAStringIsBadRequestNotDropped) {
  const std::string rv = Stored()["metadata"]["resourceVersion"];
  for (std::string_view value : {"1", "{}", "[\"1\"]", "true"}) {
    SCOPED_TRACE(value);
    std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm",)"
                       R"("resourceVersion":)" +
                       std::string(value) + R"(},"data":{"k":"lost"}})";
    HttpResult put = Put(kCm, body);
    ExpectStatus(put, 400, "BadRequest",
                 "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot "
                 "unmarshal ");
    EXPECT_THAT(put.Json().value("message", ""),
                HasSubstr(" into Go struct field ObjectMeta.metadata.resourceVersion of type "
                          "string"));
    ExpectStatus(Patch(kCm, R"({"metadata":{"resourceVersion":)" + std::string(value) +
                                R"(},"data":{"k":"lost"}})"),
                 422, "Invalid", "patch: Invalid value: \"{\\\"apiVersion\\\":\\\"v1\\\"");
  }
  EXPECT_EQ(
      Put(kCm,
          R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","resourceVersion":1}})")
          .Json()["message"],
      "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
      "number into Go struct field ObjectMeta.metadata.resourceVersion of type string");
  HttpResult patched = Patch(kCm, R"({"metadata":{"resourceVersion":1}})");
  EXPECT_THAT(patched.Json().value("message", ""),
              HasSubstr("json: cannot unmarshal number into Go struct field "
                        "ObjectMeta.metadata.resourceVersion of type string"));
  EXPECT_EQ(Stored()["data"]["k"], "v");
  EXPECT_EQ(Stored()["metadata"]["resourceVersion"], rv);

  // `null` decodes to "" in Go: no precondition, as kube-apiserver does.
  HttpResult unconditional = Put(
      kCm,
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","resourceVersion":null},"data":{"k":"w"}})");
  ASSERT_EQ(unconditional.code, 200) << unconditional.body;
  EXPECT_EQ(Stored()["data"]["k"], "w");
}

TEST_F(ApiServerBadInputTest, DeletePreconditionThatIsNotAStringIsBadRequestNotDropped) {
  HttpResult rv = Delete(kCm, R"({"preconditions":{"resourceVersion":1}})");
  ExpectStatus(rv, 400, "BadRequest");
  EXPECT_EQ(rv.Json()["message"],
            "json: cannot unmarshal number into Go struct field "
            "Preconditions.preconditions.resourceVersion of type string");
  HttpResult uid = Delete(kCm, R"({"preconditions":{"uid":5}})");
  ExpectStatus(uid, 400, "BadRequest");
  EXPECT_EQ(uid.Json()["message"],
            "json: cannot unmarshal number into Go struct field Preconditions.preconditions.uid "
            "of type types.UID");
  ExpectStatus(Delete(kConfigMaps, R"({"preconditions":{"resourceVersion":1}})"), 400,
               "BadRequest");
  struct Case {
    std::string body, message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"dryRun":"All"})",
            "json: cannot unmarshal string into Go struct field DeleteOptions.dryRun of type "
            "[]string"},
           {R"({"gracePeriodSeconds":"0"})",
            "json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds "
            "of type int64"},
           {R"({"preconditions":"x"})",
            "json: cannot unmarshal string into Go struct field DeleteOptions.preconditions of "
            "type v1.Preconditions"},
           {R"({"propagationPolicy":1})",
            "json: cannot unmarshal number into Go struct field DeleteOptions.propagationPolicy "
            "of type v1.DeletionPropagation"},
       }) {
    SCOPED_TRACE(c.body);
    HttpResult r = Delete(kCm, c.body);
    ExpectStatus(r, 400, "BadRequest");
    EXPECT_EQ(r.Json()["message"], c.message);
  }
  EXPECT_EQ(Get(kCm).code, 200);  // nothing was deleted
}

TEST_F(ApiServerBadInputTest, WrongTypedMetadataIsBadRequestNotInternalError) {
  struct Case {
    std::string metadata, message;
  };
  const std::string prefix = "json: cannot unmarshal ";
  for (const Case& c : std::vector<Case>{
           {R"("name":5)", "number into Go struct field ObjectMeta.metadata.name of type string"},
           {R"("name":"cm","labels":[1])",
            "array into Go struct field ObjectMeta.metadata.labels of type map[string]string"},
           {R"("name":"cm","labels":{"a":1})",
            "number into Go struct field ObjectMeta.metadata.labels of type string"},
           {R"("name":"cm","annotations":{"a":{}})",
            "object into Go struct field ObjectMeta.metadata.annotations of type string"},
           {R"("name":"cm","finalizers":"x")",
            "string into Go struct field ObjectMeta.metadata.finalizers of type []string"},
           {R"("name":"cm","finalizers":[1])",
            "number into Go struct field ObjectMeta.metadata.finalizers of type string"},
           {R"("name":"cm","uid":5)",
            "number into Go struct field ObjectMeta.metadata.uid of type types.UID"},
           {R"("name":"cm","generation":"1")",
            "string into Go struct field ObjectMeta.metadata.generation of type int64"},
           {R"("name":"cm","generation":1.5)",
            "number 1.5 into Go struct field ObjectMeta.metadata.generation of type int64"},
           {R"("name":"cm","creationTimestamp":5)",
            "number into Go struct field ObjectMeta.metadata.creationTimestamp of type string"},
           {R"("name":"cm","ownerReferences":{})",
            "object into Go struct field ObjectMeta.metadata.ownerReferences of type "
            "[]v1.OwnerReference"},
           {R"("name":"cm","ownerReferences":[1])",
            "number into Go struct field ObjectMeta.metadata.ownerReferences of type "
            "v1.OwnerReference"},
           {R"("name":"cm","ownerReferences":[{"uid":5}])",
            "number into Go struct field OwnerReference.metadata.ownerReferences.uid of type "
            "types.UID"},
           {R"("name":"cm","ownerReferences":[{"controller":"yes"}])",
            "string into Go struct field OwnerReference.metadata.ownerReferences.controller of "
            "type bool"},
           {R"("name":"cm","managedFields":[{"operation":1}])",
            "number into Go struct field ManagedFieldsEntry.metadata.managedFields.operation of "
            "type v1.ManagedFieldsOperationType"},
       }) {
    SCOPED_TRACE(c.metadata);
    const std::string body =
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{)" + c.metadata + "}}";
    const std::string expected =
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: " + prefix + c.message;
    HttpResult created = Post(kConfigMaps, body);
    ExpectStatus(created, 400, "BadRequest");
    EXPECT_EQ(created.Json()["message"], expected);
    HttpResult updated = Put(kCm, body);
    ExpectStatus(updated, 400, "BadRequest");
    EXPECT_EQ(updated.Json()["message"], expected);
    HttpResult patched = Patch(kCm, R"({"metadata":{)" + c.metadata + "}}");
    ExpectStatus(patched, 422, "Invalid", prefix + c.message);
  }
  HttpResult meta = Post(kConfigMaps, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":5})");
  EXPECT_EQ(meta.Json()["message"],
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot "
            "unmarshal number into Go struct field ConfigMap.metadata of type v1.ObjectMeta");
  EXPECT_EQ(Stored()["data"], json({{"k", "v"}}));
}

TEST_F(ApiServerBadInputTest, KindThatIsNotAStringIsBadRequest) {
  HttpResult r = Post(kConfigMaps, R"({"kind":5,"apiVersion":"v1","metadata":{"name":"k"}})");
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_EQ(r.Json()["message"],
            "the object provided is unrecognized (must be of type ConfigMap): couldn't get "
            "version/kind; json parse error: json: cannot unmarshal number into Go struct field "
            ".kind of type string ({\"kind\":5,\"apiVersion\":\"v1\",\"m ...)");
  ExpectStatus(Put(kCm, R"({"apiVersion":true,"metadata":{"name":"cm"}})"), 400, "BadRequest",
               "Go struct field .apiVersion of type string");
  ExpectStatus(Patch(kCm, R"({"kind":5})"), 422, "Invalid",
               "json parse error: json: cannot unmarshal number into Go struct field .kind of "
               "type string");
  EXPECT_EQ(Get(std::string(kConfigMaps) + "/k").code, 404);
  EXPECT_EQ(Stored()["kind"], "ConfigMap");
}

TEST_F(ApiServerBadInputTest, NullMetadataFieldsDecodeAsAbsent) {
  HttpResult r = Post(kConfigMaps, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{
      "name":"n","labels":{"a":null},"annotations":null,"finalizers":null}})");
  ASSERT_EQ(r.code, 201) << r.body;
  json meta = r.Json()["metadata"];
  EXPECT_EQ(meta["labels"], json({{"a", ""}}));
  EXPECT_FALSE(meta.contains("annotations"));
  EXPECT_FALSE(meta.contains("finalizers"));
}

TEST_F(ApiServerBadInputTest, InvalidLabelsAndAnnotationsAreInvalid) {
  // The causes of the recorded kube-apiserver answer (wire-samples/errors/create.422-invalid.json).
  HttpResult r = Post(kConfigMaps, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{
      "name":"l","labels":{"bad label":"x","ok":")" +
                                       std::string(70, 'x') + R"("}}})");
  ExpectStatus(r, 422, "Invalid");
  json s = r.Json();
  ASSERT_EQ(s["details"]["causes"].size(), 2u) << r.body;
  EXPECT_EQ(s["details"]["causes"][0],
            json({{"reason", "FieldValueInvalid"},
                  {"field", "metadata.labels"},
                  {"message",
                   "Invalid value: \"bad label\": name part must consist of alphanumeric "
                   "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                   "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                   "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"}}));
  EXPECT_EQ(s["details"]["causes"][1]["message"],
            "Invalid value: \"" + std::string(70, 'x') + "\": must be no more than 63 characters");
  EXPECT_THAT(s.value("message", ""), HasSubstr("ConfigMap \"l\" is invalid: [metadata.labels: "));

  ExpectStatus(Post(kConfigMaps, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{
      "name":"a","annotations":{"bad key/x/y":"v"}}})"),
               422, "Invalid", "metadata.annotations: Invalid value: \"bad key/x/y\"");
  ExpectStatus(
      Post(
          kConfigMaps,
          R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b","annotations":{"big":")" +
              std::string(256 * 1024, 'v') + R"("}}})"),
      422, "Invalid", "metadata.annotations: Too long: may not be more than 262144 bytes");
  // Upper-case annotation keys are fine (the rule ignores case); labels on updates are checked.
  EXPECT_EQ(Patch(kCm, R"({"metadata":{"annotations":{"Example.com/Key":"v"}}})").code, 200);
  ExpectStatus(Patch(kCm, R"({"metadata":{"labels":{"-x":"y"}}})"), 422, "Invalid",
               "ConfigMap \"cm\" is invalid: metadata.labels: Invalid value: \"-x\"");
  EXPECT_FALSE(Stored()["metadata"].contains("labels"));
}

TEST_F(ApiServerBadInputTest, NumbersNoValueCanHoldAreBadRequestNeverRounded) {
  ExpectStatus(Put(kCm, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},
                            "x":123456789012345678901234567890})"),
               400, "BadRequest",
               "json: cannot unmarshal number 123456789012345678901234567890 into Go value of "
               "type int64");
  ExpectStatus(Patch(kCm, R"({"x":1e400})"), 400, "BadRequest",
               "json: cannot unmarshal number 1e400 into Go value of type float64");
  ExpectStatus(Patch(kCm, R"({"x":-9223372036854775809})"), 400, "BadRequest");
  EXPECT_FALSE(Stored().contains("x"));
  // The extremes of 64 bits are kept exactly.
  ASSERT_EQ(Patch(kCm, R"({"x":[18446744073709551615,-9223372036854775808,1e300]})").code, 200);
  EXPECT_EQ(
      Get(kCm).body.find("[18446744073709551615,-9223372036854775808,1e+300]") != std::string::npos,
      true)
      << Get(kCm).body;
}

TEST_F(ApiServerBadInputTest, QueryIntegersThatAreNotNumbersAreBadRequest) {
  HttpResult r = Get(std::string(kConfigMaps) + "?limit=abc");
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_EQ(r.Json()["message"], "strconv.ParseInt: parsing \"abc\": invalid syntax");
  EXPECT_EQ(Get(std::string(kConfigMaps) + "?limit=99999999999999999999").Json()["message"],
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
  EXPECT_EQ(Get(std::string(kConfigMaps) + "?watch=1&timeoutSeconds=1s").Json()["message"],
            "strconv.ParseInt: parsing \"1s\": invalid syntax");
  EXPECT_EQ(Get(std::string(kConfigMaps) + "?limit=%2B1").code, 200);
}

}  // namespace
}  // namespace kube::testing

// Field sets, server-side apply and field validation as pure functions (managed_fields.h,
// field_validation.h), with the embedded OpenAPI schemas (openapi.h).
#include "server/managed_fields.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/field_validation.h"
#include "server/openapi.h"
#include "server/resource_info.h"
#include "server/storage.h"

namespace kube::server {
namespace {

using nlohmann::json;

const FieldManager kA{"a", "v1", "", "2026-12-07T00:00:00Z"};
const FieldManager kB{"b", "v1", "", "2026-12-07T00:00:01Z"};

std::optional<KindSchema> ConfigMapSchema() {
  ResourceInfo info;
  info.gvr = {"", "v1", "configmaps"};
  info.kind = "ConfigMap";
  Storage storage(Storage::Options{});
  return SchemaOfKind(info, storage);
}

TEST(ManagedFieldsTest, FieldSetRoundTripsFieldsV1) {
  json v1 =
      json::parse(R"({"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{)"
                  R"("k:{\"name\":\"web\"}":{".":{},"f:image":{}}},"f:tags":{"v:\"blue\"":{}}}})");
  FieldSet set = FieldSet::FromJson(v1);
  EXPECT_EQ(set.ToJson(), v1);
  EXPECT_EQ(set.Paths(),
            (std::vector<std::string>{
                ".metadata.labels", ".metadata.labels.app", ".spec.containers[name=\"web\"]",
                ".spec.containers[name=\"web\"].image", ".spec.tags[=\"blue\"]"}));
}

TEST(ManagedFieldsTest, SchemasOfBuiltInKindsAreEmbedded) {
  std::optional<KindSchema> schema = ConfigMapSchema();
  ASSERT_TRUE(schema);
  EXPECT_TRUE((*schema->root)["properties"].contains("data"));
}

TEST(ManagedFieldsTest, ConflictsWithManyManagersAreGroupedByManager) {
  std::optional<KindSchema> schema = ConfigMapSchema();
  ApiOr<json> one =
      ServerSideApply(&*schema, nullptr, json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
                                    "metadata":{"name":"c"},"data":{"x":"1","y":"1"}})"),
                      kA, false, false);
  ASSERT_TRUE(one.ok());
  json edited = *one;
  edited["data"]["z"] = "1";
  RecordUpdate(&*schema, &*one, &edited, kB, false);
  json applied = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},
                                 "data":{"x":"2","y":"2","z":"2"}})");
  ApiOr<json> r = ServerSideApply(&*schema, &edited, applied, {"c", "v1", "", "t"}, false, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 409);
  EXPECT_EQ(r.error().message,
            "Apply failed with 3 conflicts: conflicts with \"a\":\n- .data.x\n- .data.y\n"
            "conflicts with \"b\" using v1:\n- .data.z");
  ASSERT_EQ(r.error().causes.size(), 3u);
  EXPECT_EQ(r.error().causes[2].reason, "FieldManagerConflict");
  EXPECT_EQ(r.error().causes[2].message, "conflict with \"b\" using v1");
  EXPECT_EQ(r.error().causes[2].field, ".data.z");
}

TEST(ManagedFieldsTest, UntypedListsAreReplacedAndMapsMerged) {
  json live = {{"apiVersion", "x/v1"},
               {"kind", "Thing"},
               {"metadata", {{"name", "t"}}},
               {"spec", {{"list", {1, 2}}, {"map", {{"a", 1}}}}}};
  json applied = {{"apiVersion", "x/v1"},
                  {"kind", "Thing"},
                  {"metadata", {{"name", "t"}}},
                  {"spec", {{"list", {3}}, {"map", {{"b", 2}}}}}};
  ApiOr<json> r = ServerSideApply(nullptr, &live, applied, kA, false, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["spec"], (json{{"list", {3}}, {"map", {{"a", 1}, {"b", 2}}}}));
  EXPECT_EQ((*r)["metadata"]["managedFields"][0]["fieldsV1"],
            json::parse(R"({"f:spec":{"f:list":{},"f:map":{"f:b":{}}}})"));
}

// 20,000 set items applied over 20,000 others, then all dropped: keys are built once per item (a
// scan per item would build 800 million keys).
TEST(ManagedFieldsTest, LongListsMergeAndShrinkInLinearTime) {
  auto doc = std::make_shared<const json>(json::parse(R"({"components":{"schemas":{"T":{
      "type":"object","properties":{"spec":{"type":"object","properties":{"tags":{
      "type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set"}}}}}}}})"));
  KindSchema schema{doc, &(*doc)["components"]["schemas"]["T"]};
  constexpr int kItems = 20000;
  json mine = json::array(), theirs = json::array();
  for (int i = 0; i < kItems; ++i) {
    mine.push_back("m" + std::to_string(i));
    theirs.push_back("t" + std::to_string(i));
  }
  auto thing = [](json tags) {
    return json{{"apiVersion", "x/v1"},
                {"kind", "T"},
                {"metadata", {{"name", "t"}}},
                {"spec", {{"tags", std::move(tags)}}}};
  };
  ApiOr<json> first = ServerSideApply(&schema, nullptr, thing(theirs), kB, false, false);
  ASSERT_TRUE(first.ok());
  ApiOr<json> merged = ServerSideApply(&schema, &*first, thing(mine), kA, false, false);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)["spec"]["tags"].size(), 2u * kItems);
  ApiOr<json> shrunk =
      ServerSideApply(&schema, &*merged, thing(json::array({"m0"})), kA, false, false);
  ASSERT_TRUE(shrunk.ok());
  EXPECT_EQ((*shrunk)["spec"]["tags"].size(), kItems + 1u);
  EXPECT_EQ((*shrunk)["spec"]["tags"].back(), "m0");
}

TEST(ManagedFieldsTest, UpdateThatChangesNothingKeepsTheEntries) {
  std::optional<KindSchema> schema = ConfigMapSchema();
  json obj = {{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", "c"}}},
              {"data", {{"k", "v"}}}};
  json created = obj;
  RecordUpdate(&*schema, nullptr, &created, kA, false);
  json again = created;
  RecordUpdate(&*schema, &created, &again, kB, false);
  EXPECT_EQ(again, created);
}

TEST(ManagedFieldsTest, UnknownFieldsComeInTheBodysOrder) {
  std::optional<KindSchema> schema = ConfigMapSchema();
  std::string raw = R"({"zeta":1,"metadata":{"name":"c","alpha":2},"data":{"k":"v"}})";
  std::vector<std::string> unknown = UnknownFields(*schema, json::parse(raw), raw);
  EXPECT_EQ(unknown, (std::vector<std::string>{"zeta", "metadata.alpha"}));
  EXPECT_EQ(StrictDecodingError(unknown),
            "strict decoding error: unknown field \"zeta\", unknown field \"metadata.alpha\"");
}

TEST(ManagedFieldsTest, ManagerComesFromTheUserAgentsFirstPart) {
  EXPECT_EQ(ManagerFromUserAgent("kubectl/v1.32.5 (linux/amd64) kubernetes/abc"), "kubectl");
  EXPECT_EQ(ManagerFromUserAgent(""), "unknown");
  EXPECT_EQ(ManagerFromUserAgent(std::string(300, 'x')).size(), 128u);
}

}  // namespace
}  // namespace kube::server

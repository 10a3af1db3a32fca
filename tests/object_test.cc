#include "kube/object.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/mutate_json.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::kube::testing::MakeObject;
using ::kube::testing::MakePod;
using ::kube::testing::MustParse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// gmock's container matchers want `const_iterator`, which C++20's std::span lacks.
std::vector<std::string_view> Vec(std::span<const std::string_view> s) {
  return {s.begin(), s.end()};
}

// A Pod with every metadata field the object decodes, pretty-printed as kubectl would.
constexpr std::string_view kFullPod = R"({
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "web-7d4b9c8f5-x2x9q",
    "generateName": "web-7d4b9c8f5-",
    "namespace": "prod",
    "uid": "2f1c9a1e-0d6b-4c55-9f7a-3e1b2c4d5e6f",
    "resourceVersion": "123456",
    "generation": 3,
    "creationTimestamp": "2024-01-02T03:04:05Z",
    "deletionTimestamp": "2024-01-02T03:14:05.250Z",
    "labels": {"app": "web", "pod-template-hash": "7d4b9c8f5"},
    "annotations": {"kubernetes.io/psp": "restricted"},
    "ownerReferences": [
      {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c8f5",
       "uid": "11111111-2222-3333-4444-555555555555", "controller": true,
       "blockOwnerDeletion": true},
      {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u2"}
    ],
    "finalizers": ["example.com/a", "example.com/b"],
    "managedFields": [
      {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
       "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}}
    ]
  },
  "spec": {
    "nodeName": "node-1",
    "replicas": 3,
    "ratio": 0.5,
    "paused": false,
    "nothing": null,
    "containers": [
      {"name": "main", "image": "nginx:1.25", "args": ["-g", "daemon off;"]},
      {"name": "sidecar", "image": "envoy:1.28"}
    ]
  },
  "status": {"phase": "Running"}
})";

std::string Minify(std::string_view pretty) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < pretty.size(); ++i) {
    char c = pretty[i];
    if (in_string) {
      out += c;
      if (c == '\\') {
        out += pretty[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
      out += c;
    }
  }
  return out;
}

TEST(ObjectTest, DecodesEveryMetadataField) {
  ObjectPtr pod = MustParse(kFullPod);
  EXPECT_EQ(pod->api_version(), "v1");
  EXPECT_EQ(pod->kind(), "Pod");
  EXPECT_EQ(pod->gvk(), (GroupVersionKind{"", "v1", "Pod"}));
  EXPECT_EQ(pod->name(), "web-7d4b9c8f5-x2x9q");
  EXPECT_EQ(pod->generate_name(), "web-7d4b9c8f5-");
  EXPECT_EQ(pod->ns(), "prod");
  EXPECT_EQ(pod->uid(), "2f1c9a1e-0d6b-4c55-9f7a-3e1b2c4d5e6f");
  EXPECT_EQ(pod->resource_version(), "123456");
  EXPECT_EQ(pod->generation(), 3);
  EXPECT_THAT(pod->labels(),
              ElementsAre(Pair("app", "web"), Pair("pod-template-hash", "7d4b9c8f5")));
  EXPECT_EQ(pod->labels().Get("app"), "web");
  EXPECT_FALSE(pod->labels().Has("missing"));
  EXPECT_THAT(pod->annotations(), ElementsAre(Pair("kubernetes.io/psp", "restricted")));
  ASSERT_EQ(pod->owner_references().size(), 2u);
  const OwnerReference& rs = pod->owner_references()[0];
  EXPECT_EQ(rs.api_version, "apps/v1");
  EXPECT_EQ(rs.kind, "ReplicaSet");
  EXPECT_EQ(rs.name, "web-7d4b9c8f5");
  EXPECT_EQ(rs.uid, "11111111-2222-3333-4444-555555555555");
  EXPECT_TRUE(rs.controller);
  EXPECT_TRUE(rs.block_owner_deletion);
  EXPECT_FALSE(pod->owner_references()[1].controller);
  EXPECT_FALSE(pod->owner_references()[1].block_owner_deletion);
  EXPECT_THAT(Vec(pod->finalizers()), ElementsAre("example.com/a", "example.com/b"));
  EXPECT_EQ(pod->creation_timestamp(), "2024-01-02T03:04:05Z");
  EXPECT_EQ(pod->deletion_timestamp(), "2024-01-02T03:14:05.250Z");
  EXPECT_TRUE(pod->has_managed_fields());
  EXPECT_GE(pod->MemoryUsage(), pod->json().size());
}

// The reference counts, the metadata and the JSON share one allocation, so the views
// must stay valid exactly as long as any holder, and a weak pointer must outlive the object.
TEST(ObjectTest, ViewsLiveAsLongAsTheLastHolder) {
  ObjectPtr pod = MustParse(kFullPod);
  std::weak_ptr<const Object> weak = pod;
  ObjectPtr other = pod;
  std::span<const OwnerReference> owners = other->owner_references();
  std::string_view json = other->json();
  pod.reset();
  EXPECT_EQ(owners[0].name, "web-7d4b9c8f5");
  EXPECT_EQ(owners[1].kind, "Node");
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(weak.lock(), other);
  other.reset();
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(weak.lock(), nullptr);
}

// One allocation per object: what `MemoryUsage` reports is the JSON plus a bounded overhead
// (control block, metadata, views), not a multiple of it.
TEST(ObjectTest, MemoryUsageIsTheJsonPlusBoundedBookkeeping) {
  ObjectPtr pod = MustParse(kFullPod);
  const size_t views = 3 * 32 + 2 * 72 + 2 * 16;  // label/annotation pairs, owners, finalizers
  EXPECT_GE(pod->MemoryUsage(), pod->json().size() + views);
  EXPECT_LE(pod->MemoryUsage(), pod->json().size() + views + 256);
}

TEST(ObjectTest, GroupVersionKindOfNamedGroup) {
  ObjectPtr d = MakeObject("apps/v1", "Deployment", "ns", "web", "7");
  EXPECT_EQ(d->gvk(), (GroupVersionKind{"apps", "v1", "Deployment"}));
}

TEST(ObjectTest, KeepsPrettyPrintedInputMinified) {
  ObjectPtr pod = MustParse(kFullPod);
  EXPECT_EQ(pod->json(), Minify(kFullPod));
  EXPECT_EQ(pod->json().find('\n'), std::string_view::npos);
  // Spaces inside strings are content, not layout.
  EXPECT_EQ(pod->GetJson("spec.containers[0].args").value(), R"(["-g","daemon off;"])");
}

TEST(ObjectTest, EqualityComparesJson) {
  EXPECT_EQ(*MustParse(kFullPod), *MustParse(Minify(kFullPod)));
  EXPECT_FALSE(*MakePod("a", "b") == *MakePod("a", "c"));
}

TEST(ObjectTest, DecodesEscapesAndKeepsTheBytes) {
  constexpr std::string_view kJson =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"say-\"hi\"",)"
      R"("namespace":"caf\u00e9","labels":{"k\u00e9y":"a\/b","plain":"x"},)"
      R"("annotations":{"note":"line1\nline2\t\ud83d\ude00"},"finalizers":["a\\b"]}})";
  ObjectPtr obj = MustParse(kJson);
  EXPECT_EQ(obj->name(), "say-\"hi\"");
  EXPECT_EQ(obj->ns(), "caf\xc3\xa9");
  EXPECT_EQ(obj->labels().Get("k\xc3\xa9y"), "a/b");
  EXPECT_EQ(obj->labels().Get("plain"), "x");
  EXPECT_EQ(obj->annotations().Get("note"), "line1\nline2\t\xf0\x9f\x98\x80");
  EXPECT_THAT(Vec(obj->finalizers()), ElementsAre("a\\b"));
  EXPECT_EQ(obj->json(), kJson);
  EXPECT_EQ(obj->GetString("metadata.name").value(), "say-\"hi\"");
  EXPECT_EQ(obj->GetString("metadata.labels[k\xc3\xa9y]").value(), "a/b");
}

TEST(ObjectTest, SortsUnsortedMapsAndKeepsTheLastDuplicate) {
  ObjectPtr obj = MustParse(
      R"({"metadata":{"labels":{"b":"1","a":"2","c":"3","a":"4"},"annotations":{"z":"","y":null}}})");
  EXPECT_THAT(obj->labels(), ElementsAre(Pair("a", "4"), Pair("b", "1"), Pair("c", "3")));
  EXPECT_THAT(obj->annotations(), ElementsAre(Pair("y", ""), Pair("z", "")));
}

TEST(ObjectTest, MissingMetadataIsEmpty) {
  for (std::string_view json :
       {R"({})", R"({"spec":{"x":1}})", R"({"metadata":null})", R"({"metadata":{}})",
        R"({"apiVersion":null,"kind":null,"metadata":{"name":null,"namespace":null,"uid":null,)"
        R"("resourceVersion":null,"generation":null,"labels":null,"annotations":null,)"
        R"("ownerReferences":null,"finalizers":null,"creationTimestamp":null}})"}) {
    SCOPED_TRACE(json);
    ObjectPtr obj = MustParse(json);
    EXPECT_EQ(obj->api_version(), "");
    EXPECT_EQ(obj->kind(), "");
    EXPECT_EQ(obj->name(), "");
    EXPECT_EQ(obj->ns(), "");
    EXPECT_EQ(obj->generate_name(), "");
    EXPECT_EQ(obj->uid(), "");
    EXPECT_EQ(obj->resource_version(), "");
    EXPECT_EQ(obj->generation(), 0);
    EXPECT_TRUE(obj->labels().empty());
    EXPECT_TRUE(obj->annotations().empty());
    EXPECT_TRUE(obj->owner_references().empty());
    EXPECT_TRUE(obj->finalizers().empty());
    EXPECT_EQ(obj->creation_timestamp(), "");
    EXPECT_EQ(obj->creation_time(), std::nullopt);
    EXPECT_EQ(obj->deletion_time(), std::nullopt);
    EXPECT_FALSE(obj->has_managed_fields());
  }
}

TEST(ObjectTest, RejectsMetadataOfTheWrongType) {
  struct Case {
    std::string_view json;
    std::string_view field;
  };
  const Case cases[] = {
      {R"({"apiVersion":1})", "apiVersion is an integer, not a string"},
      {R"({"kind":{}})", "kind is an object, not a string"},
      {R"({"metadata":"x"})", "metadata is a string, not an object"},
      {R"({"metadata":[]})", "metadata is an array, not an object"},
      {R"({"metadata":{"name":1}})", "metadata.name is an integer, not a string"},
      {R"({"metadata":{"namespace":true}})", "metadata.namespace is a boolean, not a string"},
      {R"({"metadata":{"uid":[]}})", "metadata.uid is an array"},
      {R"({"metadata":{"resourceVersion":12}})", "metadata.resourceVersion is an integer"},
      {R"({"metadata":{"generateName":1.5}})", "metadata.generateName is a double"},
      {R"({"metadata":{"generation":"1"}})", "metadata.generation is a string, not an integer"},
      {R"({"metadata":{"generation":1.5}})", "metadata.generation is a double, not an integer"},
      {R"({"metadata":{"generation":9223372036854775808}})", "metadata.generation"},
      {R"({"metadata":{"creationTimestamp":0}})", "metadata.creationTimestamp"},
      {R"({"metadata":{"deletionTimestamp":{}}})", "metadata.deletionTimestamp"},
      {R"({"metadata":{"labels":[]}})", "metadata.labels is an array, not an object"},
      {R"({"metadata":{"labels":{"app":1}}})",
       R"(metadata.labels["app"] is an integer, not a string)"},
      {R"({"metadata":{"annotations":{"a":{}}}})", R"(metadata.annotations["a"] is an object)"},
      {R"({"metadata":{"ownerReferences":{}}})", "metadata.ownerReferences is an object"},
      {R"({"metadata":{"ownerReferences":["x"]}})",
       "metadata.ownerReferences[0] is a string, not an object"},
      {R"({"metadata":{"ownerReferences":[{},{"controller":"yes"}]}})",
       "metadata.ownerReferences[1].controller is a string, not a boolean"},
      {R"({"metadata":{"ownerReferences":[{"name":7}]}})", "metadata.ownerReferences[0].name"},
      {R"({"metadata":{"finalizers":"x"}})", "metadata.finalizers is a string, not an array"},
      {R"({"metadata":{"finalizers":["a",2]}})", "metadata.finalizers[1] is an integer"},
      {R"({"metadata":{"managedFields":{}}})", "metadata.managedFields is an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto obj = Object::Parse(c.json);
    ASSERT_FALSE(obj.has_value());
    EXPECT_EQ(obj.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(obj.error().message(), HasSubstr(c.field));
  }
}

TEST(ObjectTest, RejectsMalformedJson) {
  const std::string_view cases[] = {
      "",
      " ",
      "{",
      "}",
      R"({"a":})",
      R"({"a":1,})",
      R"({"a" 1})",
      R"({'a':1})",
      R"({"a":tru})",
      R"({"a":"\x"})",
      R"({"a":"unterminated})",
      R"({"a":[1,2})",
      R"({"a":1}})",
      R"({"a":1} {"b":2})",
      "{\"a\":\"\xff\xfe\"}",  // not UTF-8
      R"({"a":01})",
      // Whitespace inside a token: minifying before validating would accept these.
      R"({"a": 1 2})",
      R"({"a":tr ue})",
      R"({"a":[1, 2 3]})",
      R"({"a":"x" "y"})",
  };
  for (std::string_view json : cases) {
    SCOPED_TRACE(json);
    auto obj = Object::Parse(json);
    ASSERT_FALSE(obj.has_value());
    EXPECT_EQ(obj.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(obj.error().message(), HasSubstr("malformed JSON"));
  }
}

// Object::Parse validates with simdjson's stage 1 and its own token checks instead of a DOM; it
// must accept exactly what simdjson's DOM parser accepts. Mutates a Pod at random, many times.
TEST(ObjectTest, AcceptsExactlyWhatSimdjsonAccepts) {
  const std::string base = std::string(kFullPod) + R"( )";
  std::mt19937 rng(42);
  simdjson::dom::parser dom;
  int accepted = 0;
  for (int round = 0; round < 4000; ++round) {
    const std::string doc = ::kube::testing::MutateJson(base, rng);
    simdjson::padded_string padded(doc);
    simdjson::dom::element root;
    const simdjson::error_code dom_error = dom.parse(padded).get(root);
    // simdjson also rejects numbers beyond the uint64 and double ranges; JSON does not.
    if (dom_error == simdjson::NUMBER_ERROR) continue;
    const bool dom_ok = dom_error == simdjson::SUCCESS;
    auto obj = Object::Parse(doc);
    const bool malformed = !obj && obj.error().message().find("malformed") != std::string::npos;
    if (dom_ok) {
      ++accepted;
      EXPECT_FALSE(malformed) << doc << "\n" << obj.error();
      if (obj) {
        EXPECT_TRUE(root.is_object());
      }
    } else {
      EXPECT_FALSE(obj.has_value()) << doc;
    }
  }
  EXPECT_GT(accepted, 100);  // the mutations leave enough valid documents to compare
}

TEST(ObjectTest, RejectsBadEscapesLiteralsAndNumbers) {
  const std::string_view cases[] = {
      R"({"a":"\u12"})",   R"({"a":"\u12g4"})", R"({"a":"\ud800"})", R"({"a":"\ud800\u0041"})",
      R"({"a":"\udc00"})", R"({"a":"\q"})",     R"({"a\q":1})",      R"({"a":-})",
      R"({"a":1.})",       R"({"a":.5})",       R"({"a":1e})",       R"({"a":+1})",
      R"({"a":0x1})",      R"({"a":NaN})",      R"({"a":truex})",    R"({"a":nul})",
      R"({"a":1}x)",       R"({"a":1},)",       R"({"a" "b"})",      R"({"a":1:2})",
      R"({1:2})",          R"({"a":[}})",       R"({"a":{]})",       R"({"a":[1,]})",
      R"({,"a":1})",       R"({"a":1,,"b":2})", R"({"a"})",
  };
  for (std::string_view json : cases) {
    SCOPED_TRACE(json);
    auto obj = Object::Parse(json);
    ASSERT_FALSE(obj.has_value());
    EXPECT_THAT(obj.error().message(), HasSubstr("malformed JSON"));
  }
  // Valid oddities.
  for (std::string_view json : {R"({"a":"\ud83d\ude00\/\b\f\n\r\t\"\\"})", R"({"a":-0.0e+00})",
                                R"({"a":[[],{},[{}]],"b":[true,false,null]})", " {} "}) {
    SCOPED_TRACE(json);
    EXPECT_TRUE(Object::Parse(json).has_value());
  }
  // Nesting: simdjson's limit is 1024 levels.
  std::string deep = R"({"a":)" + std::string(1022, '[') + std::string(1022, ']') + "}";
  EXPECT_TRUE(Object::Parse(deep).has_value());
  std::string too_deep = R"({"a":)" + std::string(1024, '[') + std::string(1024, ']') + "}";
  EXPECT_FALSE(Object::Parse(too_deep).has_value());
}

TEST(ObjectTest, RejectsEveryTruncation) {
  const std::string full = Minify(kFullPod);
  for (size_t len = 0; len < full.size(); ++len) {
    auto obj = Object::Parse(std::string_view(full).substr(0, len));
    ASSERT_FALSE(obj.has_value()) << len;
    EXPECT_EQ(obj.error().code(), StatusCode::kInvalidArgument) << len;
  }
  // The pretty form too: its prefixes end in whitespace as well.
  for (size_t len = 0; len < kFullPod.size(); len += 7) {
    EXPECT_FALSE(Object::Parse(kFullPod.substr(0, len)).has_value()) << len;
  }
}

TEST(ObjectTest, RejectsTopLevelArraysAndScalars) {
  struct Case {
    std::string_view json;
    std::string_view type;
  };
  const Case cases[] = {{"[]", "an array"},   {R"([{"a":1}])", "an array"}, {"1", "an integer"},
                        {"2.5", "a double"},  {R"("s")", "a string"},       {"null", "null"},
                        {"true", "a boolean"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto obj = Object::Parse(c.json);
    ASSERT_FALSE(obj.has_value());
    EXPECT_EQ(obj.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(obj.error().message(), HasSubstr("top level is " + std::string(c.type)));
  }
}

TEST(ObjectTest, ParsesTimestamps) {
  using std::chrono::system_clock;
  using namespace std::chrono_literals;
  const system_clock::time_point base =
      std::chrono::sys_days{std::chrono::year{2024} / std::chrono::January / 2} + 3h + 4min + 5s;
  struct Case {
    std::string_view text;
    std::optional<system_clock::time_point> want;
  };
  const Case cases[] = {
      {"2024-01-02T03:04:05Z", base},
      {"2024-01-02t03:04:05z", base},
      {"2024-01-02T03:04:05.5Z", base + 500ms},
      {"2024-01-02T03:04:05.000000001Z", base + 1ns},
      {"2024-01-02T03:04:05.1234567891Z", base + 123456789ns},
      {"2024-01-02T05:04:05+02:00", base},
      {"2024-01-01T23:34:05-03:30", base},
      {"1970-01-01T00:00:00Z", system_clock::time_point{}},
      {"2024-02-29T00:00:00Z",
       std::chrono::sys_days{std::chrono::year{2024} / std::chrono::February / 29}},
      {"", std::nullopt},
      {"2024-01-02", std::nullopt},
      {"2024-01-02T03:04:05", std::nullopt},
      {"2024-01-02 03:04:05Z", std::nullopt},
      {"2024-01-02T03:04:05.Z", std::nullopt},
      {"2024-01-02T03:04:05+0200", std::nullopt},
      {"2024-01-02T03:04:05Zjunk", std::nullopt},
      {"2023-02-29T00:00:00Z", std::nullopt},
      {"2024-13-01T00:00:00Z", std::nullopt},
      {"2024-01-02T24:00:00Z", std::nullopt},
      {"2024-01-02T03:60:00Z", std::nullopt},
      {"0001-01-01T00:00:00Z", std::nullopt},  // outside what system_clock holds
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    ObjectPtr obj = MustParse(R"({"metadata":{"creationTimestamp":")" + std::string(c.text) +
                              R"(","deletionTimestamp":")" + std::string(c.text) + R"("}})");
    EXPECT_EQ(obj->creation_timestamp(), c.text);
    EXPECT_EQ(obj->creation_time(), c.want);
    EXPECT_EQ(obj->deletion_time(), c.want);
  }
}

TEST(ObjectTest, FillsInMissingApiVersionAndKind) {
  ObjectPtr obj =
      Object::Parse(R"({"metadata":{"name":"a"},"data":{}})", "v1", "ConfigMap").value();
  EXPECT_EQ(obj->json(),
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{}})");
  EXPECT_EQ(obj->api_version(), "v1");
  EXPECT_EQ(obj->kind(), "ConfigMap");
  EXPECT_EQ(obj->name(), "a");
  EXPECT_EQ(obj->GetString("kind").value(), "ConfigMap");

  ObjectPtr empty = Object::Parse("{}", "apps/v1", "Deployment").value();
  EXPECT_EQ(empty->json(), R"({"apiVersion":"apps/v1","kind":"Deployment"})");
  EXPECT_EQ(empty->gvk(), (GroupVersionKind{"apps", "v1", "Deployment"}));

  ObjectPtr has_both =
      Object::Parse(R"({"kind":"Mine","apiVersion":"x/v2"})", "v1", "ConfigMap").value();
  EXPECT_EQ(has_both->json(), R"({"kind":"Mine","apiVersion":"x/v2"})");
  EXPECT_EQ(has_both->kind(), "Mine");

  ObjectPtr kind_only = Object::Parse(R"({"kind":"Mine"})", "v1", "ConfigMap").value();
  EXPECT_EQ(kind_only->json(), R"({"apiVersion":"v1","kind":"Mine"})");
  EXPECT_EQ(kind_only->api_version(), "v1");
  EXPECT_EQ(kind_only->kind(), "Mine");

  ObjectPtr no_defaults = Object::Parse(R"({"a":1})", "", "").value();
  EXPECT_EQ(no_defaults->json(), R"({"a":1})");

  // Defaults that need escaping are escaped in the JSON and plain in the accessors.
  ObjectPtr odd = Object::Parse(R"({"metadata":{"name":"a\"b"}})", "we\"ird", "K\\").value();
  EXPECT_EQ(odd->json(), R"({"apiVersion":"we\"ird","kind":"K\\","metadata":{"name":"a\"b"}})");
  EXPECT_EQ(odd->api_version(), "we\"ird");
  EXPECT_EQ(odd->kind(), "K\\");
  EXPECT_EQ(odd->name(), "a\"b");
  EXPECT_TRUE(Object::Parse(odd->json()).has_value());
}

// --- Path access --------------------------------------------------------------------------------

TEST(ObjectPathTest, ReadsByDottedPathAndPointer) {
  ObjectPtr pod = MustParse(kFullPod);
  EXPECT_EQ(pod->GetString("spec.nodeName").value(), "node-1");
  EXPECT_EQ(pod->GetString(".spec.nodeName").value(), "node-1");
  EXPECT_EQ(pod->GetString("spec.containers[1].image").value(), "envoy:1.28");
  EXPECT_EQ(pod->GetString("spec.containers[0].args[1]").value(), "daemon off;");
  EXPECT_EQ(pod->GetString("metadata.labels[pod-template-hash]").value(), "7d4b9c8f5");
  EXPECT_EQ(pod->GetString("metadata.annotations[kubernetes.io/psp]").value(), "restricted");
  EXPECT_EQ(pod->GetString("/spec/containers/1/name").value(), "sidecar");
  EXPECT_EQ(pod->GetString("/metadata/ownerReferences/0/kind").value(), "ReplicaSet");
  EXPECT_EQ(pod->GetInt64("spec.replicas").value(), 3);
  EXPECT_EQ(pod->GetInt64("/metadata/generation").value(), 3);
  EXPECT_EQ(pod->GetDouble("spec.ratio").value(), 0.5);
  EXPECT_EQ(pod->GetDouble("spec.replicas").value(), 3.0);
  EXPECT_EQ(pod->GetBool("spec.paused").value(), false);
  EXPECT_EQ(pod->GetBool("metadata.ownerReferences[0].controller").value(), true);
  EXPECT_THAT(pod->GetStringList("metadata.finalizers").value(),
              ElementsAre("example.com/a", "example.com/b"));
  EXPECT_THAT(pod->GetStringMap("metadata.labels").value(),
              ElementsAre(Pair("app", "web"), Pair("pod-template-hash", "7d4b9c8f5")));
  EXPECT_EQ(pod->GetJson("spec.containers[1]").value(),
            R"({"name":"sidecar","image":"envoy:1.28"})");
  EXPECT_EQ(pod->GetJson("").value(), pod->json());
  EXPECT_EQ(pod->GetJson("spec.nothing").value(), "null");
  EXPECT_TRUE(pod->Has("spec.nothing"));
  EXPECT_TRUE(pod->Has("status"));
  EXPECT_FALSE(pod->Has("status.podIP"));
}

TEST(ObjectPathTest, ReportsTypes) {
  ObjectPtr pod = MustParse(kFullPod);
  EXPECT_EQ(pod->GetType("spec").value(), JsonType::kObject);
  EXPECT_EQ(pod->GetType("spec.containers").value(), JsonType::kArray);
  EXPECT_EQ(pod->GetType("spec.nodeName").value(), JsonType::kString);
  EXPECT_EQ(pod->GetType("spec.replicas").value(), JsonType::kInt);
  EXPECT_EQ(pod->GetType("spec.ratio").value(), JsonType::kDouble);
  EXPECT_EQ(pod->GetType("spec.paused").value(), JsonType::kBool);
  EXPECT_EQ(pod->GetType("spec.nothing").value(), JsonType::kNull);
  EXPECT_EQ(JsonTypeName(JsonType::kInt), "int");
  EXPECT_EQ(JsonTypeName(JsonType::kObject), "object");
}

TEST(ObjectPathTest, MapKeysWithDotsSlashesAndPointerEscapes) {
  ObjectPtr obj =
      MustParse(R"({"metadata":{"labels":{"app.kubernetes.io/name":"web","a~b":"t","c/d":"s"}},)"
                R"("data":{"0":"zero","x.y":{"z":1}}})");
  EXPECT_EQ(obj->GetString("metadata.labels[app.kubernetes.io/name]").value(), "web");
  EXPECT_EQ(obj->GetString("/metadata/labels/app.kubernetes.io~1name").value(), "web");
  EXPECT_EQ(obj->GetString("/metadata/labels/a~0b").value(), "t");
  EXPECT_EQ(obj->GetString("/metadata/labels/c~1d").value(), "s");
  EXPECT_EQ(obj->GetString("data[0]").value(), "zero");  // digits name a key in an object
  EXPECT_EQ(obj->GetString("/data/0").value(), "zero");
  EXPECT_EQ(obj->GetInt64("data[x.y].z").value(), 1);
  EXPECT_EQ(obj->GetInt64("data[x.y][z]").value(), 1);
}

TEST(ObjectPathTest, MissingStepsAreNotFound) {
  ObjectPtr pod = MustParse(kFullPod);
  for (std::string_view path :
       {"spec.missing", "spec.containers[2].image", "spec.containers[0].missing",
        "metadata.labels[nope]", "/spec/missing", "/spec/containers/9", "/spec/containers/-",
        "nope"}) {
    SCOPED_TRACE(path);
    auto v = pod->GetString(path);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code(), StatusCode::kNotFound);
    EXPECT_TRUE(IsNotFound(v.error()));
    EXPECT_THAT(v.error().message(), HasSubstr(std::string(path)));
    EXPECT_FALSE(pod->Has(path));
    EXPECT_EQ(pod->GetType(path).error().code(), StatusCode::kNotFound);
  }
}

TEST(ObjectPathTest, WrongTypesAreInvalidArgument) {
  ObjectPtr pod = MustParse(kFullPod);
  struct Case {
    Status status;
    std::string_view message;
  };
  const Case cases[] = {
      {pod->GetString("spec.replicas").error(), "spec.replicas is an integer, not a string"},
      {pod->GetInt64("spec.nodeName").error(), "spec.nodeName is a string, not an integer"},
      {pod->GetInt64("spec.ratio").error(), "spec.ratio is a double, not an integer"},
      {pod->GetDouble("spec.paused").error(), "spec.paused is a boolean, not a number"},
      {pod->GetBool("spec.nothing").error(), "spec.nothing is null, not a boolean"},
      {pod->GetStringList("spec.nodeName").error(), "spec.nodeName is a string, not an array"},
      {pod->GetStringList("spec.containers").error(), "spec.containers[0] is an object"},
      {pod->GetStringMap("spec.containers").error(), "spec.containers is an array"},
      {pod->GetStringMap("spec").error(), R"(spec["replicas"] is an integer, not a string)"},
      // Stepping into a scalar, or by name into an array.
      {pod->GetString("spec.nodeName.x").error(), "spec.nodeName is a string"},
      {pod->GetString("spec.containers.name").error(), "spec.containers is an array"},
      {pod->GetString("spec.nothing[0]").error(), "spec.nothing is null"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_EQ(c.status.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status.message(), HasSubstr(c.message));
  }
}

TEST(ObjectPathTest, BadPathsAreInvalidArgument) {
  ObjectPtr pod = MustParse(kFullPod);
  for (std::string_view path : {".", "a..b", "a.", "a[", "a[]", "a]b", "a[0]b", "/a/~2", "/a~"}) {
    SCOPED_TRACE(path);
    auto v = pod->GetJson(path);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(v.error().message(), HasSubstr("invalid path"));
    EXPECT_FALSE(pod->Has(path));
  }
}

TEST(ObjectPathTest, IntegersOutsideInt64AreInvalidArgument) {
  ObjectPtr obj = MustParse(
      R"({"big":18446744073709551615,"max":9223372036854775807,"min":-9223372036854775808,)"
      R"("over":9223372036854775808,"exp":1e3,"neg":-0.25})");
  EXPECT_EQ(obj->GetInt64("max").value(), INT64_MAX);
  EXPECT_EQ(obj->GetInt64("min").value(), INT64_MIN);
  EXPECT_EQ(obj->GetInt64("over").error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(obj->GetInt64("big").error().message(), HasSubstr("int64"));
  EXPECT_EQ(obj->GetDouble("big").value(), 18446744073709551615.0);
  EXPECT_EQ(obj->GetType("big").value(), JsonType::kInt);
  EXPECT_EQ(obj->GetType("exp").value(), JsonType::kDouble);
  EXPECT_EQ(obj->GetDouble("exp").value(), 1000.0);
  EXPECT_EQ(obj->GetDouble("neg").value(), -0.25);
}

TEST(ObjectPathTest, NumbersBeyondSimdjsonsRangesAreKeptAndReported) {
  ObjectPtr obj = MustParse(R"({"huge":123456789012345678901234567890,"inf":1e400,"tiny":1e-400})");
  EXPECT_EQ(obj->GetType("huge").value(), JsonType::kInt);
  EXPECT_EQ(obj->GetInt64("huge").error().code(), StatusCode::kInvalidArgument);
  EXPECT_DOUBLE_EQ(obj->GetDouble("huge").value(), 1.2345678901234568e29);
  EXPECT_EQ(obj->GetDouble("inf").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(obj->GetJson("inf").value(), "1e400");
  EXPECT_TRUE(obj->GetDouble("tiny").has_value() ||
              obj->GetDouble("tiny").error().code() == StatusCode::kInvalidArgument);
}

TEST(ObjectPathTest, DecodesEscapesInValuesAndKeys) {
  ObjectPtr obj = MustParse(R"({"d":{"k\"ey":"v\u00e9\/","list":["\t","\\"]}})");
  EXPECT_EQ(obj->GetString("d[k\"ey]").value(), "v\xc3\xa9/");
  EXPECT_THAT(obj->GetStringList("d.list").value(), ElementsAre("\t", "\\"));
  EXPECT_EQ(obj->GetStringMap("d").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(obj->GetJson("d.list").value(), R"(["\t","\\"])");
}

// --- Lists --------------------------------------------------------------------------------------

TEST(DecodeListTest, FillsInKindAndApiVersionOfItems) {
  constexpr std::string_view kBody = R"({
    "kind": "PodList", "apiVersion": "v1",
    "metadata": {"resourceVersion": "991", "continue": "tok", "remainingItemCount": 42},
    "items": [
      {"metadata": {"name": "a", "namespace": "ns", "resourceVersion": "10"}},
      {"apiVersion": "v9", "kind": "Custom", "metadata": {"name": "b"}},
      {"kind": "Other", "metadata": {"name": "c"}}
    ]
  })";
  ObjectList list = DecodeList(kBody).value();
  EXPECT_EQ(list.kind, "PodList");
  EXPECT_EQ(list.api_version, "v1");
  EXPECT_EQ(list.resource_version, "991");
  EXPECT_EQ(list.continue_token, "tok");
  EXPECT_EQ(list.remaining_item_count, 42);
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_EQ(list.items[0]->json(),
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ns",)"
            R"("resourceVersion":"10"}})");
  EXPECT_EQ(list.items[0]->kind(), "Pod");
  EXPECT_EQ(list.items[0]->ns(), "ns");
  EXPECT_EQ(list.items[0]->resource_version(), "10");
  EXPECT_EQ(list.items[1]->json(),
            R"({"apiVersion":"v9","kind":"Custom","metadata":{"name":"b"}})");
  EXPECT_EQ(list.items[1]->kind(), "Custom");
  EXPECT_EQ(list.items[2]->api_version(), "v1");
  EXPECT_EQ(list.items[2]->kind(), "Other");
}

TEST(DecodeListTest, MinifiedListWithoutOptionalMetadata) {
  ObjectList list =
      DecodeList(R"({"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"5"},)"
                 R"("items":[{"metadata":{"name":"x"}}]})")
          .value();
  EXPECT_EQ(list.continue_token, "");
  EXPECT_EQ(list.remaining_item_count, std::nullopt);
  ASSERT_EQ(list.items.size(), 1u);
  EXPECT_EQ(list.items[0]->kind(), "ConfigMap");
  EXPECT_EQ(list.items[0]->name(), "x");
}

TEST(DecodeListTest, EmptyAndNullItems) {
  for (std::string_view body : {R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]})",
                                R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[ ]})",
                                R"({"kind":"PodList","apiVersion":"v1","items":null})",
                                R"({"items":null,"kind":"PodList"})"}) {
    SCOPED_TRACE(body);
    auto list = DecodeList(body);
    ASSERT_TRUE(list.has_value()) << list.error();
    EXPECT_TRUE(list->items.empty());
    EXPECT_EQ(list->kind, "PodList");
  }
}

TEST(DecodeListTest, ItemsOfKindListGetNoKind) {
  ObjectList list = DecodeList(R"({"kind":"List","apiVersion":"v1","items":[{}]})").value();
  EXPECT_EQ(list.items[0]->json(), R"({"apiVersion":"v1"})");
}

TEST(DecodeListTest, EscapedItemsKeyStillDecodes) {
  ObjectList list =
      DecodeList(R"({"kind":"PodList","apiVersion":"v1","it\u0065ms":[{"metadata":{"name":"a"}}]})")
          .value();
  ASSERT_EQ(list.items.size(), 1u);
  EXPECT_EQ(list.items[0]->name(), "a");
  EXPECT_EQ(list.items[0]->kind(), "Pod");
}

TEST(DecodeListTest, ReportsTheIndexOfABadItem) {
  struct Case {
    std::string_view body;
    std::string_view message;
  };
  const Case cases[] = {
      {R"({"kind":"PodList","items":[{},{"metadata":{"name":1}}]})",
       "items[1]: metadata.name is an integer"},
      {R"({"kind":"PodList","items":[{},{},3]})", "items[2]: JSON top level is an integer"},
      {R"({"kind":"PodList","items":[{},{"a":tru}]})", "malformed JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto list = DecodeList(c.body);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(list.error().message(), HasSubstr(c.message));
  }
}

TEST(DecodeListTest, RejectsBadLists) {
  struct Case {
    std::string_view body;
    std::string_view message;
  };
  const Case cases[] = {
      {R"({"kind":"PodList"})", "no items"},
      {R"({})", "no items"},
      {R"({"items":{}})", "items is an object, not an array"},
      {R"({"items":"x"})", "items is a string, not an array"},
      {R"([])", "top level is an array"},
      {R"({"items":[],"metadata":{"resourceVersion":5}})", "metadata.resourceVersion"},
      {R"({"items":[],"metadata":{"remainingItemCount":"5"}})", "metadata.remainingItemCount"},
      {R"({"items":[],"kind":1})", "kind is an integer"},
      {R"({"items":[],"metadata":[]})", "metadata is an array"},
      {R"({"items":[{} {}]})", "malformed JSON"},
      {R"({"items":[{},]})", "malformed JSON"},
      {R"({"items":[{}]} x)", "malformed JSON"},
      {R"({"items":[{}],})", "malformed JSON"},
      {R"({"items":[{}], "kind":tru})", "malformed JSON"},
      {R"({"items":[{}]])", "malformed JSON"},
      {"", "malformed JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto list = DecodeList(c.body);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(list.error().message(), HasSubstr(c.message));
  }
}

TEST(DecodeListTest, RejectsEveryTruncation) {
  const std::string body =
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[)" +
      Minify(kFullPod) + "," + Minify(kFullPod) + "]}";
  ASSERT_TRUE(DecodeList(body).has_value());
  for (size_t len = 0; len < body.size(); ++len) {
    auto list = DecodeList(std::string_view(body).substr(0, len));
    ASSERT_FALSE(list.has_value()) << len;
    EXPECT_EQ(list.error().code(), StatusCode::kInvalidArgument) << len;
  }
}

TEST(DecodeListTest, ItemsMatchIndividualParses) {
  std::string body = R"({"kind":"PodList","apiVersion":"v1","items":[)";
  for (int i = 0; i < 20; ++i) {
    if (i > 0) body += ",\n";
    body += kFullPod;
  }
  body += "]}";
  ObjectList list = DecodeList(body).value();
  ASSERT_EQ(list.items.size(), 20u);
  for (const ObjectPtr& item : list.items) EXPECT_EQ(*item, *MustParse(kFullPod));
}

TEST(DecodeListTest, HeaderBeforeOrAfterItemsDecodesAlike) {
  // API servers write kind and apiVersion first, and DecodeList then decodes the items during
  // its scan; any other order takes the second path. Both must give the same list.
  const std::string items = R"("items":[{"metadata":{"name":"a","namespace":"n"}},)"
                            R"({"kind":"Other","metadata":{"name":"b"}}])";
  const std::string first =
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},)" + items + "}";
  const std::string last =
      "{" + items + R"(,"metadata":{"resourceVersion":"7"},"apiVersion":"v1","kind":"PodList"})";
  ObjectList a = DecodeList(first).value();
  ObjectList b = DecodeList(last).value();
  ASSERT_EQ(a.items.size(), 2u);
  ASSERT_EQ(b.items.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(a.items[i]->json(), b.items[i]->json());
  EXPECT_EQ(a.items[0]->json(),
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"n"}})");
  EXPECT_EQ(a.items[1]->kind(), "Other");
  EXPECT_EQ(a.resource_version, "7");
}

TEST(DecodeListTest, HeaderOddities) {
  // An escaped apiVersion, and a duplicated kind (the DOM reads one of them): the items get
  // exactly the list's values.
  ObjectList escaped =
      DecodeList(R"({"kind":"PodList","apiVersion":"v\u0031","items":[{}]})").value();
  EXPECT_EQ(escaped.api_version, "v1");
  EXPECT_EQ(escaped.items.at(0)->api_version(), "v1");
  ObjectList twice =
      DecodeList(R"({"kind":"PodList","apiVersion":"v1","kind":"NodeList","items":[{}]})").value();
  EXPECT_EQ(std::string(twice.items.at(0)->kind()) + "List", twice.kind);
}

TEST(DecodeListTest, MalformedBodyWinsOverABadItem) {
  // The item error is reported only once the rest of the body is known to be well formed.
  struct Case {
    std::string_view body;
    std::string_view message;
  };
  const Case cases[] = {
      {R"({"kind":"PodList","apiVersion":"v1","items":[{},{"metadata":{"name":1}}]})",
       "items[1]: metadata.name is an integer"},
      {R"({"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":1}}],"x":tru})",
       "malformed JSON"},
      {R"({"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":1}} {}]})",
       "malformed JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto list = DecodeList(c.body);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(list.error().message(), HasSubstr(c.message));
  }
}

// --- DropManagedFields --------------------------------------------------------------------------

TEST(DropManagedFieldsTest, RemovesOnlyManagedFields) {
  ObjectPtr pod = MustParse(kFullPod);
  ObjectPtr dropped = DropManagedFields(pod);
  ASSERT_NE(dropped, pod);
  EXPECT_FALSE(dropped->has_managed_fields());
  // The expectation re-serializes the input without the member, by hand.
  std::string expected = Minify(kFullPod);
  size_t begin = expected.find(R"(,"managedFields":)");
  size_t end = expected.find(R"(},"spec")");
  ASSERT_NE(begin, std::string::npos);
  expected.erase(begin, end - begin);
  EXPECT_EQ(dropped->json(), expected);
  EXPECT_TRUE(Object::Parse(dropped->json()).has_value());
  // Everything else reads the same.
  EXPECT_EQ(dropped->name(), pod->name());
  EXPECT_EQ(dropped->uid(), pod->uid());
  EXPECT_EQ(dropped->generation(), pod->generation());
  EXPECT_THAT(dropped->labels(),
              ElementsAre(Pair("app", "web"), Pair("pod-template-hash", "7d4b9c8f5")));
  EXPECT_EQ(dropped->owner_references().size(), 2u);
  EXPECT_THAT(Vec(dropped->finalizers()), ElementsAre("example.com/a", "example.com/b"));
  EXPECT_EQ(dropped->creation_time(), pod->creation_time());
  EXPECT_LT(dropped->MemoryUsage(), pod->MemoryUsage());
  EXPECT_EQ(DropManagedFields(dropped), dropped);
}

TEST(DropManagedFieldsTest, AnyPositionOfTheMember) {
  struct Case {
    std::string_view in;
    std::string_view out;
  };
  const Case cases[] = {
      {R"({"metadata":{"managedFields":[{"a":1}]}})", R"({"metadata":{}})"},
      {R"({"metadata":{"managedFields":[],"name":"x"}})", R"({"metadata":{"name":"x"}})"},
      {R"({"metadata":{"name":"x","managedFields":null,"uid":"u"}})",
       R"({"metadata":{"name":"x","uid":"u"}})"},
      {R"({"metadata":{"name":"x","managedFields":[{"f":"]}"}]},"k":{"managedFields":1}})",
       R"({"metadata":{"name":"x"},"k":{"managedFields":1}})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    ObjectPtr obj = MustParse(c.in);
    EXPECT_TRUE(obj->has_managed_fields());
    ObjectPtr dropped = DropManagedFields(obj);
    EXPECT_EQ(dropped->json(), c.out);
    EXPECT_FALSE(dropped->has_managed_fields());
  }
}

TEST(DropManagedFieldsTest, ReturnsTheSameObjectWithoutManagedFields) {
  ObjectPtr pod = MakePod("ns", "a");
  EXPECT_EQ(DropManagedFields(pod), pod);
  EXPECT_EQ(DropManagedFields(nullptr), nullptr);
}

TEST(DropManagedFieldsTest, KeepsFilledInKind) {
  ObjectPtr obj =
      Object::Parse(R"({"metadata":{"name":"a","managedFields":[]}})", "v1", "Pod").value();
  ObjectPtr dropped = DropManagedFields(obj);
  EXPECT_EQ(dropped->json(), R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}})");
  EXPECT_EQ(dropped->kind(), "Pod");
}

// --- Concurrency
// ----------------------------------------------------------------------------------

// Objects are shared across threads; every const method must be callable at once. A stress test
// (TSan runs it): readers hammer the same objects while other threads decode new ones.
TEST(ObjectStressTest, ConcurrentReadsOfSharedObjects) {
  std::vector<ObjectPtr> objects;
  for (int i = 0; i < 8; ++i) objects.push_back(MustParse(kFullPod));
  constexpr int kThreads = 8;
  constexpr int kRounds = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const ObjectPtr& obj = objects[(t + r) % objects.size()];
        bool ok = obj->GetString("spec.containers[1].image").value_or("") == "envoy:1.28" &&
                  obj->GetInt64("/spec/replicas").value_or(0) == 3 &&
                  obj->labels().Get("app") == "web" && obj->name() == "web-7d4b9c8f5-x2x9q" &&
                  !obj->Has("spec.nope") && obj->creation_time().has_value();
        if (t % 2 == 0) {
          ok = ok && DropManagedFields(obj)->json().size() < obj->json().size();
          ok = ok && Object::Parse(obj->json()).has_value();
        }
        if (!ok) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace kube

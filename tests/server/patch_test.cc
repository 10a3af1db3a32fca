// Tests for PATCH: content types, JSON patch, merge patch and strategic merge patch.
#include "server/patch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace kube::server {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

const ResourceInfo& Builtin(std::string group, std::string resource) {
  static const ResourceCatalog* catalog = ResourceCatalog::WithBuiltins().release();
  ResourceInfoPtr r = catalog->Find({std::move(group), "v1", std::move(resource)});
  if (r == nullptr) {
    ADD_FAILURE() << "no built-in " << resource;
    static const ResourceInfo kNone;
    return kNone;
  }
  return *r;  // the catalog, never destroyed, keeps it alive
}

ResourceInfo CustomResource() {
  ResourceInfo r;
  r.gvr = {"example.com", "v1", "widgets"};
  r.kind = "Widget";
  r.is_custom = true;
  return r;
}

TEST(PatchTest, ParsePatchType) {
  struct Case {
    const char* content_type;
    std::optional<PatchType> want;
  };
  const Case cases[] = {
      {"application/json-patch+json", PatchType::kJsonPatch},
      {"application/merge-patch+json", PatchType::kMergePatch},
      {"application/strategic-merge-patch+json", PatchType::kStrategicMergePatch},
      {"application/apply-patch+yaml", PatchType::kApplyPatch},
      {"application/merge-patch+json; charset=utf-8", PatchType::kMergePatch},
      {" Application/JSON-Patch+JSON ", PatchType::kJsonPatch},
      {"application/json", std::nullopt},
      {"application/yaml", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content_type);
    Result<PatchType> t = ParsePatchType(c.content_type);
    if (c.want) {
      ASSERT_TRUE(t.has_value()) << t.error();
      EXPECT_EQ(*t, *c.want);
    } else {
      ASSERT_FALSE(t.has_value());
      EXPECT_EQ(t.error().http_code(), 415);
      EXPECT_EQ(t.error().reason(), "UnsupportedMediaType");
    }
  }
}

// One patch case: `original` patched with `patch` gives `want`, or fails with `http_code`.
struct Case {
  const char* name;
  const char* original;
  const char* patch;
  const char* want;  // expected object, or nullptr when an error is expected
  int http_code = 0;
  const char* message_part = "";
};

void RunCases(PatchType type, const ResourceInfo& info, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<json> got = ApplyPatch(type, json::parse(c.original), c.patch, info);
    if (c.want != nullptr) {
      ASSERT_TRUE(got.has_value()) << got.error();
      EXPECT_EQ(*got, json::parse(c.want)) << got->dump();
    } else {
      ASSERT_FALSE(got.has_value()) << got->dump();
      EXPECT_EQ(got.error().http_code(), c.http_code) << got.error();
      EXPECT_THAT(got.error().message(), HasSubstr(c.message_part));
    }
  }
}

TEST(PatchTest, MergePatch) {
  RunCases(
      PatchType::kMergePatch, Builtin("", "configmaps"),
      {
          {"add_label", R"({"metadata":{"name":"c"}})", R"({"metadata":{"labels":{"app":"web"}}})",
           R"({"metadata":{"name":"c","labels":{"app":"web"}}})"},
          {"null_deletes", R"({"metadata":{"name":"c","labels":{"a":"1","b":"2"}}})",
           R"({"metadata":{"labels":{"a":null}}})",
           R"({"metadata":{"name":"c","labels":{"b":"2"}}})"},
          {"lists_replace", R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})",
           R"({"spec":{"containers":[{"name":"c"}]}})",
           R"({"spec":{"containers":[{"name":"c"}]}})"},
          {"scale", R"({"spec":{"replicas":1},"status":{"replicas":1}})",
           R"({"spec":{"replicas":3}})", R"({"spec":{"replicas":3},"status":{"replicas":1}})"},
          {"directives_are_plain_keys", R"({"a":1})", R"({"$patch":"delete"})",
           R"({"a":1,"$patch":"delete"})"},
          {"bad_json", R"({})", R"({"a":)", nullptr, 400, "not valid JSON"},
          {"not_object", R"({})", R"([1,2])", nullptr, 400, "JSON object"},
      });
}

TEST(PatchTest, JsonPatch) {
  RunCases(
      PatchType::kJsonPatch, Builtin("", "configmaps"),
      {
          {"add", R"({"metadata":{"name":"c"}})",
           R"([{"op":"add","path":"/metadata/labels","value":{"app":"web"}}])",
           R"({"metadata":{"name":"c","labels":{"app":"web"}}})"},
          {"escaped_key", R"({"metadata":{"labels":{}}})",
           R"([{"op":"add","path":"/metadata/labels/app.kubernetes.io~1name","value":"x"}])",
           R"({"metadata":{"labels":{"app.kubernetes.io/name":"x"}}})"},
          {"replace_remove_append", R"({"data":{"a":"1","b":"2"},"list":[1,2]})",
           R"([{"op":"replace","path":"/data/a","value":"9"},
                    {"op":"remove","path":"/data/b"},
                    {"op":"add","path":"/list/-","value":3}])",
           R"({"data":{"a":"9"},"list":[1,2,3]})"},
          {"test_passes", R"({"spec":{"replicas":2}})",
           R"([{"op":"test","path":"/spec/replicas","value":2},
                    {"op":"replace","path":"/spec/replicas","value":5}])",
           R"({"spec":{"replicas":5}})"},
          {"move_copy", R"({"a":{"x":1},"b":{}})",
           R"([{"op":"copy","from":"/a/x","path":"/b/y"},{"op":"move","from":"/a","path":"/c"}])",
           R"({"b":{"y":1},"c":{"x":1}})"},
          {"empty_list", R"({"a":1})", R"([])", R"({"a":1})"},
          {"test_fails", R"({"spec":{"replicas":2}})",
           R"([{"op":"replace","path":"/spec/replicas","value":5},
                    {"op":"test","path":"/spec/replicas","value":2}])",
           nullptr, 422, "test operation failed"},
          {"remove_missing", R"({"a":1})", R"([{"op":"remove","path":"/b"}])", nullptr, 422,
           "json patch"},
          {"replace_missing", R"({"a":1})", R"([{"op":"replace","path":"/b","value":1}])", nullptr,
           422, ""},
          {"add_missing_parent", R"({"a":1})", R"([{"op":"add","path":"/x/y","value":1}])", nullptr,
           422, ""},
          {"index_out_of_range", R"({"l":[1]})", R"([{"op":"add","path":"/l/5","value":1}])",
           nullptr, 422, ""},
          {"unknown_op", R"({"a":1})", R"([{"op":"frobnicate","path":"/a"}])", nullptr, 422, ""},
          {"missing_value", R"({"a":1})", R"([{"op":"add","path":"/b"}])", nullptr, 422, ""},
          {"bad_pointer", R"({"a":1})", R"([{"op":"add","path":"b","value":1}])", nullptr, 422, ""},
          {"bad_json", R"({})", R"([{"op":)", nullptr, 400, "not valid JSON"},
          {"not_array", R"({})", R"({"op":"add","path":"/a","value":1})", nullptr, 400, "array"},
          {"not_objects", R"({})", R"([1])", nullptr, 400, "JSON object"},
      });
}

TEST(PatchTest, JsonPatchIsAllOrNothing) {
  json original = json::parse(R"({"a":1})");
  Result<json> got =
      ApplyPatch(PatchType::kJsonPatch, original,
                 R"([{"op":"add","path":"/b","value":2},{"op":"remove","path":"/zzz"}])",
                 Builtin("", "configmaps"));
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(original, json::parse(R"({"a":1})"));
  EXPECT_EQ(got.error().reason(), "Invalid");
}

// Each copy of `/data` into itself doubles it: twelve copies of 1 KB would make 4 MB. The bytes
// all copies of one patch add are bounded (kube-apiserver's AccumulatedCopySizeLimit), counted
// before each copy is made; 422 as for any failing operation.
TEST(PatchTest, JsonPatchCopiesAreBoundedInBytes) {
  json original = {{"kind", "ConfigMap"}, {"data", {{"a", std::string(1000, 'x')}}}};
  json ops = json::array();
  for (int i = 0; i < 12; ++i) {
    ops.push_back({{"op", "copy"}, {"from", "/data"}, {"path", "/data/c" + std::to_string(i)}});
  }
  Result<json> got =
      ApplyPatch(PatchType::kJsonPatch, original, ops.dump(), Builtin("", "configmaps"), 1 << 20);
  ASSERT_FALSE(got.has_value()) << got->dump().size();
  EXPECT_EQ(got.error().http_code(), 422);
  EXPECT_EQ(got.error().reason(), "Invalid");
  EXPECT_THAT(got.error().message(), HasSubstr("exceeds the limit of 1048576 bytes"));
  // Nine copies (about 512 KB) fit.
  ops.erase(ops.begin() + 9, ops.end());
  got = ApplyPatch(PatchType::kJsonPatch, original, ops.dump(), Builtin("", "configmaps"), 1 << 20);
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_GT(got->dump().size(), size_t{500'000});
  EXPECT_LT(got->dump().size(), size_t{1} << 20);
}

TEST(PatchTest, StrategicMergeMapsAndDirectives) {
  RunCases(
      PatchType::kStrategicMergePatch, Builtin("", "configmaps"),
      {
          {"label_and_annotation", R"({"metadata":{"name":"c","labels":{"a":"1"}}})",
           R"({"metadata":{"labels":{"b":"2"},"annotations":{"x":"y"}}})",
           R"({"metadata":{"name":"c","labels":{"a":"1","b":"2"},"annotations":{"x":"y"}}})"},
          {"null_deletes", R"({"data":{"a":"1","b":"2"}})", R"({"data":{"a":null}})",
           R"({"data":{"b":"2"}})"},
          {"null_for_missing_is_ignored", R"({"data":{}})", R"({"data":{"z":null}})",
           R"({"data":{}})"},
          {"patch_replace_map", R"({"data":{"a":"1","b":"2"}})",
           R"({"data":{"$patch":"replace","c":"3"}})", R"({"data":{"c":"3"}})"},
          {"patch_delete_map", R"({"data":{"a":"1"},"keep":1})", R"({"data":{"$patch":"delete"}})",
           R"({"keep":1})"},
          {"patch_merge_map", R"({"data":{"a":"1"}})", R"({"data":{"$patch":"merge","b":"2"}})",
           R"({"data":{"a":"1","b":"2"}})"},
          {"retain_keys", R"({"spec":{"a":1,"b":2,"c":3}})",
           R"({"spec":{"$retainKeys":["a","c"],"c":4}})", R"({"spec":{"a":1,"c":4}})"},
          {"new_field_is_cleaned", R"({})",
           R"({"data":{"$patch":"replace","a":"1","sub":{"$patch":"delete"}}})",
           R"({"data":{"a":"1"}})"},
          {"finalizers_union", R"({"metadata":{"finalizers":["a","b"]}})",
           R"({"metadata":{"finalizers":["c","a"]}})",
           R"({"metadata":{"finalizers":["c","a","b"]}})"},
          {"delete_from_primitive_list", R"({"metadata":{"finalizers":["a","b","c"]}})",
           R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}})",
           R"({"metadata":{"finalizers":["a","c"]}})"},
          {"primitive_set_element_order", R"({"metadata":{"finalizers":["a","b"]}})",
           R"({"metadata":{"$setElementOrder/finalizers":["b","c","a"],"finalizers":["c"]}})",
           R"({"metadata":{"finalizers":["b","c","a"]}})"},
          {"owner_references_by_uid",
           R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},{"uid":"2","name":"b"}]}})",
           R"({"metadata":{"ownerReferences":[{"uid":"2","controller":true}]}})",
           R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},
                   {"uid":"2","name":"b","controller":true}]}})"},
          {"unknown_lists_replace", R"({"items":[{"name":"a","v":1}]})",
           R"({"items":[{"name":"b"}]})", R"({"items":[{"name":"b"}]})"},
          {"type_change_replaces", R"({"data":{"a":"1"}})", R"({"data":"x"})", R"({"data":"x"})"},
          // Errors.
          {"bad_patch_value", R"({"data":{}})", R"({"data":{"$patch":"explode"}})", nullptr, 400,
           "Unknown patch type"},
          {"unknown_directive", R"({})", R"({"$frob":1})", nullptr, 400, "directive"},
          {"retain_keys_not_list", R"({"spec":{}})", R"({"spec":{"$retainKeys":"a"}})", nullptr,
           400, "retainKeys"},
          {"retain_keys_mismatch", R"({"spec":{"a":1}})", R"({"spec":{"$retainKeys":["a"],"b":2}})",
           nullptr, 422, "retainKeys"},
          {"delete_list_not_list", R"({"metadata":{}})",
           R"({"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}})", nullptr, 400,
           "primitive list"},
          {"order_not_list", R"({"metadata":{}})",
           R"({"metadata":{"$setElementOrder/finalizers":"a"}})", nullptr, 400, "setElementOrder"},
          {"delete_object", R"({"a":1})", R"({"$patch":"delete"})", nullptr, 400, "delete"},
          {"bad_json", R"({})", R"({)", nullptr, 400, "not valid JSON"},
          {"not_object", R"({})", R"("x")", nullptr, 400, "JSON object"},
      });
}

constexpr const char* kDeployment = R"({
  "apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
  "spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},
    "template":{"metadata":{"labels":{"app":"web"}},"spec":{
      "containers":[
        {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
         "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
        {"name":"side","image":"busybox"}],
      "volumes":[{"name":"data","emptyDir":{}}],
      "tolerations":[{"key":"x","operator":"Exists"}]}}}})";

// Builds the expected deployment: kDeployment with `merge` applied as an RFC 7386 merge patch
// (used only to describe expectations compactly).
std::string DeploymentWith(const char* merge) {
  json d = json::parse(kDeployment);
  d.merge_patch(json::parse(merge));
  return d.dump();
}

TEST(PatchTest, StrategicMergeListsOfBuiltinKinds) {
  const std::string image_only = DeploymentWith(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"web","image":"nginx:1.26","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"side","image":"busybox"}]}}}})");
  const std::string new_container_first = DeploymentWith(R"({"spec":{"template":{"spec":{
      "containers":[{"name":"new","image":"redis"},
      {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"side","image":"busybox"}]}}}})");
  const std::string ordered_new_last = DeploymentWith(R"({"spec":{"template":{"spec":{
      "containers":[
      {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"side","image":"busybox"},{"name":"new","image":"redis"}]}}}})");
  const std::string side_deleted = DeploymentWith(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}})");
  const std::string env_merged = DeploymentWith(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"two"}]},
      {"name":"side","image":"busybox"}]}}}})");
  const std::string env_deleted = DeploymentWith(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"B","value":"2"}]},
      {"name":"side","image":"busybox"}]}}}})");
  const std::string port_merged = DeploymentWith(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP",
       "name":"http"}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"side","image":"busybox"}]}}}})");
  const std::string containers_replaced = DeploymentWith(
      R"({"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x"}]}}}})");
  const std::string reordered = DeploymentWith(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"side","image":"busybox:2"},
      {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}})");
  const std::string volume_retained = DeploymentWith(R"({"spec":{"template":{"spec":{
      "volumes":[{"name":"data","configMap":{"name":"cfg"}}]}}}})");
  const std::string strategy_recreate =
      DeploymentWith(R"({"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}})");
  const std::string tolerations_replaced = DeploymentWith(
      R"({"spec":{"template":{"spec":{"tolerations":[{"key":"y","operator":"Exists"}]}}}})");

  RunCases(
      PatchType::kStrategicMergePatch, Builtin("apps", "deployments"),
      {
          {"container_by_name", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}})",
           image_only.c_str()},
          {"new_container_goes_first", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"name":"new","image":"redis"}]}}}})",
           new_container_first.c_str()},
          {"set_element_order_places_new_container", kDeployment,
           R"({"spec":{"template":{"spec":{
               "$setElementOrder/containers":[{"name":"web"},{"name":"side"},{"name":"new"}],
               "containers":[{"name":"new","image":"redis"}]}}}})",
           ordered_new_last.c_str()},
          {"set_element_order_alone_reorders", kDeployment,
           R"({"spec":{"template":{"spec":{
               "$setElementOrder/containers":[{"name":"side"},{"name":"web"}],
               "containers":[{"name":"side","image":"busybox:2"}]}}}})",
           reordered.c_str()},
          {"delete_element", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"side"}]}}}})",
           side_deleted.c_str()},
          {"kubectl_apply_style_delete", kDeployment,
           R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],
               "containers":[{"$patch":"delete","name":"side"}]}}}})",
           side_deleted.c_str()},
          {"replace_list", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},
               {"name":"only","image":"x"}]}}}})",
           containers_replaced.c_str()},
          {"env_by_name", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"name":"web",
               "env":[{"name":"B","value":"two"}]}]}}}})",
           env_merged.c_str()},
          {"env_delete", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"name":"web",
               "env":[{"$patch":"delete","name":"A"}]}]}}}})",
           env_deleted.c_str()},
          {"ports_by_container_port", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"name":"web",
               "ports":[{"containerPort":80,"name":"http"}]}]}}}})",
           port_merged.c_str()},
          {"volume_retain_keys", kDeployment,
           R"({"spec":{"template":{"spec":{"volumes":[{"$retainKeys":["configMap","name"],
               "name":"data","configMap":{"name":"cfg"}}]}}}})",
           volume_retained.c_str()},
          {"strategy_retain_keys", kDeployment,
           R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
           strategy_recreate.c_str()},
          {"tolerations_are_atomic", kDeployment,
           R"({"spec":{"template":{"spec":{"tolerations":[{"key":"y","operator":"Exists"}]}}}})",
           tolerations_replaced.c_str()},
          {"missing_merge_key", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})", nullptr, 400,
           "merge key: name"},
          {"delete_without_key", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"$patch":"delete"}]}}}})", nullptr, 400,
           "merge key"},
          {"merge_directive_in_list", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":[{"$patch":"merge","name":"web"}]}}}})",
           nullptr, 400, "merging lists"},
          {"scalar_in_keyed_list", kDeployment,
           R"({"spec":{"template":{"spec":{"containers":["web"]}}}})", nullptr, 400, "not a map"},
          {"order_mismatch", kDeployment,
           R"({"spec":{"template":{"spec":{
               "$setElementOrder/containers":[{"name":"web"}],
               "containers":[{"name":"side","image":"x"}]}}}})",
           nullptr, 400, "$setElementOrder"},
      });
}

TEST(PatchTest, StrategicMergeOtherKinds) {
  RunCases(PatchType::kStrategicMergePatch, Builtin("", "services"),
           {
               {"service_ports_by_port",
                R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}})",
                R"({"spec":{"ports":[{"port":80,"targetPort":9090}]}})",
                R"({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}})"},
               {"status_conditions_by_type",
                R"({"status":{"conditions":[{"type":"A","status":"False"}]}})",
                R"({"status":{"conditions":[{"type":"A","status":"True"}]}})",
                R"({"status":{"conditions":[{"type":"A","status":"True"}]}})"},
           });
  RunCases(PatchType::kStrategicMergePatch, Builtin("", "pods"),
           {
               {"pod_containers_and_conditions",
                R"({"spec":{"containers":[{"name":"a","image":"x"}]},
                    "status":{"conditions":[{"type":"Ready","status":"False"},
                                             {"type":"PodScheduled","status":"True"}]}})",
                R"({"spec":{"containers":[{"name":"a","image":"y"}]},
                    "status":{"conditions":[{"type":"Ready","status":"True"}]}})",
                R"({"spec":{"containers":[{"name":"a","image":"y"}]},
                    "status":{"conditions":[{"type":"Ready","status":"True"},
                                             {"type":"PodScheduled","status":"True"}]}})"},
           });
  RunCases(PatchType::kStrategicMergePatch, Builtin("batch", "cronjobs"),
           {
               {"cronjob_nested_template",
                R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
                    {"name":"a","image":"x"},{"name":"b","image":"x"}]}}}}}})",
                R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
                    {"name":"b","image":"y"}]}}}}}})",
                R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[
                    {"name":"a","image":"x"},{"name":"b","image":"y"}]}}}}}})"},
           });
  RunCases(PatchType::kStrategicMergePatch, Builtin("", "serviceaccounts"),
           {
               {"service_account_secrets", R"({"secrets":[{"name":"a"}]})",
                R"({"secrets":[{"name":"b"}]})", R"({"secrets":[{"name":"b"},{"name":"a"}]})"},
           });
  RunCases(PatchType::kStrategicMergePatch, Builtin("", "nodes"),
           {
               {"node_pod_cidrs", R"({"spec":{"podCIDRs":["10.0.0.0/24"]}})",
                R"({"spec":{"podCIDRs":["10.0.1.0/24"]}})",
                R"({"spec":{"podCIDRs":["10.0.1.0/24","10.0.0.0/24"]}})"},
           });
}

TEST(PatchTest, StrategicMergeOnCustomResourceIs415) {
  Result<json> got =
      ApplyPatch(PatchType::kStrategicMergePatch, json::object(), "{}", CustomResource());
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().http_code(), 415);
  EXPECT_EQ(got.error().reason(), "UnsupportedMediaType");
  // Merge and JSON patches still work on custom resources.
  EXPECT_TRUE(ApplyPatch(PatchType::kMergePatch, json::object(), R"({"a":1})", CustomResource())
                  .has_value());
  EXPECT_TRUE(ApplyPatch(PatchType::kJsonPatch, json::object(),
                         R"([{"op":"add","path":"/a","value":1}])", CustomResource())
                  .has_value());
}

TEST(PatchTest, ServerSideApplyIs415) {
  Result<json> got = ApplyPatch(PatchType::kApplyPatch, json::object(), "apiVersion: v1\n",
                                Builtin("", "configmaps"));
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().http_code(), 415);
  EXPECT_THAT(got.error().message(), HasSubstr("server-side apply"));
}

}  // namespace
}  // namespace kube::server

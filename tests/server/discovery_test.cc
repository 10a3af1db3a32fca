// Tests for discovery (plain and aggregated) and the OpenAPI v3 documents kubectl reads.
#include "server/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kube::server {
namespace {

using json = nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ResourceInfo Widget(std::string version = "v1") {
  ResourceInfo r;
  r.gvr = {"example.com", std::move(version), "widgets"};
  r.kind = "Widget";
  r.list_kind = "WidgetList";
  r.singular = "widget";
  r.short_names = {"wd"};
  r.has_status = true;
  r.is_custom = true;
  return r;
}

const json* FindResource(const json& list, std::string_view name) {
  for (const json& r : list) {
    if (r.value("name", "") == name || r.value("resource", "") == name) return &r;
  }
  return nullptr;
}

TEST(DiscoveryTest, Version) {
  json v = json::parse(VersionJson());
  EXPECT_EQ(v["major"], "1");
  EXPECT_EQ(v["minor"], "32");
  EXPECT_THAT(v["gitVersion"].get<std::string>(), StartsWith("v1.32."));
  EXPECT_TRUE(v.contains("platform"));
}

TEST(DiscoveryTest, CoreApiVersions) {
  json v = json::parse(CoreApiVersionsJson("127.0.0.1:6443"));
  EXPECT_EQ(v["kind"], "APIVersions");
  EXPECT_EQ(v["versions"], json({"v1"}));
  EXPECT_EQ(v["serverAddressByClientCIDRs"][0]["serverAddress"], "127.0.0.1:6443");
}

TEST(DiscoveryTest, ApiGroupListNamesEveryGroupWithPreferredVersion) {
  auto catalog = ResourceCatalog::WithBuiltins();
  catalog->Add(Widget("v1beta1"));
  catalog->Add(Widget("v1"));
  json list = json::parse(ApiGroupListJson(*catalog));
  EXPECT_EQ(list["kind"], "APIGroupList");
  std::vector<std::string> names;
  for (const json& g : list["groups"]) names.push_back(g["name"]);
  EXPECT_THAT(names, ElementsAre("apps", "authentication.k8s.io", "authorization.k8s.io", "batch",
                                 "discovery.k8s.io", "coordination.k8s.io", "networking.k8s.io",
                                 "policy", "scheduling.k8s.io", "rbac.authorization.k8s.io",
                                 "apiextensions.k8s.io", "example.com"));
  const json& example = list["groups"].back();
  EXPECT_EQ(example["preferredVersion"],
            json({{"groupVersion", "example.com/v1"}, {"version", "v1"}}));
  ASSERT_EQ(example["versions"].size(), 2u);
  EXPECT_EQ(example["versions"][1]["groupVersion"], "example.com/v1beta1");
}

TEST(DiscoveryTest, ApiResourceListHasSubresources) {
  auto catalog = ResourceCatalog::WithBuiltins();
  Result<std::string> doc = ApiResourceListJson(*catalog, {"apps", "v1"});
  ASSERT_TRUE(doc.has_value()) << doc.error();
  json list = json::parse(*doc);
  EXPECT_EQ(list["kind"], "APIResourceList");
  EXPECT_EQ(list["groupVersion"], "apps/v1");
  const json* d = FindResource(list["resources"], "deployments");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["kind"], "Deployment");
  EXPECT_EQ((*d)["singularName"], "deployment");
  EXPECT_EQ((*d)["namespaced"], true);
  EXPECT_EQ((*d)["shortNames"], json({"deploy"}));
  EXPECT_EQ((*d)["categories"], json({"all"}));
  EXPECT_EQ((*d)["verbs"].size(), 8u);
  const json* scale = FindResource(list["resources"], "deployments/scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ((*scale)["group"], "autoscaling");
  EXPECT_EQ((*scale)["version"], "v1");
  EXPECT_EQ((*scale)["kind"], "Scale");
  EXPECT_EQ((*scale)["verbs"], json({"get", "patch", "update"}));
  const json* status = FindResource(list["resources"], "deployments/status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ((*status)["kind"], "Deployment");
  EXPECT_EQ(FindResource(list["resources"], "daemonsets/scale"), nullptr);
  EXPECT_NE(FindResource(list["resources"], "daemonsets/status"), nullptr);
}

TEST(DiscoveryTest, CoreResourceListAndUnknownGroupVersion) {
  auto catalog = ResourceCatalog::WithBuiltins();
  Result<std::string> core = ApiResourceListJson(*catalog, {"", "v1"});
  ASSERT_TRUE(core.has_value());
  json list = json::parse(*core);
  EXPECT_EQ(list["groupVersion"], "v1");
  const json* nodes = FindResource(list["resources"], "nodes");
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ((*nodes)["namespaced"], false);
  EXPECT_FALSE(nodes->contains("categories"));
  EXPECT_NE(FindResource(list["resources"], "pods/status"), nullptr);
  EXPECT_EQ(FindResource(list["resources"], "configmaps/status"), nullptr);

  Result<std::string> missing = ApiResourceListJson(*catalog, {"apps", "v2"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().http_code(), 404);
  EXPECT_TRUE(IsNotFound(missing.error()));
}

TEST(DiscoveryTest, AggregatedCoreHasOneUnnamedGroup) {
  auto catalog = ResourceCatalog::WithBuiltins();
  json doc = json::parse(AggregatedDiscoveryJson(*catalog, /*core=*/true));
  EXPECT_EQ(doc["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(doc["apiVersion"], "apidiscovery.k8s.io/v2");
  ASSERT_EQ(doc["items"].size(), 1u);
  const json& core = doc["items"][0];
  EXPECT_EQ(core["metadata"]["name"], "");
  ASSERT_EQ(core["versions"].size(), 1u);
  EXPECT_EQ(core["versions"][0]["version"], "v1");
  EXPECT_EQ(core["versions"][0]["freshness"], "Current");
  const json* pods = FindResource(core["versions"][0]["resources"], "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ((*pods)["scope"], "Namespaced");
  EXPECT_EQ((*pods)["singularResource"], "pod");
  EXPECT_EQ((*pods)["responseKind"], json({{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}));
  EXPECT_EQ((*pods)["subresources"][0]["subresource"], "status");
  const json* ns = FindResource(core["versions"][0]["resources"], "namespaces");
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ((*ns)["scope"], "Cluster");
}

TEST(DiscoveryTest, AggregatedGroupsListScaleSubresource) {
  auto catalog = ResourceCatalog::WithBuiltins();
  catalog->Add(Widget("v1alpha1"));
  catalog->Add(Widget("v1"));
  json doc = json::parse(AggregatedDiscoveryJson(*catalog, /*core=*/false));
  std::vector<std::string> names;
  for (const json& g : doc["items"]) names.push_back(g["metadata"]["name"]);
  EXPECT_THAT(names, ElementsAre("apps", "authentication.k8s.io", "authorization.k8s.io", "batch",
                                 "discovery.k8s.io", "coordination.k8s.io", "networking.k8s.io",
                                 "policy", "scheduling.k8s.io", "rbac.authorization.k8s.io",
                                 "apiextensions.k8s.io", "example.com"));
  const json& apps = doc["items"][0];
  const json* d = FindResource(apps["versions"][0]["resources"], "deployments");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["shortNames"], json({"deploy"}));
  EXPECT_EQ((*d)["categories"], json({"all"}));
  json subs = (*d)["subresources"];
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0]["subresource"], "scale");
  EXPECT_EQ(subs[0]["responseKind"],
            json({{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}));
  EXPECT_EQ(subs[1]["subresource"], "status");
  const json& example = doc["items"].back();
  ASSERT_EQ(example["versions"].size(), 2u);
  EXPECT_EQ(example["versions"][0]["version"], "v1");
  EXPECT_EQ(example["versions"][1]["version"], "v1alpha1");
}

TEST(DiscoveryTest, AcceptsAggregatedDiscovery) {
  struct Case {
    const char* accept;
    bool want;
  };
  const Case cases[] = {
      {"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
       "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
       "application/json",
       true},
      {"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer, "
       "application/json",
       true},
      {"application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io", true},
      {"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", false},
      {"application/json", false},
      {"", false},
      {"*/*", false},
      {"application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.accept);
    EXPECT_EQ(AcceptsAggregatedDiscovery(c.accept), c.want);
  }
}

TEST(DiscoveryTest, OpenApiRootListsEveryGroupVersionWithHash) {
  auto catalog = ResourceCatalog::WithBuiltins();
  json root = json::parse(OpenApiV3RootJson(*catalog));
  ASSERT_TRUE(root["paths"].contains("api/v1"));
  ASSERT_TRUE(root["paths"].contains("apis/apps/v1"));
  ASSERT_TRUE(root["paths"].contains("apis/apiextensions.k8s.io/v1"));
  EXPECT_THAT(root["paths"]["apis/apps/v1"]["serverRelativeURL"].get<std::string>(),
              StartsWith("/openapi/v3/apis/apps/v1?hash="));

  // The hash follows the document, so kubectl's URL-keyed cache sees a new CRD version.
  std::string before = root["paths"]["api/v1"]["serverRelativeURL"];
  ResourceInfo gadget = Widget();
  gadget.gvr = {"", "v1", "gadgets"};
  gadget.kind = "Gadget";
  catalog->Add(gadget);
  json after = json::parse(OpenApiV3RootJson(*catalog));
  EXPECT_NE(after["paths"]["api/v1"]["serverRelativeURL"], before);
}

// What cli-runtime's query_param_verifier_v3 does: every PATCH operation tagged with the kind
// must list `fieldValidation` as a query parameter, and at least one must exist.
void ExpectKindSupportsFieldValidation(const json& doc, const json& gvk) {
  int found = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.contains("patch")) continue;
    const json& op = item["patch"];
    if (op.value("x-kubernetes-group-version-kind", json()) != gvk) continue;
    ++found;
    bool has = false;
    for (const json& p : op["parameters"]) {
      if (p["name"] == "fieldValidation" && p["in"] == "query") has = true;
    }
    EXPECT_TRUE(has) << path;
  }
  EXPECT_GT(found, 0) << gvk.dump();
}

TEST(DiscoveryTest, OpenApiDocumentsSatisfyKubectlFieldValidationCheck) {
  auto catalog = ResourceCatalog::WithBuiltins();
  catalog->Add(Widget());
  for (const ResourceInfoPtr& r : catalog->All()) {
    SCOPED_TRACE(r->gvr.ToString());
    if (r->review) continue;  // create-only: no PATCH to validate
    std::string path = r->gvr.group.empty() ? "api/" + r->gvr.version
                                            : "apis/" + r->gvr.group + "/" + r->gvr.version;
    Result<std::string> doc = OpenApiV3GroupVersionJson(*catalog, path);
    ASSERT_TRUE(doc.has_value()) << doc.error();
    json d = json::parse(*doc);
    EXPECT_EQ(d["openapi"], "3.0.0");
    ASSERT_TRUE(d.contains("components"));
    ExpectKindSupportsFieldValidation(
        d, {{"group", r->gvr.group}, {"version", r->gvr.version}, {"kind", r->kind}});
  }
}

TEST(DiscoveryTest, OpenApiPathsAndPatchMediaTypes) {
  auto catalog = ResourceCatalog::WithBuiltins();
  catalog->Add(Widget());
  json apps = json::parse(*OpenApiV3GroupVersionJson(*catalog, "apis/apps/v1"));
  const json& paths = apps["paths"];
  ASSERT_TRUE(paths.contains("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"));
  ASSERT_TRUE(paths.contains("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"));
  ASSERT_TRUE(paths.contains("/apis/apps/v1/namespaces/{namespace}/deployments"));
  const json& patch = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
  EXPECT_TRUE(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  EXPECT_EQ(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
                 ["x-kubernetes-group-version-kind"]["kind"],
            "Scale");

  json core = json::parse(*OpenApiV3GroupVersionJson(*catalog, "api/v1"));
  EXPECT_TRUE(core["paths"].contains("/api/v1/namespaces/{name}"));
  EXPECT_TRUE(core["paths"].contains("/api/v1/nodes/{name}/status"));

  // Custom resources do not offer strategic merge patch, so kubectl apply uses a merge patch.
  json example = json::parse(*OpenApiV3GroupVersionJson(*catalog, "apis/example.com/v1"));
  const json& cr = example["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"];
  EXPECT_FALSE(
      cr["patch"]["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  EXPECT_TRUE(cr["patch"]["requestBody"]["content"].contains("application/merge-patch+json"));
}

TEST(DiscoveryTest, OpenApiUnknownPathsAreNotFound) {
  auto catalog = ResourceCatalog::WithBuiltins();
  for (const char* path : {"apis/apps/v2", "apis/apps", "api/v2", "apis/nope/v1", "", "foo", "api/",
                           "apis/apps/v1/extra"}) {
    SCOPED_TRACE(path);
    Result<std::string> doc = OpenApiV3GroupVersionJson(*catalog, path);
    ASSERT_FALSE(doc.has_value());
    EXPECT_EQ(doc.error().http_code(), 404);
  }
}

}  // namespace
}  // namespace kube::server

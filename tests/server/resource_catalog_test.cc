// Tests for the built-in resource table and the resources-file loader.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "server/resource_info.h"

namespace kube::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct BuiltinCase {
  GroupVersionResource gvr;
  const char* kind;
  const char* singular;
  bool namespaced;
  std::vector<std::string> short_names;
  bool in_all;
  bool status;
  bool scale;
  bool delete_returns_object;
};

TEST(ResourceCatalogTest, BuiltinsMatchKubeApiserver) {
  const BuiltinCase cases[] = {
      {{"", "v1", "namespaces"}, "Namespace", "namespace", false, {"ns"}, false, true, false, true},
      {{"", "v1", "pods"}, "Pod", "pod", true, {"po"}, true, true, false, true},
      {{"", "v1", "services"}, "Service", "service", true, {"svc"}, true, true, false, false},
      {{"", "v1", "endpoints"}, "Endpoints", "endpoints", true, {"ep"}, false, false, false, false},
      {{"", "v1", "configmaps"},
       "ConfigMap",
       "configmap",
       true,
       {"cm"},
       false,
       false,
       false,
       false},
      {{"", "v1", "secrets"}, "Secret", "secret", true, {}, false, false, false, false},
      {{"", "v1", "nodes"}, "Node", "node", false, {"no"}, false, true, false, false},
      {{"", "v1", "events"}, "Event", "event", true, {"ev"}, false, false, false, false},
      {{"", "v1", "serviceaccounts"},
       "ServiceAccount",
       "serviceaccount",
       true,
       {"sa"},
       false,
       false,
       false,
       true},
      {{"apps", "v1", "deployments"},
       "Deployment",
       "deployment",
       true,
       {"deploy"},
       true,
       true,
       true,
       false},
      {{"apps", "v1", "replicasets"},
       "ReplicaSet",
       "replicaset",
       true,
       {"rs"},
       true,
       true,
       true,
       false},
      {{"apps", "v1", "statefulsets"},
       "StatefulSet",
       "statefulset",
       true,
       {"sts"},
       true,
       true,
       true,
       false},
      {{"apps", "v1", "daemonsets"},
       "DaemonSet",
       "daemonset",
       true,
       {"ds"},
       true,
       true,
       false,
       false},
      {{"batch", "v1", "jobs"}, "Job", "job", true, {}, true, true, false, false},
      {{"batch", "v1", "cronjobs"}, "CronJob", "cronjob", true, {"cj"}, true, true, false, false},
      {{"discovery.k8s.io", "v1", "endpointslices"},
       "EndpointSlice",
       "endpointslice",
       true,
       {},
       false,
       false,
       false,
       false},
      {{"coordination.k8s.io", "v1", "leases"},
       "Lease",
       "lease",
       true,
       {},
       false,
       false,
       false,
       false},
      {{"", "v1", "resourcequotas"},
       "ResourceQuota",
       "resourcequota",
       true,
       {"quota"},
       false,
       true,
       false,
       false},
      {{"networking.k8s.io", "v1", "ingresses"},
       "Ingress",
       "ingress",
       true,
       {"ing"},
       false,
       true,
       false,
       false},
      {{"policy", "v1", "poddisruptionbudgets"},
       "PodDisruptionBudget",
       "poddisruptionbudget",
       true,
       {"pdb"},
       false,
       true,
       false,
       false},
      {{"scheduling.k8s.io", "v1", "priorityclasses"},
       "PriorityClass",
       "priorityclass",
       false,
       {"pc"},
       false,
       false,
       false,
       false},
      {{"rbac.authorization.k8s.io", "v1", "roles"},
       "Role",
       "role",
       true,
       {},
       false,
       false,
       false,
       false},
      {{"rbac.authorization.k8s.io", "v1", "rolebindings"},
       "RoleBinding",
       "rolebinding",
       true,
       {},
       false,
       false,
       false,
       false},
      {{"rbac.authorization.k8s.io", "v1", "clusterroles"},
       "ClusterRole",
       "clusterrole",
       false,
       {},
       false,
       false,
       false,
       false},
      {{"rbac.authorization.k8s.io", "v1", "clusterrolebindings"},
       "ClusterRoleBinding",
       "clusterrolebinding",
       false,
       {},
       false,
       false,
       false,
       false},
      {{"apiextensions.k8s.io", "v1", "customresourcedefinitions"},
       "CustomResourceDefinition",
       "customresourcedefinition",
       false,
       {"crd", "crds"},
       false,
       true,
       false,
       false},
      // Create-only reviews.
      {{"authentication.k8s.io", "v1", "selfsubjectreviews"},
       "SelfSubjectReview",
       "selfsubjectreview",
       false,
       {},
       false,
       false,
       false,
       false},
      {{"authentication.k8s.io", "v1", "tokenreviews"},
       "TokenReview",
       "tokenreview",
       false,
       {},
       false,
       false,
       false,
       false},
      {{"authorization.k8s.io", "v1", "localsubjectaccessreviews"},
       "LocalSubjectAccessReview",
       "localsubjectaccessreview",
       true,
       {},
       false,
       false,
       false,
       false},
      {{"authorization.k8s.io", "v1", "selfsubjectaccessreviews"},
       "SelfSubjectAccessReview",
       "selfsubjectaccessreview",
       false,
       {},
       false,
       false,
       false,
       false},
      {{"authorization.k8s.io", "v1", "selfsubjectrulesreviews"},
       "SelfSubjectRulesReview",
       "selfsubjectrulesreview",
       false,
       {},
       false,
       false,
       false,
       false},
      {{"authorization.k8s.io", "v1", "subjectaccessreviews"},
       "SubjectAccessReview",
       "subjectaccessreview",
       false,
       {},
       false,
       false,
       false,
       false},
  };
  auto catalog = ResourceCatalog::WithBuiltins();
  EXPECT_EQ(catalog->All().size(), std::size(cases));
  for (const BuiltinCase& c : cases) {
    SCOPED_TRACE(c.gvr.ToString());
    ResourceInfoPtr r = catalog->Find(c.gvr);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->kind, c.kind);
    EXPECT_EQ(r->list_kind, std::string(c.kind) + "List");
    EXPECT_EQ(r->singular, c.singular);
    EXPECT_EQ(r->namespaced, c.namespaced);
    EXPECT_EQ(r->short_names, c.short_names);
    EXPECT_EQ(std::count(r->categories.begin(), r->categories.end(), "all") == 1, c.in_all);
    EXPECT_EQ(r->has_status, c.status);
    EXPECT_EQ(r->has_scale, c.scale);
    EXPECT_EQ(r->delete_returns_object, c.delete_returns_object);
    EXPECT_FALSE(r->is_custom);
  }
}

TEST(ResourceCatalogTest, NameRulesAndVerbs) {
  auto catalog = ResourceCatalog::WithBuiltins();
  EXPECT_EQ(catalog->Find({"", "v1", "namespaces"})->name_rule, ResourceInfo::NameRule::kLabel);
  EXPECT_EQ(catalog->Find({"", "v1", "services"})->name_rule, ResourceInfo::NameRule::kLabel);
  EXPECT_EQ(catalog->Find({"", "v1", "configmaps"})->name_rule, ResourceInfo::NameRule::kSubdomain);
  // kube-apiserver has no deletecollection on namespaces.
  EXPECT_THAT(catalog->Find({"", "v1", "namespaces"})->verbs,
              ElementsAre("create", "delete", "get", "list", "patch", "update", "watch"));
  EXPECT_THAT(catalog->Find({"coordination.k8s.io", "v1", "leases"})->verbs,
              ElementsAre("create", "delete", "deletecollection", "get", "list", "patch", "update",
                          "watch"));
  EXPECT_THAT(catalog->Find({"authorization.k8s.io", "v1", "selfsubjectaccessreviews"})->verbs,
              ElementsAre("create"));
  EXPECT_TRUE(catalog->Find({"authentication.k8s.io", "v1", "selfsubjectreviews"})->review);
  EXPECT_FALSE(catalog->Find({"", "v1", "pods"})->review);
  EXPECT_TRUE(catalog->Find({"apps", "v1", "deployments"})->tracks_generation);
  EXPECT_FALSE(catalog->Find({"", "v1", "configmaps"})->tracks_generation);
}

TEST(ResourceCatalogTest, FieldLabels) {
  auto catalog = ResourceCatalog::WithBuiltins();
  auto labels = [&](GroupVersionResource gvr) { return catalog->Find(gvr)->field_labels; };
  EXPECT_THAT(labels({"", "v1", "pods"}),
              ::testing::IsSupersetOf({"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                       "spec.serviceAccountName", "status.phase", "status.podIP",
                                       "status.nominatedNodeName"}));
  EXPECT_THAT(labels({"", "v1", "events"}),
              ::testing::IsSupersetOf({"involvedObject.kind", "involvedObject.name",
                                       "involvedObject.namespace", "involvedObject.uid", "reason",
                                       "source", "type"}));
  EXPECT_THAT(labels({"", "v1", "secrets"}), ElementsAre("type"));
  EXPECT_THAT(labels({"", "v1", "namespaces"}), ElementsAre("status.phase"));
  EXPECT_THAT(labels({"", "v1", "nodes"}), ElementsAre("spec.unschedulable"));
  EXPECT_THAT(labels({"apps", "v1", "replicasets"}), ElementsAre("status.replicas"));
  EXPECT_THAT(labels({"batch", "v1", "jobs"}), ElementsAre("status.successful"));
  EXPECT_THAT(labels({"", "v1", "configmaps"}), IsEmpty());
}

TEST(ResourceCatalogTest, FindByKind) {
  auto catalog = ResourceCatalog::WithBuiltins();
  ResourceInfoPtr d = catalog->FindByKind({"apps", "v1", "Deployment"});
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->gvr.resource, "deployments");
  EXPECT_EQ(d->group_resource(), "deployments.apps");
  EXPECT_EQ(d->api_version(), "apps/v1");
  EXPECT_EQ(catalog->FindByKind({"", "v1", "Deployment"}), nullptr);
  EXPECT_EQ(catalog->FindByKind({"apps", "v1", "Pod"}), nullptr);
  EXPECT_EQ(catalog->Find({"apps", "v1", "pods"}), nullptr);
}

TEST(ResourceCatalogTest, GroupVersionsCoreFirstThenByFirstAppearance) {
  auto catalog = ResourceCatalog::WithBuiltins();
  std::vector<GroupVersion> gvs = catalog->GroupVersions();
  ASSERT_FALSE(gvs.empty());
  EXPECT_EQ(gvs.front(), (GroupVersion{"", "v1"}));
  EXPECT_THAT(
      gvs,
      ElementsAre(GroupVersion{"", "v1"}, GroupVersion{"apps", "v1"},
                  GroupVersion{"authentication.k8s.io", "v1"},
                  GroupVersion{"authorization.k8s.io", "v1"}, GroupVersion{"batch", "v1"},
                  GroupVersion{"discovery.k8s.io", "v1"}, GroupVersion{"coordination.k8s.io", "v1"},
                  GroupVersion{"networking.k8s.io", "v1"}, GroupVersion{"policy", "v1"},
                  GroupVersion{"scheduling.k8s.io", "v1"},
                  GroupVersion{"rbac.authorization.k8s.io", "v1"},
                  GroupVersion{"apiextensions.k8s.io", "v1"}));
}

TEST(ResourceCatalogTest, VersionsInKubernetesPriorityOrder) {
  ResourceCatalog catalog;
  for (const char* v : {"v1alpha1", "v1beta1", "v1", "v2beta2", "v2", "foo", "v10", "v1beta2"}) {
    ResourceInfo r;
    r.gvr = {"example.com", v, "widgets"};
    r.kind = "Widget";
    catalog.Add(r);
  }
  std::vector<std::string> versions;
  for (const GroupVersion& gv : catalog.GroupVersions()) versions.push_back(gv.version);
  EXPECT_THAT(versions,
              ElementsAre("v10", "v2", "v1", "v2beta2", "v1beta2", "v1beta1", "v1alpha1", "foo"));
}

TEST(ResourceCatalogTest, AddReplacesAndRemoveDeletes) {
  auto catalog = ResourceCatalog::WithBuiltins();
  const size_t n = catalog->All().size();
  ResourceInfo r;
  r.gvr = {"example.com", "v1", "widgets"};
  r.kind = "Widget";
  r.is_custom = true;
  catalog->Add(r);
  EXPECT_EQ(catalog->All().size(), n + 1);
  r.short_names = {"wd"};
  catalog->Add(r);
  EXPECT_EQ(catalog->All().size(), n + 1);
  EXPECT_THAT(catalog->Find(r.gvr)->short_names, ElementsAre("wd"));
  catalog->Remove(r.gvr);
  EXPECT_EQ(catalog->Find(r.gvr), nullptr);
  catalog->Remove(r.gvr);  // no-op
  EXPECT_EQ(catalog->All().size(), n);
}

class ResourceCatalogFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "/kinf_catalog_" + name;
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(ResourceCatalogFileTest, LoadsYamlWithDefaults) {
  std::string path = Write("ok.yaml", R"(resources:
- group: example.com
  version: v1
  resource: widgets
  kind: Widget
  shortNames: [wd]
  categories: [all]
  status: true
  scale: true
  fieldLabels: [spec.color]
- version: v1
  resource: gadgets
  kind: Gadget
  namespaced: false
  nameRule: label
  verbs: [get, list, watch]
  custom: false
  deleteReturnsObject: true
  tracksGeneration: false
)");
  ResourceCatalog catalog;
  ASSERT_TRUE(catalog.LoadFile(path).ok());
  ResourceInfoPtr w = catalog.Find({"example.com", "v1", "widgets"});
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->list_kind, "WidgetList");
  EXPECT_EQ(w->singular, "widget");
  EXPECT_TRUE(w->namespaced);
  EXPECT_TRUE(w->is_custom);
  EXPECT_TRUE(w->tracks_generation);
  EXPECT_TRUE(w->has_status);
  EXPECT_TRUE(w->has_scale);
  EXPECT_THAT(w->short_names, ElementsAre("wd"));
  EXPECT_THAT(w->categories, ElementsAre("all"));
  EXPECT_THAT(w->field_labels, ElementsAre("spec.color"));
  EXPECT_EQ(w->verbs.size(), 8u);
  ResourceInfoPtr g = catalog.Find({"", "v1", "gadgets"});
  ASSERT_NE(g, nullptr);
  EXPECT_FALSE(g->namespaced);
  EXPECT_FALSE(g->is_custom);
  EXPECT_FALSE(g->tracks_generation);
  EXPECT_TRUE(g->delete_returns_object);
  EXPECT_EQ(g->name_rule, ResourceInfo::NameRule::kLabel);
  EXPECT_THAT(g->verbs, ElementsAre("get", "list", "watch"));
}

TEST_F(ResourceCatalogFileTest, LoadsJsonList) {
  std::string path =
      Write("ok.json",
            R"([{"group":"example.com","version":"v1beta1","resource":"things","kind":"Thing",)"
            R"("listKind":"ThingCollection","singular":"thingy"}])");
  ResourceCatalog catalog;
  ASSERT_TRUE(catalog.LoadFile(path).ok());
  ResourceInfoPtr t = catalog.Find({"example.com", "v1beta1", "things"});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->list_kind, "ThingCollection");
  EXPECT_EQ(t->singular, "thingy");
}

TEST_F(ResourceCatalogFileTest, RejectsBadFilesWithoutPartialLoads) {
  struct Case {
    const char* name;
    const char* text;
    const char* message_part;
  };
  const Case cases[] = {
      {"unknown_key", "- {version: v1, resource: a, kind: A, colour: red}", "unknown key"},
      {"missing_kind", "- {version: v1, resource: a}", "missing \"kind\""},
      {"missing_version", "- {resource: a, kind: A}", "missing \"version\""},
      {"bad_bool", "- {version: v1, resource: a, kind: A, namespaced: maybe}", "true or false"},
      {"bad_list", "- {version: v1, resource: a, kind: A, verbs: get}", "list of strings"},
      {"bad_rule", "- {version: v1, resource: a, kind: A, nameRule: dns}", "nameRule"},
      {"upper_resource", "- {version: v1, resource: Widgets, kind: A}", "lowercase"},
      {"not_a_list", "resources: 3", "list of resources"},
      {"other_top_key", "things: []", "only \"resources\""},
      {"bad_yaml", "- {version: v1, resource: [", ""},
      {"second_bad", "- {version: v1, resource: ok, kind: Ok}\n- {version: v1}", "resources[1]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ResourceCatalog catalog;
    Status s = catalog.LoadFile(Write(c.name, c.text));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(s.message(), ::testing::HasSubstr(c.message_part));
    EXPECT_THAT(catalog.All(), IsEmpty());
  }
}

TEST_F(ResourceCatalogFileTest, MissingFileIsNotFound) {
  ResourceCatalog catalog;
  Status s = catalog.LoadFile(::testing::TempDir() + "/kinf_catalog_does_not_exist.yaml");
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s;
}

TEST_F(ResourceCatalogFileTest, EmptyListIsFine) {
  ResourceCatalog catalog;
  EXPECT_TRUE(catalog.LoadFile(Write("empty.yaml", "resources: []\n")).ok());
  EXPECT_TRUE(catalog.LoadFile(Write("empty2.yaml", "resources:\n")).ok());
}

}  // namespace
}  // namespace kube::server

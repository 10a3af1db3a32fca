// Namespace lifecycle (Terminating, the create refusal, the namespace finalizer), finalizers on
// any object, and generateName, compared with kube-apiserver v1.32's answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class NamespaceLifecycleTest : public ApiServerFixture {
 protected:
  void CreateNamespace(const std::string& name) {
    ASSERT_EQ(
        Post("/api/v1/namespaces",
             R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + name + R"("}})")
            .code,
        201);
  }
  std::string Rv() const { return std::to_string(server_->ResourceVersion()); }
};

json Condition(const json& ns, const std::string& type) {
  for (const json& c : ns["status"]["conditions"]) {
    if (c["type"] == type) return c;
  }
  return json();
}

TEST_F(NamespaceLifecycleTest, DeleteMarksTerminatingThenRemovesContentsThenTheNamespace) {
  CreateNamespace("tmp");
  ASSERT_EQ(Post("/api/v1/namespaces/tmp/configmaps", ConfigMapJson("tmp", "c")).code, 201);
  auto namespaces = Watch("/api/v1/namespaces?watch=true&resourceVersion=" + Rv());
  auto configmaps = Watch("/api/v1/namespaces/tmp/configmaps?watch=true&resourceVersion=" + Rv());

  HttpResult r = Delete("/api/v1/namespaces/tmp", R"({"propagationPolicy":"Background"})");
  ASSERT_EQ(r.code, 200) << r.body;
  json answer = r.Json();
  EXPECT_EQ(answer["kind"], "Namespace");  // the namespace, marked, as kube-apiserver answers
  EXPECT_EQ(answer["status"]["phase"], "Terminating");
  EXPECT_TRUE(answer["metadata"]["deletionTimestamp"].is_string());
  EXPECT_FALSE(answer["metadata"].contains("deletionGracePeriodSeconds"));
  EXPECT_EQ(answer["spec"]["finalizers"], json({"kubernetes"}));

  auto cm = configmaps->NextNonBookmark();
  ASSERT_TRUE(cm);
  EXPECT_EQ((*cm)["type"], "DELETED");
  auto e1 = namespaces->NextNonBookmark();
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["type"], "MODIFIED");
  EXPECT_EQ((*e1)["object"]["status"]["phase"], "Terminating");
  auto e2 = namespaces->NextNonBookmark();
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["type"], "MODIFIED");
  // The namespace controller's conditions, all well.
  json removed = Condition((*e2)["object"], "NamespaceContentRemaining");
  EXPECT_EQ(removed["status"], "False");
  EXPECT_EQ(removed["reason"], "ContentRemoved");
  EXPECT_EQ(removed["message"], "All content successfully removed");
  EXPECT_EQ((*e2)["object"]["status"]["conditions"].size(), 5u);
  auto e3 = namespaces->NextNonBookmark();
  ASSERT_TRUE(e3);
  EXPECT_EQ((*e3)["type"], "DELETED");
  EXPECT_EQ(Get("/api/v1/namespaces/tmp").code, 404);
  EXPECT_EQ(Get("/api/v1/namespaces/tmp/configmaps/c").code, 404);
}

TEST_F(NamespaceLifecycleTest, FinalizerInsideHoldsTheNamespaceTerminatingAndRefusesCreates) {
  CreateNamespace("held");
  ASSERT_EQ(Post("/api/v1/namespaces/held/configmaps",
                 R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep",)"
                 R"("finalizers":["example.com/hold"]}})")
                .code,
            201);
  ASSERT_EQ(Delete("/api/v1/namespaces/held").code, 200);
  HttpResult ns = Get("/api/v1/namespaces/held");
  ASSERT_EQ(ns.code, 200);
  EXPECT_EQ(ns.Json()["status"]["phase"], "Terminating");
  EXPECT_EQ(Condition(ns.Json(), "NamespaceContentRemaining")["message"],
            "Some resources are remaining: configmaps. has 1 resource instances");
  EXPECT_EQ(Condition(ns.Json(), "NamespaceFinalizersRemaining")["message"],
            "Some content in the namespace has finalizers remaining: example.com/hold in 1 "
            "resource instances");
  EXPECT_TRUE(Get("/api/v1/namespaces/held/configmaps/keep")
                  .Json()["metadata"]["deletionTimestamp"]
                  .is_string());

  // NamespaceLifecycle admission: 403 with kube-apiserver's message and cause.
  HttpResult refused = Post("/api/v1/namespaces/held/configmaps", ConfigMapJson("held", "new"));
  EXPECT_EQ(refused.code, 403);
  json st = refused.Json();
  EXPECT_EQ(st["reason"], "Forbidden");
  EXPECT_EQ(st["message"],
            "configmaps \"new\" is forbidden: unable to create new content in namespace held "
            "because it is being terminated");
  EXPECT_EQ(st["details"]["causes"],
            json::array({{{"reason", "NamespaceTerminating"},
                          {"message", "namespace held is being terminated"},
                          {"field", "metadata.namespace"}}}));
  // Admission runs before the name is generated: the message names the prefix.
  HttpResult generated = Post("/apis/apps/v1/namespaces/held/deployments",
                              R"({"metadata":{"generateName":"web-"},"spec":{}})");
  EXPECT_EQ(generated.code, 403);
  EXPECT_THAT(generated.Json()["message"].get<std::string>(),
              HasSubstr("deployments.apps \"web-\" is forbidden"));
  // A second DELETE answers the namespace as it is.
  HttpResult again = Delete("/api/v1/namespaces/held");
  EXPECT_EQ(again.code, 200);
  EXPECT_EQ(again.Json()["status"]["phase"], "Terminating");

  // Removing the last finalizer lets the configmap go, and with it the namespace.
  auto namespaces = Watch("/api/v1/namespaces?watch=true&resourceVersion=" + Rv());
  ASSERT_EQ(
      Patch("/api/v1/namespaces/held/configmaps/keep", R"({"metadata":{"finalizers":null}})").code,
      200);
  EXPECT_EQ(Get("/api/v1/namespaces/held/configmaps/keep").code, 404);
  auto modified = namespaces->NextNonBookmark();
  ASSERT_TRUE(modified);
  EXPECT_EQ((*modified)["type"], "MODIFIED");
  EXPECT_EQ(Condition((*modified)["object"], "NamespaceContentRemaining")["status"], "False");
  auto deleted = namespaces->NextNonBookmark();
  ASSERT_TRUE(deleted);
  EXPECT_EQ((*deleted)["type"], "DELETED");
  EXPECT_EQ(Get("/api/v1/namespaces/held").code, 404);
}

TEST_F(NamespaceLifecycleTest, ImmortalNamespacesMayNotBeDeleted) {
  for (const char* name : {"default", "kube-system", "kube-public"}) {
    HttpResult r = Delete(std::string("/api/v1/namespaces/") + name);
    EXPECT_EQ(r.code, 403);
    EXPECT_EQ(r.Json()["message"], "namespaces \"" + std::string(name) +
                                       "\" is forbidden: this namespace may not be "
                                       "deleted");
  }
  EXPECT_EQ(Get("/api/v1/namespaces/default").Json()["status"]["phase"], "Active");
}

TEST_F(NamespaceLifecycleTest, DryRunDeleteOfANamespaceChangesNothing) {
  CreateNamespace("dry");
  HttpResult r = Delete("/api/v1/namespaces/dry?dryRun=All");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.Json()["status"]["phase"], "Terminating");
  EXPECT_EQ(Get("/api/v1/namespaces/dry").Json()["status"]["phase"], "Active");
}

TEST_F(NamespaceLifecycleTest, NamespacesCarryTheMetadataNameLabel) {
  CreateNamespace("labelled");
  EXPECT_EQ(Get("/api/v1/namespaces/labelled").Json()["metadata"]["labels"],
            json({{"kubernetes.io/metadata.name", "labelled"}}));
}

TEST_F(NamespaceLifecycleTest, FinalizerHoldsAnObjectUntilTheLastOneIsRemoved) {
  ASSERT_EQ(Post("/api/v1/namespaces/default/configmaps",
                 R"({"metadata":{"name":"f","finalizers":["a.example/x","b.example/y"]}})")
                .code,
            201);
  auto w = Watch("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + Rv());
  HttpResult del = Delete("/api/v1/namespaces/default/configmaps/f");
  EXPECT_EQ(del.code, 200);
  EXPECT_EQ(del.Json()["kind"], "ConfigMap");  // the object, still there
  EXPECT_EQ(del.Json()["metadata"]["deletionGracePeriodSeconds"], 0);
  auto marked = w->NextNonBookmark();
  ASSERT_TRUE(marked);
  EXPECT_EQ((*marked)["type"], "MODIFIED");
  ASSERT_EQ(Patch("/api/v1/namespaces/default/configmaps/f",
                  R"({"metadata":{"finalizers":["b.example/y"]}})")
                .code,
            200);
  auto still = w->NextNonBookmark();
  ASSERT_TRUE(still);
  EXPECT_EQ((*still)["type"], "MODIFIED");
  ASSERT_EQ(
      Patch("/api/v1/namespaces/default/configmaps/f", R"({"metadata":{"finalizers":[]}})").code,
      200);
  auto gone = w->NextNonBookmark();
  ASSERT_TRUE(gone);
  EXPECT_EQ((*gone)["type"], "DELETED");
  EXPECT_EQ(Get("/api/v1/namespaces/default/configmaps/f").code, 404);
}

TEST_F(NamespaceLifecycleTest, GenerateNameWorksForEveryKindWithTheRealSuffix) {
  const std::string suffix = "[bcdfghjklmnpqrstvwxz2456789]{5}";
  struct Case {
    std::string path, body, prefix;
  } cases[] = {
      {"/api/v1/namespaces", R"({"metadata":{"generateName":"team-"}})", "team-"},
      {"/api/v1/namespaces/default/configmaps", R"({"metadata":{"generateName":"cm-"}})", "cm-"},
      {"/apis/apps/v1/namespaces/default/deployments",
       R"({"metadata":{"generateName":"web-"},"spec":{}})", "web-"},
      {"/apis/rbac.authorization.k8s.io/v1/clusterroles", R"({"metadata":{"generateName":"r-"}})",
       "r-"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    HttpResult r = Post(c.path, c.body);
    ASSERT_EQ(r.code, 201) << r.body;
    EXPECT_THAT(r.Json()["metadata"]["name"].get<std::string>(), MatchesRegex(c.prefix + suffix));
    EXPECT_EQ(r.Json()["metadata"]["generateName"], c.prefix);
  }
  // kube-apiserver keeps 58 characters of the prefix.
  HttpResult longer = Post("/api/v1/namespaces/default/configmaps",
                           R"({"metadata":{"generateName":")" + std::string(70, 'a') + R"("}})");
  ASSERT_EQ(longer.code, 201) << longer.body;
  EXPECT_THAT(longer.Json()["metadata"]["name"].get<std::string>(),
              MatchesRegex(std::string(58, 'a') + suffix));
  HttpResult neither = Post("/api/v1/namespaces/default/configmaps", R"({"metadata":{}})");
  EXPECT_EQ(neither.code, 422);
  EXPECT_EQ(neither.Json()["message"],
            "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is "
            "required");
}

}  // namespace
}  // namespace kube::testing

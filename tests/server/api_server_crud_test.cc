// EmbeddedApiServer over HTTP: discovery, create/get/update/patch/delete, subresources,
// finalizers, names, namespaces and the Status bodies of every error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kDeployments[] = "/apis/apps/v1/namespaces/default/deployments";

std::string DeploymentJson(const std::string& name, int replicas = 1) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"labels", {{"app", name}}}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}}}}},
                {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}}}}}};
  return d.dump();
}

// Every error answer is a Status with the code in its body, as kube-apiserver sends it.
void ExpectStatus(const HttpResult& r, long code, const std::string& reason) {  // NOLINT
  EXPECT_EQ(r.code, code) << r.body;
  json s = r.Json();
  ASSERT_TRUE(s.is_object()) << r.body;
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["apiVersion"], "v1");
  EXPECT_EQ(s["status"], "Failure");
  EXPECT_EQ(s["code"], code);
  EXPECT_EQ(s["reason"], reason);
  EXPECT_TRUE(s["message"].is_string());
  EXPECT_THAT(r.headers.count("content-type") ? r.headers.at("content-type") : "",
              HasSubstr("application/json"));
}

class ApiServerTest : public ApiServerFixture {};

TEST_F(ApiServerTest, ServesVersionAndDiscovery) {
  HttpResult v = Get("/version");
  ASSERT_EQ(v.code, 200);
  EXPECT_EQ(v.Json()["major"], "1");
  HttpResult api = Get("/api");
  ASSERT_EQ(api.code, 200);
  EXPECT_EQ(api.Json()["kind"], "APIVersions");
  HttpResult apis = Get("/apis");
  ASSERT_EQ(apis.code, 200);
  EXPECT_EQ(apis.Json()["kind"], "APIGroupList");
  HttpResult apps = Get("/apis/apps/v1");
  ASSERT_EQ(apps.code, 200);
  EXPECT_EQ(apps.Json()["groupVersion"], "apps/v1");
  HttpResult core = Get("/api/v1");
  ASSERT_EQ(core.code, 200);
  EXPECT_THAT(core.body, HasSubstr("\"pods\""));
  HttpResult group = Get("/apis/apps");
  ASSERT_EQ(group.code, 200);
  EXPECT_EQ(group.Json()["kind"], "APIGroup");
  ExpectStatus(Get("/apis/nope.example.com/v1"), 404, "NotFound");
}

TEST_F(ApiServerTest, AggregatedDiscoveryWhenAsked) {
  HttpResult r = Get("/apis",
                     "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                     "application/json");
  ASSERT_EQ(r.code, 200);
  EXPECT_THAT(r.headers["content-type"], HasSubstr("as=APIGroupDiscoveryList"));
  EXPECT_EQ(r.Json()["kind"], "APIGroupDiscoveryList");
}

TEST_F(ApiServerTest, ServesOpenApiV3ForKubectlValidation) {
  HttpResult root = Get("/openapi/v3");
  ASSERT_EQ(root.code, 200);
  EXPECT_TRUE(root.Json()["paths"].contains("apis/apps/v1"));
  HttpResult apps = Get("/openapi/v3/apis/apps/v1");
  ASSERT_EQ(apps.code, 200);
  EXPECT_THAT(apps.body, HasSubstr("fieldValidation"));
}

TEST_F(ApiServerTest, DefaultNamespacesExist) {
  HttpResult r = Get("/api/v1/namespaces");
  ASSERT_EQ(r.code, 200);
  json list = r.Json();
  EXPECT_EQ(list["kind"], "NamespaceList");
  std::vector<std::string> names;
  for (const auto& item : list["items"]) names.push_back(item["metadata"]["name"]);
  EXPECT_THAT(names, ::testing::IsSupersetOf({"default", "kube-system", "kube-public"}));
  EXPECT_EQ(list["items"][0]["status"]["phase"], "Active");
}

TEST_F(ApiServerTest, CreateSetsServerOwnedMetadata) {
  uint64_t before = server().ResourceVersion();
  json sent = json::parse(DeploymentJson("web"));
  sent["metadata"]["uid"] = "client-uid";
  sent["metadata"]["resourceVersion"] = "999";
  sent["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z";
  HttpResult r = Post(kDeployments, sent.dump());
  ASSERT_EQ(r.code, 201) << r.body;
  json obj = r.Json();
  EXPECT_EQ(obj["apiVersion"], "apps/v1");
  EXPECT_EQ(obj["kind"], "Deployment");
  EXPECT_EQ(obj["metadata"]["namespace"], "default");
  EXPECT_NE(obj["metadata"]["uid"], "client-uid");
  EXPECT_EQ(obj["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(obj["metadata"]["resourceVersion"], std::to_string(before + 1));
  EXPECT_NE(obj["metadata"]["creationTimestamp"], "2000-01-01T00:00:00Z");
  EXPECT_THAT(obj["metadata"]["creationTimestamp"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
  EXPECT_EQ(obj["metadata"]["generation"], 1);

  HttpResult got = Get(std::string(kDeployments) + "/web");
  ASSERT_EQ(got.code, 200);
  EXPECT_EQ(got.Json(), obj);
}

TEST_F(ApiServerTest, ResourceVersionsStrictlyIncreaseAcrossResources) {
  uint64_t last = server().ResourceVersion();
  for (int i = 0; i < 5; ++i) {
    HttpResult cm = Post("/api/v1/namespaces/default/configmaps",
                         ConfigMapJson("default", "c" + std::to_string(i)));
    ASSERT_EQ(cm.code, 201);
    uint64_t rv = std::stoull(cm.Json()["metadata"]["resourceVersion"].get<std::string>());
    EXPECT_GT(rv, last);
    last = rv;
    HttpResult d = Post(kDeployments, DeploymentJson("d" + std::to_string(i)));
    ASSERT_EQ(d.code, 201);
    rv = std::stoull(d.Json()["metadata"]["resourceVersion"].get<std::string>());
    EXPECT_GT(rv, last);
    last = rv;
  }
}

TEST_F(ApiServerTest, GenerateNameMakesAName) {
  json cm = json::parse(ConfigMapJson("default", ""));
  cm["metadata"].erase("name");
  cm["metadata"]["generateName"] = "gen-";
  HttpResult r = Post("/api/v1/namespaces/default/configmaps", cm.dump());
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_THAT(r.Json()["metadata"]["name"].get<std::string>(),
              ::testing::MatchesRegex("gen-[a-z0-9]{5}"));
}

TEST_F(ApiServerTest, CreateExistingIsAlreadyExists) {
  ASSERT_EQ(Post(kDeployments, DeploymentJson("web")).code, 201);
  HttpResult r = Post(kDeployments, DeploymentJson("web"));
  ExpectStatus(r, 409, "AlreadyExists");
  EXPECT_EQ(r.Json()["message"], "deployments.apps \"web\" already exists");
  EXPECT_EQ(r.Json()["details"]["kind"], "deployments");
  EXPECT_EQ(r.Json()["details"]["group"], "apps");
}

TEST_F(ApiServerTest, GetMissingIsNotFoundWithDetails) {
  HttpResult r = Get(std::string(kDeployments) + "/nope");
  ExpectStatus(r, 404, "NotFound");
  EXPECT_EQ(r.Json()["message"], "deployments.apps \"nope\" not found");
  EXPECT_EQ(r.Json()["details"]["name"], "nope");
  HttpResult pod = Get("/api/v1/namespaces/default/pods/p");
  EXPECT_EQ(pod.Json()["message"], "pods \"p\" not found");
}

TEST_F(ApiServerTest, NamespacedObjectNeedsItsNamespace) {
  HttpResult r = Post("/api/v1/namespaces/ghost/configmaps", ConfigMapJson("ghost", "c"));
  ExpectStatus(r, 404, "NotFound");
  EXPECT_EQ(r.Json()["message"], "namespaces \"ghost\" not found");
  ASSERT_EQ(Post("/api/v1/namespaces",
                 R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ghost"}})")
                .code,
            201);
  EXPECT_EQ(Post("/api/v1/namespaces/ghost/configmaps", ConfigMapJson("ghost", "c")).code, 201);
}

TEST_F(ApiServerTest, NamespaceMismatchIsBadRequest) {
  ExpectStatus(Post("/api/v1/namespaces/default/configmaps", ConfigMapJson("kube-system", "c")),
               400, "BadRequest");
}

TEST_F(ApiServerTest, InvalidNamesAreRejectedAsKubernetesDoes) {
  HttpResult r =
      Post("/api/v1/namespaces/default/configmaps", ConfigMapJson("default", "Bad_Name"));
  ExpectStatus(r, 422, "Invalid");
  EXPECT_THAT(r.Json()["message"].get<std::string>(),
              HasSubstr("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value"));
  EXPECT_EQ(r.Json()["details"]["causes"][0]["field"], "metadata.name");
  EXPECT_EQ(r.Json()["details"]["causes"][0]["reason"], "FieldValueInvalid");
  // Namespaces need a DNS-1123 label: no dots.
  ExpectStatus(Post("/api/v1/namespaces",
                    R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a.b"}})"),
               422, "Invalid");
  // A dotted ConfigMap name is a valid subdomain.
  EXPECT_EQ(Post("/api/v1/namespaces/default/configmaps", ConfigMapJson("default", "a.b")).code,
            201);
  // No name at all.
  ExpectStatus(Post("/api/v1/namespaces/default/configmaps",
                    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{}})"),
               422, "Invalid");
}

TEST_F(ApiServerTest, MalformedBodyIsBadRequest) {
  ExpectStatus(Post("/api/v1/namespaces/default/configmaps", "{not json"), 400, "BadRequest");
}

TEST_F(ApiServerTest, YamlBodiesAreAcceptedCborIsNot) {
  HttpResult yaml = client().Request("POST", "/api/v1/namespaces/default/configmaps",
                                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n"
                                     "data:\n  n: \"1\"\n",
                                     {"Content-Type: application/yaml"});
  ASSERT_EQ(yaml.code, 201) << yaml.body;
  EXPECT_EQ(yaml.Json()["data"]["n"], "1");
  ExpectStatus(client().Request("POST", "/api/v1/namespaces/default/configmaps", "\xa0",
                                {"Content-Type: application/cbor"}),
               415, "UnsupportedMediaType");
}

TEST_F(ApiServerTest, UnknownResourceIsNotFound) {
  ExpectStatus(Get("/api/v1/namespaces/default/widgets"), 404, "NotFound");
  ExpectStatus(Get("/apis/apps/v1/deployments/x"), 404, "NotFound");
}

TEST_F(ApiServerTest, UnsupportedVerbIsMethodNotAllowed) {
  HttpResult r = client().Request("POST", std::string(kDeployments) + "/web", "{}");
  ExpectStatus(r, 405, "MethodNotAllowed");
}

TEST_F(ApiServerTest, CborOnlyAcceptIsNotAcceptable) {
  ExpectStatus(Get("/api/v1/namespaces", "application/cbor"), 406, "NotAcceptable");
}

TEST_F(ApiServerTest, UpdateChecksResourceVersion) {
  json obj = Post(kDeployments, DeploymentJson("web")).Json();
  json stale = obj;
  obj["spec"]["replicas"] = 2;
  HttpResult ok = Put(std::string(kDeployments) + "/web", obj.dump());
  ASSERT_EQ(ok.code, 200) << ok.body;
  EXPECT_NE(ok.Json()["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"]);
  EXPECT_EQ(ok.Json()["metadata"]["generation"], 2);

  stale["spec"]["replicas"] = 5;
  HttpResult conflict = Put(std::string(kDeployments) + "/web", stale.dump());
  ExpectStatus(conflict, 409, "Conflict");
  EXPECT_EQ(conflict.Json()["message"],
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been "
            "modified; please apply your changes to the latest version and try again");

  // No resourceVersion: unconditional.
  stale["metadata"].erase("resourceVersion");
  EXPECT_EQ(Put(std::string(kDeployments) + "/web", stale.dump()).code, 200);
}

TEST_F(ApiServerTest, UpdateOfMissingObjectIsNotFound) {
  ExpectStatus(Put(std::string(kDeployments) + "/nope", DeploymentJson("nope")), 404, "NotFound");
}

TEST_F(ApiServerTest, UpdateWithOtherNameIsBadRequest) {
  ASSERT_EQ(Post(kDeployments, DeploymentJson("web")).code, 201);
  ExpectStatus(Put(std::string(kDeployments) + "/web", DeploymentJson("other")), 400, "BadRequest");
}

TEST_F(ApiServerTest, GenerationMovesOnlyOnSpecChanges) {
  json obj = Post(kDeployments, DeploymentJson("web")).Json();
  obj["metadata"]["labels"]["extra"] = "yes";
  json after_label = Put(std::string(kDeployments) + "/web", obj.dump()).Json();
  EXPECT_EQ(after_label["metadata"]["generation"], 1);
  after_label["spec"]["replicas"] = 4;
  json after_spec = Put(std::string(kDeployments) + "/web", after_label.dump()).Json();
  EXPECT_EQ(after_spec["metadata"]["generation"], 2);
}

TEST_F(ApiServerTest, NoOpUpdateKeepsResourceVersion) {
  json obj = Post(kDeployments, DeploymentJson("web")).Json();
  json again = Put(std::string(kDeployments) + "/web", obj.dump()).Json();
  EXPECT_EQ(again["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"]);
}

TEST_F(ApiServerTest, MainResourceWritesIgnoreStatusAndStatusWritesOnlyStatus) {
  json obj = Post(kDeployments, DeploymentJson("web")).Json();
  obj["status"] = {{"replicas", 7}};
  obj["spec"]["replicas"] = 3;
  json updated = Put(std::string(kDeployments) + "/web", obj.dump()).Json();
  EXPECT_FALSE(updated.contains("status") && updated["status"].contains("replicas"));
  EXPECT_EQ(updated["spec"]["replicas"], 3);

  updated["status"] = {{"replicas", 3}, {"readyReplicas", 3}};
  updated["spec"]["replicas"] = 9;
  HttpResult st = Put(std::string(kDeployments) + "/web/status", updated.dump());
  ASSERT_EQ(st.code, 200) << st.body;
  EXPECT_EQ(st.Json()["status"]["readyReplicas"], 3);
  EXPECT_EQ(st.Json()["spec"]["replicas"], 3);
  EXPECT_EQ(st.Json()["metadata"]["generation"], updated["metadata"]["generation"]);

  HttpResult patched =
      Patch(std::string(kDeployments) + "/web/status", R"({"status":{"availableReplicas":2}})");
  ASSERT_EQ(patched.code, 200) << patched.body;
  EXPECT_EQ(patched.Json()["status"]["availableReplicas"], 2);
  EXPECT_EQ(Get(std::string(kDeployments) + "/web/status").Json()["status"]["readyReplicas"], 3);
}

TEST_F(ApiServerTest, ScaleSubresourceReadsAndWritesReplicas) {
  ASSERT_EQ(Post(kDeployments, DeploymentJson("web", 2)).code, 201);
  HttpResult scale = Get(std::string(kDeployments) + "/web/scale");
  ASSERT_EQ(scale.code, 200) << scale.body;
  json s = scale.Json();
  EXPECT_EQ(s["kind"], "Scale");
  EXPECT_EQ(s["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(s["spec"]["replicas"], 2);
  EXPECT_EQ(s["status"]["selector"], "app=web");

  // kubectl scale: merge patch on /scale.
  HttpResult patched =
      Patch(std::string(kDeployments) + "/web/scale", R"({"spec":{"replicas":5}})");
  ASSERT_EQ(patched.code, 200) << patched.body;
  EXPECT_EQ(patched.Json()["spec"]["replicas"], 5);
  EXPECT_EQ(Get(std::string(kDeployments) + "/web").Json()["spec"]["replicas"], 5);

  // kubectl scale --resource-version: PUT with a stale version conflicts.
  s["spec"]["replicas"] = 1;
  ExpectStatus(Put(std::string(kDeployments) + "/web/scale", s.dump()), 409, "Conflict");
  s["metadata"]["resourceVersion"] = patched.Json()["metadata"]["resourceVersion"];
  HttpResult put = Put(std::string(kDeployments) + "/web/scale", s.dump());
  ASSERT_EQ(put.code, 200) << put.body;
  EXPECT_EQ(put.Json()["spec"]["replicas"], 1);

  ExpectStatus(Patch(std::string(kDeployments) + "/web/scale", R"({"spec":{"replicas":-1}})"), 422,
               "Invalid");
  ExpectStatus(Get("/api/v1/namespaces/default/configmaps/x/scale"), 404, "NotFound");
}

TEST_F(ApiServerTest, MergeAndJsonPatch) {
  ASSERT_EQ(Post("/api/v1/namespaces/default/configmaps", ConfigMapJson("default", "c")).code, 201);
  const std::string path = "/api/v1/namespaces/default/configmaps/c";
  HttpResult merge = Patch(path, R"({"metadata":{"labels":{"a":"b"}},"data":{"x":"y"}})");
  ASSERT_EQ(merge.code, 200) << merge.body;
  EXPECT_EQ(merge.Json()["metadata"]["labels"]["a"], "b");
  EXPECT_EQ(merge.Json()["data"]["x"], "y");

  HttpResult jp = Patch(path, R"([{"op":"replace","path":"/data/x","value":"z"}])",
                        "application/json-patch+json");
  ASSERT_EQ(jp.code, 200) << jp.body;
  EXPECT_EQ(jp.Json()["data"]["x"], "z");

  // A failing `test` op rejects the whole patch.
  HttpResult failed = Patch(path,
                            R"([{"op":"replace","path":"/data/x","value":"w"},)"
                            R"({"op":"test","path":"/data/x","value":"nope"}])",
                            "application/json-patch+json");
  EXPECT_GE(failed.code, 400);
  EXPECT_EQ(Get(path).Json()["data"]["x"], "z");

  ExpectStatus(Patch(path, "{}", "text/plain"), 415, "UnsupportedMediaType");
  ExpectStatus(Patch("/api/v1/namespaces/default/configmaps/nope", "{}"), 404, "NotFound");
}

TEST_F(ApiServerTest, PatchWithStaleResourceVersionConflicts) {
  json cm = Post("/api/v1/namespaces/default/configmaps", ConfigMapJson("default", "c")).Json();
  ASSERT_EQ(Patch("/api/v1/namespaces/default/configmaps/c", R"({"data":{"k":"2"}})").code, 200);
  json patch = {{"metadata", {{"resourceVersion", cm["metadata"]["resourceVersion"]}}},
                {"data", {{"k", "3"}}}};
  ExpectStatus(Patch("/api/v1/namespaces/default/configmaps/c", patch.dump()), 409, "Conflict");
}

TEST_F(ApiServerTest, StrategicMergePatchMergesContainersByName) {
  ASSERT_EQ(Post(kDeployments, DeploymentJson("web")).code, 201);
  HttpResult r =
      Patch(std::string(kDeployments) + "/web",
            R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}}})",
            "application/strategic-merge-patch+json");
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.Json()["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:2");
  EXPECT_EQ(r.Json()["metadata"]["generation"], 2);
}

TEST_F(ApiServerTest, DeleteAnswersStatusOrObjectPerKind) {
  json d = Post(kDeployments, DeploymentJson("web")).Json();
  HttpResult del =
      Delete(std::string(kDeployments) + "/web",
             R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})");
  ASSERT_EQ(del.code, 200) << del.body;
  json s = del.Json();
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["status"], "Success");
  EXPECT_EQ(s["details"]["name"], "web");
  EXPECT_EQ(s["details"]["kind"], "deployments");
  EXPECT_EQ(s["details"]["uid"], d["metadata"]["uid"]);
  ExpectStatus(Get(std::string(kDeployments) + "/web"), 404, "NotFound");
  ExpectStatus(Delete(std::string(kDeployments) + "/web"), 404, "NotFound");

  // Pods answer with the deleted object.
  ASSERT_EQ(
      Post(
          "/api/v1/namespaces/default/pods",
          R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}})")
          .code,
      201);
  HttpResult pod = Delete("/api/v1/namespaces/default/pods/p");
  ASSERT_EQ(pod.code, 200);
  EXPECT_EQ(pod.Json()["kind"], "Pod");
  EXPECT_GT(std::stoull(pod.Json()["metadata"]["resourceVersion"].get<std::string>()), 0u);
}

TEST_F(ApiServerTest, DeletePreconditionsConflict) {
  ASSERT_EQ(Post("/api/v1/namespaces/default/configmaps", ConfigMapJson("default", "c")).code, 201);
  ExpectStatus(Delete("/api/v1/namespaces/default/configmaps/c",
                      R"({"preconditions":{"uid":"not-the-uid"}})"),
               409, "Conflict");
  ExpectStatus(Delete("/api/v1/namespaces/default/configmaps/c",
                      R"({"preconditions":{"resourceVersion":"1"}})"),
               409, "Conflict");
  EXPECT_EQ(Get("/api/v1/namespaces/default/configmaps/c").code, 200);
}

TEST_F(ApiServerTest, FinalizersDelayDeletionUntilRemoved) {
  json cm = json::parse(ConfigMapJson("default", "held"));
  cm["metadata"]["finalizers"] = {"example.com/hold"};
  ASSERT_EQ(Post("/api/v1/namespaces/default/configmaps", cm.dump()).code, 201);
  const std::string path = "/api/v1/namespaces/default/configmaps/held";
  HttpResult del = Delete(path);
  ASSERT_EQ(del.code, 200) << del.body;
  json marked = del.Json();
  EXPECT_EQ(marked["kind"], "ConfigMap");
  EXPECT_TRUE(marked["metadata"].contains("deletionTimestamp"));
  HttpResult still = Get(path);
  ASSERT_EQ(still.code, 200);
  EXPECT_TRUE(still.Json()["metadata"].contains("deletionTimestamp"));

  // deletionTimestamp cannot be cleared, and no finalizer may be added.
  json add = still.Json();
  add["metadata"]["finalizers"].push_back("example.com/another");
  ExpectStatus(Put(path, add.dump()), 422, "Invalid");

  HttpResult removed = Patch(path, R"({"metadata":{"finalizers":null}})");
  ASSERT_EQ(removed.code, 200) << removed.body;
  ExpectStatus(Get(path), 404, "NotFound");
}

TEST_F(ApiServerTest, DeleteCollectionHonoursSelectors) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(
        Post("/api/v1/namespaces/default/configmaps",
             ConfigMapJson("default", "c" + std::to_string(i), {{"tier", i % 2 ? "odd" : "even"}}))
            .code,
        201);
  }
  HttpResult r = Delete("/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dodd");
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.Json()["kind"], "ConfigMapList");
  EXPECT_EQ(r.Json()["items"].size(), 2u);
  EXPECT_EQ(Get("/api/v1/namespaces/default/configmaps").Json()["items"].size(), 2u);
}

TEST_F(ApiServerTest, DeletingNamespaceDeletesItsContents) {
  ASSERT_EQ(Post("/api/v1/namespaces",
                 R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"tmp"}})")
                .code,
            201);
  ASSERT_EQ(Post("/api/v1/namespaces/tmp/configmaps", ConfigMapJson("tmp", "c")).code, 201);
  ASSERT_EQ(Delete("/api/v1/namespaces/tmp").code, 200);
  EXPECT_EQ(Get("/api/v1/namespaces/tmp/configmaps/c").code, 404);
}

TEST_F(ApiServerTest, DryRunStoresNothing) {
  HttpResult r =
      Post("/api/v1/namespaces/default/configmaps?dryRun=All", ConfigMapJson("default", "dry"));
  EXPECT_EQ(r.code, 201) << r.body;  // kube-apiserver answers a dry-run create with 201
  EXPECT_FALSE(r.Json()["metadata"].contains("resourceVersion"));
  EXPECT_EQ(Get("/api/v1/namespaces/default/configmaps/dry").code, 404);
}

TEST_F(ApiServerTest, TablesForKubectl) {
  ASSERT_EQ(Post(kDeployments, DeploymentJson("web", 3)).code, 201);
  const std::string accept =
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
      "g=meta.k8s.io,application/json";
  HttpResult list = Get(std::string(kDeployments) + "?limit=500", accept);
  ASSERT_EQ(list.code, 200) << list.body;
  json t = list.Json();
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_TRUE(t["metadata"].contains("resourceVersion"));
  ASSERT_EQ(t["rows"].size(), 1u);
  EXPECT_EQ(t["rows"][0]["cells"][0], "web");
  EXPECT_EQ(t["columnDefinitions"][0]["name"], "Name");
  HttpResult one = Get(std::string(kDeployments) + "/web", accept);
  ASSERT_EQ(one.code, 200);
  EXPECT_EQ(one.Json()["kind"], "Table");
  EXPECT_EQ(one.Json()["rows"].size(), 1u);
}

TEST_F(ApiServerTest, ClusterScopedResources) {
  HttpResult r =
      Post("/api/v1/nodes", R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}})");
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_FALSE(r.Json()["metadata"].contains("namespace"));
  EXPECT_EQ(Get("/api/v1/nodes/n1").code, 200);
  EXPECT_EQ(Get("/api/v1/namespaces/default/nodes").code, 404);
}

TEST_F(ApiServerTest, InProcessHelpersShareTheStore) {
  auto created = server().Create(ConfigMapJson("default", "direct"));
  ASSERT_TRUE(created) << created.error();
  EXPECT_EQ(Get("/api/v1/namespaces/default/configmaps/direct").code, 200);
  auto dup = server().Create(ConfigMapJson("default", "direct"));
  ASSERT_FALSE(dup);
  EXPECT_TRUE(IsAlreadyExists(dup.error()));
  EXPECT_EQ(dup.error().http_code(), 409);
  auto applied = server().Apply(ConfigMapJson("default", "direct", {}, "v2"));
  ASSERT_TRUE(applied) << applied.error();
  auto got = server().Get({"", "v1", "configmaps"}, "default", "direct");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)->GetString("data.k").value_or(""), "v2");
  EXPECT_TRUE(server().Delete({"", "v1", "configmaps"}, "default", "direct").ok());
  EXPECT_TRUE(IsNotFound(server().Delete({"", "v1", "configmaps"}, "default", "direct")));
}

}  // namespace
}  // namespace kube::testing

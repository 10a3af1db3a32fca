// Server-side apply and field ownership over HTTP, compared with kube-apiserver v1.32's recorded
// answers (testdata/apply: the same requests kubectl and a script sent to a real server).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;

constexpr char kApplyYaml[] = "application/apply-patch+yaml";

std::string ReadTestdata(const std::string& name) {
  std::ifstream f(std::string(KUBE_SERVER_TESTDATA) + "/apply/" + name, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  EXPECT_FALSE(s.str().empty()) << "missing testdata " << name;
  return s.str();
}

json ReadJson(const std::string& name) { return json::parse(ReadTestdata(name)); }

// The entries of `managedFields` without their times, keyed for comparison.
json Ownership(const json& obj) {
  json out = json::array();
  for (json e : obj["metadata"].value("managedFields", json::array())) {
    EXPECT_TRUE(e.contains("time")) << e.dump();
    e.erase("time");
    out.push_back(e);
  }
  return out;
}

class ApiServerApplyTest : public ApiServerFixture {
 protected:
  void SetUp() override {
    ApiServerFixture::SetUp();
    for (const char* ns : {"wire-demo", "kubectl-ns"}) {
      MustCreate(
          json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}.dump());
    }
  }

  HttpResult Apply(const std::string& path, const std::string& body) const {
    return Patch(path, body, kApplyYaml);
  }

  // Registers the recorded Widget CRD (list-map ports keyed by name+protocol, a set of tags).
  void CreateWidgetCrd() {
    json crd = ReadJson("widgets.crd.json");
    crd.erase("status");
    for (const char* k :
         {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"}) {
      crd["metadata"].erase(k);
    }
    HttpResult r = Post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd.dump());
    ASSERT_EQ(r.code, 201) << r.body;
  }
};

constexpr char kDeployment[] = "/apis/apps/v1/namespaces/kubectl-ns/deployments/ssa-web";
constexpr char kConfigMap[] = "/api/v1/namespaces/wire-demo/configmaps/ssa-yaml";

TEST_F(ApiServerApplyTest, ApplyCreatesMissingObjectWithApplyEntry) {
  HttpResult r =
      Apply(std::string(kConfigMap) + "?fieldManager=wire-samples&fieldValidation=Strict",
            ReadTestdata("configmap.apply-yaml.req.yaml"));
  ASSERT_EQ(r.code, 201) << r.body;
  json want = ReadJson("configmap.apply-yaml.resp.json");
  json got = r.Json();
  EXPECT_EQ(Ownership(got), Ownership(want));
  EXPECT_EQ(got["data"], want["data"]);
  EXPECT_EQ(got["metadata"]["labels"], want["metadata"]["labels"]);
  EXPECT_FALSE(got["metadata"].value("uid", "").empty());

  // The same apply again changes nothing: 200, same resourceVersion and ownership.
  HttpResult again = Apply(std::string(kConfigMap) + "?fieldManager=wire-samples",
                           ReadTestdata("configmap.apply-yaml.req.yaml"));
  ASSERT_EQ(again.code, 200) << again.body;
  EXPECT_EQ(again.Json()["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"]);
  EXPECT_EQ(again.Json()["metadata"]["managedFields"], got["metadata"]["managedFields"]);
}

TEST_F(ApiServerApplyTest, ApplyWithoutFieldManagerIsInvalid) {
  HttpResult r = Apply(kConfigMap, ReadTestdata("configmap.apply-yaml.req.yaml"));
  EXPECT_EQ(r.code, 422);
  EXPECT_EQ(r.Json(), ReadJson("configmap.apply-without-fieldmanager.json"));
  EXPECT_EQ(Get(kConfigMap).code, 404);
}

TEST_F(ApiServerApplyTest, ApplyChangeOwnsExactlyTheAppliedFields) {
  const std::string query = "?fieldManager=kubectl&fieldValidation=Strict&force=false";
  HttpResult created = Apply(kDeployment + query, ReadTestdata("deployment.ssa-22.req.json"));
  ASSERT_EQ(created.code, 201) << created.body;
  EXPECT_EQ(Ownership(created.Json()), Ownership(ReadJson("deployment.ssa-22.resp.json")));

  HttpResult changed = Apply(kDeployment + query, ReadTestdata("deployment.ssa-23.req.json"));
  ASSERT_EQ(changed.code, 200) << changed.body;
  json want = ReadJson("deployment.ssa-23.resp.json");
  EXPECT_EQ(Ownership(changed.Json()), Ownership(want));
  EXPECT_EQ(changed.Json()["spec"]["replicas"], 3);
  EXPECT_EQ(changed.Json()["metadata"]["generation"], 2);
  EXPECT_EQ(changed.Json()["spec"]["template"]["spec"]["containers"].size(), 2u);
}

TEST_F(ApiServerApplyTest, ApplyConflictNamesManagerAndField) {
  const std::string query = "?fieldManager=kubectl&fieldValidation=Strict&force=false";
  ASSERT_EQ(Apply(kDeployment + query, ReadTestdata("deployment.ssa-22.req.json")).code, 201);
  ASSERT_EQ(Apply(kDeployment + query, ReadTestdata("deployment.ssa-23.req.json")).code, 200);
  HttpResult r = Apply(std::string(kDeployment) + "?fieldManager=other-manager&force=false",
                       ReadTestdata("deployment.ssa-24.req.json"));
  EXPECT_EQ(r.code, 409);
  EXPECT_EQ(r.Json(), ReadJson("deployment.ssa-24.resp.json"));
  EXPECT_EQ(Get(kDeployment).Json()["spec"]["replicas"], 3);
}

TEST_F(ApiServerApplyTest, ForcedApplyTakesOwnership) {
  const std::string query = "?fieldManager=kubectl&fieldValidation=Strict&force=false";
  ASSERT_EQ(Apply(kDeployment + query, ReadTestdata("deployment.ssa-22.req.json")).code, 201);
  ASSERT_EQ(Apply(kDeployment + query, ReadTestdata("deployment.ssa-23.req.json")).code, 200);
  HttpResult r = Apply(std::string(kDeployment) + "?fieldManager=other-manager&force=true",
                       ReadTestdata("deployment.ssa-25.req.json"));
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Ownership(r.Json()), Ownership(ReadJson("deployment.ssa-25.resp.json")));
  EXPECT_EQ(r.Json()["spec"]["replicas"], 5);
}

TEST_F(ApiServerApplyTest, ApplyRemovesFieldsTheManagerNoLongerApplies) {
  const std::string path = std::string(kConfigMap) + "?fieldManager=a";
  const std::string head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-yaml\n";
  ASSERT_EQ(Apply(path, head + "data:\n  keep: '1'\n  drop: '2'\n").code, 201);
  HttpResult r = Apply(path, head + "data:\n  keep: '1'\n");
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.Json()["data"], (json{{"keep", "1"}}));
}

TEST_F(ApiServerApplyTest, ApplyKeepsFieldAnotherManagerStillOwns) {
  const std::string head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-yaml\n";
  const std::string both = head + "data:\n  shared: same\n";
  ASSERT_EQ(Apply(std::string(kConfigMap) + "?fieldManager=a", both).code, 201);
  // Applying the same value co-owns the field without a conflict.
  ASSERT_EQ(Apply(std::string(kConfigMap) + "?fieldManager=b", both).code, 200);
  HttpResult r = Apply(std::string(kConfigMap) + "?fieldManager=a", head + "data:\n  own: x\n");
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.Json()["data"], (json{{"own", "x"}, {"shared", "same"}}));
}

TEST_F(ApiServerApplyTest, CustomResourceApplyUsesTheCrdListTypes) {
  CreateWidgetCrd();
  const std::string path = "/apis/wire.example.com/v1/namespaces/wire-demo/widgets/widget-ssa";
  HttpResult first = Apply(path + "?fieldManager=team-a", ReadTestdata("widget.apply-1.req.yaml"));
  ASSERT_EQ(first.code, 201) << first.body;
  EXPECT_EQ(Ownership(first.Json()), Ownership(ReadJson("widget.apply-1.resp.json")));

  HttpResult conflict =
      Apply(path + "?fieldManager=team-b", ReadTestdata("widget.apply-2.req.yaml"));
  EXPECT_EQ(conflict.code, 409);
  EXPECT_EQ(conflict.Json(), ReadJson("widget.apply-2-conflict.resp.json"));

  HttpResult forced =
      Apply(path + "?fieldManager=team-b&force=true", ReadTestdata("widget.apply-2.req.yaml"));
  ASSERT_EQ(forced.code, 200) << forced.body;
  json want = ReadJson("widget.apply-3-force.resp.json");
  EXPECT_EQ(Ownership(forced.Json()), Ownership(want));
  // The set merges; the list map merges item by item.
  EXPECT_EQ(forced.Json()["spec"]["tags"], want["spec"]["tags"]);
  EXPECT_EQ(forced.Json()["spec"]["ports"][0]["containerPort"], 9090);
  EXPECT_EQ(forced.Json()["spec"]["ports"].size(), 2u);
}

TEST_F(ApiServerApplyTest, UpdatesRecordTheirFieldManager) {
  HttpResult created = client().Request(
      "POST", "/api/v1/namespaces/kubectl-ns/configmaps?fieldManager=kubectl-create",
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"demo-config"},)"
      R"("data":{"key1":"value1","key2":"value2"}})",
      {"Content-Type: application/json"});
  ASSERT_EQ(created.code, 201) << created.body;
  HttpResult labeled =
      Patch("/api/v1/namespaces/kubectl-ns/configmaps/demo-config?fieldManager=kubectl-label",
            ReadTestdata("configmap.label.req.json"));
  ASSERT_EQ(labeled.code, 200) << labeled.body;
  EXPECT_EQ(Ownership(labeled.Json()), Ownership(ReadJson("configmap.label.resp.json")));
}

TEST_F(ApiServerApplyTest, UpdateWithoutFieldManagerIsOwnedByTheUserAgent) {
  HttpResult r = client().Request(
      "POST", "/api/v1/namespaces/wire-demo/configmaps",
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ua"},"data":{"k":"v"}})",
      {"Content-Type: application/json", "User-Agent: my-controller/v1.2 (linux/amd64)"});
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_EQ(r.Json()["metadata"]["managedFields"][0]["manager"], "my-controller");
  EXPECT_EQ(r.Json()["metadata"]["managedFields"][0]["operation"], "Update");
}

TEST_F(ApiServerApplyTest, UpdateTakesFieldsFromTheApplier) {
  const std::string head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-yaml\n";
  ASSERT_EQ(Apply(std::string(kConfigMap) + "?fieldManager=a", head + "data:\n  k: one\n").code,
            201);
  HttpResult edited =
      Patch(std::string(kConfigMap) + "?fieldManager=editor", R"({"data":{"k":"two"}})");
  ASSERT_EQ(edited.code, 200) << edited.body;
  // The editor owns the field now: the applier's next apply of its old value conflicts with it.
  HttpResult r = Apply(std::string(kConfigMap) + "?fieldManager=a", head + "data:\n  k: one\n");
  EXPECT_EQ(r.code, 409);
  EXPECT_EQ(r.Json()["message"],
            "Apply failed with 1 conflict: conflict with \"editor\" using v1: .data.k");
}

TEST_F(ApiServerApplyTest, ApplyToStatusOwnsOnlyStatusFields) {
  const std::string query = "?fieldManager=kubectl";
  ASSERT_EQ(Apply(kDeployment + query, ReadTestdata("deployment.ssa-22.req.json")).code, 201);
  HttpResult r = Apply(std::string(kDeployment) + "/status?fieldManager=ctrl&force=true",
                       R"({"apiVersion":"apps/v1","kind":"Deployment",)"
                       R"("metadata":{"name":"ssa-web"},"status":{"replicas":2}})");
  ASSERT_EQ(r.code, 200) << r.body;
  json got = r.Json();
  EXPECT_EQ(got["status"]["replicas"], 2);
  EXPECT_EQ(got["spec"]["replicas"], 2);
  json entries = got["metadata"]["managedFields"];
  ASSERT_EQ(entries.size(), 2u) << entries.dump();
  EXPECT_EQ(entries[1]["manager"], "ctrl");
  EXPECT_EQ(entries[1]["operation"], "Apply");
  EXPECT_EQ(entries[1]["subresource"], "status");
  EXPECT_EQ(entries[1]["fieldsV1"], (json{{"f:status", {{"f:replicas", json::object()}}}}));
}

TEST_F(ApiServerApplyTest, ApplyToAnotherNameIsBadRequest) {
  HttpResult r = Apply(std::string(kConfigMap) + "?fieldManager=a",
                       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n");
  EXPECT_EQ(r.code, 400) << r.body;
  EXPECT_EQ(Get(kConfigMap).code, 404);
}

TEST_F(ApiServerApplyTest, ApplyBodyThatIsNotYamlIsBadRequest) {
  HttpResult r = Apply(std::string(kConfigMap) + "?fieldManager=a", "{not: [yaml");
  EXPECT_EQ(r.code, 400) << r.body;
}

// --- OpenAPI v3 ---------------------------------------------------------------------------------

TEST_F(ApiServerApplyTest, OpenApiIndexCarriesTheRealDocumentHashes) {
  HttpResult r = Get("/openapi/v3");
  ASSERT_EQ(r.code, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  json ours = r.Json()["paths"];
  json real = ReadJson("openapi-v3-index.json")["paths"];
  for (const char* p : {"api/v1", "apis/apps/v1", "apis/batch/v1", "version"}) {
    SCOPED_TRACE(p);
    EXPECT_EQ(ours[p]["serverRelativeURL"], real[p]["serverRelativeURL"]);
  }
}

TEST_F(ApiServerApplyTest, OpenApiDocumentAtItsHashIsImmutable) {
  std::string url = Get("/openapi/v3").Json()["paths"]["apis/apps/v1"]["serverRelativeURL"];
  HttpResult r = Get(url);
  ASSERT_EQ(r.code, 200);
  EXPECT_EQ(r.headers["cache-control"], "public, immutable");
  EXPECT_EQ(r.headers["etag"], "\"" + url.substr(url.find("hash=") + 5) + "\"");
  json doc = r.Json();
  EXPECT_TRUE(doc["components"]["schemas"].contains("io.k8s.api.apps.v1.Deployment"));

  HttpResult stale = Get("/openapi/v3/apis/apps/v1?hash=0123");
  EXPECT_EQ(stale.code, 301);
  EXPECT_EQ(stale.headers["location"], url);
  EXPECT_EQ(Get("/openapi/v3/apis/no.such.group/v1").code, 404);
}

TEST_F(ApiServerApplyTest, OpenApiDocumentOfCustomResourcesHasTheirSchema) {
  CreateWidgetCrd();
  HttpResult r = Get("/openapi/v3/apis/wire.example.com/v1");
  ASSERT_EQ(r.code, 200) << r.body;
  json widget = r.Json()["components"]["schemas"]["com.example.wire.v1.Widget"];
  EXPECT_EQ(widget["properties"]["spec"]["properties"]["ports"]["x-kubernetes-list-type"], "map");
  EXPECT_EQ(widget["x-kubernetes-group-version-kind"][0]["kind"], "Widget");
  EXPECT_TRUE(r.Json()["components"]["schemas"].contains(
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
}

// --- field validation ----------------------------------------------------------------------------

constexpr char kUnknownFields[] =
    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"strict","bogus":"x"},)"
    R"("data":{"k":"v"},"extra":true})";

TEST_F(ApiServerApplyTest, StrictFieldValidationRefusesUnknownFields) {
  HttpResult r =
      client().Request("POST", "/api/v1/namespaces/wire-demo/configmaps?fieldValidation=Strict",
                       kUnknownFields, {"Content-Type: application/json"});
  EXPECT_EQ(r.code, 400);
  EXPECT_EQ(r.Json(), ReadJson("create.400-unknown-field-strict.json"));
  EXPECT_EQ(Get("/api/v1/namespaces/wire-demo/configmaps/strict").code, 404);
}

TEST_F(ApiServerApplyTest, WarnFieldValidationStoresAndWarns) {
  HttpResult r = client().Request(
      "POST", "/api/v1/namespaces/wire-demo/configmaps?fieldValidation=Warn",
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"warned"},"extra":true})",
      {"Content-Type: application/json"});
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_EQ(r.headers["warning"], R"(299 - "unknown field \"extra\"")");
  // Ignore, and a body the schema fully declares, warn about nothing.
  HttpResult ignored = client().Request(
      "POST", "/api/v1/namespaces/wire-demo/configmaps?fieldValidation=Ignore",
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ignored"},"extra":true})",
      {"Content-Type: application/json"});
  ASSERT_EQ(ignored.code, 201) << ignored.body;
  EXPECT_FALSE(ignored.headers.contains("warning"));
}

TEST_F(ApiServerApplyTest, StrictFieldValidationNamesNestedListItems) {
  json d = ReadJson("deployment.ssa-22.req.json");
  d["spec"]["template"]["spec"]["containers"][0]["foo"] = 1;
  HttpResult r = client().Request(
      "POST", "/apis/apps/v1/namespaces/kubectl-ns/deployments?fieldValidation=Strict", d.dump(),
      {"Content-Type: application/json"});
  EXPECT_EQ(r.code, 400);
  EXPECT_EQ(r.Json()["message"],
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding "
            "error: unknown field \"spec.template.spec.containers[0].foo\"");
}

TEST_F(ApiServerApplyTest, StrictFieldValidationOfCustomResourcesFollowsTheCrdSchema) {
  CreateWidgetCrd();
  const std::string path = "/apis/wire.example.com/v1/namespaces/wire-demo/widgets";
  HttpResult bad = client().Request(
      "POST", path + "?fieldValidation=Strict",
      R"({"apiVersion":"wire.example.com/v1","kind":"Widget","metadata":{"name":"w"},)"
      R"("spec":{"size":"small","bogus":1}})",
      {"Content-Type: application/json"});
  EXPECT_EQ(bad.code, 400);
  EXPECT_EQ(bad.Json()["message"],
            "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: "
            "unknown field \"spec.bogus\"");
  // `spec.config` keeps unknown fields (x-kubernetes-preserve-unknown-fields).
  HttpResult good = client().Request(
      "POST", path + "?fieldValidation=Strict",
      R"({"apiVersion":"wire.example.com/v1","kind":"Widget","metadata":{"name":"w"},)"
      R"("spec":{"size":"small","config":{"anything":{"goes":1}}}})",
      {"Content-Type: application/json"});
  EXPECT_EQ(good.code, 201) << good.body;
}

}  // namespace
}  // namespace kube::testing

// The embedded server speaking Kubernetes protobuf: request bodies transcoded at the door,
// answers in protobuf when the Accept header prefers it (objects, lists, Status errors, watch
// frames, discovery), JSON or 406 for custom resources and Tables. Bodies are built and checked
// with the transcoder (kube/proto/protobuf.h); recorded kube-apiserver v1.32 bodies in
// testdata/protobuf are compared byte for byte where the same object is involved.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kube/object.h"
#include "kube/proto/protobuf.h"
#include "server/content_type.h"
#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kProtobuf[] = "application/vnd.kubernetes.protobuf";
constexpr char kClientGoAccept[] = "application/vnd.kubernetes.protobuf, application/json";

std::string ReadTestdata(const std::string& name) {
  std::ifstream f(std::string(KUBE_SERVER_TESTDATA) + "/protobuf/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json Decode(const std::string& body) {
  Result<std::string> j = ProtobufToJson(body);
  EXPECT_TRUE(j.has_value()) << (j ? "" : j.error().message());
  return j ? json::parse(*j) : json();
}

std::string Encode(const json& j) {
  Result<std::string> pb = JsonToProtobuf(j.dump());
  EXPECT_TRUE(pb.has_value()) << (pb ? "" : pb.error().message());
  return pb ? *pb : std::string();
}

std::string ContentType(const HttpResult& r) {
  auto it = r.headers.find("content-type");
  return it == r.headers.end() ? "" : it->second;
}

// A protobuf watch stream's events, as {type, object} JSON.
std::vector<json> DecodeWatch(const std::string& body) {
  ProtobufWatchDecoder decoder;
  std::vector<ProtobufWatchEvent> events;
  Status st = decoder.Feed(body, &events);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(decoder.Finish().ok());
  std::vector<json> out;
  for (const auto& e : events)
    out.push_back({{"type", e.type}, {"object", json::parse(e.object_json)}});
  return out;
}

class ApiServerProtobufTest : public ApiServerFixture {
 protected:
  HttpResult Send(const std::string& method, const std::string& path, const std::string& body,
                  const std::string& content_type, const std::string& accept) const {
    std::vector<std::string> headers;
    if (!content_type.empty()) headers.push_back("Content-Type: " + content_type);
    if (!accept.empty()) headers.push_back("Accept: " + accept);
    return client().Request(method, path, body, headers);
  }
  HttpResult PostPb(const std::string& path, const std::string& body) const {
    return Send("POST", path, body, kProtobuf,
                "application/vnd.kubernetes.protobuf,application/json");
  }
};

// What kubectl 1.32's generators sent (recorded), and where.
struct KubectlCreate {
  const char* file;
  const char* path;
};

constexpr KubectlCreate kKubectlCreates[] = {
    {"kubectl-create-namespace.req.pb", "/api/v1/namespaces"},
    {"kubectl-create-configmap.req.pb", "/api/v1/namespaces/kubectl-ns/configmaps"},
    {"kubectl-create-secret-generic.req.pb", "/api/v1/namespaces/kubectl-ns/secrets"},
    {"kubectl-create-serviceaccount.req.pb", "/api/v1/namespaces/kubectl-ns/serviceaccounts"},
    {"kubectl-create-deployment.req.pb", "/apis/apps/v1/namespaces/kubectl-ns/deployments"},
    {"kubectl-create-job.req.pb", "/apis/batch/v1/namespaces/kubectl-ns/jobs"},
    {"kubectl-create-cronjob.req.pb", "/apis/batch/v1/namespaces/kubectl-ns/cronjobs"},
    {"kubectl-create-service-clusterip.req.pb", "/api/v1/namespaces/kubectl-ns/services"},
    {"kubectl-create-role.req.pb",
     "/apis/rbac.authorization.k8s.io/v1/namespaces/kubectl-ns/roles"},
    {"kubectl-create-rolebinding.req.pb",
     "/apis/rbac.authorization.k8s.io/v1/namespaces/kubectl-ns/rolebindings"},
    {"kubectl-create-priorityclass.req.pb", "/apis/scheduling.k8s.io/v1/priorityclasses"},
    {"kubectl-create-poddisruptionbudget.req.pb",
     "/apis/policy/v1/namespaces/kubectl-ns/poddisruptionbudgets"},
    {"kubectl-create-ingress.req.pb", "/apis/networking.k8s.io/v1/namespaces/kubectl-ns/ingresses"},
    {"kubectl-create-quota.req.pb", "/api/v1/namespaces/kubectl-ns/resourcequotas"},
};

TEST_F(ApiServerProtobufTest, KubectlGeneratorProtobufBodiesCreateObjects) {
  for (const KubectlCreate& c : kKubectlCreates) {
    SCOPED_TRACE(c.file);
    std::string body = ReadTestdata(c.file);
    json sent = Decode(body);
    HttpResult r =
        PostPb(std::string(c.path) + "?fieldManager=kubectl-create&fieldValidation=Strict", body);
    ASSERT_EQ(r.code, 201) << r.body;
    EXPECT_EQ(ContentType(r), kProtobuf);
    json created = Decode(r.body);
    EXPECT_EQ(created["kind"], sent["kind"]);
    EXPECT_EQ(created["metadata"]["name"], sent["metadata"]["name"]);
    EXPECT_FALSE(created["metadata"]["uid"].get<std::string>().empty());
    // Stored as JSON: a plain JSON GET sees the same object.
    std::string name = sent["metadata"]["name"];
    std::string get_path = std::string(c.path) + "/" + name;
    if (sent["kind"] == "Namespace") get_path = "/api/v1/namespaces/" + name;
    HttpResult g = Get(get_path, "application/json");
    ASSERT_EQ(g.code, 200) << g.body;
    EXPECT_EQ(ContentType(g), "application/json");
    json stored = g.Json();
    EXPECT_EQ(stored["metadata"]["uid"], created["metadata"]["uid"]);
    for (const char* field : {"data", "rules", "subjects", "roleRef", "value"}) {
      if (sent.contains(field)) {
        EXPECT_EQ(stored[field], sent[field]) << field;
      }
    }
    if (sent["kind"] == "Deployment") {
      EXPECT_EQ(stored["spec"]["replicas"], sent["spec"]["replicas"]);
      EXPECT_EQ(stored["spec"]["template"]["spec"]["containers"][0]["image"],
                sent["spec"]["template"]["spec"]["containers"][0]["image"]);
    }
  }
}

TEST_F(ApiServerProtobufTest, ProtobufAcceptGetsTheStoredObjectEncoded) {
  MustCreate(ConfigMapJson("default", "cm1", {{"app", "web"}}, "hello"));
  HttpResult js = Get("/api/v1/namespaces/default/configmaps/cm1", "application/json");
  ASSERT_EQ(js.code, 200);
  for (const char* accept : {kProtobuf, kClientGoAccept,
                             "application/json;q=0.5, application/vnd.kubernetes.protobuf"}) {
    SCOPED_TRACE(accept);
    HttpResult pb = Get("/api/v1/namespaces/default/configmaps/cm1", accept);
    ASSERT_EQ(pb.code, 200);
    EXPECT_EQ(ContentType(pb), kProtobuf);
    EXPECT_EQ(pb.body, *JsonToProtobuf(js.body));
  }
  // JSON first, or no protobuf at all: JSON.
  for (const char* accept : {"application/json, application/vnd.kubernetes.protobuf", "*/*", ""}) {
    HttpResult r = Get("/api/v1/namespaces/default/configmaps/cm1", accept);
    EXPECT_EQ(ContentType(r), "application/json") << accept;
    EXPECT_EQ(r.body, js.body);
  }
}

TEST_F(ApiServerProtobufTest, ProtobufListsPageSelectAndIgnoreLimitAtResourceVersionZero) {
  for (int i = 0; i < 3; ++i) {
    MustCreate(ConfigMapJson("default", "cm" + std::to_string(i), {{"n", std::to_string(i)}}));
  }
  HttpResult page1 = Get("/api/v1/namespaces/default/configmaps?limit=2", kClientGoAccept);
  ASSERT_EQ(page1.code, 200);
  EXPECT_EQ(ContentType(page1), kProtobuf);
  json l1 = Decode(page1.body);
  EXPECT_EQ(l1["kind"], "ConfigMapList");
  ASSERT_EQ(l1["items"].size(), 2u);
  EXPECT_EQ(l1["items"][0]["metadata"]["name"], "cm0");
  EXPECT_EQ(l1["metadata"]["remainingItemCount"], 1);
  std::string cont = l1["metadata"]["continue"];
  json l2 =
      Decode(Get("/api/v1/namespaces/default/configmaps?limit=2&continue=" + cont, kProtobuf).body);
  ASSERT_EQ(l2["items"].size(), 1u);
  EXPECT_EQ(l2["items"][0]["metadata"]["name"], "cm2");
  EXPECT_FALSE(l2["metadata"].contains("continue"));
  json all = Decode(
      Get("/api/v1/namespaces/default/configmaps?resourceVersion=0&limit=2", kProtobuf).body);
  EXPECT_EQ(all["items"].size(), 3u);
  json sel =
      Decode(Get("/api/v1/namespaces/default/configmaps?labelSelector=n%3D1", kProtobuf).body);
  ASSERT_EQ(sel["items"].size(), 1u);
  EXPECT_EQ(sel["items"][0]["metadata"]["name"], "cm1");
  // The same list in JSON holds the same objects.
  json js = Get("/api/v1/namespaces/default/configmaps", "application/json").Json();
  json pb = Decode(Get("/api/v1/namespaces/default/configmaps", kProtobuf).body);
  ASSERT_EQ(js["items"].size(), pb["items"].size());
  for (size_t i = 0; i < js["items"].size(); ++i) {
    json item = js["items"][i];
    item.erase("kind");
    item.erase("apiVersion");
    EXPECT_EQ(item, pb["items"][i]);
  }
  // An empty list.
  json none = Decode(Get("/api/v1/namespaces/default/secrets", kProtobuf).body);
  EXPECT_EQ(none["kind"], "SecretList");
  EXPECT_EQ(none["items"], json::array());
}

// A protobuf list is written item by item from the stored objects' cached messages (several
// threads encode the first time; the body goes out in slices): byte for byte the transcoding of
// the same JSON list, whole, paged, at resourceVersion=0, the first time and from the cache.
TEST_F(ApiServerProtobufTest, StreamedProtobufListEqualsTheTranscodedJsonList) {
  // More objects than one thread encodes alone, and more buffers than one slice writes.
  constexpr int kObjects = 700;
  for (int i = 0; i < kObjects; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "cm%04d", i);
    ASSERT_TRUE(server()
                    .Create(ConfigMapJson("default", name, {{"n", std::to_string(i % 7)}},
                                          std::string(static_cast<size_t>(i % 50), 'v')))
                    .has_value());
  }
  const std::string path = "/api/v1/namespaces/default/configmaps";
  for (const std::string query : {"", "", "?resourceVersion=0&limit=5", "?labelSelector=n%3D3"}) {
    SCOPED_TRACE(query);
    HttpResult pb = Get(path + query, kClientGoAccept);
    HttpResult js = Get(path + query, "application/json");
    ASSERT_EQ(pb.code, 200);
    ASSERT_EQ(js.code, 200);
    EXPECT_EQ(ContentType(pb), kProtobuf);
    EXPECT_EQ(pb.body, *JsonToProtobuf(js.body));
  }
  // Pages: each the transcoding of the JSON page at the same continue token.
  std::string cont;
  int pages = 0;
  do {
    std::string q = path + "?limit=300" + (cont.empty() ? "" : "&continue=" + cont);
    HttpResult pb = Get(q, kProtobuf);
    HttpResult js = Get(q, "application/json");
    ASSERT_EQ(pb.code, 200);
    ASSERT_EQ(js.code, 200);
    EXPECT_EQ(pb.body, *JsonToProtobuf(js.body));
    json meta = js.Json()["metadata"];
    cont = meta.value("continue", "");
    ++pages;
  } while (!cont.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
}

// Encodings past the cache's budget go in part, not all at once: a collection whose encodings
// pass the budget keeps most of them cached between lists, and its lists stay the same bytes.
TEST_F(ApiServerProtobufTest, ProtobufCacheOverItsBudgetKeepsPartOfTheEncodings) {
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(
        server()
            .Create(ConfigMapJson("default", "cm" + std::to_string(i), {}, std::string(1000, 'v')))
            .has_value());
  }
  constexpr size_t kBudget = 200 * 1024;  // about two thirds of the collection's encodings
  server::SetProtobufCacheBudget(kBudget);
  HttpResult first = Get("/api/v1/namespaces/default/configmaps", kProtobuf);
  const size_t kept = server::ProtobufCacheBytes();
  HttpResult second = Get("/api/v1/namespaces/default/configmaps", kProtobuf);
  server::SetProtobufCacheBudget(0);
  ASSERT_EQ(first.code, 200);
  EXPECT_GT(first.body.size(), kBudget);
  EXPECT_EQ(second.body, first.body);
  EXPECT_GT(kept, kBudget / 2);
  EXPECT_LE(kept, kBudget);
}

// The list assembly (stored items' messages appended to the list's ListMeta) gives the server's
// exact bytes for recorded lists.
TEST(ProtobufListEncodingTest, ListFromStoredItemsMatchesRecordedBytes) {
  for (const char* file : {"configmaps.pb", "configmaps.limit2.pb", "pods.pb"}) {
    SCOPED_TRACE(file);
    std::string recorded = ReadTestdata(file);
    json list = Decode(recorded);
    server::HttpResponse r;
    json head = list;
    head.erase("items");
    std::string head_text = head.dump();
    r.body = head_text.substr(0, head_text.size() - 1) + R"(,"items":[)";
    r.body_suffix = "]}";
    std::string item_kind = list["kind"].get<std::string>();
    item_kind.resize(item_kind.size() - 4);  // "...List"
    for (json item : list["items"]) {
      item["kind"] = item_kind;
      item["apiVersion"] = list["apiVersion"];
      Result<ObjectPtr> obj = Object::Parse(item.dump());
      ASSERT_TRUE(obj.has_value());
      r.items.push_back(*obj);
    }
    server::ContentNegotiation n;
    n.protobuf = true;
    server::RouteResult result = r;
    server::EncodeAnswer(n, &result);
    const auto& out = std::get<server::HttpResponse>(result);
    EXPECT_EQ(out.content_type, kProtobuf);
    EXPECT_TRUE(out.items.empty());
    EXPECT_EQ(out.encoded_items.size(), list["items"].size());
    EXPECT_EQ(out.body_size(), recorded.size());
    EXPECT_EQ(out.FlatBody(), recorded);
  }
}

// Watch frames built from stored objects (their cached encodings) are the server's exact bytes
// for a recorded stream: ADDED, MODIFIED, DELETED and BOOKMARK events.
TEST(ProtobufWatchFrameTest, FramesFromStoredObjectsMatchRecordedStream) {
  std::string recorded = ReadTestdata("watch-configmaps.pb");
  ProtobufWatchDecoder decoder;
  std::vector<ProtobufWatchEvent> events;
  ASSERT_TRUE(decoder.Feed(recorded, &events).ok());
  ASSERT_GE(events.size(), 4u);
  std::string frames;
  for (const ProtobufWatchEvent& e : events) {
    Result<ObjectPtr> obj = Object::Parse(e.object_json);
    ASSERT_TRUE(obj.has_value()) << e.object_json;
    server::AppendWatchFrame(e.type, *obj, &frames);
    server::AppendWatchFrame(e.type, *obj, &frames);  // the second from the cache
  }
  std::string doubled;
  size_t pos = 0;
  while (pos < recorded.size()) {  // each recorded frame twice
    uint32_t n = (uint32_t{static_cast<uint8_t>(recorded[pos])} << 24) |
                 (uint32_t{static_cast<uint8_t>(recorded[pos + 1])} << 16) |
                 (uint32_t{static_cast<uint8_t>(recorded[pos + 2])} << 8) |
                 uint32_t{static_cast<uint8_t>(recorded[pos + 3])};
    doubled += recorded.substr(pos, 4 + n);
    doubled += recorded.substr(pos, 4 + n);
    pos += 4 + n;
  }
  EXPECT_EQ(frames, doubled);
}

TEST_F(ApiServerProtobufTest, StatusErrorsInProtobufMatchRecordedBytes) {
  MustCreate(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"wire-demo"}})");
  HttpResult r = Get("/api/v1/namespaces/wire-demo/configmaps/does-not-exist", kProtobuf);
  EXPECT_EQ(r.code, 404);
  EXPECT_EQ(ContentType(r), kProtobuf);
  EXPECT_EQ(r.body, ReadTestdata("get.404.pb"));
  // A bad label selector: 400, a protobuf Status.
  HttpResult bad =
      Get("/api/v1/namespaces/wire-demo/pods?labelSelector=app%20in%20%28web", kProtobuf);
  EXPECT_EQ(bad.code, 400);
  json s = Decode(bad.body);
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["reason"], "BadRequest");
  EXPECT_EQ(s["code"], 400);
}

TEST_F(ApiServerProtobufTest, DeleteWithProtobufDeleteOptionsAnswersRecordedStatus) {
  MustCreate(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"wire-demo"}})");
  json cm = MustCreate(ConfigMapJson("wire-demo", "pb-created"));
  HttpResult r = Send("DELETE", "/api/v1/namespaces/wire-demo/configmaps/pb-created",
                      ReadTestdata("delete-options.req.pb"), kProtobuf, kProtobuf);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(ContentType(r), kProtobuf);
  // The recorded answer with this object's uid.
  json expected = Decode(ReadTestdata("delete.resp.pb"));
  expected["details"]["uid"] = cm["metadata"]["uid"];
  EXPECT_EQ(r.body, Encode(expected));
  EXPECT_EQ(Get("/api/v1/namespaces/wire-demo/configmaps/pb-created").code, 404);
}

TEST_F(ApiServerProtobufTest, UpdateStatusAndScaleTakeProtobufBodies) {
  MustCreate(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
    "spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
  const std::string path = "/apis/apps/v1/namespaces/default/deployments/web";
  json d = Get(path).Json();
  d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27";
  HttpResult put = Send("PUT", path, Encode(d), kProtobuf, kClientGoAccept);
  ASSERT_EQ(put.code, 200) << put.body;
  json updated = Decode(put.body);
  EXPECT_EQ(updated["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");

  updated["status"] = {{"replicas", 1}, {"readyReplicas", 1}};
  HttpResult status = Send("PUT", path + "/status", Encode(updated), kProtobuf, kProtobuf);
  ASSERT_EQ(status.code, 200) << status.body;
  EXPECT_EQ(Decode(status.body)["status"]["readyReplicas"], 1);

  HttpResult scale = Get(path + "/scale", kProtobuf);
  ASSERT_EQ(scale.code, 200);
  EXPECT_EQ(ContentType(scale), kProtobuf);
  json s = Decode(scale.body);
  EXPECT_EQ(s["kind"], "Scale");
  s["spec"]["replicas"] = 4;
  HttpResult rescale = Send("PUT", path + "/scale", Encode(s), kProtobuf, kProtobuf);
  ASSERT_EQ(rescale.code, 200) << rescale.body;
  EXPECT_EQ(Decode(rescale.body)["spec"]["replicas"], 4);
  EXPECT_EQ(Get(path).Json()["spec"]["replicas"], 4);
}

TEST_F(ApiServerProtobufTest, UnsupportedBodyTypeIsRecordedUnsupportedMediaTypeStatus) {
  MustCreate(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"wire-demo"}})");
  HttpResult r =
      Send("POST", "/api/v1/namespaces/wire-demo/configmaps", "hello", "text/plain", kProtobuf);
  EXPECT_EQ(r.code, 415);
  EXPECT_EQ(ContentType(r), kProtobuf);
  EXPECT_EQ(r.body, ReadTestdata("create.415.pb"));
}

// A server with bearer tokens: a refused token with a protobuf Accept gets the 401 in protobuf.
class ApiServerProtobufAuthTest : public ApiServerProtobufTest {
 protected:
  void SetUp() override {
    std::ofstream(TokenFile()) << "s3cr3t,bob,1001\n";
    ApiServerProtobufTest::SetUp();
  }
  ApiServerOptions Options() const override {
    ApiServerOptions o = ApiServerFixture::Options();
    o.token_auth_file = TokenFile();
    return o;
  }
  static std::string TokenFile() { return ::testing::TempDir() + "server_protobuf_tokens.csv"; }
};

TEST_F(ApiServerProtobufAuthTest, UnauthorizedInProtobufMatchesRecordedBytes) {
  HttpResult r = client().Request(
      "GET", "/api/v1/namespaces/wire-demo/configmaps/app-config", "",
      {"Accept: application/vnd.kubernetes.protobuf", "Authorization: Bearer not-a-token"});
  EXPECT_EQ(r.code, 401);
  EXPECT_EQ(ContentType(r), kProtobuf);
  EXPECT_EQ(r.body, ReadTestdata("get.401.pb"));
  HttpResult js = client().Request("GET", "/api/v1/namespaces", "",
                                   {"Accept: application/json", "Authorization: Bearer no"});
  EXPECT_EQ(js.code, 401);
  EXPECT_EQ(js.Json()["reason"], "Unauthorized");
}

TEST_F(ApiServerProtobufTest, UndecodableProtobufBodyIsBadRequest) {
  std::string body = std::string(kProtobufMagic) + "\x0a\xff";
  HttpResult r =
      Send("POST", "/api/v1/namespaces/default/configmaps", body, kProtobuf, "application/json");
  EXPECT_EQ(r.code, 400);
  json s = r.Json();
  EXPECT_EQ(s["reason"], "BadRequest");
  EXPECT_THAT(s["message"].get<std::string>(), HasSubstr("protobuf"));
  // The same in protobuf when asked for.
  HttpResult pb = Send("POST", "/api/v1/namespaces/default/configmaps", body, kProtobuf, kProtobuf);
  EXPECT_EQ(pb.code, 400);
  EXPECT_EQ(Decode(pb.body)["reason"], "BadRequest");
  EXPECT_EQ(Get("/api/v1/namespaces/default/configmaps", "application/json").Json()["items"].size(),
            0u);
}

class ApiServerProtobufCrdTest : public ApiServerProtobufTest {
 protected:
  void SetUp() override {
    ApiServerProtobufTest::SetUp();
    MustCreate(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"wire-demo"}})");
    MustCreate(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{"name":"widgets.wire.example.com"},
      "spec":{"group":"wire.example.com","scope":"Namespaced",
        "names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
        "versions":[{"name":"v1","served":true,"storage":true,
          "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})");
    ASSERT_TRUE(WaitFor([&] { return Get(kWidgets).code == 200; }));
    MustCreate(R"({"apiVersion":"wire.example.com/v1","kind":"Widget",
      "metadata":{"name":"widget-a","namespace":"wire-demo"},"spec":{"size":1}})");
  }
  static constexpr char kWidgets[] = "/apis/wire.example.com/v1/namespaces/wire-demo/widgets";
};

TEST_F(ApiServerProtobufCrdTest, CustomResourcesAnswerJsonOrNotAcceptableInProtobuf) {
  const std::string one = std::string(kWidgets) + "/widget-a";
  HttpResult json_fallback = Get(one, kClientGoAccept);
  ASSERT_EQ(json_fallback.code, 200);
  EXPECT_EQ(ContentType(json_fallback), "application/json");
  EXPECT_EQ(json_fallback.Json()["kind"], "Widget");
  for (const std::string& path :
       {one, std::string(kWidgets), std::string(kWidgets) + "?watch=true&timeoutSeconds=1"}) {
    SCOPED_TRACE(path);
    HttpResult r = Get(path, kProtobuf);
    EXPECT_EQ(r.code, 406);
    EXPECT_EQ(ContentType(r), kProtobuf);
    EXPECT_EQ(r.body, ReadTestdata("widget.accept-pb.406.pb"));
  }
  // A protobuf body for a custom resource: 415, nothing created.
  HttpResult post =
      Send("POST", kWidgets, std::string(kProtobufMagic), kProtobuf, "application/json");
  EXPECT_EQ(post.code, 415) << post.body;
  // Not created through a protobuf-only Accept either: refused before the write.
  HttpResult create =
      Send("POST", kWidgets,
           R"({"apiVersion":"wire.example.com/v1","kind":"Widget","metadata":{"name":"w2"}})",
           "application/json", kProtobuf);
  EXPECT_EQ(create.code, 406);
  EXPECT_EQ(Get(std::string(kWidgets) + "/w2").code, 404);
}

TEST_F(ApiServerProtobufTest, TableAskedForInProtobufIsNotAcceptableInIndentedJson) {
  HttpResult r = Get("/api/v1/namespaces/default/pods",
                     "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io");
  EXPECT_EQ(r.code, 406);
  EXPECT_EQ(ContentType(r), "application/json");
  EXPECT_EQ(r.body, ReadTestdata("table.accept-pb.406.json"));
  // With JSON Tables also acceptable, the Table comes (in JSON).
  HttpResult t = Get("/api/v1/namespaces/default/pods",
                     "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,"
                     "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  EXPECT_EQ(t.code, 200);
  EXPECT_EQ(t.Json()["kind"], "Table");
}

TEST_F(ApiServerProtobufTest, WatchListStreamsProtobufFramesAndTheInitialEventsEndBookmark) {
  MustCreate(ConfigMapJson("default", "a"));
  MustCreate(ConfigMapJson("default", "b"));
  HttpResult r =
      Get("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&"
          "resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1",
          "application/vnd.kubernetes.protobuf, */*");
  ASSERT_EQ(r.code, 200);
  EXPECT_EQ(ContentType(r), "application/vnd.kubernetes.protobuf;stream=watch");
  std::vector<json> events = DecodeWatch(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "a");
  EXPECT_EQ(events[1]["object"]["metadata"]["name"], "b");
  EXPECT_EQ(events[2]["type"], "BOOKMARK");
  EXPECT_EQ(events[2]["object"]["kind"], "ConfigMap");
  EXPECT_EQ(events[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
}

TEST_F(ApiServerProtobufTest, WatchFromResourceVersionReplaysEventsAsFrames) {
  uint64_t rv = server().ResourceVersion();
  MustCreate(ConfigMapJson("default", "w", {}, "1"));
  ASSERT_EQ(
      Put("/api/v1/namespaces/default/configmaps/w", ConfigMapJson("default", "w", {}, "2")).code,
      200);
  ASSERT_EQ(Delete("/api/v1/namespaces/default/configmaps/w").code, 200);
  HttpResult r =
      Get("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&"
          "resourceVersion=" +
              std::to_string(rv),
          "application/vnd.kubernetes.protobuf;stream=watch");
  ASSERT_EQ(r.code, 200);
  EXPECT_EQ(ContentType(r), "application/vnd.kubernetes.protobuf;stream=watch");
  std::vector<json> events = DecodeWatch(r.body);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[1]["type"], "MODIFIED");
  EXPECT_EQ(events[1]["object"]["data"]["k"], "2");
  EXPECT_EQ(events[2]["type"], "DELETED");
  // Each frame holds the stored object's exact protobuf encoding.
  std::string frame;
  json added = events[0]["object"];
  ASSERT_TRUE(AppendProtobufWatchFrame("ADDED", added.dump(), &frame).ok());
  EXPECT_EQ(r.body.substr(0, frame.size()), frame);
}

TEST_F(ApiServerProtobufTest, WatchFromACompactedResourceVersionIsOneErrorFrame) {
  MustCreate(ConfigMapJson("default", "x"));
  server().CompactHistory();
  HttpResult r =
      Get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1", kProtobuf);
  ASSERT_EQ(r.code, 200);
  EXPECT_EQ(ContentType(r), "application/vnd.kubernetes.protobuf;stream=watch");
  std::vector<json> events = DecodeWatch(r.body);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["kind"], "Status");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
}

TEST_F(ApiServerProtobufTest, DiscoveryDocumentsInProtobuf) {
  struct Doc {
    const char* path;
    const char* kind;
  };
  for (Doc d :
       {Doc{"/api", "APIVersions"}, Doc{"/apis", "APIGroupList"}, Doc{"/api/v1", "APIResourceList"},
        Doc{"/apis/apps/v1", "APIResourceList"}, Doc{"/apis/apps", "APIGroup"}}) {
    SCOPED_TRACE(d.path);
    HttpResult js = Get(d.path, "application/json");
    HttpResult pb = Get(d.path, kProtobuf);
    ASSERT_EQ(pb.code, 200);
    EXPECT_EQ(ContentType(pb), kProtobuf);
    json decoded = Decode(pb.body);
    EXPECT_EQ(decoded["kind"], d.kind);
    json expected = js.Json();
    expected.erase("apiVersion");
    decoded.erase("apiVersion");
    EXPECT_EQ(decoded, expected);
  }
  const char* aggregated =
      "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
  for (const char* path : {"/api", "/apis"}) {
    HttpResult pb = Get(path, std::string(aggregated) + ",application/json");
    ASSERT_EQ(pb.code, 200);
    EXPECT_EQ(ContentType(pb), aggregated);
    EXPECT_EQ(Decode(pb.body)["kind"], "APIGroupDiscoveryList");
  }
}

}  // namespace
}  // namespace kube::testing

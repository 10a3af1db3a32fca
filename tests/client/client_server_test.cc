// The client against the embedded API server: CRUD and typed errors, lists and pages, watches
// (events, 410, cut streams, Stop latency), discovery, and every credential kind over TLS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/client/discovery.h"
#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "kube/server/api_server.h"
#include "tests/client/scripted_server.h"

namespace kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using testing::TestPki;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr auto kStopBound = std::chrono::milliseconds(500);  // sanitizers slow hand-offs
#else
constexpr auto kStopBound = std::chrono::milliseconds(100);
#endif

const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};
const GroupVersionResource kDeployments{"apps", "v1", "deployments"};

std::string ConfigMap(std::string_view name, std::string_view value,
                      std::string_view labels = R"({"app":"web"})") {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + std::string(name) +
         R"(","namespace":"default","labels":)" + std::string(labels) + R"(},"data":{"k":")" +
         std::string(value) + R"("}})";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class ClientServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions o;
    o.bookmark_interval = std::chrono::milliseconds(200);
    Result<std::unique_ptr<EmbeddedApiServer>> s = EmbeddedApiServer::Start(o);
    ASSERT_TRUE(s) << s.error();
    server_ = *std::move(s);
    RestConfig config;
    config.server = server_->Url();
    Result<std::shared_ptr<HttpClient>> c = MakeCurlHttpClient(config);
    ASSERT_TRUE(c) << c.error();
    http_ = *c;
  }
  std::unique_ptr<EmbeddedApiServer> server_;
  std::shared_ptr<HttpClient> http_;
};

TEST_F(ClientServerTest, CrudAndTypedErrors) {
  ResourceClient cms(http_, kConfigMaps, "default");
  Result<ObjectPtr> created = cms.Create(ConfigMap("a", "1"));
  ASSERT_TRUE(created) << created.error();
  EXPECT_FALSE((*created)->uid().empty());
  EXPECT_TRUE(IsAlreadyExists(cms.Create(ConfigMap("a", "1")).error()));

  Result<ObjectPtr> got = cms.Get("a");
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ((*got)->GetString("data.k").value_or(""), "1");
  Result<ObjectPtr> missing = cms.Get("nope");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(IsNotFound(missing.error()));
  EXPECT_EQ(missing.error().http_code(), 404);
  EXPECT_EQ(missing.error().message(), "configmaps \"nope\" not found");

  // Update with the current RV works; with the old one it conflicts.
  std::string v2 =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"default","resourceVersion":")" +
      std::string((*got)->resource_version()) + R"("},"data":{"k":"2"}})";
  Result<ObjectPtr> updated = cms.Update(*Object::Parse(v2).value());
  ASSERT_TRUE(updated) << updated.error();
  Result<ObjectPtr> stale = cms.Update(*Object::Parse(v2).value());
  ASSERT_FALSE(stale);
  EXPECT_TRUE(IsConflict(stale.error()));

  Result<ObjectPtr> merged = cms.Patch("a", PatchType::kMerge, R"({"data":{"m":"x"}})");
  ASSERT_TRUE(merged) << merged.error();
  EXPECT_EQ((*merged)->GetString("data.m").value_or(""), "x");
  Result<ObjectPtr> json_patched =
      cms.Patch("a", PatchType::kJson, R"([{"op":"replace","path":"/data/k","value":"3"}])");
  ASSERT_TRUE(json_patched) << json_patched.error();
  EXPECT_EQ((*json_patched)->GetString("data.k").value_or(""), "3");

  EXPECT_TRUE(cms.Delete("a").ok());
  EXPECT_TRUE(IsNotFound(cms.Get("a").error()));
  EXPECT_TRUE(IsNotFound(cms.Delete("a")));
}

TEST_F(ClientServerTest, ApplyCreatesConflictsAndForces) {
  ResourceClient cms(http_, kConfigMaps, "default");
  Result<ObjectPtr> created = cms.Apply(ConfigMap("a", "1"), {.field_manager = "one"});
  ASSERT_TRUE(created) << created.error();
  EXPECT_EQ((*created)->GetString("data.k").value_or(""), "1");

  // Another manager changing the field conflicts, and changes nothing.
  Result<ObjectPtr> conflict = cms.Apply(ConfigMap("a", "2"), {.field_manager = "two"});
  ASSERT_FALSE(conflict);
  EXPECT_TRUE(IsConflict(conflict.error()));
  EXPECT_EQ(conflict.error().message(),
            "Apply failed with 1 conflict: conflict with \"one\": .data.k");
  EXPECT_EQ(cms.Get("a").value()->GetString("data.k").value_or(""), "1");

  Result<ObjectPtr> forced =
      cms.Apply(ConfigMap("a", "2"), {.field_manager = "two", .force = true});
  ASSERT_TRUE(forced) << forced.error();
  EXPECT_EQ((*forced)->GetString("data.k").value_or(""), "2");

  // Without a manager the client refuses before sending anything.
  Result<ObjectPtr> anonymous = cms.Apply(ConfigMap("a", "3"), {});
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientServerTest, UpdateStatusWritesOnlyStatus) {
  ResourceClient deployments(http_, kDeployments, "default");
  Result<ObjectPtr> d = deployments.Create(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},)"
      R"("spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},)"
      R"("spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
  ASSERT_TRUE(d) << d.error();
  std::string with_status = std::string((*d)->json());
  with_status.pop_back();
  with_status += R"(,"status":{"replicas":1,"readyReplicas":1}})";
  Result<ObjectPtr> s = deployments.UpdateStatus(*Object::Parse(with_status).value());
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ((*s)->GetInt64("status.readyReplicas").value_or(0), 1);
}

TEST_F(ClientServerTest, ListsWithSelectorsAndPages) {
  ResourceClient cms(http_, kConfigMaps, "default");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(cms.Create(
        ConfigMap("c" + std::to_string(i), "v", i % 2 ? R"({"app":"db"})" : R"({"app":"web"})")));
  }
  Result<ObjectList> web = cms.List({.label_selector = "app in (web)"});
  ASSERT_TRUE(web) << web.error();
  EXPECT_THAT(web->items, SizeIs(3));
  Result<ObjectList> by_name = cms.List({.field_selector = "metadata.name=c1"});
  ASSERT_TRUE(by_name) << by_name.error();
  ASSERT_THAT(by_name->items, SizeIs(1));
  EXPECT_EQ(by_name->items[0]->name(), "c1");

  std::vector<std::string> names;
  ListOptions page{.limit = 2};
  for (int i = 0; i < 10; ++i) {
    Result<ObjectList> l = cms.List(page);
    ASSERT_TRUE(l) << l.error();
    for (const ObjectPtr& o : l->items) names.emplace_back(o->name());
    if (l->continue_token.empty()) break;
    page.continue_token = l->continue_token;
  }
  EXPECT_THAT(names, SizeIs(5));

  Result<ObjectList> bad = cms.List({.label_selector = "app in (("});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().http_code(), 400);

  EXPECT_TRUE(cms.DeleteCollection({}, {.label_selector = "app=db"}).ok());
  Result<ObjectList> left = cms.List();
  ASSERT_TRUE(left);
  EXPECT_THAT(left->items, SizeIs(3));
}

TEST_F(ClientServerTest, WatchSeesChangesInOrder) {
  ResourceClient cms(http_, kConfigMaps, "default");
  Result<ObjectList> list = cms.List();
  ASSERT_TRUE(list);
  Result<std::unique_ptr<Watch>> w =
      cms.Watch({.resource_version = list->resource_version, .allow_watch_bookmarks = true});
  ASSERT_TRUE(w) << w.error();
  ASSERT_TRUE(cms.Create(ConfigMap("w", "1")));
  ASSERT_TRUE(cms.Patch("w", PatchType::kMerge, R"({"data":{"k":"2"}})"));
  ASSERT_TRUE(cms.Delete("w").ok());
  std::vector<WatchEventType> types;
  for (int i = 0; i < 100 && types.size() < 3; ++i) {
    WatchEvent e;
    ASSERT_EQ((*w)->NextFor(std::chrono::seconds(10), &e), WatchWait::kEvent);
    if (e.type == WatchEventType::kBookmark) continue;
    EXPECT_EQ(e.object->name(), "w");
    types.push_back(e.type);
  }
  EXPECT_THAT(types, ::testing::ElementsAre(WatchEventType::kAdded, WatchEventType::kModified,
                                            WatchEventType::kDeleted));
}

TEST_F(ClientServerTest, WatchFromACompactedVersionIsGone) {
  ResourceClient cms(http_, kConfigMaps, "default");
  ASSERT_TRUE(cms.Create(ConfigMap("a", "1")));
  Result<ObjectList> list = cms.List();
  ASSERT_TRUE(list);
  ASSERT_TRUE(cms.Create(ConfigMap("b", "1")));
  server_->CompactHistory();
  Result<std::unique_ptr<Watch>> w = cms.Watch({.resource_version = list->resource_version});
  // kube-apiserver answers 200 and one ERROR event; an HTTP 410 is accepted as well.
  if (!w) {
    EXPECT_TRUE(IsGone(w.error())) << w.error();
    return;
  }
  std::optional<WatchEvent> e = (*w)->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, WatchEventType::kError);
  EXPECT_TRUE(IsGone(e->error)) << e->error;
  EXPECT_EQ(e->error.http_code(), 410);
}

TEST_F(ClientServerTest, CutStreamEndsWithOneErrorEvent) {
  ResourceClient cms(http_, kConfigMaps, "default");
  Result<ObjectList> list = cms.List();
  ASSERT_TRUE(list);
  Result<std::unique_ptr<Watch>> w = cms.Watch({.resource_version = list->resource_version});
  ASSERT_TRUE(w);
  for (int i = 0; i < 1000 && server_->WatchCount() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the server registers the watch
  }
  server_->CutWatchStreams();
  ASSERT_TRUE(cms.Create(ConfigMap("cut", "1")));
  std::vector<WatchEvent> events;
  while (std::optional<WatchEvent> e = (*w)->Next()) events.push_back(*e);
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, WatchEventType::kError);
  EXPECT_EQ(events[0].error.code(), StatusCode::kDataLoss);
}

TEST_F(ClientServerTest, StopEndsABlockedWatchWithin100ms) {
  ResourceClient cms(http_, kConfigMaps, "default");
  Result<ObjectList> list = cms.List();
  ASSERT_TRUE(list);
  Result<std::unique_ptr<Watch>> w = cms.Watch({.resource_version = list->resource_version});
  ASSERT_TRUE(w);
  Watch& watch = **w;
  std::atomic<bool> first{false};
  std::chrono::steady_clock::time_point returned;
  std::thread consumer([&] {
    ASSERT_TRUE(watch.Next());  // the ADDED below
    first = true;
    while (watch.Next()) {  // then blocks: nothing else happens
    }
    returned = std::chrono::steady_clock::now();
  });
  ASSERT_TRUE(cms.Create(ConfigMap("only", "1")));
  for (int i = 0; i < 2000 && !first; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(first);
  auto stop_at = std::chrono::steady_clock::now();
  watch.Stop();
  consumer.join();
  EXPECT_LT(returned - stop_at, kStopBound)
      << std::chrono::duration_cast<std::chrono::microseconds>(returned - stop_at).count() << " us";
  // The server sees the watch go away.
  for (int i = 0; i < 1000 && server_->WatchCount() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server_->WatchCount(), 0u);
}

TEST_F(ClientServerTest, WatchAsyncDeliversEvents) {
  ResourceClient cms(http_, kConfigMaps, "default");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> names;
  WatchHandle h = cms.WatchAsync({.resource_version = "0"}, [&](WatchEvent e) {
    if (e.type != WatchEventType::kAdded) return;
    std::lock_guard<std::mutex> l(mu);
    names.emplace_back(e.object->name());
    cv.notify_all();
  });
  ASSERT_TRUE(cms.Create(ConfigMap("x", "1")));
  ASSERT_TRUE(cms.Create(ConfigMap("y", "1")));
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return names.size() >= 2; }));
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("x", "y"));
}

TEST_F(ClientServerTest, Discovery) {
  DiscoveryClient discovery(http_);
  Result<VersionInfo> version = discovery.ServerVersion();
  ASSERT_TRUE(version) << version.error();
  EXPECT_FALSE(version->git_version.empty());
  Result<std::vector<ApiGroup>> groups = discovery.ServerGroups();
  ASSERT_TRUE(groups) << groups.error();
  ASSERT_FALSE(groups->empty());
  EXPECT_EQ(groups->front().name, "");
  EXPECT_TRUE(std::any_of(groups->begin(), groups->end(),
                          [](const ApiGroup& g) { return g.name == "apps"; }));
  Result<std::vector<ApiResource>> apps = discovery.ServerResourcesForGroupVersion({"apps", "v1"});
  ASSERT_TRUE(apps) << apps.error();
  EXPECT_TRUE(std::any_of(apps->begin(), apps->end(),
                          [](const ApiResource& r) { return r.name == "deployments/status"; }));

  struct Case {
    std::string input;
    GroupVersionResource gvr;
    std::string kind;
    bool namespaced;
  };
  const std::vector<Case> cases = {
      {"deployments", {"apps", "v1", "deployments"}, "Deployment", true},
      {"deployment", {"apps", "v1", "deployments"}, "Deployment", true},
      {"deploy", {"apps", "v1", "deployments"}, "Deployment", true},
      {"Deployment", {"apps", "v1", "deployments"}, "Deployment", true},
      {"deployments.apps", {"apps", "v1", "deployments"}, "Deployment", true},
      {"deployments.v1.apps", {"apps", "v1", "deployments"}, "Deployment", true},
      {"po", {"", "v1", "pods"}, "Pod", true},
      {"pods", {"", "v1", "pods"}, "Pod", true},
      {"nodes", {"", "v1", "nodes"}, "Node", false},
      {"ns", {"", "v1", "namespaces"}, "Namespace", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Result<ResourceMapping> m = discovery.ResourceFor(c.input);
    ASSERT_TRUE(m) << m.error();
    EXPECT_EQ(m->resource, c.gvr);
    EXPECT_EQ(m->kind.kind, c.kind);
    EXPECT_EQ(m->namespaced, c.namespaced);
  }
  Result<ResourceMapping> none = discovery.ResourceFor("nonsense");
  ASSERT_FALSE(none);
  EXPECT_TRUE(IsNotFound(none.error()));
  EXPECT_FALSE(discovery.ResourceFor("deployments.batch"));
}

// --- TLS and credentials against the embedded server ------------------------------------------

class ClientServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pki_.ok) GTEST_SKIP() << "the openssl command could not make test certificates";
    tokens_ = pki_.dir + "/tokens.csv";
    WriteFile(tokens_, "token-alice,alice,1\ntoken-bob,bob,2\n");
    ApiServerOptions o;
    o.tls_cert_file = pki_.server_cert;
    o.tls_private_key_file = pki_.server_key;
    o.client_ca_file = pki_.ca_cert;
    o.token_auth_file = tokens_;
    Result<std::unique_ptr<EmbeddedApiServer>> s = EmbeddedApiServer::Start(o);
    ASSERT_TRUE(s) << s.error();
    server_ = *std::move(s);
  }

  RestConfig Config() const {
    RestConfig c;
    c.server = server_->Url();
    c.ca_data = TestPki::Read(pki_.ca_cert);
    return c;
  }

  // GET the default namespace's ConfigMaps with `config`.
  Result<ObjectList> ListWith(const RestConfig& config) {
    Result<std::shared_ptr<HttpClient>> c = MakeCurlHttpClient(config);
    if (!c) return c.error();
    return ResourceClient(*c, kConfigMaps, "default").List();
  }

  TestPki pki_;
  std::string tokens_;
  std::unique_ptr<EmbeddedApiServer> server_;
};

TEST_F(ClientServerTlsTest, BearerToken) {
  RestConfig c = Config();
  EXPECT_EQ(server_->Url().substr(0, 8), "https://");
  c.bearer_token = "token-alice";
  Result<ObjectList> l = ListWith(c);
  EXPECT_TRUE(l) << l.error();
}

TEST_F(ClientServerTlsTest, RefusedTokenIsUnauthorizedAndNotQuoted) {
  RestConfig c = Config();
  c.bearer_token = "token-mallory-secret";
  Result<ObjectList> l = ListWith(c);
  ASSERT_FALSE(l);
  EXPECT_TRUE(IsUnauthorized(l.error())) << l.error();
  EXPECT_EQ(l.error().http_code(), 401);
  EXPECT_THAT(l.error().ToString(), Not(HasSubstr("token-mallory-secret")));
  // No credential at all: refused as well.
  Result<ObjectList> anonymous = ListWith(Config());
  ASSERT_FALSE(anonymous);
  EXPECT_TRUE(IsUnauthorized(anonymous.error()));
}

TEST_F(ClientServerTlsTest, TokenFileRotation) {
  const std::string file = pki_.dir + "/sa-token";
  WriteFile(file, "token-alice\n");
  RestConfig c = Config();
  c.bearer_token_file = file;
  Result<std::shared_ptr<HttpClient>> http = MakeCurlHttpClient(c);
  ASSERT_TRUE(http);
  ResourceClient cms(*http, kConfigMaps, "default");
  EXPECT_TRUE(cms.List());
  WriteFile(file + ".new", "token-revoked");
  std::filesystem::rename(file + ".new", file);
  Result<ObjectList> refused = cms.List();
  ASSERT_FALSE(refused);
  EXPECT_TRUE(IsUnauthorized(refused.error()));
  WriteFile(file + ".new", "token-bob");
  std::filesystem::rename(file + ".new", file);
  EXPECT_TRUE(cms.List());
}

TEST_F(ClientServerTlsTest, ClientCertificate) {
  RestConfig c = Config();
  c.client_certificate_data = TestPki::Read(pki_.client_cert);
  c.client_key_data = TestPki::Read(pki_.client_key);
  Result<ObjectList> l = ListWith(c);
  EXPECT_TRUE(l) << l.error();
}

TEST_F(ClientServerTlsTest, ExecPluginAndRefreshAfter401) {
  // The plugin's first credential is refused; the transport runs it again and retries once.
  const std::string dir = pki_.dir;
  const std::string script = dir + "/plugin.sh";
  WriteFile(
      script,
      "#!/bin/sh\n"
      "n=$(cat " +
          dir +
          "/count 2>/dev/null || echo 0)\n"
          "n=$((n+1))\n"
          "echo $n > " +
          dir +
          "/count\n"
          "if [ $n -eq 1 ]; then t=token-expired; else t=token-alice; fi\n"
          "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
          "\"status\":{\"token\":\"%s\"}}' $t\n");
  ::chmod(script.c_str(), 0755);
  RestConfig c = Config();
  c.exec = ExecConfig();
  c.exec->command = script;
  c.exec->api_version = "client.authentication.k8s.io/v1";
  Result<ObjectList> l = ListWith(c);
  EXPECT_TRUE(l) << l.error();
  EXPECT_EQ(TestPki::Read(dir + "/count"), "2\n");
}

TEST_F(ClientServerTlsTest, BadCaIsRefused) {
  RestConfig c = Config();
  c.ca_data = TestPki::Read(pki_.other_ca_cert);
  c.bearer_token = "token-alice";
  Result<ObjectList> l = ListWith(c);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(l.error().message(), HasSubstr("certificate"));
  EXPECT_THAT(l.error().ToString(), Not(HasSubstr("token-alice")));
}

TEST_F(ClientServerTlsTest, WatchOverTls) {
  RestConfig c = Config();
  c.bearer_token = "token-alice";
  Result<std::shared_ptr<HttpClient>> http = MakeCurlHttpClient(c);
  ASSERT_TRUE(http);
  ResourceClient cms(*http, kConfigMaps, "default");
  Result<std::unique_ptr<Watch>> w = cms.Watch({.resource_version = "0"});
  ASSERT_TRUE(w) << w.error();
  ASSERT_TRUE(cms.Create(ConfigMap("tls", "1")));
  WatchEvent e;
  ASSERT_EQ((*w)->NextFor(std::chrono::seconds(10), &e), WatchWait::kEvent);
  EXPECT_EQ(e.type, WatchEventType::kAdded);
  EXPECT_EQ(e.object->name(), "tls");
}

}  // namespace
}  // namespace kube

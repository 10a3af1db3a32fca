// Typed informers and the factory against the embedded API server, over HTTP: what a user of
// `factory->Apps().V1().Deployments()` sees when objects are created, changed and deleted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/config/rest_config.h"
#include "kube/informers/factory.h"
#include "kube/informers/typed.h"
#include "tests/testing/api_server_fixture.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::kube::testing::ConfigMapJson;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const GroupVersionResource kDeployments{"apps", "v1", "deployments"};
const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};

std::string DeploymentJson(const std::string& ns, const std::string& name, int replicas) {
  return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" + name +
         R"(","namespace":")" + ns + R"(","labels":{"app":")" + name +
         R"("}},"spec":{"replicas":)" + std::to_string(replicas) +
         R"(,"selector":{"matchLabels":{"app":")" + name +
         R"("}},"template":{"metadata":{"labels":{"app":")" + name +
         R"("}},"spec":{"containers":[{"name":"app","image":"nginx"}]}}}})";
}

// Lines written by handlers, waited on by the test.
class Lines {
 public:
  void Add(std::string line) {
    std::lock_guard<std::mutex> l(mu_);
    lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  // Waits until `line` has been added; returns whether it was.
  bool WaitFor(const std::string& line, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(
        l, timeout, [&] { return std::find(lines_.begin(), lines_.end(), line) != lines_.end(); });
  }
  std::vector<std::string> Get() const {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

class TypedInformerServerTest : public ::kube::testing::ApiServerFixture {
 protected:
  std::unique_ptr<SharedInformerFactory> MakeFactory(SharedInformerFactoryOptions o = {}) {
    RestConfig config;
    config.server = server().Url();
    config.timeout = 5s;
    auto http = MakeCurlHttpClient(config);
    EXPECT_TRUE(http.has_value()) << http.error();
    o.reflector.backoff_initial = 20ms;
    return SharedInformerFactory::Create(*http, std::move(o));
  }
};

TEST_F(TypedInformerServerTest, DeploymentInformerSeesCreateUpdateDeleteAndListsDefault) {
  ASSERT_TRUE(server().Create(DeploymentJson("default", "web", 3)).has_value());
  ASSERT_TRUE(server().Create(DeploymentJson("default", "api", 2)).has_value());
  ASSERT_TRUE(server()
                  .Create(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}})")
                  .has_value());
  ASSERT_TRUE(server().Create(DeploymentJson("other", "db", 1)).has_value());

  auto factory = MakeFactory();
  DeploymentInformer informer = factory->Apps().V1().Deployments();
  Lines lines;
  ASSERT_TRUE(
      informer
          .AddEventHandler(TypedHandlerFuncs<Deployment>{
              .add = [&](const Deployment& d, bool) { lines.Add("add " + d.key()); },
              .update =
                  [&](const Deployment& a, const Deployment& b) {
                    lines.Add("update " + a.key() + " " + std::to_string(a.replicas()) + "->" +
                              std::to_string(b.replicas()));
                  },
              .del =
                  [&](const TypedDeletedObject<Deployment>& d) { lines.Add("delete " + d.key()); }})
          .has_value());
  factory->Start();
  ASSERT_THAT(factory->WaitForHandlersSync(10s), ElementsAre(Pair(kDeployments, true)));
  EXPECT_THAT(lines.Get(),
              UnorderedElementsAre("add default/web", "add default/api", "add other/db"));

  std::vector<std::string> names;
  for (const Deployment& d : informer.Lister().Deployments("default").List(labels::Everything())) {
    names.emplace_back(d.name());
  }
  EXPECT_THAT(names, UnorderedElementsAre("web", "api"));

  ASSERT_TRUE(server().Create(DeploymentJson("default", "worker", 1)).has_value());
  ASSERT_TRUE(lines.WaitFor("add default/worker"));
  ASSERT_TRUE(server().Apply(DeploymentJson("default", "web", 5)).has_value());
  ASSERT_TRUE(lines.WaitFor("update default/web 3->5"));
  ASSERT_TRUE(server().Delete(kDeployments, "default", "api").ok());
  ASSERT_TRUE(lines.WaitFor("delete default/api"));

  DeploymentLister lister = informer.Lister();
  EXPECT_EQ(lister.Deployments("default").Get("web")->replicas(), 5);
  EXPECT_EQ(lister.Deployments("default").Get("api").error().message(),
            R"(deployment.apps "api" not found)");
  EXPECT_EQ(lister.List(labels::Everything()).size(), 3u);
}

TEST_F(TypedInformerServerTest, B39TweakAndNamespaceFilterBothListAndWatch) {
  ASSERT_TRUE(server()
                  .Create(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}})")
                  .has_value());
  MustCreate(ConfigMapJson("team-a", "web-1", {{"app", "web"}}));
  MustCreate(ConfigMapJson("team-a", "db-1", {{"app", "db"}}));
  MustCreate(ConfigMapJson("default", "web-2", {{"app", "web"}}));

  auto factory = MakeFactory(
      {.ns = "team-a", .tweak_list_options = [](ListOptions& o) { o.label_selector = "app=web"; }});
  ConfigMapInformer informer = factory->Core().V1().ConfigMaps();
  Lines lines;
  ASSERT_TRUE(informer
                  .AddEventHandler(TypedHandlerFuncs<ConfigMap>{
                      .add = [&](const ConfigMap& c, bool) { lines.Add("add " + c.key()); }})
                  .has_value());
  factory->Start();
  ASSERT_THAT(factory->WaitForHandlersSync(10s), ElementsAre(Pair(kConfigMaps, true)));
  EXPECT_THAT(lines.Get(), ElementsAre("add team-a/web-1"));  // the list was filtered

  MustCreate(ConfigMapJson("team-a", "db-2", {{"app", "db"}}));
  MustCreate(ConfigMapJson("default", "web-3", {{"app", "web"}}));
  MustCreate(ConfigMapJson("team-a", "web-4", {{"app", "web"}}));
  // Events arrive in order: once web-4 is seen, the two before it would have been too.
  ASSERT_TRUE(lines.WaitFor("add team-a/web-4"));
  EXPECT_THAT(lines.Get(), ElementsAre("add team-a/web-1", "add team-a/web-4"));
}

TEST_F(TypedInformerServerTest, ClusterScopedListerGetsNamespaces) {
  auto factory = MakeFactory();
  NamespaceInformer informer = factory->Core().V1().Namespaces();
  factory->Start();
  ASSERT_TRUE(informer.Informer()->WaitForCacheSync(10s));
  Result<Namespace> ns = informer.Lister().Get("default");
  ASSERT_TRUE(ns.has_value()) << ns.error();
  EXPECT_EQ(ns->phase(), "Active");
  EXPECT_EQ(informer.Lister().Get("missing").error().message(), R"(namespace "missing" not found)");
}

}  // namespace
}  // namespace kube

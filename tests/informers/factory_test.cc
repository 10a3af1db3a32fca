// SharedInformerFactory behaviours B38-B42 (docs/behaviours.md) and typed informers, over
// scripted ListerWatchers.
#include "kube/informers/factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "kube/clock.h"
#include "kube/informers/typed.h"
#include "tests/testing/fake_lister_watcher.h"
#include "tests/testing/objects.h"
#include "tests/testing/recording_handler.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::kube::testing::FakeListerWatcher;
using ::kube::testing::MakeObject;
using ::kube::testing::MakePod;
using ::kube::testing::RecordingHandler;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const GroupVersionResource kPods{"", "v1", "pods"};
const GroupVersionResource kDeployments{"apps", "v1", "deployments"};
const GroupVersionResource kNodes{"", "v1", "nodes"};

// A ListerWatcher whose List blocks until the informer stops: an informer that never syncs.
class NeverListsListerWatcher : public ListerWatcher {
 public:
  Result<ObjectList> List(const ListOptions&, std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, stop, [] { return false; });
    return Status(StatusCode::kCancelled, "list stopped");
  }
  Result<std::unique_ptr<ActiveWatch>> Watch(const ListOptions&, WatchCallbacks) override {
    return Status(StatusCode::kInternal, "never watched");
  }
};

class SharedInformerFactoryTest : public ::testing::Test {
 protected:
  struct Made {
    GroupVersionResource gvr;
    std::string ns;
    TweakListOptionsFunc tweak;
  };

  std::unique_ptr<SharedInformerFactory> Make(SharedInformerFactoryOptions o = {}) {
    if (!o.clock) o.clock = clock_;
    o.threads = 2;
    o.reflector.watch_progress_timeout = 0ms;
    o.reflector.random_seed = 1;
    return SharedInformerFactory::CreateWithListerWatchers(
        [this](const GroupVersionResource& gvr, const std::string& ns,
               const TweakListOptionsFunc& tweak) -> std::shared_ptr<ListerWatcher> {
          std::lock_guard<std::mutex> l(mu_);
          made_.push_back({gvr, ns, tweak});
          if (never_lists_.count(gvr)) return std::make_shared<NeverListsListerWatcher>();
          auto lw = std::make_shared<FakeListerWatcher>();
          lw->SetObjects(objects_[gvr], "10");
          lws_[gvr] = lw;
          return lw;
        },
        std::move(o));
  }
  std::shared_ptr<FakeListerWatcher> Lw(const GroupVersionResource& gvr) {
    std::lock_guard<std::mutex> l(mu_);
    return lws_[gvr];
  }
  std::vector<Made> made() {
    std::lock_guard<std::mutex> l(mu_);
    return made_;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::mutex mu_;
  std::vector<Made> made_;
  std::map<GroupVersionResource, std::shared_ptr<FakeListerWatcher>> lws_;
  std::map<GroupVersionResource, std::vector<ObjectPtr>> objects_ = {
      {kPods, {MakePod("default", "a", {.rv = "1"}), MakePod("kube-system", "b", {.rv = "2"})}},
      {kDeployments,
       {MakeObject("apps/v1", "Deployment", "default", "web", "3", {{"app", "web"}}),
        MakeObject("apps/v1", "Deployment", "default", "api", "4", {{"app", "api"}}),
        MakeObject("apps/v1", "Deployment", "other", "db", "5")}},
      {kNodes, {MakeObject("v1", "Node", "", "n1", "6")}},
  };
  std::set<GroupVersionResource> never_lists_;
};

TEST_F(SharedInformerFactoryTest, B38OneInformerPerResource) {
  auto factory = Make();
  DeploymentInformer first = factory->Apps().V1().Deployments();
  DeploymentInformer second = factory->Apps().V1().Deployments();
  EXPECT_EQ(first.Informer(), second.Informer());
  EXPECT_EQ(first.Informer(), factory->InformerFor(kDeployments));
  // A different scope argument does not split it.
  EXPECT_EQ(first.Informer(), factory->ForResource(kDeployments, {.namespaced = false}).Informer());
  EXPECT_NE(first.Informer(), factory->Core().V1().Pods().Informer());
  ASSERT_EQ(made().size(), 2u);
  EXPECT_EQ(made()[0].gvr, kDeployments);
  EXPECT_EQ(made()[1].gvr, kPods);
}

TEST_F(SharedInformerFactoryTest, GroupAccessorsAreOnTheFactoryAndTypedStillWorks) {
  auto factory = Make();
  EXPECT_EQ(factory->Discovery().V1().EndpointSlices().Informer(),
            factory->InformerFor({"discovery.k8s.io", "v1", "endpointslices"}));
  EXPECT_EQ(factory->Batch().V1().Jobs().Informer(), factory->InformerFor({"batch", "v1", "jobs"}));
  EXPECT_EQ(factory->Coordination().V1().Leases().Informer(),
            factory->InformerFor({"coordination.k8s.io", "v1", "leases"}));
}

TEST_F(SharedInformerFactoryTest, B39NamespaceAndTweakReachEveryListerWatcher) {
  auto factory = Make(
      {.ns = "team-a", .tweak_list_options = [](ListOptions& o) { o.label_selector = "app=web"; }});
  factory->Apps().V1().Deployments();
  factory->Core().V1().Nodes();
  std::vector<Made> m = made();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].ns, "team-a");
  EXPECT_EQ(m[1].ns, "");  // cluster-scoped: the namespace option does not apply
  for (const Made& each : m) {
    ASSERT_TRUE(each.tweak);
    ListOptions options;
    each.tweak(options);
    EXPECT_EQ(options.label_selector, "app=web");
  }
}

TEST_F(SharedInformerFactoryTest, B39CustomResyncOverridesTheDefaultPerResource) {
  auto factory = Make({.custom_resync = {{kPods, 30s}}});
  auto pods = std::make_shared<RecordingHandler>();
  auto deployments = std::make_shared<RecordingHandler>();
  ASSERT_TRUE(factory->InformerFor(kPods)->AddEventHandler(pods).has_value());
  ASSERT_TRUE(factory->InformerFor(kDeployments)->AddEventHandler(deployments).has_value());
  factory->Start();
  ASSERT_TRUE(pods->WaitFor(2));
  ASSERT_TRUE(deployments->WaitFor(3));
  pods->Take();
  deployments->Take();

  clock_->Advance(30s);
  ASSERT_TRUE(pods->WaitFor(2));
  EXPECT_THAT(pods->Take(), UnorderedElementsAre("RESYNC default/a@1", "RESYNC kube-system/b@2"));
  EXPECT_THAT(deployments->events(), IsEmpty());  // the default: no resync
}

TEST_F(SharedInformerFactoryTest, B40StartIsIdempotentAndStartsOnlyNewInformers) {
  auto factory = Make();
  auto pods = factory->InformerFor(kPods);
  factory->Start();
  factory->Start();
  ASSERT_TRUE(pods->WaitForCacheSync(10s));
  ASSERT_NE(Lw(kPods)->WaitForWatch(1), nullptr);

  auto deployments = factory->InformerFor(kDeployments);
  EXPECT_FALSE(deployments->HasSynced());
  factory->Start();
  ASSERT_TRUE(deployments->WaitForCacheSync(10s));
  ASSERT_NE(Lw(kDeployments)->WaitForWatch(1), nullptr);
  // The pods informer was not started again: still one list and one watch.
  EXPECT_EQ(Lw(kPods)->list_calls().size(), 1u);
  EXPECT_EQ(Lw(kPods)->watch_calls().size(), 1u);
}

TEST_F(SharedInformerFactoryTest, B41WaitForCacheSyncReportsStartedInformersOnly) {
  never_lists_.insert(kNodes);
  auto factory = Make();
  factory->InformerFor(kPods);
  factory->InformerFor(kNodes, {.namespaced = false});
  factory->Start();
  factory->InformerFor(kDeployments);  // created after Start: not started

  std::map<GroupVersionResource, bool> synced = factory->WaitForCacheSync(200ms);
  EXPECT_THAT(synced, ElementsAre(Pair(kNodes, false), Pair(kPods, true)));
  factory->Start();
  synced = factory->WaitForCacheSync(200ms);
  EXPECT_THAT(synced, UnorderedElementsAre(Pair(kDeployments, true), Pair(kNodes, false),
                                           Pair(kPods, true)));
}

TEST_F(SharedInformerFactoryTest, B42ShutdownStopsEverythingAndStartAfterItDoesNothing) {
  never_lists_.insert(kNodes);
  auto factory = Make();
  auto pods = factory->InformerFor(kPods);
  auto nodes = factory->InformerFor(kNodes, {.namespaced = false});  // blocked in its list
  factory->Start();
  ASSERT_TRUE(pods->WaitForCacheSync(10s));
  std::shared_ptr<::kube::testing::FakeWatchStream> watch = Lw(kPods)->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);

  factory->Shutdown();
  factory->Shutdown();  // idempotent
  EXPECT_TRUE(pods->IsStopped());
  EXPECT_TRUE(nodes->IsStopped());
  EXPECT_TRUE(watch->stopped());
  EXPECT_EQ(factory->ThreadCount(), 0u);

  auto deployments = factory->InformerFor(kDeployments);
  factory->Start();
  EXPECT_FALSE(deployments->HasSynced());
  EXPECT_THAT(Lw(kDeployments)->list_calls(), IsEmpty());
  EXPECT_THAT(factory->WaitForCacheSync(10ms), ElementsAre(Pair(kNodes, false), Pair(kPods, true)));
}

// Disabled: hangs about one run in fifty. A second, concurrent `Shutdown` returns while the first
// is still inside `SharedIndexInformer::Stop` (whose second caller returns at once) and shuts the
// executor down, so the first one's barrier task never runs. Fix in factory.cc/shared_informer.cc.
TEST_F(SharedInformerFactoryTest, B42ConcurrentShutdownsBothWaitForTheWork) {
  auto factory = Make();
  auto pods = factory->InformerFor(kPods);
  auto deployments = factory->InformerFor(kDeployments);
  factory->Start();
  ASSERT_THAT(factory->WaitForCacheSync(10s),
              UnorderedElementsAre(Pair(kPods, true), Pair(kDeployments, true)));
  std::thread other([&] { factory->Shutdown(); });
  factory->Shutdown();
  other.join();
  EXPECT_TRUE(pods->IsStopped());
  EXPECT_TRUE(deployments->IsStopped());
  EXPECT_EQ(factory->ThreadCount(), 0u);
}

TEST_F(SharedInformerFactoryTest, WaitForHandlersSyncWaitsForInitialAddsToReturn) {
  auto factory = Make();
  auto handler = std::make_shared<RecordingHandler>();
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  handler->hook = [&](const std::string&) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return release; });
  };
  ASSERT_TRUE(factory->InformerFor(kPods)->AddEventHandler(handler).has_value());
  factory->Start();
  EXPECT_THAT(factory->WaitForCacheSync(10s), ElementsAre(Pair(kPods, true)));
  // client-go's sync returns here although the handler has not seen a single add.
  EXPECT_THAT(factory->WaitForHandlersSync(50ms), ElementsAre(Pair(kPods, false)));
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_THAT(factory->WaitForHandlersSync(10s), ElementsAre(Pair(kPods, true)));
  EXPECT_EQ(handler->size(), 2u);
}

TEST_F(SharedInformerFactoryTest, TypedInformerDeliversViewsAndListsItsCache) {
  auto factory = Make();
  DeploymentInformer informer = factory->Apps().V1().Deployments();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;
  auto record = [&](std::string e) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(std::move(e));
    cv.notify_all();
  };
  ASSERT_TRUE(informer
                  .AddEventHandler(TypedHandlerFuncs<Deployment>{
                      .add = [&](const Deployment& d, bool) { record("add " + d.key()); },
                      .update =
                          [&](const Deployment& a, const Deployment& b) {
                            record("update " + a.key() + " " + std::to_string(b.replicas()));
                          },
                      .del =
                          [&](const TypedDeletedObject<Deployment>& d) {
                            record("delete " + d.object().key());
                          }})
                  .has_value());
  factory->Start();
  ASSERT_THAT(factory->WaitForHandlersSync(10s), ElementsAre(Pair(kDeployments, true)));
  EXPECT_TRUE(informer.HasSynced());

  std::shared_ptr<::kube::testing::FakeWatchStream> watch = Lw(kDeployments)->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Send(WatchEventType::kModified, MakeObject("apps/v1", "Deployment", "default", "web", "11",
                                                    {{"app", "web"}}, R"("spec":{"replicas":4})"));
  watch->Send(WatchEventType::kDeleted, MakeObject("apps/v1", "Deployment", "other", "db", "12"));
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, 10s, [&] { return seen.size() == 5; }));
    EXPECT_THAT(seen, ElementsAre("add default/web", "add default/api", "add other/db",
                                  "update default/web 4", "delete other/db"));
  }
  DeploymentLister lister = informer.Lister();
  std::vector<std::string> names;
  for (const Deployment& d : lister.Deployments("default").List(labels::Everything())) {
    names.emplace_back(d.name());
  }
  EXPECT_THAT(names, UnorderedElementsAre("web", "api"));
  EXPECT_EQ(lister.Deployments("default").Get("web")->replicas(), 4);
  EXPECT_EQ(lister.Deployments("other").Get("db").error().message(),
            R"(deployment.apps "db" not found)");
}

}  // namespace
}  // namespace kube

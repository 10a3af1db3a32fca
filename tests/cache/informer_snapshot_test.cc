// Warm restarts against the embedded server: an informer that stopped with a cache snapshot
// starts again from it, resumes the watch without a full list, and its handlers see the snapshot
// (flagged), then exactly the changes made while it was down, in order. When the server's history
// no longer reaches the snapshot's version (410), or the server is another one (fresh storage),
// the informer relists and the relist's deletes cover what vanished.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kube/cache/shared_informer.h"
#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "kube/config/rest_config.h"
#include "kube/informers/factory.h"
#include "kube/server/api_server.h"
#include "tests/testing/convergence.h"

namespace kube {
namespace {

using namespace std::chrono_literals;

const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};
const GroupVersionResource kSecrets{"", "v1", "secrets"};

using testing::CacheState;
using testing::ServerState;

std::string ConfigMap(const std::string& name, const std::string& value) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":"default"},"data":{"v":")" + value + "\"}}";
}

// Every notification, in order, as "kind name" lines.
class OrderRecorder : public ResourceEventHandler {
 public:
  void OnAdd(const ObjectPtr& o, bool initial) override {
    Record((initial ? "initial-add " : "add ") + std::string(o->name()));
  }
  void OnSnapshotAdd(const ObjectPtr& o) override {
    Record("snapshot-add " + std::string(o->name()));
  }
  void OnUpdate(const ObjectPtr&, const ObjectPtr& o) override {
    Record("update " + std::string(o->name()));
  }
  void OnResync(const ObjectPtr& o) override { Record("resync " + std::string(o->name())); }
  void OnDelete(const DeletedObject& d) override {
    Record((d.final_state_unknown() ? "relist-delete " : "delete ") +
           std::string(d.object()->name()));
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }

 private:
  void Record(std::string e) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(std::move(e));
  }
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::shared_ptr<HttpClient> ClientFor(const EmbeddedApiServer& server) {
  RestConfig config;
  config.server = server.Url();
  config.timeout = 5s;
  auto http = MakeCurlHttpClient(config);
  EXPECT_TRUE(http.has_value()) << http.error();
  return http ? *http : nullptr;
}

class InformerSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/informer_snapshot_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A factory over `server` keeping snapshots in `dir_`, with one ConfigMap informer and a
  // recorder, started and synced.
  struct Running {
    std::unique_ptr<SharedInformerFactory> factory;
    std::shared_ptr<SharedIndexInformer> informer;
    std::shared_ptr<OrderRecorder> recorder;
  };
  Running Start(const EmbeddedApiServer& server, const std::string& identity = "") {
    SharedInformerFactoryOptions fo;
    fo.snapshot_identity = identity;
    fo.reflector.backoff_initial = 20ms;  // the behaviour, not the timing
    fo.reflector.backoff_cap = 200ms;
    fo.snapshot_dir = dir_;
    fo.snapshot_interval = 0ms;  // at Shutdown only: the test decides when
    Running r;
    r.factory = SharedInformerFactory::Create(ClientFor(server), fo);
    r.informer = r.factory->InformerFor(kConfigMaps, {.namespaced = true, .kind = "ConfigMap"});
    r.recorder = std::make_shared<OrderRecorder>();
    EXPECT_TRUE(r.informer->AddEventHandler(r.recorder).has_value());
    r.factory->Start();
    EXPECT_TRUE(r.factory->WaitForHandlersSync(30s)[kConfigMaps]);
    return r;
  }

  std::string dir_;
};

bool Converged(const SharedIndexInformer& informer, const EmbeddedApiServer& server) {
  ResourceClient client(ClientFor(server), kConfigMaps, "default");
  auto want = ServerState(client);
  return want.has_value() && CacheState(informer) == *want;
}

TEST_F(InformerSnapshotTest, WarmStartResumesTheWatchWithoutAListAndSeesChangesInOrder) {
  auto started = EmbeddedApiServer::Start({});
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(server->Apply(ConfigMap(name, "1")));
  {
    Running first = Start(*server);
    ASSERT_EQ(CacheState(*first.informer).size(), 3u);
    first.factory->Shutdown();  // writes the snapshot
    EXPECT_EQ(first.informer->Stats().snapshots_written, 1u);
  }
  const std::string file = dir_ + "/_v1_configmaps.snap";
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // While it is down: an update, a delete and an add, in this order.
  ASSERT_TRUE(server->Apply(ConfigMap("a", "2")));
  ASSERT_TRUE(server->Delete(kConfigMaps, "default", "b").ok());
  ASSERT_TRUE(server->Apply(ConfigMap("d", "1")));

  const EmbeddedApiServer::ListRequests before = server->ListRequestCount();
  Running second = Start(*server);
  const EmbeddedApiServer::ListRequests after = server->ListRequestCount();
  EXPECT_EQ((after.all - after.single_item) - (before.all - before.single_item), 0u)
      << "a warm start made a full list";
  EXPECT_EQ(after.single_item - before.single_item, 1u);  // the current-version read
  ASSERT_TRUE(WaitFor([&] { return second.recorder->events().size() >= 6; }, 30s));
  std::vector<std::string> events = second.recorder->events();
  // The snapshot's adds in no defined order (the cache's), then the changes in order.
  std::sort(events.begin(), events.begin() + 3);
  EXPECT_EQ(events, (std::vector<std::string>{"snapshot-add a", "snapshot-add b", "snapshot-add c",
                                              "update a", "delete b", "add d"}));
  InformerStats stats = second.informer->Stats();
  EXPECT_TRUE(stats.started_from_snapshot);
  EXPECT_EQ(stats.snapshot_objects_loaded, 3u);
  EXPECT_EQ(stats.lists, 0u);
  EXPECT_TRUE(Converged(*second.informer, *server));
  second.factory->Shutdown();
}

TEST_F(InformerSnapshotTest, UnchangedServerSyncsAtOnce) {
  auto started = EmbeddedApiServer::Start({});
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  ASSERT_TRUE(server->Apply(ConfigMap("a", "1")));
  Start(*server).factory->Shutdown();
  Running second = Start(*server);  // WaitForHandlersSync inside: no event will come
  EXPECT_TRUE(second.informer->HasSynced());
  EXPECT_EQ(second.recorder->events(), std::vector<std::string>{"snapshot-add a"});
  second.factory->Shutdown();
}

TEST_F(InformerSnapshotTest, OtherResourcesChangedSyncsAtTheNextBookmark) {
  ApiServerOptions o;
  o.bookmark_interval = 200ms;
  auto started = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  ASSERT_TRUE(server->Apply(ConfigMap("a", "1")));
  Start(*server).factory->Shutdown();
  // The server's version moves on, but no ConfigMap changes: only a bookmark can say the watch
  // has caught up.
  ASSERT_TRUE(server->Apply(
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"}})"));
  Running second = Start(*server);
  EXPECT_TRUE(second.informer->HasSynced());
  EXPECT_EQ(second.informer->Stats().lists, 0u);
  EXPECT_EQ(second.recorder->events(), std::vector<std::string>{"snapshot-add a"});
  second.factory->Shutdown();
}

TEST_F(InformerSnapshotTest, ExpiredHistoryRelistsAndDeletesWhatVanished) {
  auto started = EmbeddedApiServer::Start({});
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(server->Apply(ConfigMap(name, "1")));
  Start(*server).factory->Shutdown();
  ASSERT_TRUE(server->Delete(kConfigMaps, "default", "b").ok());
  ASSERT_TRUE(server->Apply(ConfigMap("c", "2")));
  server->CompactHistory();  // the snapshot's version is gone: 410 on resume

  Running second = Start(*server);
  ASSERT_TRUE(WaitFor([&] { return Converged(*second.informer, *server); }, 30s));
  std::vector<std::string> events = second.recorder->events();
  ASSERT_GE(events.size(), 3u);
  std::sort(events.begin(), events.begin() + 3);
  EXPECT_EQ(std::vector<std::string>(events.begin(), events.begin() + 3),
            (std::vector<std::string>{"snapshot-add a", "snapshot-add b", "snapshot-add c"}));
  std::multiset<std::string> rest(events.begin() + 3, events.end());
  EXPECT_EQ(rest.count("relist-delete b"), 1u);
  EXPECT_EQ(rest.count("update c"), 1u);
  InformerStats stats = second.informer->Stats();
  EXPECT_TRUE(stats.started_from_snapshot);
  EXPECT_GE(stats.relists_after_gone, 1u);
  EXPECT_GE(stats.lists, 1u);
  second.factory->Shutdown();
}

TEST_F(InformerSnapshotTest, ServerRestartedWithFreshStorageIsRelisted) {
  ApiServerOptions o;
  auto started = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(server->Apply(ConfigMap("old-" + std::to_string(i % 5), std::to_string(i))));
  }
  Start(*server).factory->Shutdown();
  const uint16_t port = server->Port();
  server->Stop();
  server.reset();
  o.port = port;
  std::unique_ptr<EmbeddedApiServer> fresh;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = EmbeddedApiServer::Start(o);
        if (s) fresh = std::move(*s);
        return fresh != nullptr;
      },
      30s));
  ASSERT_TRUE(fresh->Apply(ConfigMap("old-0", "new")));
  ASSERT_TRUE(fresh->Apply(ConfigMap("fresh", "new")));

  Running second = Start(*fresh);
  ASSERT_TRUE(WaitFor([&] { return Converged(*second.informer, *fresh); }, 30s));
  // A fresh storage is another cluster (its kube-system namespace has another UID): the
  // snapshot is refused and the informer lists as on a first start.
  EXPECT_FALSE(second.informer->Stats().started_from_snapshot);
  EXPECT_GE(second.informer->Stats().lists, 1u);
  std::set<std::string> names;
  for (const auto& [key, rv] : CacheState(*second.informer)) names.insert(key);
  EXPECT_EQ(names, (std::set<std::string>{"default/fresh", "default/old-0"}));
  second.factory->Shutdown();
}

TEST_F(InformerSnapshotTest, ServerThatWentBackIsRelistedEvenUnderTheSameIdentity) {
  // The identity is fixed by the user, so the snapshot is accepted: the current version, older
  // than the snapshot's, shows the server went back, and the informer lists from "".
  ApiServerOptions o;
  auto started = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(server->Apply(ConfigMap("old-" + std::to_string(i % 5), std::to_string(i))));
  }
  Start(*server, "my-cluster").factory->Shutdown();
  const uint16_t port = server->Port();
  server->Stop();
  server.reset();
  o.port = port;
  std::unique_ptr<EmbeddedApiServer> fresh;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = EmbeddedApiServer::Start(o);
        if (s) fresh = std::move(*s);
        return fresh != nullptr;
      },
      30s));
  ASSERT_TRUE(fresh->Apply(ConfigMap("fresh", "new")));

  Running second = Start(*fresh, "my-cluster");
  ASSERT_TRUE(WaitFor([&] { return Converged(*second.informer, *fresh); }, 30s));
  InformerStats stats = second.informer->Stats();
  EXPECT_TRUE(stats.started_from_snapshot);
  EXPECT_EQ(stats.relists_after_rv_regression, 1u);
  EXPECT_EQ(stats.lists, 1u);
  std::vector<std::string> events = second.recorder->events();
  std::multiset<std::string> seen(events.begin(), events.end());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(seen.count("relist-delete old-" + std::to_string(i)), 1u);
  EXPECT_EQ(seen.count("add fresh"), 1u);
  second.factory->Shutdown();
}

TEST_F(InformerSnapshotTest, CorruptSnapshotIsRefusedAndTheInformerLists) {
  auto started = EmbeddedApiServer::Start({});
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  ASSERT_TRUE(server->Apply(ConfigMap("a", "1")));
  Start(*server).factory->Shutdown();
  const std::string file = dir_ + "/_v1_configmaps.snap";
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);  // truncated
  Running second = Start(*server);
  EXPECT_FALSE(second.informer->Stats().started_from_snapshot);
  EXPECT_EQ(second.informer->Stats().lists, 1u);
  EXPECT_EQ(second.recorder->events(), std::vector<std::string>{"initial-add a"});
  second.factory->Shutdown();
  // The informer wrote a sound snapshot at Shutdown: the next start is warm again.
  Running third = Start(*server);
  EXPECT_TRUE(third.informer->Stats().started_from_snapshot);
  third.factory->Shutdown();
}

TEST_F(InformerSnapshotTest, SnapshotOfAnotherServerIsRefused) {
  auto a = EmbeddedApiServer::Start({});
  auto b = EmbeddedApiServer::Start({});
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_TRUE((*a)->Apply(ConfigMap("from-a", "1")));
  ASSERT_TRUE((*b)->Apply(ConfigMap("from-b", "1")));
  Start(**a).factory->Shutdown();
  Running other = Start(**b);
  EXPECT_FALSE(other.informer->Stats().started_from_snapshot);
  EXPECT_EQ(other.recorder->events(), std::vector<std::string>{"initial-add from-b"});
  other.factory->Shutdown();
}

}  // namespace
}  // namespace kube

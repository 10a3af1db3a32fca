// Informers against the embedded API server under churn and faults: dropped watches, compacted
// history (410 and relists), failing requests and cut streams. At the end the cache must equal
// the server's state exactly, and replaying each handler's events must give that same state, with
// every object's events in resourceVersion order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

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

using testing::CacheState;
using testing::ReplayHandler;
using testing::ServerState;

class InformerChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions o;
    o.history_size = 64;  // small: resumed watches often find their version compacted
    o.bookmark_interval = 200ms;
    auto server = EmbeddedApiServer::Start(o);
    ASSERT_TRUE(server.has_value()) << server.error();
    server_ = std::move(*server);
    RestConfig config;
    config.server = server_->Url();
    config.timeout = 5s;
    auto http = MakeCurlHttpClient(config);
    ASSERT_TRUE(http.has_value()) << http.error();
    http_ = *http;
  }

  // Creates, updates and deletes ConfigMaps in "default" until `stop`.
  void Churn(std::atomic<bool>& stop, uint32_t seed) {
    std::mt19937 rng(seed);
    int n = 0;
    while (!stop) {
      std::string name = "cm-" + std::to_string(rng() % 40);
      int op = rng() % 10;
      if (op < 2) {
        (void)server_->Delete(kConfigMaps, "default", name);
      } else {
        std::string json = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
                           R"(","namespace":"default"},"data":{"n":")" + std::to_string(++n) +
                           "\"}}";
        (void)server_->Apply(json);
      }
      if (n % 8 == 0) std::this_thread::sleep_for(1ms);
    }
  }

  std::unique_ptr<EmbeddedApiServer> server_;
  std::shared_ptr<HttpClient> http_;
};

TEST_F(InformerChaosTest, CacheAndHandlersConvergeToTheServerUnderChurnAndFaults) {
  SharedInformerFactoryOptions fo;
  fo.default_resync = 1s;
  fo.reflector.backoff_initial = 20ms;  // keep the test short: the behaviour, not the timing
  fo.reflector.backoff_cap = 200ms;
  fo.reflector.min_watch_timeout = 2s;
  auto factory = SharedInformerFactory::Create(http_, fo);
  auto informer = factory->InformerFor(kConfigMaps, {.namespaced = true, .kind = "ConfigMap"});
  std::vector<std::shared_ptr<ReplayHandler>> handlers = {
      std::make_shared<ReplayHandler>(), std::make_shared<ReplayHandler>(),
      std::make_shared<ReplayHandler>(50us)};  // one slow handler
  for (auto& h : handlers) ASSERT_TRUE(informer->AddEventHandler(h).has_value());

  std::atomic<bool> stop{false};
  std::thread churn([&] { Churn(stop, 7); });
  factory->Start();
  ASSERT_TRUE(factory->WaitForCacheSync(30s)[kConfigMaps]);

  // Faults while the churn goes on.
  std::mt19937 rng(11);
  auto end = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < end) {
    switch (rng() % 5) {
      case 0:
        server_->DropWatches();
        break;
      case 1:
        server_->CompactHistory();
        break;
      case 2:
        server_->CutWatchStreams();
        break;
      case 3:
        server_->FailRequests(0.3, rng() % 2 ? 429 : 500, 0s);
        break;
      case 4:
        server_->FailRequests(0, 500);
        break;
    }
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  churn.join();
  server_->FailRequests(0, 500);

  ResourceClient client(http_, kConfigMaps, "default");
  auto want = ServerState(client);
  ASSERT_TRUE(want.has_value()) << want.error();
  // Converged when the cache and every handler's replay equal the server's final state.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  auto converged = [&] {
    if (CacheState(*informer) != *want) return false;
    for (auto& h : handlers) {
      if (h->state() != *want) return false;
    }
    return true;
  };
  while (!converged() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(CacheState(*informer), *want);
  for (auto& h : handlers) {
    EXPECT_EQ(h->state(), *want);
    EXPECT_EQ(h->out_of_order(), 0);
  }
  auto stats = informer->Stats();
  EXPECT_GT(stats.watches, 1u);  // the faults did break watches
  factory->Shutdown();
}

TEST_F(InformerChaosTest, B16DroppedWatchResumesWithoutLosingAnEvent) {
  auto factory = SharedInformerFactory::Create(http_);
  auto informer = factory->InformerFor(kConfigMaps, {.namespaced = true, .kind = "ConfigMap"});
  auto h = std::make_shared<ReplayHandler>();
  ASSERT_TRUE(informer->AddEventHandler(h).has_value());
  factory->Start();
  ASSERT_TRUE(factory->WaitForCacheSync(30s)[kConfigMaps]);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(server_
                    ->Apply(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c)" +
                            std::to_string(i) + R"(","namespace":"default"}})")
                    .has_value());
    if (i % 5 == 0) {
      // Drop only once the watch has delivered something: a watch that closes within 1 s with
      // nothing delivered is a "very short watch" and relists by design (B50).
      std::string key = "default/c" + std::to_string(i);
      auto until = std::chrono::steady_clock::now() + 10s;
      while (!h->state().count(key) && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
      }
      server_->DropWatches();
    }
  }
  ResourceClient client(http_, kConfigMaps, "default");
  auto want = ServerState(client);
  ASSERT_TRUE(want.has_value());
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (h->state() != *want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(h->state(), *want);
  EXPECT_EQ(informer->Stats().relists_after_gone, 0u);  // resumed, never relisted
  EXPECT_EQ(informer->Stats().lists, 1u);
}

TEST_F(InformerChaosTest, B24RelistAfterAnOutageDeletesObjectsThatVanishedMeanwhile) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(server_
                    ->Apply(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"k)" +
                            std::to_string(i) + R"(","namespace":"default"}})")
                    .has_value());
  }
  SharedInformerFactoryOptions fo;
  fo.reflector.backoff_initial = 20ms;
  fo.reflector.backoff_cap = 100ms;
  auto factory = SharedInformerFactory::Create(http_, fo);
  auto informer = factory->InformerFor(kConfigMaps, {.namespaced = true, .kind = "ConfigMap"});
  std::atomic<int> unknown_deletes{0}, known_deletes{0};
  ASSERT_TRUE(informer
                  ->AddEventHandler(ResourceEventHandlerFuncs{.del =
                                                                  [&](const DeletedObject& d) {
                                                                    (d.final_state_unknown()
                                                                         ? unknown_deletes
                                                                         : known_deletes)++;
                                                                  }})
                  .has_value());
  factory->Start();
  ASSERT_TRUE(factory->WaitForCacheSync(30s)[kConfigMaps]);
  // An outage: every request fails and the watch is gone. The deletions happen meanwhile and
  // their history is compacted away, so only a relist can reveal them.
  server_->FailRequests(1.0, 500, 0s);
  server_->DropWatches();
  ASSERT_TRUE(server_->Delete(kConfigMaps, "default", "k0").ok());
  ASSERT_TRUE(server_->Delete(kConfigMaps, "default", "k1").ok());
  server_->CompactHistory();
  server_->FailRequests(0, 500);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (informer->GetIndexer()->Size() != 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(informer->GetIndexer()->Size(), 3u);
  EXPECT_EQ(informer->GetIndexer()->GetByKey("default/k0"), nullptr);
  deadline = std::chrono::steady_clock::now() + 10s;
  while (unknown_deletes.load() + known_deletes.load() < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(unknown_deletes.load(), 2);
  EXPECT_EQ(known_deletes.load(), 0);
  factory->Shutdown();
}

}  // namespace
}  // namespace kube

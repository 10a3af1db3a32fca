// An informer whose server restarts with fresh storage: the new server, on the same port, holds
// other objects at lower resourceVersions than the ones the informer has seen. The informer must
// notice (its resumed watch names a version the new server has not reached), relist with a
// consistent read and end with exactly the new server's state, its handlers told of every
// deletion. Also: a resume from a version the server's byte-bounded history has compacted gets
// 410 and the informer relists and converges.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
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
using testing::KeyVersions;
using testing::ReplayHandler;
using testing::ServerState;

std::string ConfigMap(const std::string& name, const std::string& value) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":"default"},"data":{"v":")" + value + "\"}}";
}

// Deleted keys, as a handler saw them.
class DeleteRecorder : public ResourceEventHandler {
 public:
  void OnAdd(const ObjectPtr&, bool) override {}
  void OnUpdate(const ObjectPtr&, const ObjectPtr&) override {}
  void OnDelete(const DeletedObject& d) override {
    std::lock_guard<std::mutex> l(mu_);
    deleted_.insert(std::string(d.object()->name()));
  }
  std::set<std::string> deleted() const {
    std::lock_guard<std::mutex> l(mu_);
    return deleted_;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> deleted_;
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

SharedInformerFactoryOptions QuickRetries() {
  SharedInformerFactoryOptions fo;
  fo.reflector.backoff_initial = 20ms;  // the behaviour, not the timing
  fo.reflector.backoff_cap = 200ms;
  return fo;
}

TEST(InformerServerRestartTest, ServerRestartedWithFreshStorageIsRelistedAndDeletesDelivered) {
  ApiServerOptions o;
  auto first = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(first.has_value()) << first.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*first);
  const uint16_t port = server->Port();
  // 30 objects, each updated: the old server's versions end far above the new server's.
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(server->Apply(ConfigMap("old-" + std::to_string(i), "a")).has_value());
    ASSERT_TRUE(server->Apply(ConfigMap("old-" + std::to_string(i), "b")).has_value());
  }
  ASSERT_TRUE(server->Apply(ConfigMap("kept", "old")).has_value());

  auto http = ClientFor(*server);
  ASSERT_NE(http, nullptr);
  auto factory = SharedInformerFactory::Create(http, QuickRetries());
  auto informer = factory->InformerFor(kConfigMaps, {.namespaced = true, .kind = "ConfigMap"});
  auto replay = std::make_shared<ReplayHandler>();
  auto deletes = std::make_shared<DeleteRecorder>();
  ASSERT_TRUE(informer->AddEventHandler(replay).has_value());
  ASSERT_TRUE(informer->AddEventHandler(deletes).has_value());
  factory->Start();
  ASSERT_TRUE(factory->WaitForCacheSync(30s)[kConfigMaps]);
  ASSERT_TRUE(WaitFor([&] { return CacheState(*informer).size() == 31; }, 30s));
  // The watch delivers an event, so that its end at the restart is a plain resume from the last
  // version (B16), not a "very short watch" (B50) that relists.
  ASSERT_TRUE(server->Apply(ConfigMap("marker", "old")).has_value());
  ASSERT_TRUE(WaitFor([&] { return replay->state().count("default/marker") == 1; }, 30s));
  const uint64_t old_rv = server->ResourceVersion();

  // The restart: the same port, fresh storage, two objects (one with a name the old server had,
  // holding other data), versions far below the old ones.
  server->Stop();
  server.reset();
  o.port = port;
  std::unique_ptr<EmbeddedApiServer> restarted;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = EmbeddedApiServer::Start(o);
        if (s) restarted = std::move(*s);
        return restarted != nullptr;
      },
      30s));
  ASSERT_TRUE(restarted->Apply(ConfigMap("kept", "new")).has_value());
  ASSERT_TRUE(restarted->Apply(ConfigMap("fresh", "new")).has_value());
  ASSERT_LT(restarted->ResourceVersion(), old_rv);
  // The resumed watch names a version this server has not reached: after the server's wait it
  // fails with 504 Too large, and the informer relists with a consistent read (B58).

  ResourceClient client(http, kConfigMaps, "default");
  auto want = ServerState(client);
  ASSERT_TRUE(want.has_value()) << want.error();
  ASSERT_EQ(want->size(), 2u);
  // Each handler has its own queue: the recorder may see the relist's deletes after the replay.
  EXPECT_TRUE(WaitFor(
      [&] {
        return CacheState(*informer) == *want && replay->state() == *want &&
               deletes->deleted().size() >= 31;
      },
      60s));
  EXPECT_EQ(CacheState(*informer), *want);
  EXPECT_EQ(replay->state(), *want);
  std::set<std::string> deleted = deletes->deleted();
  EXPECT_EQ(deleted.size(), 31u);  // the 30 old ones and the marker
  EXPECT_EQ(deleted.count("kept"), 0u);
  EXPECT_EQ(deleted.count("fresh"), 0u);
  auto kept = informer->GetIndexer()->GetByKey("default/kept");
  ASSERT_NE(kept, nullptr);
  EXPECT_NE(kept->json().find(R"("v":"new")"), std::string_view::npos);
  EXPECT_GE(informer->Stats().lists, 2u);
  factory->Shutdown();
}

TEST(InformerServerRestartTest, ResumeFromAVersionCompactedByTheByteBudgetRelistsAndConverges) {
  ApiServerOptions o;
  o.history_bytes = 64 << 10;  // 64 KiB: a few events of 8 KiB objects
  auto started = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  const std::string big(8 << 10, 'x');
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(server->Apply(ConfigMap("big-" + std::to_string(i), big)).has_value());
  }
  auto http = ClientFor(*server);
  ASSERT_NE(http, nullptr);
  auto factory = SharedInformerFactory::Create(http, QuickRetries());
  auto informer = factory->InformerFor(kConfigMaps, {.namespaced = true, .kind = "ConfigMap"});
  auto replay = std::make_shared<ReplayHandler>();
  ASSERT_TRUE(informer->AddEventHandler(replay).has_value());
  factory->Start();
  ASSERT_TRUE(factory->WaitForCacheSync(30s)[kConfigMaps]);
  // The watch delivers an event first, so that dropping it is a plain resume (B16), not a
  // "very short watch" (B50).
  ASSERT_TRUE(server->Apply(ConfigMap("small", "1")).has_value());
  ASSERT_TRUE(WaitFor([&] { return replay->state().count("default/small") == 1; }, 30s));
  // Every request now waits 300 ms before it is served: the resumed watch reaches the server
  // after the writes below, which take far less.
  server->SetLatency(300ms);
  server->DropWatches();
  // 40 updates of 8 KiB objects (each event holds two 8 KiB states) overflow the 64 KiB history
  // many times over; one object is deleted meanwhile.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(server->Apply(ConfigMap("big-" + std::to_string(i % 4), big + std::to_string(i)))
                    .has_value());
  }
  ASSERT_TRUE(server->Delete(kConfigMaps, "default", "big-4").ok());

  ResourceClient client(http, kConfigMaps, "default");
  auto want = ServerState(client);
  ASSERT_TRUE(want.has_value()) << want.error();
  EXPECT_TRUE(
      WaitFor([&] { return CacheState(*informer) == *want && replay->state() == *want; }, 60s));
  EXPECT_EQ(CacheState(*informer), *want);
  EXPECT_EQ(replay->state(), *want);
  EXPECT_GE(informer->Stats().relists_after_gone, 1u);  // the resume found its version gone
  factory->Shutdown();
}

}  // namespace
}  // namespace kube

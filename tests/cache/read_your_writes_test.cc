// Read-your-writes against the embedded API server: after a write, `WaitForResourceVersion` with
// the version the write returned makes the informer's cache (and so its listers) reflect it. Also
// a quiet informer moved on by a bookmark, the timeout, stops, opaque versions, and many threads
// waiting on different versions while the informer applies writes (label `concurrency`: run under
// ThreadSanitizer).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "cache/resource_version.h"
#include "kube/cache/shared_informer.h"
#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "kube/config/rest_config.h"
#include "kube/informers/factory.h"
#include "kube/informers/typed.h"
#include "kube/server/api_server.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};

std::string ConfigMap(const std::string& ns, const std::string& name, const std::string& value) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":")" + ns + R"("},"data":{"v":")" + value + "\"}}";
}

uint64_t Number(std::string_view rv) {
  std::optional<uint64_t> n = internal::NumericResourceVersion(rv);
  EXPECT_TRUE(n.has_value()) << rv;
  return n.value_or(0);
}

// An embedded server and a factory of informers over HTTP; `ns` limits the informers to one
// namespace ("" = all).
class ReadYourWritesTest : public ::testing::Test {
 protected:
  void Start(ApiServerOptions options = {}, std::string ns = "", bool watch_list = false) {
    auto server = EmbeddedApiServer::Start(options);
    ASSERT_TRUE(server.has_value()) << server.error();
    server_ = std::move(*server);
    RestConfig config;
    config.server = server_->Url();
    config.timeout = 10s;
    auto http = MakeCurlHttpClient(config);
    ASSERT_TRUE(http.has_value()) << http.error();
    http_ = *http;
    SharedInformerFactoryOptions fo;
    fo.ns = std::move(ns);
    fo.reflector.use_watch_list = watch_list;
    factory_ = SharedInformerFactory::Create(http_, std::move(fo));
    informer_ = factory_->InformerFor(kConfigMaps, {.namespaced = true, .kind = "ConfigMap"});
  }
  void Sync() {
    factory_->Start();
    ASSERT_TRUE(factory_->WaitForCacheSync(30s)[kConfigMaps]);
  }
  void TearDown() override {
    if (factory_) factory_->Shutdown();
  }
  // Writes through the server and returns the version the write answered.
  std::string Write(const std::string& ns, const std::string& name, const std::string& value) {
    auto obj = server_->Apply(ConfigMap(ns, name, value));
    EXPECT_TRUE(obj.has_value()) << obj.error();
    return obj ? std::string((*obj)->resource_version()) : "";
  }

  std::unique_ptr<EmbeddedApiServer> server_;
  std::shared_ptr<HttpClient> http_;
  std::shared_ptr<SharedInformerFactory> factory_;
  std::shared_ptr<SharedIndexInformer> informer_;
};

TEST_F(ReadYourWritesTest, WaitReturnsOnceTheListerSeesTheWrite) {
  Start();
  Sync();
  ResourceClient client(http_, kConfigMaps, "default");
  for (int i = 0; i < 20; ++i) {
    auto created = client.Create(ConfigMap("default", "cm-" + std::to_string(i), "x"));
    ASSERT_TRUE(created.has_value()) << created.error();
    const std::string rv((*created)->resource_version());
    Status s = informer_->WaitForResourceVersion(rv, 30s);
    ASSERT_TRUE(s.ok()) << s;
    ObjectPtr cached = informer_->GetIndexer()->GetByKey("default/cm-" + std::to_string(i));
    ASSERT_NE(cached, nullptr) << "after waiting for " << rv;
    EXPECT_EQ(cached->resource_version(), rv);
    EXPECT_GE(Number(informer_->CacheResourceVersion()), Number(rv));
  }
}

// A streaming list (B22): its initial events carry their objects' own versions and move nothing;
// its end bookmark moves the cache to the list's version, and later events as usual.
TEST_F(ReadYourWritesTest, WatchListInformerReachesTheListVersionThenFollowsWrites) {
  Start({}, "", /*watch_list=*/true);
  Write("default", "a", "1");
  Write("default", "b", "1");
  const uint64_t listed = server_->ResourceVersion();
  Sync();
  EXPECT_GE(Number(informer_->CacheResourceVersion()), listed);
  EXPECT_GE(informer_->Stats().lists, 1u);
  const std::string rv = Write("default", "c", "1");
  ASSERT_TRUE(informer_->WaitForResourceVersion(rv, 30s).ok());
  EXPECT_NE(informer_->GetIndexer()->GetByKey("default/c"), nullptr);
}

TEST_F(ReadYourWritesTest, UpdateAndDeleteAreReflectedAfterTheWait) {
  Start();
  Write("default", "a", "1");
  Sync();
  const std::string updated = Write("default", "a", "2");
  ASSERT_TRUE(informer_->WaitForResourceVersion(updated, 30s).ok());
  ObjectPtr cached = informer_->GetIndexer()->GetByKey("default/a");
  ASSERT_NE(cached, nullptr);
  EXPECT_THAT(std::string(cached->json()), HasSubstr(R"("v":"2")"));

  // A delete answers no object here: the server's version right after it is the delete's.
  ASSERT_TRUE(server_->Delete(kConfigMaps, "default", "a").ok());
  const std::string deleted = std::to_string(server_->ResourceVersion());
  ASSERT_TRUE(informer_->WaitForResourceVersion(deleted, 30s).ok());
  EXPECT_EQ(informer_->GetIndexer()->GetByKey("default/a"), nullptr);
}

TEST_F(ReadYourWritesTest, VersionTheCacheHasPassedReturnsWithoutWaiting) {
  Start();
  const std::string old_rv = Write("default", "a", "1");
  Write("default", "b", "1");
  Sync();
  // A zero timeout still answers OK: nothing to wait for.
  EXPECT_TRUE(informer_->WaitForResourceVersion(old_rv, 0ms).ok());
  EXPECT_TRUE(informer_->WaitForResourceVersion("1", 0ms).ok());
  EXPECT_TRUE(informer_->WaitForResourceVersion(informer_->CacheResourceVersion(), 0ms).ok());
}

// The informer watches namespace `quiet`, where nothing changes: a write elsewhere sends it no
// event, and only the server's periodic bookmark (at the server's current version) moves it.
TEST_F(ReadYourWritesTest, QuietInformerIsMovedOnByABookmark) {
  ApiServerOptions options;
  options.bookmark_interval = 100ms;
  Start(options, "quiet");
  Sync();
  const uint64_t watch_events_before = informer_->Stats().watch_events;
  const std::string rv = Write("default", "elsewhere", "1");
  Status s = informer_->WaitForResourceVersion(rv, 30s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GE(Number(informer_->CacheResourceVersion()), Number(rv));
  EXPECT_EQ(informer_->GetIndexer()->Size(), 0u);
  EXPECT_GT(informer_->Stats().watch_events, watch_events_before);  // the bookmark
}

TEST_F(ReadYourWritesTest, QuietInformerTimesOutNamingBothVersions) {
  Start({}, "quiet");  // bookmarks every 60 s
  Sync();
  const std::string cache_rv = informer_->CacheResourceVersion();
  const std::string rv = Write("default", "elsewhere", "1");
  Status s = informer_->WaitForResourceVersion(rv, 50ms);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(s.message(), HasSubstr("is at resourceVersion " + cache_rv));
  EXPECT_THAT(s.message(), HasSubstr("not yet at resourceVersion " + rv));
}

TEST_F(ReadYourWritesTest, ShutdownCancelsTheWait) {
  Start();
  Sync();
  const std::string far = std::to_string(server_->ResourceVersion() + 1000000);
  auto waiter =
      std::async(std::launch::async, [&] { return informer_->WaitForResourceVersion(far, 60s); });
  // Whether the shutdown comes before or during the wait, the answer is the same.
  factory_->Shutdown();
  Status s = waiter.get();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s;
  EXPECT_THAT(s.message(), HasSubstr("the informer stopped"));
}

TEST_F(ReadYourWritesTest, OpaqueVersionIsInvalidArgument) {
  Start();
  Sync();
  Status s = informer_->WaitForResourceVersion("not-a-number", 30s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr(R"(resourceVersion "not-a-number" is not an unsigned)"));
}

TEST_F(ReadYourWritesTest, TypedInformerWaitsForItsWrites) {
  Start();
  ConfigMapInformer config_maps = factory_->Core().V1().ConfigMaps();
  Sync();
  const std::string rv = Write("default", "typed", "1");
  ASSERT_TRUE(config_maps.WaitForResourceVersion(rv, 30s).ok());
  EXPECT_TRUE(config_maps.Lister().ConfigMaps("default").Get("typed").has_value());
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(config_maps.WaitForResourceVersion("999999999", 30s, stop.get_token()).code(),
            StatusCode::kCancelled);
}

// Many threads wait on different versions while a writer changes 30 objects 300 times: each
// waiter sees its own write in the cache once answered; waiters that time out leave, and waiters
// on versions never reached are cancelled by the shutdown.
TEST_F(ReadYourWritesTest, ManyWaitersOnDifferentVersionsAllSeeTheirWrites) {
  Start();
  Sync();
  constexpr int kWrites = 300;
  constexpr int kWaiters = 8;
  struct Written {
    std::string key, rv;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Written> written;  // by write index, guarded by `mu`

  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      const std::string name = "cm-" + std::to_string(i % 30);
      const std::string rv = Write("default", name, std::to_string(i));
      std::lock_guard<std::mutex> l(mu);
      written.push_back({"default/" + name, rv});
      cv.notify_all();
    }
  });
  std::atomic<int> answered{0}, timed_out{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < kWaiters; ++t) {
    waiters.emplace_back([&, t] {
      for (int i = t; i < kWrites; i += kWaiters) {
        Written w;
        {
          std::unique_lock<std::mutex> l(mu);
          if (!cv.wait_for(l, 60s, [&] { return static_cast<int>(written.size()) > i; })) {
            ADD_FAILURE() << "write " << i << " never happened";
            return;
          }
          w = written[i];
        }
        Status s = informer_->WaitForResourceVersion(w.rv, 60s);
        if (!s.ok()) {
          ADD_FAILURE() << "write " << i << " at " << w.rv << ": " << s;
          continue;
        }
        ObjectPtr cached = informer_->GetIndexer()->GetByKey(w.key);
        if (cached == nullptr || Number(cached->resource_version()) < Number(w.rv)) {
          ADD_FAILURE() << w.key << " not reflected after waiting for " << w.rv;
        }
        answered.fetch_add(1);
        // A short wait far ahead: joins and leaves the waiters while others are answered.
        Status ahead =
            informer_->WaitForResourceVersion(std::to_string(Number(w.rv) + 1000000000), 1ms);
        if (ahead.code() == StatusCode::kDeadlineExceeded) timed_out.fetch_add(1);
      }
    });
  }
  std::vector<std::future<Status>> never;
  for (int i = 0; i < 4; ++i) {
    never.push_back(std::async(std::launch::async, [&, i] {
      return informer_->WaitForResourceVersion(std::to_string(uint64_t{1} << (40 + i)), 120s);
    }));
  }
  writer.join();
  for (auto& w : waiters) w.join();
  EXPECT_EQ(answered.load(), kWrites);
  EXPECT_EQ(timed_out.load(), kWrites);
  factory_->Shutdown();
  for (auto& n : never) EXPECT_EQ(n.get().code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace kube

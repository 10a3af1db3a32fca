// EmbeddedApiServer fault injection: dropped watches, compacted history, 429/500 failures,
// latency and streams cut mid-event.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;

constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";

class ApiServerFaultTest : public ApiServerFixture {
 protected:
  std::string Now() const { return std::to_string(server_->ResourceVersion()); }
};

TEST_F(ApiServerFaultTest, DropWatchesEndsEveryStream) {
  auto w1 = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Now());
  auto w2 = Watch("/api/v1/pods?watch=true&resourceVersion=" + Now());
  ASSERT_TRUE(WaitFor([&] { return server().WatchCount() == 2; }));
  server().DropWatches();
  EXPECT_TRUE(w1->WaitDone());
  EXPECT_TRUE(w2->WaitDone());
  EXPECT_TRUE(WaitFor([&] { return server().WatchCount() == 0; }));
  // New watches work again.
  auto w3 = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Now());
  MustCreate(ConfigMapJson("default", "after"));
  auto e = w3->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ADDED");
}

TEST_F(ApiServerFaultTest, CompactHistoryMakesResumedWatchesExpire) {
  std::string before = Now();
  MustCreate(ConfigMapJson("default", "a"));
  auto live = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Now());
  server().CompactHistory();
  // An established watch keeps streaming.
  MustCreate(ConfigMapJson("default", "b"));
  auto e = live->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ADDED");
  // Resuming from before the compaction: 410 in an ERROR event.
  auto resumed = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + before);
  auto err = resumed->Next();
  ASSERT_TRUE(err);
  EXPECT_EQ((*err)["type"], "ERROR");
  EXPECT_EQ((*err)["object"]["code"], 410);
  EXPECT_EQ((*err)["object"]["reason"], "Expired");
}

TEST_F(ApiServerFaultTest, FailRequestsWithTooManyRequestsAndRetryAfter) {
  server().FailRequests(1.0, 429, std::chrono::seconds(3));
  HttpResult r = Get(kConfigMaps);
  EXPECT_EQ(r.code, 429);
  EXPECT_EQ(r.headers["retry-after"], "3");
  json s = r.Json();
  EXPECT_EQ(s["reason"], "TooManyRequests");
  EXPECT_EQ(s["code"], 429);
  EXPECT_EQ(s["details"]["retryAfterSeconds"], 3);
  // Health checks are never failed.
  EXPECT_EQ(Get("/readyz").code, 200);
  server().FailRequests(0, 429);
  EXPECT_EQ(Get(kConfigMaps).code, 200);
}

TEST_F(ApiServerFaultTest, FailRequestsWithInternalError) {
  server().FailRequests(1.0, 500);
  HttpResult r = Post(kConfigMaps, ConfigMapJson("default", "x"));
  EXPECT_EQ(r.code, 500);
  EXPECT_EQ(r.Json()["reason"], "InternalError");
  server().FailRequests(0, 500);
  // The failed create did not happen.
  EXPECT_EQ(Get(std::string(kConfigMaps) + "/x").code, 404);
}

TEST_F(ApiServerFaultTest, FailFractionIsDeterministicAndPartial) {
  server().FailRequests(0.5, 500);
  int failed = 0;
  for (int i = 0; i < 40; ++i) failed += Get(kConfigMaps).code == 500;
  EXPECT_GT(failed, 5);
  EXPECT_LT(failed, 35);

  // Two servers with the same fault seed fail the same requests.
  auto a = EmbeddedApiServer::Start(Options());
  auto b = EmbeddedApiServer::Start(Options());
  ASSERT_TRUE(a && b);
  (*a)->FailRequests(0.5, 500);
  (*b)->FailRequests(0.5, 500);
  TestHttpClient ca((*a)->Url()), cb((*b)->Url());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ca.Get(kConfigMaps).code, cb.Get(kConfigMaps).code) << i;
}

TEST_F(ApiServerFaultTest, LatencyDelaysButServes) {
  server().SetLatency(std::chrono::milliseconds(50));
  HttpResult r = Get(kConfigMaps);
  EXPECT_EQ(r.code, 200);
  server().SetLatency(std::chrono::milliseconds(0));
}

TEST_F(ApiServerFaultTest, CutWatchStreamsMidEvent) {
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Now());
  server().CutWatchStreams();
  MustCreate(ConfigMapJson("default", "victim"));
  EXPECT_TRUE(w->WaitDone());
  EXPECT_FALSE(w->ended_cleanly());  // no final chunk: the client sees a broken stream
  EXPECT_FALSE(w->Next(std::chrono::milliseconds(10)));  // no complete line arrived
  std::string partial = w->Leftover();
  EXPECT_THAT(partial, ::testing::StartsWith(R"({"type":"ADDED","object":)"));
  EXPECT_TRUE(json::parse(partial, nullptr, false).is_discarded());
  EXPECT_TRUE(WaitFor([&] { return server().WatchCount() == 0; }));
}

}  // namespace
}  // namespace kube::testing

// EmbeddedApiServer watches: framing, starting points, bookmarks, streaming lists, timeouts,
// selector transitions and the 410 ERROR event of a too-old resourceVersion.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";

std::string Rv(const json& obj) { return obj["metadata"]["resourceVersion"]; }

class ApiServerWatchTest : public ApiServerFixture {};

TEST_F(ApiServerWatchTest, WatchFromResourceVersionStreamsChangesInOrder) {
  json a = MustCreate(ConfigMapJson("default", "a"));
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Rv(a));
  EXPECT_EQ(w->status(), 200);
  json b = MustCreate(ConfigMapJson("default", "b"));
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "a", {}, "v2")));
  ASSERT_TRUE(server().Delete({"", "v1", "configmaps"}, "default", "b").ok());

  auto e1 = w->Next();
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["type"], "ADDED");
  EXPECT_EQ((*e1)["object"]["metadata"]["name"], "b");
  EXPECT_EQ((*e1)["object"]["kind"], "ConfigMap");
  EXPECT_EQ((*e1)["object"]["apiVersion"], "v1");
  auto e2 = w->Next();
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["type"], "MODIFIED");
  EXPECT_EQ((*e2)["object"]["data"]["k"], "v2");
  auto e3 = w->Next();
  ASSERT_TRUE(e3);
  EXPECT_EQ((*e3)["type"], "DELETED");
  EXPECT_EQ((*e3)["object"]["metadata"]["name"], "b");
  // The deletion has its own, newer resourceVersion.
  EXPECT_GT(std::stoull(Rv((*e3)["object"])), std::stoull(Rv((*e2)["object"])));
  EXPECT_EQ(std::stoull(Rv((*e3)["object"])), server().ResourceVersion());
}

TEST_F(ApiServerWatchTest, WatchReplaysChangesAfterTheGivenVersion) {
  json a = MustCreate(ConfigMapJson("default", "a"));
  MustCreate(ConfigMapJson("default", "b"));
  MustCreate(ConfigMapJson("default", "c"));
  auto w = Watch(std::string(kConfigMaps) + "?watch=1&resourceVersion=" + Rv(a));
  auto e1 = w->Next();
  auto e2 = w->Next();
  ASSERT_TRUE(e1 && e2);
  EXPECT_EQ((*e1)["object"]["metadata"]["name"], "b");
  EXPECT_EQ((*e2)["object"]["metadata"]["name"], "c");
}

TEST_F(ApiServerWatchTest, WatchWithoutVersionStartsWithSyntheticAdded) {
  MustCreate(ConfigMapJson("default", "a"));
  MustCreate(ConfigMapJson("default", "b"));
  for (const char* rv : {"", "&resourceVersion=0"}) {
    SCOPED_TRACE(rv);
    auto w = Watch(std::string(kConfigMaps) + "?watch=true" + rv);
    auto e1 = w->Next();
    auto e2 = w->Next();
    ASSERT_TRUE(e1 && e2);
    EXPECT_EQ((*e1)["type"], "ADDED");
    EXPECT_EQ((*e2)["type"], "ADDED");
    MustCreate(ConfigMapJson("default", std::string("later") + (rv[0] ? "0" : "")));
    auto e3 = w->Next();
    ASSERT_TRUE(e3);
    EXPECT_EQ((*e3)["type"], "ADDED");
    EXPECT_THAT((*e3)["object"]["metadata"]["name"].get<std::string>(), HasSubstr("later"));
  }
}

TEST_F(ApiServerWatchTest, KubectlGetWatchOneObjectByName) {
  MustCreate(ConfigMapJson("default", "a"));
  MustCreate(ConfigMapJson("default", "b"));
  auto w = Watch(std::string(kConfigMaps) +
                 "?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Db");
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ADDED");
  EXPECT_EQ((*e)["object"]["metadata"]["name"], "b");
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "a", {}, "x")));
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "b", {}, "y")));
  auto m = w->Next();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "MODIFIED");
  EXPECT_EQ((*m)["object"]["metadata"]["name"], "b");
}

TEST_F(ApiServerWatchTest, OneEventPerLineCompactJson) {
  json a = MustCreate(ConfigMapJson("default", "a"));
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Rv(a));
  for (int i = 0; i < 20; ++i) MustCreate(ConfigMapJson("default", "n" + std::to_string(i)));
  for (int i = 0; i < 20; ++i) {
    auto e = w->Next();
    ASSERT_TRUE(e) << i;
    ASSERT_TRUE(e->is_object()) << "event " << i << " is not one JSON line";
    EXPECT_EQ((*e)["object"]["metadata"]["name"], "n" + std::to_string(i));
  }
}

TEST_F(ApiServerWatchTest, HeadersArriveBeforeAnyEvent) {
  // A quiet collection: the 200 header must still arrive at once.
  auto w = Watch("/apis/apps/v1/namespaces/default/deployments?watch=true&resourceVersion=" +
                 std::to_string(server().ResourceVersion()));
  EXPECT_EQ(w->status(), 200);
  EXPECT_FALSE(w->Next(std::chrono::milliseconds(50)));
}

TEST_F(ApiServerWatchTest, WatchFromCompactedVersionGetsExpiredErrorEvent) {
  json a = MustCreate(ConfigMapJson("default", "a"));
  MustCreate(ConfigMapJson("default", "b"));
  server().CompactHistory();
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Rv(a));
  EXPECT_EQ(w->status(), 200);
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ERROR");
  json s = (*e)["object"];
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["apiVersion"], "v1");
  EXPECT_EQ(s["status"], "Failure");
  EXPECT_EQ(s["reason"], "Expired");
  EXPECT_EQ(s["code"], 410);
  EXPECT_EQ(s["message"], "too old resource version: " + Rv(a) + " (" +
                              std::to_string(server().ResourceVersion()) + ")");
  EXPECT_TRUE(w->WaitDone());
  EXPECT_TRUE(w->ended_cleanly());
  EXPECT_FALSE(w->Next(std::chrono::milliseconds(10)));
}

TEST_F(ApiServerWatchTest, HistoryWindowIsBounded) {
  // The fixture's window is 10000 events; a smaller server shows the bound.
  ApiServerOptions o = Options();
  o.history_size = 5;
  auto small = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(small) << small.error();
  auto first = (*small)->Create(ConfigMapJson("default", "first"));
  ASSERT_TRUE(first);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*small)->Create(ConfigMapJson("default", "n" + std::to_string(i))));
  }
  WatchClient old((*small)->Url() + kConfigMaps +
                      "?watch=true&resourceVersion=" + std::string((*first)->resource_version()),
                  {});
  auto e = old.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ERROR");
  EXPECT_EQ((*e)["object"]["code"], 410);
  // Within the window: fine.
  uint64_t recent = (*small)->ResourceVersion() - 3;
  WatchClient ok(
      (*small)->Url() + kConfigMaps + "?watch=true&resourceVersion=" + std::to_string(recent), {});
  auto e2 = ok.Next();
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["type"], "ADDED");
}

// A server whose requests for versions it has not reached wait `wait` for them.
std::unique_ptr<EmbeddedApiServer> ServerWaiting(ApiServerOptions o,
                                                 std::chrono::milliseconds wait) {
  o.resource_version_wait = wait;
  auto srv = EmbeddedApiServer::Start(o);
  EXPECT_TRUE(srv) << srv.error();
  return srv ? std::move(*srv) : nullptr;
}

TEST_F(ApiServerWatchTest, WatchFromAFutureVersionWaitsThenFailsWithTooLarge) {
  auto srv = ServerWaiting(Options(), std::chrono::milliseconds(300));
  ASSERT_NE(srv, nullptr);
  ASSERT_TRUE(srv->Create(ConfigMapJson("default", "a")));
  const uint64_t current = srv->ResourceVersion();
  const uint64_t future = current + 100;
  WatchClient w(srv->Url() + kConfigMaps + "?watch=true&resourceVersion=" + std::to_string(future),
                {});
  ASSERT_TRUE(WaitFor([&] { return srv->WaitingRequestCount() == 1; }));
  // Changes meanwhile have lower versions than asked for: never sent.
  ASSERT_TRUE(srv->Create(ConfigMapJson("default", "b")));
  auto e = w.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(w.status(), 200);  // as kube-apiserver: the failure comes inside the stream
  EXPECT_EQ((*e)["type"], "ERROR");
  json st = (*e)["object"];
  EXPECT_EQ(st["kind"], "Status");
  EXPECT_EQ(st["code"], 504);
  EXPECT_EQ(st["reason"], "Timeout");
  EXPECT_EQ(st["message"], "Timeout: Too large resource version: " + std::to_string(future) +
                               ", current: " + std::to_string(current + 1));
  EXPECT_EQ(st["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
  EXPECT_EQ(st["details"]["causes"][0]["message"], "Too large resource version");
  EXPECT_EQ(st["details"]["retryAfterSeconds"], 1);
  EXPECT_TRUE(w.WaitDone());
  EXPECT_TRUE(w.ended_cleanly());
  EXPECT_EQ(srv->WatchCount(), 0u);
}

TEST_F(ApiServerWatchTest, WatchFromAFutureVersionStartsOnceTheServerReachesIt) {
  auto srv = ServerWaiting(Options(), std::chrono::seconds(60));
  ASSERT_NE(srv, nullptr);
  const uint64_t from = srv->ResourceVersion() + 2;
  WatchClient w(srv->Url() + kConfigMaps + "?watch=true&resourceVersion=" + std::to_string(from),
                {});
  ASSERT_TRUE(WaitFor([&] { return srv->WaitingRequestCount() == 1; }));
  EXPECT_EQ(srv->WatchCount(), 0u);  // no watcher, no 200 yet: the request waits
  for (const char* name : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(srv->Create(ConfigMapJson("default", name)));
  }
  auto e1 = w.Next();
  auto e2 = w.Next();
  ASSERT_TRUE(e1 && e2);
  EXPECT_EQ((*e1)["type"], "ADDED");
  EXPECT_EQ((*e1)["object"]["metadata"]["name"], "c");
  EXPECT_EQ(Rv((*e1)["object"]), std::to_string(from + 1));
  EXPECT_EQ((*e2)["object"]["metadata"]["name"], "d");
}

TEST_F(ApiServerWatchTest, StreamingListFromAFutureVersionWaitsThenFailsWithTooLarge) {
  auto srv = ServerWaiting(Options(), std::chrono::milliseconds(300));
  ASSERT_NE(srv, nullptr);
  const uint64_t future = srv->ResourceVersion() + 50;
  WatchClient w(srv->Url() + kConfigMaps +
                    "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                    "&allowWatchBookmarks=true&resourceVersion=" +
                    std::to_string(future),
                {});
  auto e = w.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(w.status(), 200);
  EXPECT_EQ((*e)["type"], "ERROR");
  EXPECT_EQ((*e)["object"]["code"], 504);
  EXPECT_EQ((*e)["object"]["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
}

TEST_F(ApiServerWatchTest, StopEndsRequestsWaitingForAVersion) {
  auto srv = ServerWaiting(Options(), std::chrono::minutes(10));
  ASSERT_NE(srv, nullptr);
  WatchClient w(srv->Url() + kConfigMaps +
                    "?watch=true&resourceVersion=" + std::to_string(srv->ResourceVersion() + 10),
                {});
  HttpResult list;
  std::thread lister([&] {
    list = TestHttpClient(srv->Url())
               .Get(std::string(kConfigMaps) +
                    "?resourceVersion=" + std::to_string(srv->ResourceVersion() + 10));
  });
  ASSERT_TRUE(WaitFor([&] { return srv->WaitingRequestCount() == 2; }));
  srv->Stop();  // the server object lives on: only Stop may end the waits
  EXPECT_TRUE(w.WaitDone(std::chrono::seconds(30)));
  lister.join();
  EXPECT_NE(list.code, 200);
}

TEST_F(ApiServerWatchTest, ResumeFromAVersionTheByteBudgetCompactedIsExpired) {
  ApiServerOptions o = Options();
  o.history_bytes = 64 << 10;
  auto srv = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(srv) << srv.error();
  auto first = (*srv)->Create(ConfigMapJson("default", "big", {}, "0"));
  ASSERT_TRUE(first);
  const std::string big(16 << 10, 'x');
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*srv)->Apply(ConfigMapJson("default", "big", {}, big + std::to_string(i))));
  }
  WatchClient old((*srv)->Url() + kConfigMaps +
                      "?watch=true&resourceVersion=" + std::string((*first)->resource_version()),
                  {});
  auto e = old.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ERROR");
  EXPECT_EQ((*e)["object"]["code"], 410);
  // The newest events fit the budget: a resume from just before the last change works.
  WatchClient recent((*srv)->Url() + kConfigMaps + "?watch=true&resourceVersion=" +
                         std::to_string((*srv)->ResourceVersion() - 1),
                     {});
  auto e2 = recent.Next();
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["type"], "MODIFIED");
}

TEST_F(ApiServerWatchTest, BookmarksWhenAllowed) {
  json a = MustCreate(ConfigMapJson("default", "a"));
  MustCreate(
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"}})");
  auto w = Watch(std::string(kConfigMaps) +
                 "?watch=true&allowWatchBookmarks=true&resourceVersion=" + Rv(a));
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "BOOKMARK");
  EXPECT_EQ((*e)["object"]["kind"], "ConfigMap");
  EXPECT_EQ((*e)["object"]["apiVersion"], "v1");
  // Everything up to now has been sent, including the Secret's version.
  EXPECT_EQ(std::stoull(Rv((*e)["object"])), server().ResourceVersion());
  EXPECT_FALSE((*e)["object"]["metadata"].contains("annotations"));
}

TEST(ApiServerOptionsTest, BookmarkIntervalMustBePositive) {
  for (auto interval : {std::chrono::milliseconds(0), std::chrono::milliseconds(-5)}) {
    ApiServerOptions o;
    o.bookmark_interval = interval;
    auto server = EmbeddedApiServer::Start(o);
    ASSERT_FALSE(server.has_value());
    EXPECT_EQ(server.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(server.error().message(), HasSubstr("bookmark_interval must be positive"));
  }
}

TEST_F(ApiServerWatchTest, NoBookmarksUnlessAllowed) {
  json a = MustCreate(ConfigMapJson("default", "a"));
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=" + Rv(a));
  // Several bookmark periods (200 ms in the fixture) pass without an event.
  EXPECT_FALSE(w->Next(std::chrono::milliseconds(700)));
}

TEST_F(ApiServerWatchTest, StreamingListEndsInitialEventsWithAnnotatedBookmark) {
  MustCreate(ConfigMapJson("default", "a"));
  MustCreate(ConfigMapJson("default", "b"));
  uint64_t snapshot = server().ResourceVersion();
  auto w = Watch(std::string(kConfigMaps) +
                 "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                 "&allowWatchBookmarks=true&resourceVersion=");
  auto e1 = w->Next();
  auto e2 = w->Next();
  auto end = w->Next();
  ASSERT_TRUE(e1 && e2 && end);
  EXPECT_EQ((*e1)["type"], "ADDED");
  EXPECT_EQ((*e2)["type"], "ADDED");
  EXPECT_EQ((*end)["type"], "BOOKMARK");
  EXPECT_EQ((*end)["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
  EXPECT_EQ(Rv((*end)["object"]), std::to_string(snapshot));
  MustCreate(ConfigMapJson("default", "c"));
  auto e3 = w->NextNonBookmark();
  ASSERT_TRUE(e3);
  EXPECT_EQ((*e3)["type"], "ADDED");
  EXPECT_EQ((*e3)["object"]["metadata"]["name"], "c");
  // Later bookmarks carry no annotation.
  auto b = w->Next();
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)["type"], "BOOKMARK");
  EXPECT_FALSE((*b)["object"]["metadata"].contains("annotations"));
}

TEST_F(ApiServerWatchTest, StreamingListParametersAreValidated) {
  HttpResult no_rvm =
      Get(std::string(kConfigMaps) + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true");
  EXPECT_EQ(no_rvm.code, 422);
  EXPECT_THAT(no_rvm.Json()["message"].get<std::string>(), HasSubstr("resourceVersionMatch"));
  HttpResult no_bookmarks =
      Get(std::string(kConfigMaps) +
          "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan");
  EXPECT_EQ(no_bookmarks.code, 422);
  HttpResult rvm_alone =
      Get(std::string(kConfigMaps) + "?watch=true&resourceVersion=1&resourceVersionMatch=Exact");
  EXPECT_EQ(rvm_alone.code, 422);
}

TEST_F(ApiServerWatchTest, SendInitialEventsFalseIsAPlainWatch) {
  MustCreate(ConfigMapJson("default", "a"));
  auto w = Watch(std::string(kConfigMaps) +
                 "?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan");
  MustCreate(ConfigMapJson("default", "b"));
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["object"]["metadata"]["name"], "b");
}

TEST_F(ApiServerWatchTest, TimeoutSecondsEndsTheStreamCleanly) {
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&timeoutSeconds=1&resourceVersion=" +
                 std::to_string(server().ResourceVersion()));
  EXPECT_TRUE(w->WaitDone(std::chrono::seconds(10)));
  EXPECT_TRUE(w->ended_cleanly());
  EXPECT_TRUE(WaitFor([&] { return server().WatchCount() == 0; }));
}

TEST_F(ApiServerWatchTest, NegativeTimeoutSecondsEndsTheStreamAtOnce) {
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&timeoutSeconds=-1&resourceVersion=" +
                 std::to_string(server().ResourceVersion()));
  EXPECT_TRUE(w->WaitDone(std::chrono::seconds(10)));  // not the 30-minute default
  EXPECT_TRUE(w->ended_cleanly());
}

TEST_F(ApiServerWatchTest, SelectorTransitionsAreAddedAndDeleted) {
  MustCreate(ConfigMapJson("default", "x", {{"app", "blue"}}));
  auto w =
      Watch(std::string(kConfigMaps) + "?watch=true&labelSelector=app%3Dgreen&resourceVersion=" +
            std::to_string(server().ResourceVersion()));
  // Enters the selector: ADDED.
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "x", {{"app", "green"}})));
  auto in = w->Next();
  ASSERT_TRUE(in);
  EXPECT_EQ((*in)["type"], "ADDED");
  EXPECT_EQ((*in)["object"]["metadata"]["labels"]["app"], "green");
  // Changes within: MODIFIED.
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "x", {{"app", "green"}}, "v2")));
  auto mod = w->Next();
  ASSERT_TRUE(mod);
  EXPECT_EQ((*mod)["type"], "MODIFIED");
  // Leaves it: DELETED with the previous state, stamped with the new resourceVersion.
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "x", {{"app", "red"}}, "v2")));
  auto out = w->Next();
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)["type"], "DELETED");
  EXPECT_EQ((*out)["object"]["metadata"]["labels"]["app"], "green");
  EXPECT_EQ(std::stoull(Rv((*out)["object"])), server().ResourceVersion());
  // Changes outside: nothing.
  ASSERT_TRUE(server().Apply(ConfigMapJson("default", "x", {{"app", "red"}}, "v3")));
  ASSERT_TRUE(server().Delete({"", "v1", "configmaps"}, "default", "x").ok());
  EXPECT_FALSE(w->Next(std::chrono::milliseconds(100)));
}

TEST_F(ApiServerWatchTest, NamespaceScopedWatchSeesOnlyItsNamespace) {
  auto w = Watch(std::string(kConfigMaps) +
                 "?watch=true&resourceVersion=" + std::to_string(server().ResourceVersion()));
  MustCreate(ConfigMapJson("kube-system", "other"));
  MustCreate(ConfigMapJson("default", "mine"));
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["object"]["metadata"]["name"], "mine");
  auto all = Watch("/api/v1/configmaps?watch=true&resourceVersion=1");
  auto first = all->NextNonBookmark();
  ASSERT_TRUE(first);
}

TEST_F(ApiServerWatchTest, LegacyWatchPathPrefix) {
  auto w = Watch("/api/v1/watch/namespaces/default/configmaps?resourceVersion=" +
                 std::to_string(server().ResourceVersion()));
  MustCreate(ConfigMapJson("default", "a"));
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ADDED");
}

TEST_F(ApiServerWatchTest, TableWatchForKubectl) {
  MustCreate(ConfigMapJson("default", "a"));
  auto w = Watch(std::string(kConfigMaps) + "?watch=true&resourceVersion=0",
                 {"Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json"});
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "ADDED");
  EXPECT_EQ((*e)["object"]["kind"], "Table");
  EXPECT_FALSE((*e)["object"]["columnDefinitions"].empty());
  MustCreate(ConfigMapJson("default", "b"));
  auto e2 = w->Next();
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["object"]["kind"], "Table");
  EXPECT_EQ((*e2)["object"]["rows"][0]["cells"][0], "b");
}

TEST_F(ApiServerWatchTest, ClientDisconnectReleasesTheWatcher) {
  {
    auto w = Watch(std::string(kConfigMaps) +
                   "?watch=true&resourceVersion=" + std::to_string(server().ResourceVersion()));
    EXPECT_TRUE(WaitFor([&] { return server().WatchCount() == 1; }));
  }
  EXPECT_TRUE(WaitFor([&] { return server().WatchCount() == 0; }));
}

TEST_F(ApiServerWatchTest, SlowWatcherPastItsQueueLimitIsClosed) {
  ApiServerOptions o = Options();
  o.watch_queue_limit = 3;
  auto srv = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(srv) << srv.error();
  // Flooded in-process faster than the session thread drains (a few events between two drains
  // overflow a queue of 3); bounded rounds.
  WatchClient w((*srv)->Url() + kConfigMaps +
                    "?watch=true&resourceVersion=" + std::to_string((*srv)->ResourceVersion()),
                {});
  ASSERT_TRUE(w.WaitForHeaders());
  bool closed = false;
  for (int round = 0; round < 50 && !closed; ++round) {
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE((*srv)->Apply(ConfigMapJson("default", "flood", {}, std::to_string(i))));
    }
    closed = w.WaitDone(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(closed) << "the watcher was never closed for lagging";
}

}  // namespace
}  // namespace kube::testing

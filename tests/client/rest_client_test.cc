// Tests for ResourceClient against a scripted server: URLs and queries, typed errors from Status
// and non-Status bodies, the pull Watch (including Stop() latency) and WatchAsync.
#include "kube/client/rest_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/client/scripted_server.h"
#include "tests/testing/fake_watch.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using testing::FakeWatch;
using ::testing::HasSubstr;
using testing::ScriptedConn;
using testing::ScriptedRequest;
using testing::ScriptedServer;
using ::testing::SizeIs;

// Generous slack for sanitizer builds, which slow every thread hand-off; the plain build is held
// to the 100 ms the issue asks for.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr auto kStopBound = std::chrono::milliseconds(500);
#else
constexpr auto kStopBound = std::chrono::milliseconds(100);
#endif

const GroupVersionResource kPods{"", "v1", "pods"};
const GroupVersionResource kDeployments{"apps", "v1", "deployments"};

std::string StatusBody(int code, std::string_view reason, std::string_view message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)" +
         kube::JsonQuote(message) + R"(,"reason":")" + std::string(reason) + R"(","code":)" +
         std::to_string(code) + "}";
}

std::string PodJson(std::string_view name, std::string_view rv) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + std::string(name) +
         R"(","namespace":"default","resourceVersion":")" + std::string(rv) + R"("}})";
}

std::string Frame(std::string_view type, std::string_view object) {
  return R"({"type":")" + std::string(type) + R"(","object":)" + std::string(object) + "}\n";
}

std::shared_ptr<HttpClient> ClientFor(const ScriptedServer& server) {
  RestConfig c;
  c.server = server.url();
  HttpClientOptions options;
  options.retry_wait = [](std::chrono::seconds) { return false; };  // errors surface at once
  return *MakeCurlHttpClient(c, options);
}

TEST(ResourceClientTest, BuildsPathsForEveryScope) {
  ResourceClient pods(nullptr, kPods, "default");
  EXPECT_EQ(pods.Path(), "/api/v1/namespaces/default/pods");
  EXPECT_EQ(pods.Path("web-1"), "/api/v1/namespaces/default/pods/web-1");
  EXPECT_EQ(pods.Path("web-1", "status"), "/api/v1/namespaces/default/pods/web-1/status");
  EXPECT_EQ(pods.InNamespace("").Path(), "/api/v1/pods");
  ResourceClient deployments(nullptr, kDeployments);
  EXPECT_EQ(deployments.Path(), "/apis/apps/v1/deployments");
  EXPECT_EQ(deployments.Path("", "", "kube-system"),
            "/apis/apps/v1/namespaces/kube-system/deployments");
  ResourceClient nodes(nullptr, {"", "v1", "nodes"});
  EXPECT_EQ(nodes.Path("node-1"), "/api/v1/nodes/node-1");
}

TEST(ResourceClientTest, EncodesQueryValues) {
  EXPECT_EQ(PercentEncode("app in (a,b)"), "app%20in%20%28a%2Cb%29");
  EXPECT_EQ(PercentEncode("a=b&c/d?"), "a%3Db%26c%2Fd%3F");
  EXPECT_EQ(PercentEncode("safe-._~09AZaz"), "safe-._~09AZaz");
  ListOptions o;
  o.label_selector = "app in (a,b),!beta";
  o.field_selector = "metadata.name=x";
  o.resource_version = "100";
  o.resource_version_match = ResourceVersionMatch::kNotOlderThan;
  o.limit = 500;
  o.continue_token = "abc+/=";
  o.timeout_seconds = 300;
  o.allow_watch_bookmarks = true;
  o.send_initial_events = true;
  EXPECT_EQ(ListQuery(o, true),
            "watch=true&labelSelector=app%20in%20%28a%2Cb%29%2C%21beta"
            "&fieldSelector=metadata.name%3Dx&resourceVersion=100"
            "&resourceVersionMatch=NotOlderThan&limit=500&continue=abc%2B%2F%3D"
            "&timeoutSeconds=300&allowWatchBookmarks=true&sendInitialEvents=true");
  EXPECT_EQ(ListQuery({}, false), "");
}

TEST(ResourceClientTest, ApplySendsAnApplyPatchWithItsFieldManager) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(200, "application/json", PodJson("a", "8"));
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  ObjectPtr pod = testing::MustParse(PodJson("a", "8"));
  Result<ObjectPtr> applied =
      pods.Apply(*pod, {.field_manager = "my-controller", .force = true, .dry_run = true});
  ASSERT_TRUE(applied) << applied.error();
  EXPECT_FALSE(pods.Apply(*pod, {.field_manager = ""}));  // refused before sending
  std::vector<ScriptedRequest> r = server.requests();
  ASSERT_THAT(r, SizeIs(1));
  EXPECT_EQ(r[0].method, "PATCH");
  EXPECT_EQ(r[0].target,
            "/api/v1/namespaces/default/pods/a?fieldManager=my-controller&force=true&dryRun=All");
  EXPECT_EQ(r[0].Header("content-type"), "application/apply-patch+yaml");
  EXPECT_EQ(r[0].body, PodJson("a", "8"));
}

TEST(ResourceClientTest, GetListAndWritesSendTheRightRequests) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.method == "GET" && req.target.find("/pods?") != std::string::npos) {
      conn.Respond(
          200, "application/json",
          R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"next"},"items":[{"metadata":{"name":"a","namespace":"default"}}]})");
    } else if (req.method == "DELETE") {
      conn.Respond(200, "application/json",
                   R"({"kind":"Status","apiVersion":"v1","status":"Success"})");
    } else {
      conn.Respond(req.method == "POST" ? 201 : 200, "application/json", PodJson("a", "8"));
    }
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectList> list = pods.List({.label_selector = "app=web", .limit = 1});
  ASSERT_TRUE(list) << list.error();
  EXPECT_EQ(list->resource_version, "7");
  EXPECT_EQ(list->continue_token, "next");
  ASSERT_THAT(list->items, SizeIs(1));
  EXPECT_EQ(list->items[0]->kind(), "Pod");  // filled in from the list kind
  Result<ObjectPtr> got = pods.Get("a", "0");
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ((*got)->resource_version(), "8");
  ObjectPtr pod = testing::MustParse(PodJson("a", "8"));
  ASSERT_TRUE(pods.Create(*pod, {.field_manager = "me", .dry_run = true}));
  ASSERT_TRUE(pods.Update(*pod));
  ASSERT_TRUE(pods.UpdateStatus(*pod));
  ASSERT_TRUE(pods.Patch("a", PatchType::kMerge, R"({"metadata":{"labels":{"x":"y"}}})"));
  ASSERT_TRUE(pods.Patch("a", PatchType::kJson, R"([{"op":"add","path":"/x","value":1}])"));
  ASSERT_TRUE(pods.Patch("a", PatchType::kStrategic, "{}", {}, "status"));
  DeleteOptions del;
  del.propagation_policy = PropagationPolicy::kBackground;
  del.precondition_resource_version = "8";
  EXPECT_TRUE(pods.Delete("a", del).ok());
  EXPECT_TRUE(pods.DeleteCollection({}, {.label_selector = "app=web"}).ok());

  std::vector<ScriptedRequest> r = server.requests();
  ASSERT_THAT(r, SizeIs(10));
  EXPECT_EQ(r[0].target, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=1");
  EXPECT_EQ(r[1].target, "/api/v1/namespaces/default/pods/a?resourceVersion=0");
  EXPECT_EQ(r[2].method, "POST");
  EXPECT_EQ(r[2].target, "/api/v1/namespaces/default/pods?fieldManager=me&dryRun=All");
  EXPECT_EQ(r[2].Header("content-type"), "application/json");
  EXPECT_EQ(r[2].body, pod->json());
  EXPECT_EQ(r[3].method, "PUT");
  EXPECT_EQ(r[3].target, "/api/v1/namespaces/default/pods/a");
  EXPECT_EQ(r[4].target, "/api/v1/namespaces/default/pods/a/status");
  EXPECT_EQ(r[5].method, "PATCH");
  EXPECT_EQ(r[5].Header("content-type"), "application/merge-patch+json");
  EXPECT_EQ(r[6].Header("content-type"), "application/json-patch+json");
  EXPECT_EQ(r[7].Header("content-type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(r[7].target, "/api/v1/namespaces/default/pods/a/status");
  EXPECT_EQ(r[8].method, "DELETE");
  EXPECT_EQ(
      r[8].body,
      R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background","preconditions":{"resourceVersion":"8"}})");
  EXPECT_EQ(r[9].target, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb");
}

struct ErrorCase {
  int code;
  std::string reason;
  bool (*predicate)(const Status&);
  StatusCode status_code;
};

TEST(ResourceClientTest, ErrorsAreTypedFromTheServerStatus) {
  const std::vector<ErrorCase> cases = {
      {404, "NotFound", IsNotFound, StatusCode::kNotFound},
      {409, "AlreadyExists", IsAlreadyExists, StatusCode::kAlreadyExists},
      {409, "Conflict", IsConflict, StatusCode::kConflict},
      {410, "Expired", IsGone, StatusCode::kGone},
      {410, "Gone", IsResourceExpired, StatusCode::kGone},
      {401, "Unauthorized", IsUnauthorized, StatusCode::kUnauthorized},
      {403, "Forbidden", IsForbidden, StatusCode::kForbidden},
      {422, "Invalid", IsInvalid, StatusCode::kInvalidArgument},
      {429, "TooManyRequests", IsTooManyRequests, StatusCode::kUnavailable},
      {500, "InternalError", IsInternalError, StatusCode::kInternal},
      {504, "Timeout", IsTimeout, StatusCode::kDeadlineExceeded},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.reason);
    ScriptedServer server([&c](const ScriptedRequest&, ScriptedConn& conn) {
      std::vector<std::string> headers;
      if (c.code == 429) headers.push_back("Retry-After: 7");
      conn.Respond(c.code, "application/json", StatusBody(c.code, c.reason, "msg " + c.reason),
                   headers);
    });
    ResourceClient pods(ClientFor(server), kPods, "default");
    Result<ObjectPtr> got = pods.Get("a");
    ASSERT_FALSE(got);
    Status s = got.error();
    EXPECT_TRUE(c.predicate(s)) << s;
    EXPECT_EQ(s.code(), c.status_code) << s;
    EXPECT_EQ(s.http_code(), c.code);
    EXPECT_EQ(s.reason(), c.reason);
    EXPECT_EQ(s.message(), "msg " + c.reason);
    if (c.code == 429) {
      EXPECT_EQ(s.retry_after(), std::chrono::seconds(7));
    }
  }
}

TEST(ResourceClientTest, NonStatusBodiesAreClassifiedByCode) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.target.find("/gone") != std::string::npos) {
      conn.Respond(410, "", "");
    } else {
      conn.Respond(502, "text/html",
                   "\n  <html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>\n" +
                       std::string(500, ' ') + "tail");
    }
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectPtr> html = pods.Get("a");
  ASSERT_FALSE(html);
  EXPECT_TRUE(IsInternalError(html.error()));
  EXPECT_EQ(html.error().http_code(), 502);
  EXPECT_THAT(html.error().message(),
              HasSubstr("HTTP 502: \"<html><body><h1>502 Bad Gateway</h1> <p>nginx</p>"));
  EXPECT_THAT(html.error().message(), ::testing::Not(HasSubstr("tail")));
  Result<ObjectPtr> gone = pods.Get("gone");
  ASSERT_FALSE(gone);
  EXPECT_TRUE(IsGone(gone.error()));
  EXPECT_THAT(gone.error().message(), HasSubstr("empty body"));
}

TEST(ResourceClientTest, UndecodableSuccessIsDataLoss) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(200, "application/json", "{\"kind\":");
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectPtr> got = pods.Get("a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kDataLoss);
  Result<ObjectList> list = pods.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kDataLoss);
}

// --- Watch ------------------------------------------------------------------------------------

TEST(ResourceClientWatchTest, DeliversEventsThenClosesWhenTheServerEnds) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    std::string stream = Frame("ADDED", PodJson("a", "1")) + Frame("MODIFIED", PodJson("a", "2")) +
                         Frame("DELETED", PodJson("a", "3"));
    // Odd chunk boundaries, as a proxy might cut them.
    for (size_t i = 0; i < stream.size(); i += 7) conn.Chunk(stream.substr(i, 7));
    conn.EndChunked();
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<std::unique_ptr<Watch>> w =
      pods.Watch({.resource_version = "1", .allow_watch_bookmarks = true});
  ASSERT_TRUE(w) << w.error();
  std::vector<std::string> seen;
  for (WatchEvent& e : **w) {
    seen.push_back(std::string(WatchEventTypeName(e.type)) + " " +
                   std::string(e.object->resource_version()));
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("ADDED 1", "MODIFIED 2", "DELETED 3"));
  EXPECT_EQ(
      server.requests().at(0).target,
      "/api/v1/namespaces/default/pods?watch=true&resourceVersion=1&allowWatchBookmarks=true");
  WatchEvent e;
  EXPECT_EQ((*w)->NextFor(std::chrono::milliseconds(1), &e), WatchWait::kClosed);
}

TEST(ResourceClientWatchTest, NonOkAnswerIsAnError) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(410, "application/json",
                 StatusBody(410, "Expired", "too old resource version: 1 (5)"));
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch({.resource_version = "1"});
  ASSERT_FALSE(w);
  EXPECT_TRUE(IsGone(w.error()));
  EXPECT_EQ(w.error().message(), "too old resource version: 1 (5)");
}

TEST(ResourceClientWatchTest, ServerErrorEventIsDeliveredThenClosed) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk(Frame("ERROR", StatusBody(410, "Expired", "too old resource version: 1 (5)")));
    conn.EndChunked();
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch();
  ASSERT_TRUE(w);
  std::optional<WatchEvent> e = (*w)->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, WatchEventType::kError);
  EXPECT_TRUE(IsGone(e->error));
  EXPECT_EQ(e->error.http_code(), 410);
  EXPECT_FALSE((*w)->Next());
}

TEST(ResourceClientWatchTest, TruncatedStreamEndsWithOneErrorEvent) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    std::string frame = Frame("ADDED", PodJson("b", "2"));
    conn.Chunk(Frame("ADDED", PodJson("a", "1")) + frame.substr(0, frame.size() / 2));
    conn.EndChunked();  // a clean end, but in the middle of an event
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch();
  ASSERT_TRUE(w);
  std::vector<WatchEvent> events;
  while (std::optional<WatchEvent> e = (*w)->Next()) events.push_back(*e);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[1].type, WatchEventType::kError);
  EXPECT_EQ(events[1].error.code(), StatusCode::kDataLoss);
  EXPECT_THAT(events[1].error.message(), HasSubstr("truncated"));
}

TEST(ResourceClientWatchTest, BrokenConnectionEndsWithAnErrorEvent) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk(Frame("ADDED", PodJson("a", "1")));
    conn.CloseAfter();  // no final chunk: the connection just drops
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch();
  ASSERT_TRUE(w);
  std::vector<WatchEvent> events;
  while (std::optional<WatchEvent> e = (*w)->Next()) events.push_back(*e);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[1].type, WatchEventType::kError);
  EXPECT_EQ(events[1].error.code(), StatusCode::kUnavailable);
}

TEST(ResourceClientWatchTest, StopEndsABlockedNextWithin100ms) {
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk(Frame("ADDED", PodJson("a", "1")));
    // Then nothing, ever: the watch blocks until the client goes away.
    if (conn.WaitPeerClosed(std::chrono::seconds(30))) server.Release();
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch();
  ASSERT_TRUE(w);
  Watch& watch = **w;
  std::atomic<bool> first{false};
  std::atomic<int64_t> returned_at{0};
  std::thread consumer([&] {
    ASSERT_TRUE(watch.Next());
    first = true;
    EXPECT_FALSE(watch.Next());  // blocks until Stop
    returned_at = std::chrono::steady_clock::now().time_since_epoch().count();
  });
  {
    // Wait for the first event to be consumed: the consumer is then entering its blocking Next.
    std::mutex mu;
    std::condition_variable cv;
    std::unique_lock<std::mutex> l(mu);
    for (int i = 0; i < 2000 && !first; ++i) cv.wait_for(l, std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(first);
  auto stop_at = std::chrono::steady_clock::now();
  watch.Stop();
  consumer.join();
  auto latency = std::chrono::steady_clock::time_point(
                     std::chrono::steady_clock::duration(returned_at.load())) -
                 stop_at;
  EXPECT_LT(latency, kStopBound)
      << std::chrono::duration_cast<std::chrono::microseconds>(latency).count() << " us";
  watch.Stop();  // idempotent
  EXPECT_FALSE(watch.Next());
  // The connection was released, not just abandoned.
  EXPECT_TRUE(server.WaitReleased(std::chrono::seconds(10)));
}

TEST(ResourceClientWatchTest, SlowConsumerPausesTheConnectionAndLosesNothing) {
  constexpr int kEvents = 5000;  // several times the high-water mark
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    std::string batch;
    for (int i = 1; i <= kEvents; ++i) {
      batch += Frame("ADDED", PodJson("p" + std::to_string(i), std::to_string(i)));
      if (i % 100 == 0) {
        if (!conn.Chunk(batch)) return;
        batch.clear();
      }
    }
    conn.EndChunked();
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch();
  ASSERT_TRUE(w);
  int n = 0;
  bool in_order = true;
  while (std::optional<WatchEvent> e = (*w)->Next()) {
    ++n;
    in_order = in_order && e->object->resource_version() == std::to_string(n);
  }
  EXPECT_EQ(n, kEvents);
  EXPECT_TRUE(in_order);
}

TEST(ResourceClientWatchTest, WatchAsyncDeliversOnTheIoThreadAndReportsClose) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.target.find("resourceVersion=9") != std::string::npos) {
      conn.Respond(410, "application/json", StatusBody(410, "Expired", "too old"));
      return;
    }
    conn.StartChunked(200, "application/json");
    conn.Chunk(Frame("ADDED", PodJson("a", "1")) + Frame("BOOKMARK", PodJson("", "2")));
    conn.EndChunked();
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;
  std::vector<Status> closed;
  auto on_event = [&](WatchEvent e) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(std::string(WatchEventTypeName(e.type)) +
                   (e.error.ok() ? "" : " " + e.error.reason()));
  };
  auto on_closed = [&](Status s) {
    std::lock_guard<std::mutex> l(mu);
    closed.push_back(std::move(s));
    cv.notify_all();
  };
  WatchHandle ok = pods.WatchAsync({}, on_event, on_closed);
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return closed.size() == 1; }));
    EXPECT_THAT(seen, ::testing::ElementsAre("ADDED", "BOOKMARK"));
    EXPECT_TRUE(closed[0].ok()) << closed[0];
    seen.clear();
  }
  WatchHandle expired = pods.WatchAsync({.resource_version = "9"}, on_event, on_closed);
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return closed.size() == 2; }));
  EXPECT_THAT(seen, ::testing::ElementsAre("ERROR Expired"));
  EXPECT_TRUE(IsGone(closed[1]));
}

TEST(ResourceClientWatchTest, CancelledWatchAsyncCallsNothingMore) {
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    for (int i = 0; i < 200; ++i) {
      if (!conn.Chunk(Frame("ADDED", PodJson("a", std::to_string(i + 1))))) break;
    }
    conn.WaitPeerClosed(std::chrono::seconds(30));
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  std::atomic<int> events{0};
  std::atomic<int> closes{0};
  std::atomic<bool> cancelled{false};
  std::atomic<int> after_cancel{0};
  WatchHandle handle = pods.WatchAsync(
      {},
      [&](WatchEvent) {
        if (cancelled) ++after_cancel;
        ++events;
      },
      [&](Status) { ++closes; });
  std::mutex mu;
  std::condition_variable cv;
  {
    std::unique_lock<std::mutex> l(mu);
    for (int i = 0; i < 2000 && events == 0; ++i) cv.wait_for(l, std::chrono::milliseconds(5));
  }
  ASSERT_GT(events.load(), 0);
  handle.Cancel();
  cancelled = true;
  handle = WatchHandle();
  EXPECT_EQ(after_cancel.load(), 0);
  EXPECT_EQ(closes.load(), 0);
}

// --- FakeWatch --------------------------------------------------------------------------------

TEST(FakeWatchTest, SendsEventsInOrderAndClosesAfterDraining) {
  FakeWatch w;
  ObjectPtr pod = testing::MustParse(PodJson("a", "1"));
  EXPECT_TRUE(w.Add(pod));
  EXPECT_TRUE(w.Modify(pod));
  EXPECT_TRUE(w.Delete(pod));
  EXPECT_TRUE(w.Bookmark(pod));
  EXPECT_TRUE(w.Error(GoneError("too old").set_http_code(410).set_reason("Expired")));
  w.Close();
  EXPECT_FALSE(w.Add(pod));
  std::vector<WatchEventType> types;
  for (WatchEvent& e : w) types.push_back(e.type);
  EXPECT_THAT(types, ::testing::ElementsAre(WatchEventType::kAdded, WatchEventType::kModified,
                                            WatchEventType::kDeleted, WatchEventType::kBookmark,
                                            WatchEventType::kError));
  EXPECT_FALSE(w.IsStopped());
}

TEST(FakeWatchTest, ErrorBuildsTheStatusObjectAServerWouldSend) {
  FakeWatch w;
  w.Error(StatusFromHttp(410, "Expired", "too old resource version: 1 (2)"));
  std::optional<WatchEvent> e = w.Next();
  ASSERT_TRUE(e);
  ASSERT_NE(e->object, nullptr);
  EXPECT_EQ(e->object->kind(), "Status");
  EXPECT_EQ(e->object->GetInt64("code").value_or(0), 410);
  EXPECT_EQ(e->object->GetString("reason").value_or(""), "Expired");
  EXPECT_TRUE(IsGone(e->error));
}

TEST(FakeWatchTest, StopDropsQueuedEventsAndWakesAWaiter) {
  FakeWatch w;
  std::thread t([&] { EXPECT_FALSE(w.Next()); });
  w.Stop();
  t.join();
  EXPECT_TRUE(w.IsStopped());
  EXPECT_FALSE(w.Add(testing::MustParse(PodJson("a", "1"))));
  WatchEvent e;
  EXPECT_EQ(w.NextFor(std::chrono::milliseconds(1), &e), WatchWait::kClosed);
}

TEST(FakeWatchTest, NextForTellsTimeoutFromClosed) {
  FakeWatch w;
  WatchEvent e;
  EXPECT_EQ(w.NextFor(std::chrono::milliseconds(1), &e), WatchWait::kTimeout);
  w.Add(testing::MustParse(PodJson("a", "1")));
  EXPECT_EQ(w.NextFor(std::chrono::milliseconds(1), &e), WatchWait::kEvent);
  EXPECT_EQ(e.object->name(), "a");
  w.Close();
  EXPECT_EQ(w.NextFor(std::chrono::milliseconds(1), &e), WatchWait::kClosed);
}

}  // namespace
}  // namespace kube

// The client's limits and what it makes of bad input (docs/reliability.md, "Limits" and "Bad
// input"): oversized bodies, headers and watch frames; wrong JSON types; a server that hangs,
// answers HTML, or closes in the middle of a list. Each case ends in one clear Status.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "tests/client/scripted_server.h"
#include "watch/watch_decoder.h"

namespace kube {
namespace {

using ::testing::HasSubstr;
using testing::ScriptedConn;
using testing::ScriptedRequest;
using testing::ScriptedServer;
using ::testing::SizeIs;
using ::testing::StartsWith;

const GroupVersionResource kPods{"", "v1", "pods"};

std::shared_ptr<HttpClient> ClientFor(const ScriptedServer& server, HttpClientOptions options = {},
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  RestConfig c;
  c.server = server.url();
  c.source = "test";
  c.timeout = timeout;
  options.retry_wait = [](std::chrono::seconds) { return false; };
  Result<std::shared_ptr<HttpClient>> client = MakeCurlHttpClient(c, std::move(options));
  if (!client) ADD_FAILURE() << client.error();
  return client ? *client : nullptr;
}

std::string PodJson(const std::string& name, const std::string& rv, size_t pad = 0) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","namespace":"default","resourceVersion":")" + rv + R"("},"spec":{"pad":")" +
         std::string(pad, 'p') + R"("}})";
}

std::string Frame(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

std::string PodList(int n, size_t pad = 0) {
  std::string items;
  for (int i = 0; i < n; ++i) {
    if (i > 0) items += ",";
    items += PodJson("p" + std::to_string(i), "1", pad);
  }
  return R"({"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"9"},"items":[)" +
         items + "]}";
}

// --- Limits -----------------------------------------------------------------------------------

TEST(ClientLimitsTest, ListBodyOverTheLimitIsDataLossWithoutBufferingIt) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(200, "application/json", PodList(64, 16 * 1024));  // ~1 MiB
  });
  ResourceClient pods(ClientFor(server, {.max_response_bytes = 64 * 1024}), kPods, "default");
  Result<ObjectList> list = pods.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(list.error().message(),
              HasSubstr("GET " + server.url() + "/api/v1/namespaces/default/pods"));
  EXPECT_THAT(list.error().message(),
              HasSubstr("response body exceeds the client's limit of 65536 bytes"));
  // Under the limit the same client reads it.
  ResourceClient roomy(ClientFor(server), kPods, "default");
  Result<ObjectList> ok = roomy.List();
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_THAT(ok->items, SizeIs(64));
}

TEST(ClientLimitsTest, OversizedResponseHeadersAreDataLoss) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    std::vector<std::string> headers;
    for (int i = 0; i < 64; ++i)
      headers.push_back("X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'h'));
    conn.Respond(200, "application/json", PodJson("a", "1"), headers);
  });
  ResourceClient pods(ClientFor(server, {.max_header_bytes = 16 * 1024}), kPods, "default");
  Result<ObjectPtr> got = pods.Get("a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(got.error().message(),
              HasSubstr("response headers exceed the client's limit of 16384 bytes"));
}

TEST(ClientLimitsTest, WatchFrameOverTheLimitEndsTheWatchWithOneError) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk(Frame("ADDED", PodJson("small", "2")));
    conn.Chunk(Frame("ADDED", PodJson("huge", "3", 8 * 1024)));
    conn.Chunk(Frame("ADDED", PodJson("after", "4")));
    conn.EndChunked();
  });
  ResourceClient pods(ClientFor(server, {.max_watch_frame_bytes = 4096}), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch({.resource_version = "1"});
  ASSERT_TRUE(w) << w.error();
  std::vector<WatchEvent> events;
  while (std::optional<WatchEvent> e = (*w)->Next()) events.push_back(*e);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[1].type, WatchEventType::kError);
  EXPECT_EQ(events[1].error.code(), StatusCode::kDataLoss);
  EXPECT_EQ(events[1].error.message(), "watch event 2 exceeds the 4096-byte frame limit");
}

// A server that streams one frame that never ends, far past a small limit: the watch ends with
// one ERROR event, and the decoder never held much more than the limit (counted, not measured
// as RSS: a doubling buffer would reach 4 MiB of capacity for this 3 MiB limit, and hold its old
// and new buffers at once while growing).
TEST(ClientLimitsTest, UnterminatedFrameOverTheLimitIsRefusedHoldingAboutTheLimit) {
  constexpr size_t kLimit = size_t{3} << 20;
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk(Frame("ADDED", PodJson("small", "2")));
    conn.Chunk(R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","data":")");
    const std::string filler(50000, 'x');
    for (size_t sent = 0; sent < 4 * kLimit; sent += filler.size()) {
      if (!conn.Chunk(filler)) return;  // the client has gone
    }
    conn.EndChunked();
  });
  internal::PendingFrame::ResetHighWaterForTesting();
  ResourceClient pods(ClientFor(server, {.max_watch_frame_bytes = kLimit}), kPods, "default");
  Result<std::unique_ptr<Watch>> w = pods.Watch({.resource_version = "1"});
  ASSERT_TRUE(w) << w.error();
  std::vector<WatchEvent> events;
  while (std::optional<WatchEvent> e = (*w)->Next()) events.push_back(*e);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[1].type, WatchEventType::kError);
  EXPECT_EQ(events[1].error.message(), "watch event 2 exceeds the 3145728-byte frame limit");
  EXPECT_GE(internal::PendingFrame::HighWaterForTesting(), kLimit / 2);
  EXPECT_LE(internal::PendingFrame::HighWaterForTesting(),
            kLimit + internal::PendingFrame::kBlockBytes);
}

// --- Hostile servers ---------------------------------------------------------------------------

// A Retry-After beyond `max_retry_after` (31 years here) is not slept on: the answer comes back
// at once. Smaller ones are waited for; unparseable or negative ones are not retries at all.
TEST(HostileServerTest, AbsurdRetryAfterIsReturnedInsteadOfWaitedOn) {
  for (const char* retry_after : {"999999999", "61", "1000000000000000000", "1e18", "-5", "2"}) {
    SCOPED_TRACE(retry_after);
    ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
      conn.Respond(429, "application/json",
                   R"({"kind":"Status","apiVersion":"v1","status":"Failure",)"
                   R"("reason":"TooManyRequests","code":429,"message":"slow down"})",
                   {std::string("Retry-After: ") + retry_after});
    });
    RestConfig c;
    c.server = server.url();
    c.source = "test";
    std::vector<std::chrono::seconds> waits;
    HttpClientOptions options;
    options.max_attempts = 3;
    options.retry_wait = [&waits](std::chrono::seconds d) {
      waits.push_back(d);
      return true;
    };
    Result<std::shared_ptr<HttpClient>> client = MakeCurlHttpClient(c, std::move(options));
    ASSERT_TRUE(client) << client.error();
    ResourceClient pods(*client, kPods, "default");
    Result<ObjectList> list = pods.List();
    ASSERT_FALSE(list);
    EXPECT_EQ(list.error().http_code(), 429);
    if (std::string(retry_after) == "2") {
      EXPECT_THAT(waits, ::testing::ElementsAre(std::chrono::seconds(2), std::chrono::seconds(2)));
      EXPECT_EQ(server.requests().size(), 3u);
    } else {
      EXPECT_THAT(waits, ::testing::IsEmpty());
      EXPECT_EQ(server.requests().size(), 1u);
    }
  }
}

// A Status whose message is a megabyte: the error keeps its first 16 KiB, so logging it on every
// retry does not copy the server's megabytes.
TEST(HostileServerTest, HugeStatusMessageIsCutShort) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(500, "application/json",
                 R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":500,)"
                 R"("reason":"InternalError","message":")" +
                     std::string(size_t{1} << 20, 'm') + R"("})");
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectList> list = pods.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().http_code(), 500);
  EXPECT_LT(list.error().message().size(), 17u * 1024);
  EXPECT_THAT(list.error().message(), HasSubstr("mmm... (1032192 more bytes)"));
}

// A server that answers every continue token with the same token: the page is kDataLoss rather
// than a list a pager would follow forever.
TEST(HostileServerTest, ContinueTokenAnsweredWithItselfIsDataLoss) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(200, "application/json",
                 R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5",)"
                 R"("continue":"again","remainingItemCount":9223372036854775807},"items":[]})");
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectList> first = pods.List({.limit = 1});
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->continue_token, "again");
  Result<ObjectList> next = pods.List({.limit = 1, .continue_token = first->continue_token});
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(next.error().message(),
              HasSubstr("the server answered a continue token with the same token"));
}

// --- Bad input --------------------------------------------------------------------------------

TEST(BadInputTest, WrongJsonTypeIsDataLossNamingTheField) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.target.find("/pods/a") != std::string::npos) {
      conn.Respond(200, "application/json",
                   R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":5}})");
    } else {
      conn.Respond(200, "application/json",
                   R"({"kind":"PodList","metadata":{"resourceVersion":"9"},"items":{}})");
    }
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectPtr> got = pods.Get("a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(got.error().message(), HasSubstr("metadata.name is an integer, not a string"));
  Result<ObjectList> list = pods.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kDataLoss);
}

TEST(BadInputTest, HtmlWithStatus200IsDataLoss) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(200, "text/html", "<html><body><h1>Sign in to the proxy</h1></body></html>");
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectList> list = pods.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(list.error().message(), HasSubstr("/api/v1/namespaces/default/pods"));
  Result<std::unique_ptr<Watch>> w = pods.Watch();
  ASSERT_TRUE(w) << w.error();
  std::optional<WatchEvent> e = (*w)->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, WatchEventType::kError);
  EXPECT_EQ(e->error.code(), StatusCode::kDataLoss);
  EXPECT_THAT(e->error.message(), StartsWith("malformed watch event"));
  EXPECT_FALSE((*w)->Next());
}

TEST(BadInputTest, ServerClosingMidListIsUnavailable) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    std::string body = PodList(10);
    conn.Write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2));
    conn.CloseAfter();
  });
  ResourceClient pods(ClientFor(server), kPods, "default");
  Result<ObjectList> list = pods.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(list.error().message(), HasSubstr("GET " + server.url()));
}

TEST(BadInputTest, ServerThatNeverAnswersIsDeadlineExceeded) {
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.WaitPeerClosed(std::chrono::seconds(10));  // accepts, reads, never answers
  });
  ResourceClient pods(ClientFor(server, {}, std::chrono::milliseconds(300)), kPods, "default");
  Result<ObjectList> list = pods.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(list.error().message(), HasSubstr("GET " + server.url()));
  // (`Watch()` waits up to 60 s for the response headers; `WatchAsync`, which the reflector
  // uses, does not block, and the reflector's watch progress timeout restarts a silent watch.)
}

}  // namespace
}  // namespace kube

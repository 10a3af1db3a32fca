// Tests for the libcurl transport against a scripted loopback server: credentials, TLS, retries,
// connection reuse, timeouts, streams, cancellation and flow control.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/logging.h"
#include "tests/client/scripted_server.h"

namespace kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScriptedConn;
using testing::ScriptedRequest;
using testing::ScriptedServer;
using testing::ScriptedServerOptions;
using testing::TestPki;

constexpr std::string_view kSecretToken = "s3cr3t-t0ken-value";
constexpr std::string_view kSecretPassword = "hunter2-password";

RestConfig ConfigFor(const ScriptedServer& server) {
  RestConfig c;
  c.server = server.url();
  c.source = "test";
  return c;
}

std::shared_ptr<HttpClient> MustClient(const RestConfig& config, HttpClientOptions options = {}) {
  Result<std::shared_ptr<HttpClient>> c = MakeCurlHttpClient(config, std::move(options));
  if (!c) ADD_FAILURE() << c.error();
  return c ? *c : nullptr;
}

HttpRequest Req(std::string path,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(-1)) {
  HttpRequest r;
  r.path = std::move(path);
  r.timeout = timeout;
  return r;
}

void RespondOk(const ScriptedRequest&, ScriptedConn& conn) {
  conn.Respond(200, "application/json", R"({"kind":"Thing"})");
}

// A directory removed at the end of the test.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/kube-informer-client-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(CurlHttpClientTest, RejectsBadServerUrls) {
  RestConfig c;
  Result<std::shared_ptr<HttpClient>> none = MakeCurlHttpClient(c);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), StatusCode::kInvalidArgument);
  c.server = "ftp://127.0.0.1:21";
  c.source = "kubeconfig /tmp/x";
  Result<std::shared_ptr<HttpClient>> ftp = MakeCurlHttpClient(c);
  ASSERT_FALSE(ftp);
  EXPECT_THAT(ftp.error().message(), HasSubstr("kubeconfig /tmp/x"));
}

TEST(CurlHttpClientTest, DoSendsRequestAndReturnsResponse) {
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    conn.Respond(201, "application/json", "{\"echo\":\"" + req.body + "\"}");
  });
  ASSERT_TRUE(server.ok());
  RestConfig config = ConfigFor(server);
  config.user_agent = "kube-informer-test/1.0";
  config.impersonate_user = "alice";
  auto client = MustClient(config);
  HttpRequest req;
  req.method = "POST";
  req.path = "/api/v1/namespaces/default/configmaps?fieldManager=me";
  req.body = "abc";
  req.content_type = "application/json";
  req.headers.push_back({"X-Extra", "1"});
  Result<HttpResponse> resp = client->Do(req);
  ASSERT_TRUE(resp) << resp.error();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, R"({"echo":"abc"})");
  EXPECT_EQ(resp->content_type, "application/json");
  std::vector<ScriptedRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/default/configmaps?fieldManager=me");
  EXPECT_EQ(reqs[0].Header("user-agent"), "kube-informer-test/1.0");
  EXPECT_EQ(reqs[0].Header("accept"), "application/json");
  EXPECT_EQ(reqs[0].Header("content-type"), "application/json");
  EXPECT_EQ(reqs[0].Header("impersonate-user"), "alice");
  EXPECT_EQ(reqs[0].Header("x-extra"), "1");
  EXPECT_EQ(reqs[0].Header("authorization"), "");
  EXPECT_EQ(reqs[0].Header("expect"), "");
}

TEST(CurlHttpClientTest, KeepsTheServerPathPrefix) {
  ScriptedServer server(RespondOk);
  RestConfig config = ConfigFor(server);
  config.server += "/prefix/";
  auto client = MustClient(config);
  ASSERT_TRUE(client->Do(Req("/api")));
  EXPECT_EQ(server.requests().at(0).target, "/prefix/api");
}

TEST(CurlHttpClientTest, MethodsWithAndWithoutBodies) {
  ScriptedServer server(RespondOk);
  auto client = MustClient(ConfigFor(server));
  for (const char* m : {"GET", "PUT", "PATCH", "DELETE"}) {
    HttpRequest req = Req("/x");
    req.method = m;
    if (std::string(m) != "GET") req.body = "{}";
    ASSERT_TRUE(client->Do(req)) << m;
  }
  std::vector<ScriptedRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].body, "{}");
  EXPECT_EQ(reqs[2].method, "PATCH");
  EXPECT_EQ(reqs[3].method, "DELETE");
  EXPECT_EQ(reqs[3].body, "{}");
}

TEST(CurlHttpClientTest, ReusesOneConnection) {
  ScriptedServer server(RespondOk);
  auto client = MustClient(ConfigFor(server));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->Do(Req("/api")));
  EXPECT_EQ(server.connections(), 1);
}

TEST(CurlHttpClientTest, SendsBearerToken) {
  ScriptedServer server(RespondOk);
  RestConfig config = ConfigFor(server);
  config.bearer_token = std::string(kSecretToken);
  auto client = MustClient(config);
  ASSERT_TRUE(client->Do(Req("/api")));
  EXPECT_EQ(server.requests().at(0).Header("authorization"), "Bearer " + std::string(kSecretToken));
}

TEST(CurlHttpClientTest, SendsBasicAuth) {
  ScriptedServer server(RespondOk);
  RestConfig config = ConfigFor(server);
  config.username = "admin";
  config.password = "secret";
  auto client = MustClient(config);
  ASSERT_TRUE(client->Do(Req("/api")));
  EXPECT_EQ(server.requests().at(0).Header("authorization"), "Basic YWRtaW46c2VjcmV0");
}

TEST(CurlHttpClientTest, RereadsTokenFileWhenItRotates) {
  TempDir dir;
  const std::string path = dir.path + "/token";
  WriteFile(path, "first-token\n");
  ScriptedServer server(RespondOk);
  RestConfig config = ConfigFor(server);
  config.bearer_token = "ignored-when-a-file-is-set";
  config.bearer_token_file = path;
  auto client = MustClient(config);
  ASSERT_TRUE(client->Do(Req("/a")));
  ASSERT_TRUE(client->Do(Req("/b")));
  // Rotation as the kubelet does it: a new file moved into place.
  WriteFile(path + ".new", "second-token");
  std::filesystem::rename(path + ".new", path);
  ASSERT_TRUE(client->Do(Req("/c")));
  // An in-place rewrite of another length is seen too.
  WriteFile(path, "third-token-longer");
  ASSERT_TRUE(client->Do(Req("/d")));
  std::vector<ScriptedRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].Header("authorization"), "Bearer first-token");
  EXPECT_EQ(reqs[1].Header("authorization"), "Bearer first-token");
  EXPECT_EQ(reqs[2].Header("authorization"), "Bearer second-token");
  EXPECT_EQ(reqs[3].Header("authorization"), "Bearer third-token-longer");
}

TEST(CurlHttpClientTest, MissingTokenFileIsUnauthorizedWithoutContacting) {
  ScriptedServer server(RespondOk);
  RestConfig config = ConfigFor(server);
  config.bearer_token_file = "/nonexistent/kube-informer/token";
  auto client = MustClient(config);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kUnauthorized);
  EXPECT_THAT(resp.error().message(), HasSubstr("/nonexistent/kube-informer/token"));
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(CurlHttpClientTest, RetriesTooManyRequestsAfterRetryAfter) {
  std::atomic<int> n{0};
  ScriptedServer server([&n](const ScriptedRequest&, ScriptedConn& conn) {
    if (++n <= 2) {
      conn.Respond(429, "application/json", "{}", {"Retry-After: 2"});
    } else {
      conn.Respond(200, "application/json", "{}");
    }
  });
  std::vector<int64_t> waits;
  HttpClientOptions options;
  options.retry_wait = [&waits](std::chrono::seconds s) {
    waits.push_back(s.count());
    return true;
  };
  auto client = MustClient(ConfigFor(server), options);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_THAT(waits, ElementsAre(2, 2));
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(CurlHttpClientTest, RetriesServerErrorsOnlyWithRetryAfter) {
  std::atomic<int> n{0};
  ScriptedServer server([&n](const ScriptedRequest& req, ScriptedConn& conn) {
    ++n;
    if (req.target == "/with") {
      conn.Respond(n == 1 ? 503 : 200, "text/plain", "x", {"Retry-After: 0"});
    } else {
      conn.Respond(500, "text/plain", "x");
    }
  });
  HttpClientOptions options;
  options.retry_wait = [](std::chrono::seconds) { return true; };
  auto client = MustClient(ConfigFor(server), options);
  Result<HttpResponse> with = client->Do(Req("/with"));
  ASSERT_TRUE(with);
  EXPECT_EQ(with->status, 200);
  Result<HttpResponse> without = client->Do(Req("/without"));
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 500);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(CurlHttpClientTest, BodySinkGetsOnlyTheSuccessfulBodyInPieces) {
  // A retried 503 and a 404 keep their bodies whole (the caller decodes errors from them); the
  // 200's body goes to the sink as it arrives and is not kept.
  const std::string big(256 * 1024, 'b');
  std::atomic<int> n{0};
  ScriptedServer server([&](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.target == "/missing") {
      conn.Respond(404, "application/json", R"({"kind":"Status","code":404})");
    } else if (++n == 1) {
      conn.Respond(503, "text/plain", "busy", {"Retry-After: 0"});
    } else {
      conn.Respond(200, "application/json", big);
    }
  });
  HttpClientOptions options;
  options.retry_wait = [](std::chrono::seconds) { return true; };
  auto client = MustClient(ConfigFor(server), options);
  std::string sunk;
  int pieces = 0;
  HttpRequest req = Req("/big");
  req.body_sink = [&](std::string_view piece) {
    sunk.append(piece);
    ++pieces;
  };
  Result<HttpResponse> resp = client->Do(req);
  ASSERT_TRUE(resp) << resp.error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "");
  EXPECT_EQ(sunk, big);
  EXPECT_GT(pieces, 1);
  EXPECT_EQ(n.load(), 2);

  sunk.clear();
  req.path = "/missing";
  resp = client->Do(req);
  ASSERT_TRUE(resp) << resp.error();
  EXPECT_EQ(resp->status, 404);
  EXPECT_EQ(resp->body, R"({"kind":"Status","code":404})");
  EXPECT_EQ(sunk, "");
}

TEST(CurlHttpClientTest, BodySinkThatThrowsFailsTheRequest) {
  ScriptedServer server(RespondOk);
  auto client = MustClient(ConfigFor(server));
  HttpRequest req = Req("/api");
  req.body_sink = [](std::string_view) { throw std::runtime_error("no room"); };
  Result<HttpResponse> resp = client->Do(req);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kInternal);
  EXPECT_THAT(resp.error().message(), HasSubstr("body sink threw"));
}

TEST(CurlHttpClientTest, GivesUpAfterMaxAttemptsWithTheLastAnswer) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(429, "application/json", "{}", {"Retry-After: 1"});
  });
  HttpClientOptions options;
  options.retry_wait = [](std::chrono::seconds) { return true; };
  auto client = MustClient(ConfigFor(server), options);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 429);
  EXPECT_EQ(resp->retry_after, std::chrono::seconds(1));
  EXPECT_EQ(server.requests().size(), 10u);  // client-go's limit
}

TEST(CurlHttpClientTest, TimeoutIsDeadlineExceeded) {
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.WaitPeerClosed(std::chrono::seconds(30));  // never answers
  });
  auto client = MustClient(ConfigFor(server));
  Result<HttpResponse> resp = client->Do(Req("/slow", std::chrono::milliseconds(200)));
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(resp.error().message(), HasSubstr("/slow"));
}

TEST(CurlHttpClientTest, StopAbandonsARequestInTheMiddleOfItsBody) {
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk(R"({"kind":"PodList","items":[)");
    conn.WaitPeerClosed(std::chrono::seconds(30));  // the rest never comes
  });
  auto client = MustClient(ConfigFor(server));
  std::stop_source stop;
  HttpRequest req = Req("/api/v1/pods");
  req.stop = stop.get_token();
  req.body_sink = [&](std::string_view) { stop.request_stop(); };  // stop once the body flows
  Result<HttpResponse> resp = client->Do(req);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kCancelled);
  EXPECT_THAT(resp.error().message(), HasSubstr("/api/v1/pods"));
}

TEST(CurlHttpClientTest, StopEndsTheWaitBeforeARetry) {
  std::stop_source stop;
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.Respond(429, "application/json", "{}", {"Retry-After: 30"});
    stop.request_stop();
  });
  HttpClientOptions options;
  options.max_attempts = 2;
  auto client = MustClient(ConfigFor(server), options);
  HttpRequest req = Req("/api");
  req.stop = stop.get_token();
  Result<HttpResponse> resp = client->Do(req);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kCancelled);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(CurlHttpClientTest, ConnectionRefusedIsUnavailableAndNamesTheServer) {
  uint16_t port;
  {
    ScriptedServer gone(RespondOk);
    port = gone.port();
  }
  RestConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(port);
  auto client = MustClient(config);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(resp.error().message(), HasSubstr("GET http://127.0.0.1:" + std::to_string(port)));
}

TEST(CurlHttpClientTest, CredentialsNeverAppearInErrorsOrLogs) {
  std::mutex mu;
  std::string logs;
  SetMinLogSeverity(LogSeverity::kDebug);
  SetLogSink([&](LogSeverity, std::string_view component, std::string_view message) {
    std::lock_guard<std::mutex> l(mu);
    logs += std::string(component) + ": " + std::string(message) + "\n";
  });
  std::vector<Status> errors;
  {
    ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
      conn.Respond(503, "text/plain", "busy", {"Retry-After: 0"});
    });
    RestConfig config = ConfigFor(server);
    config.bearer_token = std::string(kSecretToken);
    config.password = std::string(kSecretPassword);
    config.username = "u";
    // Userinfo in the URL is a credential too.
    config.server = "http://user:" + std::string(kSecretPassword) +
                    "@127.0.0.1:" + std::to_string(server.port());
    HttpClientOptions options;
    options.max_attempts = 2;
    options.retry_wait = [](std::chrono::seconds) { return true; };
    auto client = MustClient(config, options);
    EXPECT_EQ(client->server(), "http://127.0.0.1:" + std::to_string(server.port()));
    ASSERT_TRUE(client->Do(Req("/api")));
    Result<HttpResponse> slow = client->Do(Req("/api", std::chrono::milliseconds(1)));
    if (!slow) errors.push_back(slow.error());
  }
  {
    RestConfig config;
    config.server = "http://127.0.0.1:1";
    config.bearer_token = std::string(kSecretToken);
    auto client = MustClient(config);
    Result<HttpResponse> refused = client->Do(Req("/api"));
    ASSERT_FALSE(refused);
    errors.push_back(refused.error());
  }
  SetLogSink(nullptr);
  SetMinLogSeverity(LogSeverity::kWarning);
  for (const Status& s : errors) {
    EXPECT_THAT(s.ToString(), Not(HasSubstr(kSecretToken)));
    EXPECT_THAT(s.ToString(), Not(HasSubstr(kSecretPassword)));
  }
  std::lock_guard<std::mutex> l(mu);
  EXPECT_THAT(logs, HasSubstr("503"));  // the retry was logged
  EXPECT_THAT(logs, Not(HasSubstr(kSecretToken)));
  EXPECT_THAT(logs, Not(HasSubstr(kSecretPassword)));
}

// --- Streams ----------------------------------------------------------------------------------

// Collects a stream's callbacks.
struct StreamRecorder {
  std::mutex mu;
  std::condition_variable cv;
  int status = 0;
  std::string data;
  int chunks = 0;
  bool done = false;
  Status done_status;
  int calls_after_done = 0;

  StreamCallbacks Callbacks() {
    StreamCallbacks cb;
    cb.on_headers = [this](const HttpResponseHead& head) {
      std::lock_guard<std::mutex> l(mu);
      status = head.status;
      cv.notify_all();
    };
    cb.on_data = [this](std::string_view d) {
      std::lock_guard<std::mutex> l(mu);
      if (done) ++calls_after_done;
      data.append(d);
      ++chunks;
      cv.notify_all();
    };
    cb.on_done = [this](Status s) {
      std::lock_guard<std::mutex> l(mu);
      if (done) ++calls_after_done;
      done = true;
      done_status = std::move(s);
      cv.notify_all();
    };
    return cb;
  }
  bool WaitFor(const std::function<bool()>& cond) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10), cond);
  }
};

TEST(CurlHttpClientTest, StreamDeliversHeadersDataAndDone) {
  ScriptedServer server([](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk("hello ");
    conn.Chunk("world");
    conn.EndChunked();
  });
  auto client = MustClient(ConfigFor(server));
  StreamRecorder rec;
  auto stream = client->Stream(Req("/watch"), rec.Callbacks());
  ASSERT_TRUE(rec.WaitFor([&] { return rec.done; }));
  std::lock_guard<std::mutex> l(rec.mu);
  EXPECT_EQ(rec.status, 200);
  EXPECT_EQ(rec.data, "hello world");
  EXPECT_TRUE(rec.done_status.ok()) << rec.done_status;
}

TEST(CurlHttpClientTest, StreamCancelReleasesTheConnectionAndSilencesCallbacks) {
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.Chunk("first");
    // Keep the response open until the client goes away.
    bool closed = conn.WaitPeerClosed(std::chrono::seconds(20));
    if (closed) conn.CloseAfter();
    server.Release();
  });
  auto client = MustClient(ConfigFor(server));
  StreamRecorder rec;
  auto stream = client->Stream(Req("/watch"), rec.Callbacks());
  ASSERT_TRUE(rec.WaitFor([&] { return rec.data == "first"; }));
  stream->Cancel();
  stream->Cancel();  // idempotent
  {
    std::lock_guard<std::mutex> l(rec.mu);
    EXPECT_FALSE(rec.done);  // no on_done after Cancel
  }
  EXPECT_TRUE(server.WaitReleased(std::chrono::seconds(10)));  // the server saw the close
  stream.reset();
  std::lock_guard<std::mutex> l(rec.mu);
  EXPECT_FALSE(rec.done);
  EXPECT_EQ(rec.calls_after_done, 0);
}

TEST(CurlHttpClientTest, StreamCancelFromInsideItsOwnCallback) {
  ScriptedServer server([&](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.target == "/other") return RespondOk(req, conn);
    conn.StartChunked(200, "application/json");
    for (int i = 0; i < 100; ++i) {
      if (!conn.Chunk("x")) break;
    }
    conn.WaitPeerClosed(std::chrono::seconds(20));
  });
  auto client = MustClient(ConfigFor(server));
  std::atomic<int> data_calls{0};
  std::atomic<bool> done_called{false};
  std::unique_ptr<HttpStream> stream;
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;
  StreamCallbacks cb;
  cb.on_data = [&](std::string_view) {
    ++data_calls;
    std::lock_guard<std::mutex> l(mu);
    stream->Cancel();
    cancelled = true;
    cv.notify_all();
  };
  cb.on_done = [&](Status) { done_called = true; };
  {
    std::lock_guard<std::mutex> l(mu);  // the callback cannot run before `stream` is set
    stream = client->Stream(Req("/watch"), std::move(cb));
  }
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return cancelled; }));
  l.unlock();
  // A second request proves the loop went on; then no more callbacks of the cancelled stream.
  ASSERT_TRUE(client->Do(Req("/other")));
  EXPECT_EQ(data_calls.load(), 1);
  EXPECT_FALSE(done_called.load());
}

TEST(CurlHttpClientTest, StreamPauseStopsDataUntilResume) {
  ScriptedServer server([&](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.target == "/other") return RespondOk(req, conn);
    conn.StartChunked(200, "application/json");
    conn.Chunk("a");
    server.WaitReleased(std::chrono::seconds(20));
    conn.Chunk("b");
    conn.EndChunked();
  });
  auto client = MustClient(ConfigFor(server));
  StreamRecorder rec;
  std::unique_ptr<HttpStream> stream = client->Stream(Req("/watch"), rec.Callbacks());
  ASSERT_TRUE(rec.WaitFor([&] { return rec.data == "a"; }));
  stream->Pause();
  server.Release();  // "b" and the end arrive while paused
  // A full request round trip on the same loop: had "b" been delivered, it would be by now.
  ASSERT_TRUE(client->Do(Req("/other")));
  {
    std::lock_guard<std::mutex> l(rec.mu);
    EXPECT_EQ(rec.data, "a");
  }
  stream->Resume();
  ASSERT_TRUE(rec.WaitFor([&] { return rec.done; }));
  std::lock_guard<std::mutex> l(rec.mu);
  EXPECT_EQ(rec.data, "ab");
  EXPECT_TRUE(rec.done_status.ok());
}

TEST(CurlHttpClientTest, StreamToADeadServerReportsOnDone) {
  RestConfig config;
  config.server = "http://127.0.0.1:1";
  auto client = MustClient(config);
  StreamRecorder rec;
  auto stream = client->Stream(Req("/watch"), rec.Callbacks());
  ASSERT_TRUE(rec.WaitFor([&] { return rec.done; }));
  std::lock_guard<std::mutex> l(rec.mu);
  EXPECT_EQ(rec.done_status.code(), StatusCode::kUnavailable);
}

TEST(CurlHttpClientTest, DestroyingTheClientEndsOpenStreamsWithCancelled) {
  ScriptedServer server([&](const ScriptedRequest&, ScriptedConn& conn) {
    conn.StartChunked(200, "application/json");
    conn.WaitPeerClosed(std::chrono::seconds(20));
  });
  auto client = MustClient(ConfigFor(server));
  StreamRecorder rec;
  auto stream = client->Stream(Req("/watch"), rec.Callbacks());
  ASSERT_TRUE(rec.WaitFor([&] { return rec.status == 200; }));
  client.reset();
  {
    std::lock_guard<std::mutex> l(rec.mu);
    EXPECT_TRUE(rec.done);
    EXPECT_EQ(rec.done_status.code(), StatusCode::kCancelled);
  }
  // The handle outlives the client safely. (Never cancel while holding a lock the callbacks
  // take: Cancel waits out a running callback.)
  stream->Cancel();
}

// --- TLS --------------------------------------------------------------------------------------

class CurlTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pki_.ok) GTEST_SKIP() << "the openssl command could not make test certificates";
  }
  ScriptedServerOptions ServerTls() const {
    ScriptedServerOptions o;
    o.cert_file = pki_.server_cert;
    o.key_file = pki_.server_key;
    return o;
  }
  ScriptedServerOptions MutualTls() const {
    ScriptedServerOptions o = ServerTls();
    o.client_ca_file = pki_.ca_cert;
    return o;
  }
  TestPki pki_;
};

TEST_F(CurlTlsTest, VerifiesTheServerWithCaData) {
  ScriptedServer server(RespondOk, ServerTls());
  RestConfig config = ConfigFor(server);
  config.ca_data = TestPki::Read(pki_.ca_cert);
  auto client = MustClient(config);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_TRUE(resp) << resp.error();
  EXPECT_EQ(resp->status, 200);
}

TEST_F(CurlTlsTest, VerifiesTheServerWithCaFile) {
  ScriptedServer server(RespondOk, ServerTls());
  RestConfig config = ConfigFor(server);
  config.ca_file = pki_.ca_cert;
  auto client = MustClient(config);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_TRUE(resp) << resp.error();
}

TEST_F(CurlTlsTest, RefusesAServerSignedByAnotherCa) {
  ScriptedServer server(RespondOk, ServerTls());
  RestConfig config = ConfigFor(server);
  config.ca_data = TestPki::Read(pki_.other_ca_cert);
  auto client = MustClient(config);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(resp.error().message(), HasSubstr("certificate"));
  // Verification is on by default: no CA given means the system store, which does not know ours.
  Result<HttpResponse> system = MustClient(ConfigFor(server))->Do(Req("/api"));
  ASSERT_FALSE(system);
}

TEST_F(CurlTlsTest, InsecureSkipVerifyConnects) {
  ScriptedServer server(RespondOk, ServerTls());
  RestConfig config = ConfigFor(server);
  config.insecure_skip_tls_verify = true;
  EXPECT_TRUE(MustClient(config)->Do(Req("/api")));
}

TEST_F(CurlTlsTest, TlsServerNameIsVerifiedInsteadOfTheHost) {
  ScriptedServer server(RespondOk, ServerTls());
  RestConfig config = ConfigFor(server);
  config.ca_data = TestPki::Read(pki_.ca_cert);
  config.server = "https://localhost:" + std::to_string(server.port());
  config.tls_server_name = "kube.test";  // in the certificate's SANs; not resolvable
  auto client = MustClient(config);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_TRUE(resp) << resp.error();
  EXPECT_EQ(server.requests().at(0).Header("host"), "localhost:" + std::to_string(server.port()));
  config.tls_server_name = "wrong.test";
  EXPECT_FALSE(MustClient(config)->Do(Req("/api")));
}

TEST_F(CurlTlsTest, PresentsAClientCertificateFromMemory) {
  ScriptedServer server(RespondOk, MutualTls());
  RestConfig config = ConfigFor(server);
  config.ca_data = TestPki::Read(pki_.ca_cert);
  // Without a certificate the handshake fails.
  Result<HttpResponse> anonymous = MustClient(config)->Do(Req("/api"));
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code(), StatusCode::kUnavailable);
  config.client_certificate_data = TestPki::Read(pki_.client_cert);
  config.client_key_data = TestPki::Read(pki_.client_key);
  Result<HttpResponse> resp = MustClient(config)->Do(Req("/api"));
  ASSERT_TRUE(resp) << resp.error();
  std::vector<ScriptedRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_THAT(reqs[0].client_cert_subject, HasSubstr("CN=test-user"));
}

TEST_F(CurlTlsTest, PresentsAClientCertificateFromFiles) {
  ScriptedServer server(RespondOk, MutualTls());
  RestConfig config = ConfigFor(server);
  config.ca_file = pki_.ca_cert;
  config.client_certificate_file = pki_.client_cert;
  config.client_key_file = pki_.client_key;
  Result<HttpResponse> resp = MustClient(config)->Do(Req("/api"));
  ASSERT_TRUE(resp) << resp.error();
}

// --- Exec credential plugins ------------------------------------------------------------------

// A plugin that prints token "tok-N", N counting its runs (kept in a file beside it).
std::string WritePlugin(const std::string& dir) {
  std::string script = dir + "/plugin.sh";
  WriteFile(
      script,
      "#!/bin/sh\n"
      "n=$(cat " +
          dir +
          "/count 2>/dev/null || echo 0)\n"
          "n=$((n+1))\n"
          "echo $n > " +
          dir +
          "/count\n"
          "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
          "\"status\":{\"token\":\"tok-%s\"}}' $n\n");
  ::chmod(script.c_str(), 0755);
  return script;
}

TEST(CurlExecTest, UsesThePluginTokenAndRetriesOnceAfter401) {
  TempDir dir;
  ScriptedServer server([](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.Header("authorization") == "Bearer tok-1") {
      conn.Respond(
          401, "application/json",
          R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})");
    } else {
      conn.Respond(200, "application/json", "{}");
    }
  });
  RestConfig config = ConfigFor(server);
  config.exec = ExecConfig();
  config.exec->command = WritePlugin(dir.path);
  config.exec->api_version = "client.authentication.k8s.io/v1";
  auto client = MustClient(config);
  Result<HttpResponse> resp = client->Do(Req("/api"));
  ASSERT_TRUE(resp) << resp.error();
  EXPECT_EQ(resp->status, 200);
  std::vector<ScriptedRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("authorization"), "Bearer tok-1");
  EXPECT_EQ(reqs[1].Header("authorization"), "Bearer tok-2");
  // The credential is cached: the next request runs no plugin.
  ASSERT_TRUE(client->Do(Req("/api")));
  EXPECT_EQ(server.requests().at(2).Header("authorization"), "Bearer tok-2");
}

TEST(CurlExecTest, AFailingPluginIsUnauthorizedWithoutARequest) {
  ScriptedServer server(RespondOk);
  RestConfig config = ConfigFor(server);
  config.exec = ExecConfig();
  config.exec->command = "/bin/false";
  config.exec->api_version = "client.authentication.k8s.io/v1";
  Result<HttpResponse> resp = MustClient(config)->Do(Req("/api"));
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), StatusCode::kUnauthorized);
  EXPECT_EQ(server.requests().size(), 0u);
}

}  // namespace
}  // namespace kube

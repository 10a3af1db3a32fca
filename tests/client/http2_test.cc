// How the libcurl transport shares connections: over HTTP/2, watches and requests multiplex onto
// as few connections as the server's stream limit allows (one per SETTINGS_MAX_CONCURRENT_STREAMS
// transfers, none extra for transfers started during the first TLS handshake); over HTTP/1.1 each
// concurrent transfer gets a connection of its own and none waits for another to end.
//
// The HTTP/2 server is node's built-in `http2` module (tests/client/testdata/h2_server.mjs, on
// loopback, with the test PKI); those tests skip when `node` is not installed
// (scripts/install-deps.sh installs it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "tests/client/scripted_server.h"

namespace kube {
namespace {

using ::testing::HasSubstr;
using testing::ScriptedConn;
using testing::ScriptedRequest;
using testing::ScriptedServer;
using testing::ScriptedServerOptions;
using testing::TestPki;

// The node executable on PATH, or "".
std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
    for (const char* name : {"node", "nodejs"}) {
      std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

// tests/client/testdata/h2_server.mjs in a child process; stopped (stdin closed, then SIGTERM)
// on destruction.
class NodeH2Server {
 public:
  NodeH2Server(const std::string& node, const TestPki& pki, int max_streams) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return;
    std::string script = KUBE_CLIENT_TESTDATA "/h2_server.mjs";
    std::string streams = std::to_string(max_streams);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      ::execl(node.c_str(), node.c_str(), script.c_str(), pki.server_cert.c_str(),
              pki.server_key.c_str(), streams.c_str(), "h2", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    port_ = std::atoi(line.c_str());
  }
  ~NodeH2Server() {
    if (stdin_ >= 0) ::close(stdin_);  // the server exits when its stdin closes
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  NodeH2Server(const NodeH2Server&) = delete;
  NodeH2Server& operator=(const NodeH2Server&) = delete;

  bool ok() const { return port_ > 0; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

// A number from the server's /stats JSON.
int StatOf(HttpClient& http, const std::string& name) {
  HttpRequest req;
  req.path = "/stats";
  Result<HttpResponse> r = http.Do(req);
  if (!r || r->status != 200) return -1;
  size_t at = r->body.find("\"" + name + "\":");
  if (at == std::string::npos) return -1;
  return std::atoi(r->body.c_str() + at + name.size() + 3);
}

// Counts watch events; waits for a number of them.
class EventCounter {
 public:
  void Add() {
    std::lock_guard<std::mutex> l(mu_);
    ++n_;
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] { return n_ >= n; });
  }
  int count() {
    std::lock_guard<std::mutex> l(mu_);
    return n_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

class Http2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = FindNode();
    if (node_.empty()) {
      GTEST_SKIP() << "node is not installed (scripts/install-deps.sh installs it): the HTTP/2 "
                      "connection tests need its http2 module as the loopback server";
    }
    ASSERT_TRUE(pki_.ok);
  }

  std::shared_ptr<HttpClient> ClientFor(const std::string& url) {
    RestConfig config;
    config.server = url;
    config.ca_data = TestPki::Read(pki_.ca_cert);
    Result<std::shared_ptr<HttpClient>> http = MakeCurlHttpClient(config);
    EXPECT_TRUE(http) << http.error();
    return http ? *http : nullptr;
  }

  std::string node_;
  TestPki pki_;
};

TEST_F(Http2Test, WatchesStartedDuringTheFirstHandshakeShareItsConnection) {
  NodeH2Server server(node_, pki_, 100);
  ASSERT_TRUE(server.ok());
  auto http = ClientFor(server.url());
  ResourceClient pods(http, {"", "v1", "pods"}, "default");
  constexpr int kWatches = 60;
  EventCounter events;
  std::vector<WatchHandle> watches;
  // All started at once, on a client with no connection yet.
  for (int i = 0; i < kWatches; ++i) {
    watches.push_back(pods.WatchAsync({}, [&](WatchEvent e) {
      if (e.type == WatchEventType::kAdded) events.Add();
    }));
  }
  ASSERT_TRUE(events.WaitFor(kWatches)) << events.count();
  EXPECT_EQ(StatOf(*http, "connections"), 1);
  EXPECT_EQ(StatOf(*http, "open"), kWatches + 1);  // the watches and this request
  HttpClientStats stats = http->Stats();
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_TRUE(stats.http2);
}

TEST_F(Http2Test, WatchesAndRequestsUseOneConnectionPerStreamLimit) {
  // 250 watches and 40 requests at once against a server allowing 100 streams per connection:
  // never more than 290 streams, so 3 connections, and at least 3 are needed for the watches.
  NodeH2Server server(node_, pki_, 100);
  ASSERT_TRUE(server.ok());
  auto http = ClientFor(server.url());
  ResourceClient pods(http, {"", "v1", "pods"}, "default");
  constexpr int kWatches = 250;
  constexpr int kRequests = 40;
  EventCounter events;
  std::vector<WatchHandle> watches;
  std::atomic<int> ok_requests{0};
  std::vector<std::thread> requesters;
  for (int t = 0; t < 4; ++t) {
    requesters.emplace_back([&, t] {
      for (int i = 0; i < kRequests / 4; ++i) {
        HttpRequest req;
        req.path = "/api/v1/namespaces/default/pods/r" + std::to_string(t * 100 + i);
        Result<HttpResponse> r = http->Do(req);
        if (r && r->status == 200) ++ok_requests;
      }
    });
  }
  for (int i = 0; i < kWatches; ++i) {
    watches.push_back(pods.WatchAsync({}, [&](WatchEvent e) {
      if (e.type == WatchEventType::kAdded) events.Add();
    }));
  }
  for (std::thread& t : requesters) t.join();
  // Every watch is served at once: none waits for another stream to end.
  ASSERT_TRUE(events.WaitFor(kWatches)) << events.count();
  EXPECT_EQ(ok_requests.load(), kRequests);
  EXPECT_EQ(StatOf(*http, "connections"), 3);
  EXPECT_EQ(http->Stats().connections_opened, 3u);
  // A watch started now, with every connection full, opens exactly one more.
  for (int i = 0; i < 60; ++i) {
    watches.push_back(pods.WatchAsync({}, [&](WatchEvent e) {
      if (e.type == WatchEventType::kAdded) events.Add();
    }));
  }
  ASSERT_TRUE(events.WaitFor(kWatches + 60)) << events.count();
  EXPECT_EQ(StatOf(*http, "connections"), 4);
  EXPECT_EQ(http->Stats().connections_opened, 4u);
}

TEST_F(Http2Test, StreamLimitBelowLibcurlsDefaultHoldsFromTheFirstConnection) {
  // libcurl assumes 100 streams until the server's SETTINGS arrive; transfers placed on a new
  // connection before then would wait inside nghttp2 for other streams to end. 25 watches, 10
  // streams per connection: 3 connections, and every watch is served at once.
  NodeH2Server server(node_, pki_, 10);
  ASSERT_TRUE(server.ok());
  auto http = ClientFor(server.url());
  ResourceClient pods(http, {"", "v1", "pods"}, "default");
  constexpr int kWatches = 25;
  EventCounter events;
  std::vector<WatchHandle> watches;
  for (int i = 0; i < kWatches; ++i) {
    watches.push_back(pods.WatchAsync({}, [&](WatchEvent e) {
      if (e.type == WatchEventType::kAdded) events.Add();
    }));
  }
  ASSERT_TRUE(events.WaitFor(kWatches)) << events.count();
  EXPECT_EQ(http->Stats().connections_opened, 3u);
  EXPECT_EQ(StatOf(*http, "connections"), 3);  // this request takes the 26th stream
}

TEST_F(Http2Test, TransfersWaitingForAFailedConnectionFailWithItsError) {
  // Nothing listens: the first connection is refused, and the watches waiting for it end with the
  // same error at once instead of each trying in turn.
  int port;
  {
    NodeH2Server gone(node_, pki_, 100);
    ASSERT_TRUE(gone.ok());
    port = std::atoi(gone.url().substr(gone.url().rfind(':') + 1).c_str());
  }
  auto http = ClientFor("https://127.0.0.1:" + std::to_string(port));
  constexpr int kStreams = 30;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> results;
  std::vector<std::unique_ptr<HttpStream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    HttpRequest req;
    req.path = "/api/v1/pods?watch=1";
    StreamCallbacks cb;
    cb.on_done = [&](Status s) {
      std::lock_guard<std::mutex> l(mu);
      results.push_back(std::move(s));
      cv.notify_all();
    };
    streams.push_back(http->Stream(req, std::move(cb)));
  }
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return results.size() == kStreams; }));
  for (const Status& s : results) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_THAT(s.message(), HasSubstr("127.0.0.1"));
  }
  l.unlock();
  streams.clear();
  EXPECT_FALSE(http->Stats().http2);
}

// --- HTTP/1.1 over TLS: no multiplexing, so one connection per concurrent transfer --------------

void StreamEvents(const ScriptedRequest& req, ScriptedConn& conn) {
  if (req.target.find("watch=") == std::string::npos) {
    conn.Respond(200, "application/json", "{}");
    return;
  }
  conn.StartChunked(200, "application/json");
  for (int i = 1; i <= 20; ++i) {
    std::string frame = R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod",)"
                        R"("metadata":{"name":"p)" +
                        std::to_string(i) + R"(","namespace":"default","resourceVersion":")" +
                        std::to_string(i) + "\"}}}\n";
    if (!conn.Chunk(frame)) return;
  }
  conn.WaitPeerClosed(std::chrono::seconds(60));
  conn.CloseAfter();
}

TEST(Http1TlsTest, EachConcurrentWatchGetsAConnectionAndNoneWaits) {
  TestPki pki;
  ASSERT_TRUE(pki.ok);
  ScriptedServerOptions tls;
  tls.cert_file = pki.server_cert;
  tls.key_file = pki.server_key;
  ScriptedServer server(StreamEvents, tls);
  RestConfig config;
  config.server = server.url();
  config.ca_data = TestPki::Read(pki.ca_cert);
  auto http = *MakeCurlHttpClient(config);
  ResourceClient pods(http, {"", "v1", "pods"}, "default");
  constexpr int kWatches = 40;
  EventCounter events;
  std::vector<WatchHandle> watches;
  for (int i = 0; i < kWatches; ++i) {
    watches.push_back(pods.WatchAsync({}, [&](WatchEvent e) {
      if (e.type == WatchEventType::kAdded) events.Add();
    }));
  }
  // Every watch is served while all the others stay open.
  ASSERT_TRUE(events.WaitFor(kWatches * 20)) << events.count();
  EXPECT_EQ(server.connections(), kWatches);
  HttpClientStats stats = http->Stats();
  EXPECT_EQ(stats.connections_opened, static_cast<uint64_t>(kWatches));
  EXPECT_FALSE(stats.http2);
  // A request meanwhile gets a connection of its own too.
  HttpRequest req;
  req.path = "/api";
  Result<HttpResponse> r = http->Do(req);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, 200);
  watches.clear();
}

}  // namespace
}  // namespace kube

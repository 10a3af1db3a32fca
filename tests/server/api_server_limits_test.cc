// EmbeddedApiServer limits (docs/reliability.md, "Limits"): the request body and header limits,
// the JSON patch operation limit, the idle/slowloris deadline, the connection limit and the
// slow-watcher policy. Each limit answers with a Status (or closes the connection) and the server
// keeps serving everyone else. Timeouts are shortened so each test takes well under 2 s.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/informers/factory.h"
#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";

// A raw TCP connection to 127.0.0.1:port, for clients no HTTP library would imitate: ones that
// trickle bytes, never read, or send oversized headers.
class RawConn {
 public:
  // `rcvbuf` > 0 shrinks the receive buffer (set before connecting, so the window stays small).
  explicit RawConn(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until the peer closes (EOF or reset) or `timeout` passes; true if it closed. What was
  // read is appended to `received()`.
  bool WaitClosed(milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    while (true) {
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      received_.append(buf, static_cast<size_t>(n));
    }
  }

  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

std::string ConfigMapWithData(const std::string& name, size_t bytes) {
  return json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"data", {{"blob", std::string(bytes, 'x')}}}}
      .dump();
}

class ApiServerLimitsTest : public ApiServerFixture {
 protected:
  ApiServerOptions Options() const override {
    ApiServerOptions o = ApiServerFixture::Options();
    o.idle_timeout = milliseconds(1000);
    o.write_timeout = std::chrono::seconds(30);  // the slow-watcher policy must not need it
    o.max_header_bytes = 16 * 1024;
    o.max_connections = 8;
    o.watch_queue_limit = 50;
    return o;
  }
};

TEST_F(ApiServerLimitsTest, CreateLargerThanThreeMebibytesIsRequestEntityTooLarge) {
  HttpResult r = Post(kConfigMaps, ConfigMapWithData("huge", 4 << 20));
  EXPECT_EQ(r.code, 413) << r.error;
  json s = r.Json();
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["reason"], "RequestEntityTooLarge");
  EXPECT_EQ(s["message"], "Request entity too large: limit is 3145728");
  EXPECT_EQ(Get(std::string(kConfigMaps) + "/huge").code, 404);
  // The server goes on serving, and a body just under the limit is fine.
  EXPECT_EQ(Post(kConfigMaps, ConfigMapWithData("big", (3 << 20) - 4096)).code, 201);
}

TEST_F(ApiServerLimitsTest, JsonPatchWithMoreThanTenThousandOperationsIsRefused) {
  MustCreate(ConfigMapJson("default", "p"));
  json ops = json::array();
  for (int i = 0; i < 10001; ++i) {
    ops.push_back({{"op", "test"}, {"path", "/kind"}, {"value", "ConfigMap"}});
  }
  HttpResult r = Patch(std::string(kConfigMaps) + "/p", ops.dump(), "application/json-patch+json");
  EXPECT_EQ(r.code, 413);
  EXPECT_EQ(r.Json()["reason"], "RequestEntityTooLarge");
  EXPECT_THAT(r.Json()["message"].get<std::string>(),
              ::testing::HasSubstr("maximum operations in a JSON patch is 10000, got 10001"));
  ops.erase(ops.begin());  // exactly 10000: allowed
  EXPECT_EQ(Patch(std::string(kConfigMaps) + "/p", ops.dump(), "application/json-patch+json").code,
            200);
}

TEST_F(ApiServerLimitsTest, OversizedRequestHeadersAre431) {
  RawConn conn(server().Port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /api HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(32 * 1024, 'a') +
                        "\r\n\r\n"));
  ASSERT_TRUE(conn.WaitClosed(std::chrono::seconds(5)));
  EXPECT_THAT(conn.received(), ::testing::StartsWith("HTTP/1.1 431"));
  EXPECT_THAT(conn.received(), ::testing::HasSubstr("request headers exceed the server's limit"));
  EXPECT_EQ(Get("/api").code, 200);
}

TEST_F(ApiServerLimitsTest, IdleKeepAliveConnectionIsClosed) {
  RawConn conn(server().Port());
  ASSERT_TRUE(conn.connected());
  EXPECT_TRUE(conn.WaitClosed(std::chrono::seconds(5)));
  EXPECT_EQ(conn.received(), "");
}

TEST_F(ApiServerLimitsTest, SlowlorisConnectionIsClosedAtTheDeadline) {
  RawConn conn(server().Port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.Send("GET /api HTTP/1.1\r\nHost: x\r\n"));
  // One header byte every 50 ms: each keeps the connection busy, none extends the deadline.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    if (!conn.Send("X")) break;
    closed = conn.WaitClosed(milliseconds(50));
  }
  EXPECT_TRUE(closed || conn.WaitClosed(std::chrono::seconds(1)))
      << "a trickling client kept its connection for 5 s";
  EXPECT_EQ(conn.received(), "");  // never a response: the request was never complete
  EXPECT_EQ(Get("/api").code, 200);
}

// Idle connections must outlive the test here: the default idle timeout.
class ApiServerConnectionLimitTest : public ApiServerLimitsTest {
 protected:
  ApiServerOptions Options() const override {
    ApiServerOptions o = ApiServerLimitsTest::Options();
    o.idle_timeout = std::chrono::seconds(120);
    return o;
  }
};

TEST_F(ApiServerConnectionLimitTest, ConnectionsBeyondTheLimitAreTooManyRequests) {
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<RawConn>(server().Port()));
    ASSERT_TRUE(held.back()->connected());
  }
  HttpResult r = Get("/api");
  EXPECT_EQ(r.code, 429);
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_EQ(r.Json()["reason"], "TooManyRequests");
  EXPECT_THAT(r.Json()["message"].get<std::string>(),
              ::testing::HasSubstr("too many open connections (the server's limit is 8)"));
  held.clear();  // the slots free up as the server sees the connections go
  EXPECT_TRUE(WaitFor([&] { return Get("/api").code == 200; }));
}

TEST_F(ApiServerLimitsTest, WatcherThatNeverReadsIsClosedWhileOthersKeepUp) {
  std::string path = std::string(kConfigMaps) +
                     "?watch=true&resourceVersion=" + std::to_string(server().ResourceVersion());
  RawConn stuck(server().Port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(stuck.connected());
  ASSERT_TRUE(stuck.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return server().WatchCount() == 1; }));
  auto reader = Watch(path);
  ASSERT_TRUE(WaitFor([&] { return server().WatchCount() == 2; }));

  // ~19 MB of events: far more than the socket buffers hold, and 6x the queue limit. Written in
  // batches the reader drains in between, so only the stuck watcher falls behind.
  constexpr int kObjects = 300;
  constexpr int kBatch = 20;
  for (int i = 0; i < kObjects; i += kBatch) {
    for (int j = i; j < i + kBatch; ++j) {
      MustCreate(ConfigMapWithData("cm-" + std::to_string(j), 64 * 1024));
    }
    for (int j = i; j < i + kBatch; ++j) {
      auto e = reader->NextNonBookmark();
      ASSERT_TRUE(e) << "the reading watcher lost event " << j;
      ASSERT_EQ((*e)["object"]["metadata"]["name"], "cm-" + std::to_string(j));
    }
  }
  // The stuck watcher was dropped (its queue released) without waiting for the write timeout;
  // a client that resumes from its last resourceVersion loses nothing.
  EXPECT_TRUE(WaitFor([&] { return server().WatchCount() == 1; }, std::chrono::seconds(5)));
  EXPECT_TRUE(stuck.WaitClosed(std::chrono::seconds(10)));
}

// The client's frame limit, end to end: an informer whose client accepts watch events of 16 KiB
// meets a 64 KiB object. The watch ends with one kDataLoss error (reported to the handler), and
// the reflector relists after backoff instead of resuming into the same event: the list brings
// the big object, and later events flow again.
TEST_F(ApiServerLimitsTest, InformerRecoversFromAnEventOverTheFrameLimitByRelisting) {
  RestConfig config;
  config.server = server().Url();
  config.timeout = std::chrono::seconds(5);
  auto http = MakeCurlHttpClient(config, {.max_watch_frame_bytes = 16 * 1024});
  ASSERT_TRUE(http) << http.error();
  SharedInformerFactoryOptions o;
  o.ns = "default";
  o.reflector.backoff_initial = milliseconds(20);
  auto factory = SharedInformerFactory::Create(*http, o);
  GenericInformer cms =
      factory->ForResource({"", "v1", "configmaps"}, {.namespaced = true, .kind = "ConfigMap"});
  std::mutex mu;
  std::vector<Status> errors;
  ASSERT_TRUE(cms.Informer()
                  ->SetWatchErrorHandler([&](const Status& s) {
                    std::lock_guard<std::mutex> l(mu);
                    errors.push_back(s);
                  })
                  .ok());
  factory->Start();
  ASSERT_TRUE(cms.Informer()->WaitForCacheSync(std::chrono::seconds(10)));

  MustCreate(ConfigMapWithData("big", 64 * 1024));
  MustCreate(ConfigMapJson("default", "after"));
  EXPECT_TRUE(WaitFor([&] {
    return cms.GetLister().Get("default", "big").has_value() &&
           cms.GetLister().Get("default", "after").has_value();
  }));
  MustCreate(ConfigMapJson("default", "later"));
  EXPECT_TRUE(WaitFor([&] { return cms.GetLister().Get("default", "later").has_value(); }));
  factory->Shutdown();
  std::lock_guard<std::mutex> l(mu);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].code(), StatusCode::kDataLoss);
  EXPECT_THAT(errors[0].message(), ::testing::HasSubstr("exceeds the 16384-byte frame limit"));
}

}  // namespace
}  // namespace kube::testing

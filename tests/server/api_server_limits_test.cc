// EmbeddedApiServer limits (docs/reliability.md, "Limits"): the request body and header limits,
// the JSON patch operation limit, the idle/slowloris deadline, the connection limit and the
// slow-watcher policy. Each limit answers with a Status (or closes the connection) and the server
// keeps serving everyone else. Timeouts are shortened so each test takes well under 2 s.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
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

  // Reads until `received()` holds at least `n` bytes; false if the peer closes first or
  // `timeout` passes.
  bool ReadAtLeast(size_t n, milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    while (received_.size() < n) {
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - received_.size()), 0);
      if (got <= 0) return false;
      received_.append(buf, static_cast<size_t>(got));
    }
    return true;
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

// Clients that hang up in the middle of a large list (JSON, and protobuf, whose items are
// encoded for it) leave nothing behind: each connection's slot frees up, so more such clients
// than the connection limit follow one another, and the server goes on answering.
TEST_F(ApiServerConnectionLimitTest, ClientsThatHangUpMidListLeaveNoSessionBehind) {
  // ~8 MB of ConfigMaps: far more than the socket buffers hold, so every list is cut mid-body.
  for (int i = 0; i < 128; ++i) {
    ASSERT_TRUE(server().Create(ConfigMapWithData("big-" + std::to_string(i), 64 * 1024)));
  }
  for (const char* accept : {"application/json", "application/vnd.kubernetes.protobuf"}) {
    SCOPED_TRACE(accept);
    for (int round = 0; round < 12; ++round) {  // the limit is 8 connections
      std::unique_ptr<RawConn> c;
      // A slot frees up once the server has seen the previous client go.
      ASSERT_TRUE(WaitFor([&] {
        c = std::make_unique<RawConn>(server().Port(), /*rcvbuf=*/4096);
        return c->connected() &&
               c->Send(std::string("GET ") + kConfigMaps +
                       " HTTP/1.1\r\nHost: x\r\nAccept: " + accept + "\r\n\r\n") &&
               c->ReadAtLeast(64 * 1024, milliseconds(5000)) &&
               c->received().rfind("HTTP/1.1 200", 0) == 0;
      })) << "round "
          << round << ": " << (c ? c->received().substr(0, 200) : "");
      c.reset();  // hangs up with most of the body unread
    }
  }
  EXPECT_TRUE(WaitFor([&] { return Get("/api").code == 200; }));
  HttpResult list = Get(kConfigMaps, "application/vnd.kubernetes.protobuf");
  EXPECT_EQ(list.code, 200);
  EXPECT_GT(list.body.size(), size_t{128} * 64 * 1024);
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

// --- Bytes, not only counts ------------------------------------------------------------------

constexpr size_t kBodyLimit = size_t{3} << 20;

// `n` aliases of one anchored scalar of `scalar_bytes` bytes, in a ConfigMap's data.
std::string AliasedScalarYaml(const std::string& name, size_t scalar_bytes, int n) {
  std::string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
                     "\n  namespace: default\ndata:\n  big: &big " +
                     std::string(scalar_bytes, 'x') + "\n";
  for (int i = 0; i < n; ++i) yaml += "  k" + std::to_string(i) + ": *big\n";
  return yaml;
}

// 100 KB of YAML that its aliases expand to 10 MB: refused while parsing, before the copies are
// made, against the body limit.
TEST_F(ApiServerLimitsTest, YamlBodyWhoseAliasesExpandPastTheBodyLimitIsBadRequest) {
  HttpResult r = client().Request("POST", kConfigMaps, AliasedScalarYaml("bomb", 10000, 1000),
                                  {"Content-Type: application/yaml"});
  EXPECT_EQ(r.code, 400) << r.body;
  EXPECT_EQ(r.Json()["reason"], "BadRequest");
  EXPECT_THAT(r.Json()["message"].get<std::string>(),
              ::testing::HasSubstr("more than 3145728 bytes of JSON, the limit"));
  EXPECT_EQ(Get(std::string(kConfigMaps) + "/bomb").code, 404);
  // A few aliases are fine.
  r = client().Request("POST", kConfigMaps, AliasedScalarYaml("few", 1000, 10),
                       {"Content-Type: application/yaml"});
  EXPECT_EQ(r.code, 201) << r.body;
}

// Each copy of `/data` into itself doubles the object: 16 operations (1 KB of patch) would make
// 64 MB. kube-apiserver bounds the bytes all copies of one patch add to its body limit, and
// answers 422.
TEST_F(ApiServerLimitsTest, JsonPatchCopiesAreBoundedInBytes) {
  MustCreate(ConfigMapWithData("doubling", 1000));
  json ops = json::array();
  for (int i = 0; i < 16; ++i) {
    ops.push_back({{"op", "copy"}, {"from", "/data"}, {"path", "/data/c" + std::to_string(i)}});
  }
  HttpResult r =
      Patch(std::string(kConfigMaps) + "/doubling", ops.dump(), "application/json-patch+json");
  EXPECT_EQ(r.code, 422) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json()["reason"], "Invalid");
  EXPECT_THAT(r.Json()["message"].get<std::string>(),
              ::testing::HasSubstr("exceeds the limit of 3145728 bytes"));
  json stored = Get(std::string(kConfigMaps) + "/doubling").Json();
  EXPECT_FALSE(stored["data"].contains("c0"));
  // Copies that stay under the limit apply.
  json few = json::array();
  for (int i = 0; i < 4; ++i) {
    few.push_back(
        {{"op", "copy"}, {"from", "/data/blob"}, {"path", "/data/c" + std::to_string(i)}});
  }
  EXPECT_EQ(
      Patch(std::string(kConfigMaps) + "/doubling", few.dump(), "application/json-patch+json").code,
      200);
}

// A body under the limit can still make an object over it: every patch type and an update are
// refused with 413 before anything is stored, so no stored object is larger than the limit.
TEST_F(ApiServerLimitsTest, WriteWhoseResultIsOverTheBodyLimitIsRequestEntityTooLarge) {
  MustCreate(ConfigMapWithData("grown", 2 << 20));
  const std::string path = std::string(kConfigMaps) + "/grown";
  const std::string rv = Get(path).Json()["metadata"]["resourceVersion"];
  const std::string blob(2 << 20, 'y');
  struct Case {
    const char* content_type;
    std::string body;
  };
  const Case cases[] = {
      {"application/merge-patch+json", json{{"data", {{"more", blob}}}}.dump()},
      {"application/strategic-merge-patch+json", json{{"data", {{"more", blob}}}}.dump()},
      {"application/json-patch+json",
       json::array({{{"op", "add"}, {"path", "/data/more"}, {"value", blob}}}).dump()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content_type);
    HttpResult r = Patch(path, c.body, c.content_type);
    EXPECT_EQ(r.code, 413) << r.body.substr(0, 300);
    EXPECT_EQ(r.Json()["reason"], "RequestEntityTooLarge");
    EXPECT_THAT(r.Json()["message"].get<std::string>(),
                ::testing::StartsWith("Request entity too large: limit is 3145728"));
  }
  // An update whose body is exactly the limit: the server's own metadata (uid,
  // creationTimestamp) takes the stored object past it.
  json body = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "grown"}, {"namespace", "default"}}},
               {"data", {{"blob", ""}}}};
  body["data"]["blob"] = std::string(kBodyLimit - body.dump().size(), 'z');
  ASSERT_EQ(body.dump().size(), kBodyLimit);
  HttpResult r = Put(path, body.dump());
  EXPECT_EQ(r.code, 413) << r.body.substr(0, 300);
  EXPECT_EQ(Get(path).Json()["metadata"]["resourceVersion"], rv);  // nothing was stored
}

// A server that requires a token, for the order of refusals.
class ApiServerAuthLimitsTest : public ApiServerLimitsTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kinf-tokens-XXXXXX";
    int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    const std::string line = "s3cret,alice,1\n";
    ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    ::close(fd);
    token_file_ = tmpl;
    ApiServerLimitsTest::SetUp();
  }
  void TearDown() override {
    ApiServerLimitsTest::TearDown();
    ::unlink(token_file_.c_str());
  }
  ApiServerOptions Options() const override {
    ApiServerOptions o = ApiServerLimitsTest::Options();
    o.token_auth_file = token_file_;
    return o;
  }
  ClientOptions ClientOpts() const override { return {.token = "s3cret"}; }

  std::string token_file_;
};

// The header is enough to refuse a request: a client without a valid token, or one announcing a
// body over the limit, is answered at once and the connection closed; the body it announced is
// never awaited (nor held).
TEST_F(ApiServerAuthLimitsTest, RefusalsAreAnsweredBeforeTheBodyIsRead) {
  const std::string header = std::string("POST ") + kConfigMaps +
                             " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  struct Case {
    std::string request;
    const char* want;
  };
  const Case cases[] = {
      {header + "Content-Length: 2000000\r\n\r\n", "HTTP/1.1 401"},
      {header + "Authorization: Bearer wrong\r\nContent-Length: 2000000\r\n\r\n", "HTTP/1.1 401"},
      {header + "Transfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 401"},
      {header + "Authorization: Bearer s3cret\r\nContent-Length: 4000000\r\n\r\n", "HTTP/1.1 413"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.request);
    RawConn conn(server().Port());
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.Send(c.request));
    // Well before the 1 s read deadline would have closed the connection without an answer.
    ASSERT_TRUE(conn.WaitClosed(std::chrono::seconds(5)));
    EXPECT_THAT(conn.received(), ::testing::StartsWith(c.want));
    EXPECT_THAT(conn.received(), ::testing::HasSubstr("\"kind\":\"Status\""));
  }
  // With the token, the body is read and the object created.
  EXPECT_EQ(Post(kConfigMaps, ConfigMapJson("default", "ok")).code, 201);
}

// --- File descriptors ------------------------------------------------------------------------

// `kinf serve` in a child process whose open files limit is `soft` (hard limit `hard`), so that
// running out of descriptors cannot disturb the test process. Killed and reaped on destruction.
class ServeWithFdLimit {
 public:
  ServeWithFdLimit(rlim_t soft, rlim_t hard) {
    char tmpl[] = "/tmp/kinf-serve-err-XXXXXX";
    int err_fd = ::mkstemp(tmpl);
    stderr_path_ = tmpl;
    int out[2];
    if (err_fd < 0 || ::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      rlimit lim{soft, hard};
      ::setrlimit(RLIMIT_NOFILE, &lim);
      ::dup2(out[1], 1);
      ::dup2(err_fd, 2);
      ::close(err_fd);
      ::close(out[0]);
      ::close(out[1]);
      ::execl(KINF_BINARY, "kinf", "serve", "--listen", "127.0.0.1:0", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err_fd);
    // The first line is `listening on http://127.0.0.1:PORT`.
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    size_t colon = line.rfind(':');
    if (line.starts_with("listening on ") && colon != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    }
  }
  ~ServeWithFdLimit() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::unlink(stderr_path_.c_str());
  }
  ServeWithFdLimit(const ServeWithFdLimit&) = delete;
  ServeWithFdLimit& operator=(const ServeWithFdLimit&) = delete;

  uint16_t port() const { return port_; }
  std::string Stderr() const {
    std::ifstream in(stderr_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string stderr_path_;
};

// Polls `cond` until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& cond, milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

// Sends `request` on a new connection and returns what comes back before the server closes it
// (or the first complete answer on a kept-alive connection, after `timeout`).
std::string OneRequest(uint16_t port, const std::string& request,
                       milliseconds timeout = std::chrono::seconds(10)) {
  RawConn conn(port);
  if (!conn.connected() || !conn.Send(request)) return "";
  conn.WaitClosed(timeout);
  return conn.received();
}

// The status line of a raw answer ("" when none).
std::string StatusLine(const std::string& response) {
  return response.substr(0, std::min(response.find("\r\n"), response.size()));
}

// Under a soft and hard open files limit of 128 the server sizes its connection limit to fit
// (instead of its 10,000 default), keeps answering health checks with every slot taken, and
// answers every connection beyond with a Status: 429 over the connection limit, 503 when even
// accept runs out of descriptors. It never stops accepting: once the connections go, it serves
// again.
TEST(ApiServerOpenFilesTest, LowFdLimitStillServesHealthzAndAnswersExcessConnections) {
  ServeWithFdLimit serve(128, 128);
  ASSERT_NE(serve.port(), 0) << serve.Stderr();
  EXPECT_THAT(serve.Stderr(), ::testing::HasSubstr("the open files limit (RLIMIT_NOFILE) is 128"));

  // 200 idle connections: more than the descriptors the server has.
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 200; ++i) {
    held.push_back(std::make_unique<RawConn>(serve.port()));
    ASSERT_TRUE(held.back()->connected());
  }
  // Those accepted without a descriptor to spare are answered 503 and closed at once; those over
  // the connection limit are closed without an answer when they send nothing for 5 s.
  std::vector<bool> closed(held.size(), false);
  int shed = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (size_t i = 0; i < held.size(); ++i) {
          // 2 ms: `WaitClosed` rounds what is left down to whole milliseconds.
          if (closed[i] || !held[i]->WaitClosed(milliseconds(2))) continue;
          closed[i] = true;
          const std::string& got = held[i]->received();
          if (got.empty()) continue;
          EXPECT_EQ(StatusLine(got), "HTTP/1.1 503 Service Unavailable");
          EXPECT_THAT(got, ::testing::HasSubstr("\"reason\":\"ServiceUnavailable\""));
          EXPECT_THAT(got, ::testing::HasSubstr("Retry-After: 1"));
          ++shed;
        }
        return shed > 0;
      },
      std::chrono::seconds(30)));

  // Health checks answer (once the idle connections over the limit have had their 5 s).
  EXPECT_TRUE(WaitUntil(
      [&] {
        return StatusLine(OneRequest(serve.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) ==
               "HTTP/1.1 200 OK";
      },
      std::chrono::seconds(30)));
  // Other requests get 429 with a Status naming the limit, which fits in 128 descriptors.
  std::string r = OneRequest(serve.port(), "GET /api HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusLine(r), "HTTP/1.1 429 Too Many Requests") << r;
  EXPECT_THAT(r, ::testing::HasSubstr("\"reason\":\"TooManyRequests\""));
  size_t at = r.find("the server's limit is ");
  ASSERT_NE(at, std::string::npos) << r;
  int limit = std::stoi(r.substr(at + 22));
  EXPECT_GT(limit, 0);
  EXPECT_LT(limit, 128);

  held.clear();
  EXPECT_TRUE(WaitUntil([&] {
    return StatusLine(OneRequest(serve.port(), "GET /api HTTP/1.1\r\nHost: x\r\n\r\n",
                                 milliseconds(200))) == "HTTP/1.1 200 OK";
  }));
}

// A soft limit below the hard one is raised to it at start.
TEST(ApiServerOpenFilesTest, SoftFdLimitIsRaisedToTheHardLimit) {
  ServeWithFdLimit serve(64, 160);
  ASSERT_NE(serve.port(), 0) << serve.Stderr();
  EXPECT_THAT(serve.Stderr(),
              ::testing::HasSubstr("the open files limit (RLIMIT_NOFILE) is 160 (raised from 64)"));
  EXPECT_EQ(StatusLine(OneRequest(serve.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                  milliseconds(200))),
            "HTTP/1.1 200 OK");
}

}  // namespace
}  // namespace kube::testing

// EmbeddedApiServer under concurrency: many watch streams on raw sockets while several threads
// write, list and churn. Runs under TSan (label `concurrency`).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

// A watch on a plain socket: the test counts event lines without a thread per stream.
struct RawWatch {
  int fd = -1;
  std::string data;
  size_t events = 0;

  bool Open(uint16_t port, const std::string& path) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    std::string req =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n";
    return ::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size());
  }
  // Reads what is available; counts event lines.
  void Read() {
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
    constexpr std::string_view kEvent = R"({"type":")";
    size_t pos = 0;
    while ((pos = data.find(kEvent, pos)) != std::string::npos) {
      ++events;
      pos += kEvent.size();
    }
    // Keep a tail so a marker split across reads is still found once.
    if (data.size() > kEvent.size()) data.erase(0, data.size() - (kEvent.size() - 1));
  }
  ~RawWatch() {
    if (fd >= 0) ::close(fd);
  }
};

// A watch on a plain socket that decodes the chunked framing and checks every event line:
// complete JSON, resourceVersions strictly increasing, each object's `data.k` increasing.
struct FramedWatch {
  int fd = -1;
  std::string in;  // bytes not yet decoded
  bool header_done = false;
  size_t chunk_left = 0;  // bytes of the current chunk still to come
  bool in_chunk = false;
  std::string line;  // the event line being assembled
  size_t events = 0;
  size_t chunks = 0;
  uint64_t last_rv = 0;
  std::map<std::string, int> last_seq;
  std::vector<std::string> problems;

  bool Open(uint16_t port, const std::string& path) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    std::string req =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n";
    return ::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size());
  }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void Read() {
    if (fd < 0) return;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
    Decode();
  }
  void Decode() {
    if (!header_done) {
      size_t end = in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      if (in.compare(0, 12, "HTTP/1.1 200") != 0) problems.push_back("status: " + in.substr(0, 40));
      in.erase(0, end + 4);
      header_done = true;
    }
    while (!in.empty()) {
      if (!in_chunk) {
        size_t eol = in.find("\r\n");
        if (eol == std::string::npos) return;
        chunk_left = std::stoul(in.substr(0, eol), nullptr, 16);
        in.erase(0, eol + 2);
        in_chunk = true;
        ++chunks;
      }
      size_t take = std::min(chunk_left, in.size());
      for (size_t i = 0; i < take; ++i) {
        if (in[i] == '\n') {
          Event(line);
          line.clear();
        } else {
          line += in[i];
        }
      }
      in.erase(0, take);
      chunk_left -= take;
      if (chunk_left > 0) return;
      if (in.size() < 2) return;  // the chunk's CRLF
      in.erase(0, 2);
      in_chunk = false;
    }
  }
  void Event(const std::string& text) {
    nlohmann::json e = nlohmann::json::parse(text, nullptr, false);
    if (e.is_discarded() || !e.contains("object")) {
      problems.push_back("not a complete event: " + text.substr(0, 80));
      return;
    }
    ++events;
    const nlohmann::json& meta = e["object"]["metadata"];
    uint64_t rv = std::stoull(meta.value("resourceVersion", "0"));
    if (rv <= last_rv) problems.push_back("resourceVersion went back at " + std::to_string(rv));
    last_rv = rv;
    int seq = std::stoi(e["object"]["data"].value("k", "0"));
    int& last = last_seq[meta.value("name", "")];
    if (seq <= last) problems.push_back("seq went back for " + meta.value("name", ""));
    last = seq;
  }
  ~FramedWatch() { Close(); }
};

class ApiServerStressTest : public ApiServerFixture {
 protected:
  ApiServerOptions Options() const override {
    ApiServerOptions o = ApiServerFixture::Options();
    o.threads = 2;
    o.history_size = 100000;
    o.watch_queue_limit = 100000;
    return o;
  }
};

TEST_F(ApiServerStressTest, ManyWatchersSeeEveryEventWhileWritersRun) {
  constexpr int kWatchers = 200;
  constexpr int kWriters = 4;
  constexpr int kWritesPerWriter = 100;
  std::string from = std::to_string(server().ResourceVersion());
  std::vector<std::unique_ptr<RawWatch>> watches;
  for (int i = 0; i < kWatchers; ++i) {
    auto w = std::make_unique<RawWatch>();
    ASSERT_TRUE(
        w->Open(server().Port(),
                "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + from));
    watches.push_back(std::move(w));
  }
  ASSERT_TRUE(WaitFor([&] { return server().WatchCount() == kWatchers; }));

  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerWriter; ++i) {
        std::string name = "w" + std::to_string(t) + "-" + std::to_string(i % 10);
        if (!server().Apply(ConfigMapJson("default", name, {}, std::to_string(i)))) ++failures;
      }
    });
  }
  std::thread lister([&] {
    TestHttpClient c(server().Url());
    for (int i = 0; i < 20; ++i) {
      if (c.Get("/api/v1/namespaces/default/configmaps?limit=5").code != 200) ++failures;
    }
  });
  for (auto& t : writers) t.join();
  lister.join();
  EXPECT_EQ(failures, 0);

  const size_t expected = static_cast<size_t>(kWriters * kWritesPerWriter);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::vector<pollfd> fds(watches.size());
  for (;;) {
    bool all = true;
    for (size_t i = 0; i < watches.size(); ++i) {
      fds[i] = {watches[i]->fd, POLLIN, 0};
      all = all && watches[i]->events >= expected;
    }
    if (all || std::chrono::steady_clock::now() > deadline) break;
    ::poll(fds.data(), fds.size(), 100);
    for (auto& w : watches) w->Read();
  }
  for (size_t i = 0; i < watches.size(); ++i) {
    EXPECT_EQ(watches[i]->events, expected) << "watcher " << i;
  }
}

// Events queued for a watcher go out several per chunk (one write per wake-up); each line must
// still arrive whole and in order, for every watcher, while writers race, and watchers that go
// away in the middle of a stream must not disturb the others.
TEST_F(ApiServerStressTest, BatchedWatchFramesArriveCompleteAndInOrder) {
  constexpr int kWatchers = 60;
  constexpr int kLeavers = 20;  // of which these disconnect part way
  constexpr int kWriters = 4;
  constexpr int kWritesPerWriter = 300;
  std::string from = std::to_string(server().ResourceVersion());
  std::vector<std::unique_ptr<FramedWatch>> watches;
  for (int i = 0; i < kWatchers; ++i) {
    auto w = std::make_unique<FramedWatch>();
    ASSERT_TRUE(
        w->Open(server().Port(),
                "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + from));
    watches.push_back(std::move(w));
  }
  ASSERT_TRUE(WaitFor([&] { return server().WatchCount() == kWatchers; }));

  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 1; i <= kWritesPerWriter; ++i) {
        std::string name = "batch" + std::to_string(t) + "-" + std::to_string(i % 7);
        if (!server().Apply(ConfigMapJson("default", name, {}, std::to_string(i)))) ++failures;
      }
    });
  }
  const size_t expected = static_cast<size_t>(kWriters * kWritesPerWriter);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::vector<pollfd> fds;
  for (;;) {
    bool all = true;
    fds.clear();
    for (int i = 0; i < kWatchers; ++i) {
      FramedWatch& w = *watches[i];
      // The leavers close their socket as soon as they are part way through, usually with a
      // chunk half read.
      if (i < kLeavers && w.fd >= 0 && w.events >= expected / 4) w.Close();
      if (w.fd < 0) continue;
      fds.push_back({w.fd, POLLIN, 0});
      all = all && w.events >= expected;
    }
    if (all || std::chrono::steady_clock::now() > deadline) break;
    ::poll(fds.data(), fds.size(), 100);
    for (auto& w : watches) w->Read();
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures, 0);
  size_t batched = 0;
  for (int i = 0; i < kWatchers; ++i) {
    const FramedWatch& w = *watches[i];
    EXPECT_THAT(w.problems, ::testing::IsEmpty()) << "watcher " << i;
    if (i >= kLeavers) {
      EXPECT_EQ(w.events, expected) << "watcher " << i;
      if (w.chunks < w.events) ++batched;
    }
  }
  // The server released every watcher whose client went away.
  EXPECT_TRUE(WaitFor([&] { return server().WatchCount() == kWatchers - kLeavers; }));
  // Writers outpace the I/O threads now and then, so some chunks carry several events.
  EXPECT_GT(batched, 0u);
}

TEST_F(ApiServerStressTest, ChurnWithWatchersListsAndFaults) {
  ASSERT_TRUE(server().StartChurn({.ops_per_second = 2000, .seed = 3, .max_objects = 30}).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> lists{0};
  std::thread lister([&] {
    TestHttpClient c(server().Url());
    for (int i = 0; i < 200 && !stop; ++i) {
      HttpResult r = c.Get("/api/v1/namespaces/default/pods?limit=7");
      if (r.code == 200) ++lists;
    }
  });
  {
    auto w1 = Watch("/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true");
    auto w2 = Watch("/api/v1/pods?watch=true&labelSelector=app%3Dchurn&resourceVersion=" +
                    std::to_string(server().ResourceVersion()));
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(w1->Next());
      ASSERT_TRUE(w2->Next());
    }
    server().DropWatches();
    EXPECT_TRUE(w1->WaitDone());
    EXPECT_TRUE(w2->WaitDone());
  }
  server().CompactHistory();
  server().CutWatchStreams();
  stop = true;
  lister.join();
  server().StopChurn();
  EXPECT_GT(lists.load(), 0);
}

}  // namespace
}  // namespace kube::testing

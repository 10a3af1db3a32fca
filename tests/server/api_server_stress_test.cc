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

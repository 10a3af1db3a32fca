// Warm restarts under chaos: `kinf sync --snapshot` in a child process, killed with SIGKILL at
// random moments while the server churns, restarted from whatever snapshot it left, must end with
// exactly the server's state. Some restarts come after the server's history expired (410 on
// resume) and one after the server restarted with fresh storage (another cluster).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "kube/config/rest_config.h"
#include "kube/server/api_server.h"
#include "tests/testing/convergence.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using testing::KeyVersions;

const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};

std::string ConfigMap(const std::string& name, const std::string& value) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":"default"},"data":{"v":")" + value + "\"}}";
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `kinf sync configmaps` in a child process, its stdout in a file.
class SyncChild {
 public:
  SyncChild(const std::string& url, const std::string& dir, const std::string& out) : out_(out) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      ::dup2(fd, 1);
      ::execl(KINF_BINARY, "kinf", "sync", "configmaps", "-n", "default", "--server", url.c_str(),
              "--snapshot", dir.c_str(), "--snapshot-interval", "0.05",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fd);
  }
  ~SyncChild() {
    if (pid_ > 0) Kill(SIGKILL);
  }
  // Sends `sig` and reaps the child; its exit status.
  int Kill(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  std::string Output() const { return ReadAll(out_); }
  bool Printed(const std::string& line) const {
    return ("\n" + Output()).find("\n" + line + "\n") != std::string::npos;
  }
  // The `final N` section: key -> resourceVersion.
  KeyVersions Final() const {
    KeyVersions out;
    std::istringstream in(Output());
    std::string line;
    bool final = false;
    while (std::getline(in, line)) {
      if (line.rfind("final ", 0) == 0) {
        final = true;
        continue;
      }
      if (!final) continue;
      const size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      out[line.substr(0, space)] = std::stoull(line.substr(space + 1));
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  std::string out_;
};

std::shared_ptr<HttpClient> ClientFor(const std::string& url) {
  RestConfig config;
  config.server = url;
  config.timeout = 5s;
  auto http = MakeCurlHttpClient(config);
  return http ? *http : nullptr;
}

TEST(InformerSnapshotChaosTest, KilledAtRandomAndRestartedFromItsSnapshotEndsEqualToTheServer) {
  const std::string dir = ::testing::TempDir() + "/snapshot_chaos_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ApiServerOptions o;
  auto started = EmbeddedApiServer::Start(o);
  ASSERT_TRUE(started.has_value()) << started.error();
  std::unique_ptr<EmbeddedApiServer> server = std::move(*started);
  o.port = server->Port();
  const std::string url = server->Url();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(server->Apply(ConfigMap("cm-" + std::to_string(i), "0")));

  // Churn: updates, deletes and re-creations of 20 ConfigMaps, paused while the test checks.
  std::mutex mu;  // guards `server` against the restart
  std::atomic<bool> stop{false}, paused{false};
  std::atomic<int> ops{0};
  std::thread churn([&] {
    std::mt19937 rng(7);
    while (!stop) {
      if (paused) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      {
        std::lock_guard<std::mutex> l(mu);
        const std::string name = "cm-" + std::to_string(rng() % 20);
        if (rng() % 5 == 0) {
          (void)server->Delete(kConfigMaps, "default", name);
        } else {
          (void)server->Apply(ConfigMap(name, std::to_string(rng())));
        }
      }
      ++ops;
      std::this_thread::sleep_for(1ms);  // a steady rate, not a synchronisation
    }
  });

  std::mt19937 rng(42);
  constexpr int kRounds = 6;
  int warm_restarts = 0;  // verified restarts that found a snapshot left by the killed child
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string out = dir + "/out-" + std::to_string(round);
    {
      // Killed at a random moment of its life: before, during or after its sync.
      SyncChild victim(url, dir, out + "-killed");
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
      victim.Kill(SIGKILL);
    }
    if (round == 2 || round == 4) {
      std::lock_guard<std::mutex> l(mu);
      server->CompactHistory();  // the snapshot's version is gone: 410, relist
    }
    if (round == 3) {
      std::lock_guard<std::mutex> l(mu);
      server->Stop();
      server.reset();
      std::unique_ptr<EmbeddedApiServer> fresh;
      ASSERT_TRUE(WaitFor(
          [&] {
            auto s = EmbeddedApiServer::Start(o);
            if (s) fresh = std::move(*s);
            return fresh != nullptr;
          },
          30s));
      server = std::move(fresh);
      for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(server->Apply(ConfigMap("cm-" + std::to_string(i), "fresh")));
    }
    // Restarted from whatever snapshot the killed one left, under churn.
    if (std::filesystem::exists(dir + "/_v1_configmaps_default.snap")) ++warm_restarts;
    SyncChild child(url, dir, out);
    ASSERT_TRUE(WaitFor([&] { return child.Output().rfind("synced ", 0) == 0; }, 60s))
        << child.Output();
    // Quiet, then a marker: once the child prints it, it has every earlier change.
    paused = true;
    const std::string marker = "marker-" + std::to_string(round);
    {
      std::lock_guard<std::mutex> l(mu);
      ASSERT_TRUE(server->Apply(ConfigMap(marker, "1")));
    }
    ASSERT_TRUE(WaitFor(
        [&] { return child.Output().find("default/" + marker + " ") != std::string::npos; }, 60s))
        << child.Output();
    const int status = child.Kill(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    testing::KeyVersions want;
    {
      std::lock_guard<std::mutex> l(mu);
      ResourceClient client(ClientFor(url), kConfigMaps, "default");
      auto state = testing::ServerState(client);
      ASSERT_TRUE(state.has_value()) << state.error();
      want = *state;
    }
    EXPECT_EQ(child.Final(), want) << child.Output();
    {
      std::lock_guard<std::mutex> l(mu);
      (void)server->Delete(kConfigMaps, "default", marker);
    }
    paused = false;
  }
  stop = true;
  churn.join();
  EXPECT_GT(ops.load(), 0);
  EXPECT_GE(warm_restarts, kRounds - 1);  // only the first kill may come before any snapshot
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kube

// End to end: the built `replica_controller` example against an embedded server. Deployments are
// created, scaled and deleted, Pods are deleted behind the controller's back, watches are dropped,
// history is compacted (410 on resume) and requests fail with 500s; every time the controller must
// converge to exactly `spec.replicas` Pods owned by each Deployment. A second instance stands by
// and takes over when the first is stopped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/api_server_fixture.h"

extern char** environ;

namespace kube {
namespace {

using namespace std::chrono_literals;  // NOLINT(build/namespaces)

// The controller binary as a child process, its output in a file.
class ControllerProcess {
 public:
  ControllerProcess(const std::string& kubeconfig, const std::string& id,
                    const std::string& output_file)
      : output_file_(output_file) {
    std::vector<std::string> args = {REPLICA_CONTROLLER_BIN,
                                     "--kubeconfig",
                                     kubeconfig,
                                     "--id",
                                     id,
                                     "--lease-duration",
                                     "1",
                                     "--renew-deadline",
                                     "0.7",
                                     "--retry-period",
                                     "0.2"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "cannot start " << argv[0];
    if (rc != 0) pid_ = -1;
  }
  ~ControllerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
  }
  // Waits for the exit; the exit status, or -1 on timeout or a signal death.
  int Wait(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  std::string Output() const {
    std::ifstream in(output_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string output_file_;
  pid_t pid_ = -1;
};

class ReplicaControllerE2eTest : public testing::ApiServerFixture {
 protected:
  void SetUp() override {
    ApiServerFixture::SetUp();
    dir_ = ::testing::TempDir() + "replica_controller_e2e_" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
    kubeconfig_ = dir_ + "/kubeconfig";
    ASSERT_TRUE(server().WriteKubeconfig(kubeconfig_).ok());
  }

  std::unique_ptr<ControllerProcess> StartController(const std::string& id) {
    return std::make_unique<ControllerProcess>(kubeconfig_, id, dir_ + "/" + id + ".log");
  }

  static std::string DeploymentJson(const std::string& ns, const std::string& name, int replicas) {
    return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" + name +
           R"(","namespace":")" + ns + R"("},"spec":{"replicas":)" + std::to_string(replicas) +
           R"(,"selector":{"matchLabels":{"app":")" + name +
           R"("}},"template":{"metadata":{"labels":{"app":")" + name +
           R"(","tier":"e2e"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})";
  }

  // Sets spec.replicas through the in-process server (no injected fault reaches it).
  void Scale(const std::string& ns, const std::string& name, int replicas) {
    auto d = server().Get({"apps", "v1", "deployments"}, ns, name);
    ASSERT_TRUE(d.has_value()) << d.error();
    nlohmann::json j = nlohmann::json::parse((*d)->json());
    j["spec"]["replicas"] = replicas;
    auto applied = server().Apply(j.dump());
    ASSERT_TRUE(applied.has_value()) << applied.error();
  }

  // Pod names of `ns` owned (controller=true) by the Deployment `name`.
  std::vector<std::string> OwnedPods(const std::string& ns, const std::string& name) {
    std::vector<std::string> out;
    // Json() returns a temporary: keep it alive for the loop.
    nlohmann::json pods = Get("/api/v1/namespaces/" + ns + "/pods").Json();
    for (const auto& pod : pods["items"]) {
      for (const auto& ref : pod["metadata"].value("ownerReferences", nlohmann::json::array())) {
        if (ref.value("controller", false) && ref.value("name", "") == name) {
          out.push_back(pod["metadata"]["name"]);
        }
      }
    }
    return out;
  }

  // Every Deployment has exactly spec.replicas Pods it controls, with its uid, the template's
  // labels and `<deployment>-` names; no Pod is controlled by a missing Deployment; and each
  // Deployment's status.replicas says so. Explains the first mismatch in `why`.
  bool Converged(std::string* why) {
    testing::HttpResult deployments = Get("/apis/apps/v1/deployments");
    testing::HttpResult pods = Get("/api/v1/pods");
    if (deployments.code != 200 || pods.code != 200) {
      *why = "list failed";
      return false;
    }
    // Json() returns a temporary: keep each alive for its loop.
    nlohmann::json deployment_list = deployments.Json();
    nlohmann::json pod_list = pods.Json();
    std::map<std::string, nlohmann::json> by_uid;
    for (const auto& d : deployment_list["items"]) by_uid[d["metadata"]["uid"]] = d;
    std::map<std::string, int> owned;
    for (const auto& pod : pod_list["items"]) {
      const auto& md = pod["metadata"];
      for (const auto& ref : md.value("ownerReferences", nlohmann::json::array())) {
        if (!ref.value("controller", false)) continue;
        auto it = by_uid.find(ref.value("uid", ""));
        if (it == by_uid.end()) {
          *why = "pod " + std::string(md["name"]) + " is controlled by a missing Deployment";
          return false;
        }
        const auto& dmd = it->second["metadata"];
        if (md["namespace"] != dmd["namespace"] ||
            std::string(md["name"]).rfind(std::string(dmd["name"]) + "-", 0) != 0 ||
            md["labels"]["app"] != dmd["name"] || md["labels"]["tier"] != "e2e") {
          *why = "pod " + std::string(md["name"]) + " has the wrong name, namespace or labels";
          return false;
        }
        owned[ref["uid"]]++;
      }
    }
    for (const auto& [uid, d] : by_uid) {
      int want = d["spec"].value("replicas", 1);
      int have = owned[uid];
      int reported = d.value("status", nlohmann::json::object()).value("replicas", -1);
      if (have != want || reported != want) {
        *why = "deployment " + std::string(d["metadata"]["name"]) + ": " + std::to_string(have) +
               " pods, status says " + std::to_string(reported) + ", want " + std::to_string(want);
        return false;
      }
      // The status is the controller's by server-side apply of the status subresource.
      bool applied = false;
      for (const auto& e : d["metadata"].value("managedFields", nlohmann::json::array())) {
        applied = applied ||
                  (e.value("manager", "") == "replica-controller" &&
                   e.value("operation", "") == "Apply" && e.value("subresource", "") == "status" &&
                   e["fieldsV1"]["f:status"].contains("f:replicas"));
      }
      if (!applied) {
        *why = "deployment " + std::string(d["metadata"]["name"]) +
               ": no Apply entry of replica-controller owns status.replicas";
        return false;
      }
    }
    return true;
  }

  void ExpectConverges(const std::string& step, std::chrono::milliseconds timeout = 10s) {
    std::string why;
    bool ok = WaitFor([&] { return Converged(&why); }, timeout);
    EXPECT_TRUE(ok) << step << ": " << why;
  }

  std::string dir_;
  std::string kubeconfig_;
};

TEST_F(ReplicaControllerE2eTest, ConvergesUnderChurnFaultsAndFailover) {
  ASSERT_TRUE(server()
                  .Create(R"({"apiVersion":"v1","kind":"Namespace",
                                  "metadata":{"name":"team-a"}})")
                  .has_value());
  ASSERT_TRUE(server().Create(DeploymentJson("default", "web", 3)).has_value());
  ASSERT_TRUE(server().Create(DeploymentJson("default", "api", 2)).has_value());
  ASSERT_TRUE(server().Create(DeploymentJson("team-a", "worker", 1)).has_value());

  auto first = StartController("first");
  ExpectConverges("initial");

  Scale("default", "web", 5);
  Scale("default", "api", 1);
  ExpectConverges("scaled");

  // Pods deleted behind the controller's back are replaced.
  for (const std::string& pod : OwnedPods("default", "web")) {
    ASSERT_TRUE(server().Delete({"", "v1", "pods"}, "default", pod).ok());
    break;
  }
  std::vector<std::string> workers = OwnedPods("team-a", "worker");
  ASSERT_FALSE(workers.empty());
  ASSERT_TRUE(server().Delete({"", "v1", "pods"}, "team-a", workers[0]).ok());
  ExpectConverges("pods deleted");

  // Watches drop; then history is compacted while they are down, so resuming gets 410 and the
  // informers relist; meanwhile the world changes.
  server().DropWatches();
  Scale("default", "api", 3);
  server().CompactHistory();
  server().DropWatches();
  ASSERT_TRUE(server().Create(DeploymentJson("team-a", "batch", 2)).has_value());
  ExpectConverges("watches dropped, history compacted");

  // A third of the requests fail with 500 while Deployments scale and a Pod goes.
  // (The Pod to delete is looked up first: the test's own requests would meet the 500s too.)
  std::vector<std::string> batch = OwnedPods("team-a", "batch");
  ASSERT_FALSE(batch.empty());
  server().FailRequests(0.3, 500);
  Scale("default", "web", 2);
  ASSERT_TRUE(server().Delete({"", "v1", "pods"}, "team-a", batch[0]).ok());
  std::this_thread::sleep_for(1500ms);  // let the controller fight the faults for a while
  server().FailRequests(0, 500);
  ExpectConverges("after 500s");

  // A deleted Deployment's Pods go (the garbage collector's job, done by the example).
  ASSERT_TRUE(server().Delete({"apps", "v1", "deployments"}, "default", "api").ok());
  ExpectConverges("deployment deleted");

  // Metrics on SIGUSR1.
  first->Signal(SIGUSR1);
  EXPECT_TRUE(WaitFor([&] {
    return first->Output().find("workqueue_adds_total{name=\"replica_controller\"}") !=
           std::string::npos;
  })) << first->Output();

  // A standby takes over when the leader shuts down (releasing the lease).
  auto second = StartController("second");
  EXPECT_TRUE(WaitFor([&] { return second->Output().find("caches synced") != std::string::npos; }))
      << second->Output();
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(), 0) << first->Output();
  EXPECT_TRUE(
      WaitFor([&] { return second->Output().find("leading as second") != std::string::npos; }, 5s))
      << second->Output();
  Scale("default", "web", 4);
  ExpectConverges("after failover");

  EXPECT_NE(first->Output().find("leading as first"), std::string::npos) << first->Output();
  second->Signal(SIGTERM);
  EXPECT_EQ(second->Wait(), 0) << second->Output();
}

}  // namespace
}  // namespace kube

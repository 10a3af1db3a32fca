// SharedInformerFactory over a real HTTP client (libcurl) and a scripted server: what only the
// transport can show, such as a stop that must not wait for a slow list body.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "kube/client/http_client.h"
#include "kube/informers/factory.h"
#include "tests/client/scripted_server.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using testing::ScriptedConn;
using testing::ScriptedRequest;
using testing::ScriptedServer;

const GroupVersionResource kPods{"", "v1", "pods"};

std::string PodJson(int i) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p)" + std::to_string(i) +
         R"(","namespace":"default","resourceVersion":"5"}})";
}

// Stop returns promptly mid-list: the factory's informer is receiving a list whose body would
// take 20 s to arrive (one pod every 100 ms), and `Shutdown` must not wait for it (nor for the
// 30 s request timeout). The contract is "promptly"; the deadline asserted is far below the
// body's duration, so that a loaded CI machine never fails it, and the time taken is logged.
TEST(SharedInformerFactoryHttpTest, ShutdownReturnsPromptlyInTheMiddleOfASlowList) {
  std::mutex mu;
  std::condition_variable cv;
  bool list_started = false;
  ScriptedServer server([&](const ScriptedRequest& req, ScriptedConn& conn) {
    if (req.target.find("watch=true") != std::string::npos) {
      conn.WaitPeerClosed(30s);  // not reached: the list never ends
      return;
    }
    conn.StartChunked(200, "application/json");
    conn.Chunk(R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5"},)"
               R"("items":[)" +
               PodJson(0));
    {
      std::lock_guard<std::mutex> l(mu);
      list_started = true;
    }
    cv.notify_all();
    for (int i = 1; i < 200; ++i) {
      if (conn.WaitPeerClosed(100ms)) return;  // the client hung up
      if (!conn.Chunk("," + PodJson(i))) return;
    }
    conn.Chunk("]}");
    conn.EndChunked();
  });
  ASSERT_TRUE(server.ok());
  RestConfig config;
  config.server = server.url();
  config.source = "test";
  Result<std::shared_ptr<HttpClient>> client = MakeCurlHttpClient(config);
  ASSERT_TRUE(client) << client.error();

  std::unique_ptr<SharedInformerFactory> factory = SharedInformerFactory::Create(*client);
  (void)factory->InformerFor(kPods);
  factory->Start();
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, 10s, [&] { return list_started; }));
  }

  const auto start = std::chrono::steady_clock::now();
  factory->Shutdown();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::cout << "Shutdown in the middle of the list took " << took.count() << " ms\n";
  EXPECT_LT(took, 2s) << "Shutdown waited for the list body (which takes 20 s)";
}

}  // namespace
}  // namespace kube

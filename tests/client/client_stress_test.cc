// Concurrency tests of the transport and watches (run under TSan: `ctest -L concurrency`):
// many requests and streams on one I/O loop, cancellation racing delivery, Stop racing events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/cache/list_watch.h"
#include "kube/cache/shared_informer.h"
#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "tests/client/scripted_server.h"
#include "tests/testing/fake_watch.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using testing::FakeWatch;
using testing::ScriptedConn;
using testing::ScriptedRequest;
using testing::ScriptedServer;

std::string PodFrame(int i) {
  return R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p)" +
         std::to_string(i) + R"(","namespace":"default","resourceVersion":")" + std::to_string(i) +
         "\"}}}\n";
}

std::string PodListBody(int n) {
  std::string body = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},)"
                     R"("items":[)";
  for (int i = 1; i <= n; ++i) {
    if (i > 1) body += ',';
    body += R"({"metadata":{"name":"p)" + std::to_string(i) + R"(","namespace":"default"}})";
  }
  return body + "]}";
}

// Answers /do/* at once, sends a list in small chunks on /list/*, and streams events on
// everything else until the client leaves.
void Handler(const ScriptedRequest& req, ScriptedConn& conn) {
  if (req.target.rfind("/do/", 0) == 0) {
    conn.Respond(200, "application/json", "{\"path\":\"" + req.target + "\"}");
    return;
  }
  if (req.target.rfind("/list/", 0) == 0) {
    static const std::string body = PodListBody(300);
    conn.StartChunked(200, "application/json");
    for (size_t i = 0; i < body.size(); i += 700) {
      if (!conn.Chunk(std::string_view(body).substr(i, 700))) return;
    }
    conn.EndChunked();
    return;
  }
  conn.StartChunked(200, "application/json");
  for (int i = 1; i <= 200; ++i) {
    if (!conn.Chunk(PodFrame(i))) return;
  }
  conn.WaitPeerClosed(std::chrono::seconds(30));
  conn.CloseAfter();
}

std::shared_ptr<HttpClient> ClientFor(const ScriptedServer& server) {
  RestConfig c;
  c.server = server.url();
  return *MakeCurlHttpClient(c);
}

TEST(ClientStressTest, ConcurrentRequestsShareOneLoop) {
  ScriptedServer server(Handler);
  auto http = ClientFor(server);
  constexpr int kThreads = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        HttpRequest req;
        req.path = "/do/" + std::to_string(t) + "/" + std::to_string(i);
        Result<HttpResponse> r = http->Do(req);
        if (r && r->status == 200 && r->body.find(req.path) != std::string::npos) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

TEST(ClientStressTest, ListsDecodedOnTheLoopWhileCallersWait) {
  // Each list is decoded piece by piece on the I/O thread (HttpRequest::body_sink) and finished
  // on the calling thread; several at once share the loop.
  ScriptedServer server(Handler);
  RestConfig c;
  c.server = server.url() + "/list";
  ResourceClient pods(*MakeCurlHttpClient(c), {"", "v1", "pods"}, "default");
  constexpr int kThreads = 4;
  constexpr int kLists = 10;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kLists; ++i) {
        Result<ObjectList> list = pods.List();
        if (list && list->items.size() == 300 && list->items.back()->name() == "p300" &&
            list->items.back()->kind() == "Pod" && list->resource_version == "7") {
          ++ok;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kLists);
}

// /big/...: a 3,000-Pod list in 4 KB chunks (watches: an empty stream kept open). /half/...: half
// of that list, then nothing until the client leaves.
void BigListHandler(const ScriptedRequest& req, ScriptedConn& conn) {
  static const std::string body = PodListBody(3000);
  conn.StartChunked(200, "application/json");
  if (req.target.find("watch=true") != std::string::npos) {
    conn.WaitPeerClosed(std::chrono::seconds(60));
    conn.CloseAfter();
    return;
  }
  const bool half = req.target.rfind("/half/", 0) == 0;
  const size_t end = half ? body.size() / 2 : body.size();
  for (size_t i = 0; i < end; i += 4096) {
    if (!conn.Chunk(std::string_view(body).substr(i, std::min<size_t>(4096, end - i)))) return;
  }
  if (half) {
    conn.WaitPeerClosed(std::chrono::seconds(60));
    conn.CloseAfter();
    return;
  }
  conn.EndChunked();
}

// Whether `items` are p1, p2, ... in order.
bool InListOrder(const std::vector<ObjectPtr>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i]->name() != "p" + std::to_string(i + 1) || items[i]->kind() != "Pod") return false;
  }
  return true;
}

TEST(ClientStressTest, SeveralListsDecodeSideBySideInOrder) {
  // Lists over two clients (two I/O threads) at once: their items are decoded on the shared
  // decode workers side by side, and each list's items arrive in order, in full batches.
  ScriptedServer server(BigListHandler);
  RestConfig c;
  c.server = server.url() + "/big";
  std::shared_ptr<HttpClient> clients[2] = {*MakeCurlHttpClient(c), *MakeCurlHttpClient(c)};
  constexpr int kThreads = 6;
  constexpr int kLists = 4;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ResourceClient pods(clients[t % 2], {"", "v1", "pods"}, "default");
      for (int i = 0; i < kLists; ++i) {
        std::vector<ObjectPtr> items;
        bool full_batches = true;
        Result<ObjectList> list = pods.List(
            {},
            [&](std::vector<ObjectPtr> batch) {
              full_batches = full_batches && batch.size() == 500;
              for (ObjectPtr& o : batch) items.push_back(std::move(o));
            },
            500);
        if (!list) continue;
        for (ObjectPtr& o : list->items) items.push_back(std::move(o));
        if (full_batches && items.size() == 3000 && InListOrder(items)) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kLists);
}

TEST(ClientStressTest, ListsStoppedMidBodyWithItemsInFlight) {
  // Each list is stopped from its sink after the first batch, while later items are being
  // decoded: the list ends kCancelled at once, what was handed on is in order, and the batches
  // left in flight are dropped without anyone waiting for them.
  ScriptedServer server(BigListHandler);
  RestConfig c;
  c.server = server.url() + "/half";
  auto http = *MakeCurlHttpClient(c);
  constexpr int kThreads = 4;
  constexpr int kLists = 5;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ResourceClient pods(http, {"", "v1", "pods"}, "default");
      for (int i = 0; i < kLists; ++i) {
        std::stop_source stop;
        std::vector<ObjectPtr> items;
        Result<ObjectList> list = pods.List(
            {},
            [&](std::vector<ObjectPtr> batch) {
              for (ObjectPtr& o : batch) items.push_back(std::move(o));
              stop.request_stop();
            },
            100, stop.get_token());
        if (!list && list.error().code() == StatusCode::kCancelled && items.size() >= 100 &&
            InListOrder(items)) {
          ++ok;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kLists);
}

TEST(ClientStressTest, SeveralInformersListConcurrently) {
  // Informers starting together over one client: their lists are framed on its one I/O thread
  // and decoded side by side; each cache gets every item.
  ScriptedServer server(BigListHandler);
  RestConfig c;
  c.server = server.url() + "/big";
  auto http = *MakeCurlHttpClient(c);
  std::vector<std::shared_ptr<SharedIndexInformer>> informers;
  for (int i = 0; i < 4; ++i) {
    informers.push_back(SharedIndexInformer::Create(
        ListWatchFromClient(http, {"", "v1", "pods"}, "ns-" + std::to_string(i)), {}));
  }
  for (auto& informer : informers) informer->Run();
  for (auto& informer : informers) {
    ASSERT_TRUE(informer->WaitForCacheSync(std::chrono::seconds(60)));
    EXPECT_EQ(informer->GetStore()->ListKeys().size(), 3000u);
  }
  for (auto& informer : informers) informer->Stop();  // watches still open
}

TEST(ClientStressTest, WatchesStoppedWhileEventsFlow) {
  ScriptedServer server(Handler);
  auto http = ClientFor(server);
  ResourceClient pods(http, {"", "v1", "pods"}, "default");
  constexpr int kWatches = 16;
  std::vector<std::thread> threads;
  std::atomic<int> events{0};
  for (int t = 0; t < kWatches; ++t) {
    threads.emplace_back([&, t] {
      Result<std::unique_ptr<Watch>> w = pods.Watch();
      if (!w) return;
      std::thread stopper;
      int n = 0;
      while (std::optional<WatchEvent> e = (*w)->Next()) {
        ++events;
        // Stop from another thread at a different point in each watch.
        if (++n == 10 * (t + 1) && !stopper.joinable()) {
          stopper = std::thread([&w] { (*w)->Stop(); });
        }
      }
      if (stopper.joinable()) stopper.join();
      EXPECT_FALSE((*w)->Next());
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_GT(events.load(), 0);
  // The loop still serves requests afterwards.
  HttpRequest req;
  req.path = "/do/after";
  EXPECT_TRUE(http->Do(req));
}

TEST(ClientStressTest, AsyncWatchesCancelledRacingDelivery) {
  ScriptedServer server(Handler);
  auto http = ClientFor(server);
  ResourceClient pods(http, {"", "v1", "pods"}, "default");
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> cancelled{false};
    std::atomic<int> after{0};
    std::atomic<int> seen{0};
    WatchHandle h = pods.WatchAsync({}, [&](WatchEvent) {
      if (cancelled.load()) ++after;
      ++seen;
    });
    // Cancel at a random point: before, during or after delivery.
    int spins = static_cast<int>(rng() % 2000);
    for (int i = 0; i < spins; ++i) std::this_thread::yield();
    h.Cancel();
    cancelled = true;
    EXPECT_EQ(after.load(), 0) << "round " << round;
  }
}

TEST(ClientStressTest, ManyStreamsOneThread) {
  // Threads do not grow with watches: 64 async watches on one client, one I/O thread.
  ScriptedServer server(Handler);
  auto http = ClientFor(server);
  ResourceClient pods(http, {"", "v1", "pods"}, "default");
  constexpr int kWatches = 64;
  std::mutex mu;
  std::condition_variable cv;
  int total = 0;
  std::vector<WatchHandle> handles;
  for (int i = 0; i < kWatches; ++i) {
    handles.push_back(pods.WatchAsync({}, [&](WatchEvent e) {
      if (e.type != WatchEventType::kAdded) return;
      std::lock_guard<std::mutex> l(mu);
      ++total;
      cv.notify_all();
    }));
  }
  std::unique_lock<std::mutex> l(mu);
  // Every stream is served at once: none waits behind another stream's connection.
  EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(20), [&] { return total == kWatches * 200; }))
      << total;
  l.unlock();
  handles.clear();
}

TEST(ClientStressTest, FakeWatchSendersAndStopRace) {
  for (int round = 0; round < 50; ++round) {
    FakeWatch w;
    ObjectPtr pod = testing::MustParse(
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"default"}})");
    std::vector<std::thread> senders;
    for (int s = 0; s < 3; ++s) {
      senders.emplace_back([&] {
        for (int i = 0; i < 200; ++i) {
          if (!w.Add(pod)) break;
        }
      });
    }
    std::thread consumer([&] {
      int n = 0;
      while (w.Next()) {
        if (++n == 100) w.Stop();
      }
    });
    for (std::thread& t : senders) t.join();
    w.Stop();
    consumer.join();
    EXPECT_TRUE(w.IsStopped());
  }
}

}  // namespace
}  // namespace kube

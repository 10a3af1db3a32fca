// Informers with many handlers, some deliberately slow, started, fed and stopped repeatedly.
// Runs under ThreadSanitizer in CI (label `concurrency`): no race, leak or hang.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/executor.h"
#include "cache/shared_informer_internal.h"
#include "kube/cache/shared_informer.h"
#include "tests/testing/fake_lister_watcher.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::kube::testing::FakeListerWatcher;
using ::kube::testing::MakePod;

// Checks that each object's notifications arrive in resourceVersion order and replays them into
// a map of key -> rv.
class OrderCheckingHandler : public ResourceEventHandler {
 public:
  explicit OrderCheckingHandler(std::chrono::microseconds delay) : delay_(delay) {}
  void OnAdd(const ObjectPtr& o, bool) override { Apply(*o, false); }
  void OnUpdate(const ObjectPtr&, const ObjectPtr& o) override { Apply(*o, false); }
  void OnResync(const ObjectPtr&) override {}
  void OnDelete(const DeletedObject& d) override { Apply(*d.object(), true); }

  std::map<std::string, long> state() const {
    std::lock_guard<std::mutex> l(mu_);
    return state_;
  }
  int out_of_order() const { return out_of_order_.load(); }
  long applied() const { return applied_.load(); }

 private:
  void Apply(const Object& o, bool deleted) {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    long rv = std::stol(std::string(o.resource_version()));
    std::string key = std::string(o.ns()) + "/" + std::string(o.name());
    std::lock_guard<std::mutex> l(mu_);
    long& last = last_rv_[key];
    if (rv < last) out_of_order_++;
    last = rv;
    if (deleted) {
      state_.erase(key);
    } else {
      state_[key] = rv;
    }
    applied_++;
  }
  std::chrono::microseconds delay_;
  mutable std::mutex mu_;
  std::map<std::string, long> state_;
  std::map<std::string, long> last_rv_;
  std::atomic<int> out_of_order_{0};
  std::atomic<long> applied_{0};
};

TEST(SharedInformerStressTest, ManyHandlersStartFeedStopRepeatedly) {
  auto executor = internal::Executor::Create({.threads = 3});
  for (int round = 0; round < 8; ++round) {
    auto lw = std::make_shared<FakeListerWatcher>();
    std::vector<ObjectPtr> initial;
    for (int i = 0; i < 50; ++i)
      initial.push_back(MakePod("ns", "p" + std::to_string(i), {.rv = "1"}));
    lw->SetObjects(initial, "1");
    SharedInformerOptions o;
    o.name = "stress";
    o.resync_period = 1s;
    o.reflector.watch_progress_timeout = 0ms;
    auto informer = internal::NewSharedIndexInformer(lw, o, executor);
    std::vector<std::shared_ptr<OrderCheckingHandler>> handlers;
    for (int h = 0; h < 8; ++h) {
      handlers.push_back(std::make_shared<OrderCheckingHandler>(h < 2 ? 200us : 0us));
      ASSERT_TRUE(informer->AddEventHandler(handlers.back()).has_value());
    }
    informer->Run();
    auto watch = lw->WaitForWatch(1);
    ASSERT_NE(watch, nullptr);

    // Producers: one feeds the watch; another adds and removes handlers and reads the cache.
    std::map<std::string, long> expected;
    for (auto& p : initial) expected[std::string(p->ns()) + "/" + std::string(p->name())] = 1;
    std::atomic<bool> done{false};
    std::thread churn([&] {
      std::vector<RegistrationPtr> extra;
      while (!done) {
        auto r = informer->AddEventHandler(std::make_shared<OrderCheckingHandler>(0us));
        if (r) extra.push_back(*r);
        if (extra.size() > 3) {
          (void)informer->RemoveEventHandler(extra.front());
          extra.erase(extra.begin());
        }
        (void)informer->GetIndexer()->List();
        std::this_thread::yield();
      }
    });
    std::mt19937 rng(round);
    long rv = 1;
    // Odd rounds deliver the events in chunks of 1-32, as the HTTP source does (one
    // `on_events` call per chunk of the stream); even rounds one at a time.
    const bool chunked = round % 2 == 1;
    std::vector<WatchEvent> chunk;
    size_t chunk_size = 1 + rng() % 32;
    auto send = [&](WatchEventType type, ObjectPtr pod) {
      if (!chunked) {
        watch->Send(type, std::move(pod));
        return;
      }
      chunk.push_back({type, std::move(pod), {}});
      if (chunk.size() >= chunk_size) {
        watch->SendBatch(std::exchange(chunk, {}));
        chunk_size = 1 + rng() % 32;
      }
    };
    for (int i = 0; i < 2000; ++i) {
      std::string name = "p" + std::to_string(rng() % 80);
      std::string key = "ns/" + name;
      ObjectPtr pod = MakePod("ns", name, {.rv = std::to_string(++rv)});
      if (expected.count(key) && rng() % 4 == 0) {
        send(WatchEventType::kDeleted, pod);
        expected.erase(key);
      } else {
        send(expected.count(key) ? WatchEventType::kModified : WatchEventType::kAdded, pod);
        expected[key] = rv;
      }
    }
    if (!chunk.empty()) watch->SendBatch(std::move(chunk));
    done = true;
    churn.join();

    // The fast handlers converge to the fed state; order holds for everyone.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (handlers[2]->state() != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
    }
    EXPECT_EQ(handlers[2]->state(), expected);
    // Nothing lost or delivered twice: the 50 initial adds and the 2,000 events, once each.
    EXPECT_EQ(handlers[2]->applied(), 2050);
    EXPECT_EQ(informer->GetIndexer()->Size(), expected.size());
    // Stop while slow handlers may still be working through their buffers.
    informer->Stop();
    for (auto& h : handlers) EXPECT_EQ(h->out_of_order(), 0);
  }
  executor->Shutdown();
}

// Stats() from several threads while deltas are applied in batches (B55) and handlers run; and
// listers reading meanwhile only ever see a prefix of the in-order stream.
TEST(SharedInformerStressTest, StatsAndListersWhileBatchesAreApplied) {
  auto executor = internal::Executor::Create({.threads = 3});
  auto lw = std::make_shared<FakeListerWatcher>();
  lw->SetObjects({}, "1");
  SharedInformerOptions o;
  o.name = "stats";
  o.reflector.watch_progress_timeout = 0ms;
  auto informer = internal::NewSharedIndexInformer(lw, o, executor);
  std::vector<std::shared_ptr<OrderCheckingHandler>> handlers;
  for (int h = 0; h < 4; ++h) {
    handlers.push_back(std::make_shared<OrderCheckingHandler>(h == 0 ? 20us : 0us));
    ASSERT_TRUE(
        informer->AddEventHandler(handlers.back(), {.name = "h" + std::to_string(h)}).has_value());
  }
  informer->Run();
  auto watch = lw->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);

  constexpr int kObjects = 3000;
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::thread stats_reader([&] {
    uint64_t last_adds = 0;
    while (!done) {
      InformerStats s = informer->Stats();
      if (s.adds < last_adds || s.handlers.size() != 4) violations++;
      last_adds = s.adds;
      for (const auto& h : s.handlers) {
        if (h.failed != 0 || h.lag.count() < 0) violations++;
      }
      std::this_thread::yield();
    }
  });
  std::thread lister([&] {
    while (!done) {
      // Objects are added in order p0, p1, ...: any snapshot must be exactly p0..p(n-1).
      std::vector<ObjectPtr> all = informer->GetIndexer()->List();
      long max_index = -1;
      for (const ObjectPtr& obj : all) {
        max_index = std::max(max_index, std::stol(std::string(obj->name().substr(1))));
      }
      if (max_index + 1 != static_cast<long>(all.size())) violations++;
      std::this_thread::yield();
    }
  });
  for (int i = 0; i < kObjects; ++i) {
    watch->Send(WatchEventType::kAdded,
                MakePod("ns", "p" + std::to_string(i), {.rv = std::to_string(i + 2)}));
  }
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (informer->Stats().handlers[0].delivered < static_cast<uint64_t>(kObjects) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  done = true;
  stats_reader.join();
  lister.join();
  InformerStats s = informer->Stats();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(s.adds, static_cast<uint64_t>(kObjects));
  EXPECT_EQ(s.objects_cached, static_cast<size_t>(kObjects));
  EXPECT_EQ(s.handlers[0].delivered, static_cast<uint64_t>(kObjects));
  EXPECT_EQ(s.handlers[0].queue_depth, 0u);
  informer->Stop();
  for (auto& h : handlers) EXPECT_EQ(h->out_of_order(), 0);
  executor->Shutdown();
}

// Read-your-writes under load: twelve threads wait on random versions (some never reached), with
// timeouts from none to long and some with stop tokens, while events and bookmarks stream in
// chunks and, in the end, the informer stops under them. An OK answer must come with the cache
// holding that version; every waiter ends (the stop answers those still waiting).
TEST(SharedInformerStressTest, ManyWaitersOnVersionsWhileEventsStreamAndTheInformerStops) {
  auto executor = internal::Executor::Create({.threads = 3});
  for (int round = 0; round < 3; ++round) {
    auto lw = std::make_shared<FakeListerWatcher>();
    lw->SetObjects({}, "1");
    SharedInformerOptions o;
    o.name = "waiters";
    o.reflector.watch_progress_timeout = 0ms;
    auto informer = internal::NewSharedIndexInformer(lw, o, executor);
    informer->Run();
    auto watch = lw->WaitForWatch(1);
    ASSERT_NE(watch, nullptr);

    constexpr int kEvents = 2000;  // event i: key p(i % 100) at version i + 2
    constexpr int kKeys = 100;
    std::atomic<bool> stopped{false};
    std::atomic<int> violations{0}, answered{0}, timed_out{0}, cancelled{0};
    std::vector<std::thread> waiters;
    for (int t = 0; t < 12; ++t) {
      waiters.emplace_back([&, t] {
        std::mt19937 rng(round * 100 + t);
        std::stop_source own_stop;
        for (int n = 0;; ++n) {
          const uint64_t target = 2 + rng() % (kEvents + 200);  // some beyond the last event
          static constexpr std::chrono::milliseconds kTimeouts[] = {0ms, 1ms, 20ms, 10s};
          const std::chrono::milliseconds timeout = kTimeouts[rng() % 4];
          if (n % 50 == 49) own_stop.request_stop();  // later waits of this thread: cancelled
          Status s = t % 3 == 0 ? informer->WaitForResourceVersion(std::to_string(target), timeout,
                                                                   own_stop.get_token())
                                : informer->WaitForResourceVersion(std::to_string(target), timeout);
          if (s.ok()) {
            answered++;
            if (std::stoull(informer->CacheResourceVersion()) < target) violations++;
            if (target < kEvents + 2) {
              const int i = static_cast<int>(target - 2);
              ObjectPtr obj = informer->GetIndexer()->GetByKey("ns/p" + std::to_string(i % kKeys));
              if (obj == nullptr || std::stoull(std::string(obj->resource_version())) < target) {
                violations++;
              }
            }
          } else if (s.code() == StatusCode::kDeadlineExceeded) {
            timed_out++;
          } else if (s.code() == StatusCode::kCancelled) {
            cancelled++;
            if (stopped) return;
            if (!own_stop.stop_requested()) violations++;
            own_stop = std::stop_source();
          } else {
            violations++;
          }
        }
      });
    }
    std::mt19937 rng(round);
    int next = 0;
    while (next < kEvents) {
      std::vector<WatchEvent> chunk;
      const int n = 1 + static_cast<int>(rng() % 50);
      for (int k = 0; k < n && next < kEvents; ++k, ++next) {
        chunk.push_back(WatchEvent{
            next < kKeys ? WatchEventType::kAdded : WatchEventType::kModified,
            MakePod("ns", "p" + std::to_string(next % kKeys), {.rv = std::to_string(next + 2)}),
            {}});
      }
      if (rng() % 4 == 0) {
        chunk.push_back(WatchEvent{
            WatchEventType::kBookmark, MakePod("", "", {.rv = std::to_string(next + 1)}), {}});
      }
      ASSERT_TRUE(watch->SendBatch(std::move(chunk)));
    }
    EXPECT_TRUE(informer->WaitForResourceVersion(std::to_string(kEvents + 1), 60s).ok());
    stopped = true;
    informer->Stop();
    for (auto& w : waiters) w.join();
    EXPECT_EQ(violations.load(), 0) << "round " << round;
    EXPECT_GT(answered.load(), 0);
    EXPECT_GE(cancelled.load(), 12);  // at least the last wait of each thread
  }
  executor->Shutdown();
}

}  // namespace
}  // namespace kube

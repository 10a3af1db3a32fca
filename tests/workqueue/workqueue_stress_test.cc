// Many producers and workers on one queue: no item is processed by two workers at once (B44) and
// no add is lost. Labelled `concurrency`; CI runs it under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "kube/metrics/metrics.h"
#include "kube/workqueue/workqueue.h"

namespace kube::workqueue {
namespace {

constexpr int kItems = 64;
constexpr int kProducers = 4;
constexpr int kWorkers = 4;
constexpr int kAddsPerProducer = 5000;

// Per item: how many workers hold it now, the last add's version, and the newest version a
// worker saw when it took the item. An add must be followed by a Get that sees it.
struct Tracker {
  std::atomic<int> holders[kItems] = {};
  std::atomic<int> version[kItems] = {};
  std::atomic<int> seen[kItems] = {};
  std::atomic<int> overlaps{0};
  std::atomic<long> processed{0};

  void Work(int item) {
    if (holders[item].fetch_add(1) != 0) overlaps++;
    const int v = version[item].load();
    int s = seen[item].load();
    while (v > s && !seen[item].compare_exchange_weak(s, v)) {
    }
    std::this_thread::yield();
    holders[item].fetch_sub(1);
    processed++;
  }
};

TEST(WorkqueueStressTest, B44NoItemProcessedTwiceAtOnceAndNothingLost) {
  auto registry = std::make_shared<metrics::Registry>();
  Queue<int> q({.name = "stress", .metrics = registry});
  Tracker t;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto item = q.Get()) {
        t.Work(*item);
        q.Done(*item);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937 rng(p);
      for (int i = 0; i < kAddsPerProducer; ++i) {
        const int item = static_cast<int>(rng() % kItems);
        t.version[item]++;
        q.Add(item);
      }
    });
  }
  std::atomic<bool> stop_scraping{false};
  std::thread scraper([&] {
    while (!stop_scraping) (void)registry->Render();
  });
  for (auto& p : producers) p.join();
  q.ShutDownWithDrain();  // queued items are still handed out; dirty ones re-queued at Done
  for (auto& w : workers) w.join();
  stop_scraping = true;
  scraper.join();

  EXPECT_EQ(t.overlaps.load(), 0);
  for (int i = 0; i < kItems; ++i) {
    EXPECT_EQ(t.seen[i].load(), t.version[i].load()) << "item " << i;
  }
  EXPECT_GT(t.processed.load(), 0);
  EXPECT_LE(t.processed.load(), long{kProducers} * kAddsPerProducer);
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkqueueStressTest, B46RateLimitedRetriesOnTheRealClockAreNotLost) {
  auto registry = std::make_shared<metrics::Registry>();
  RateLimitingQueue<int> q(std::make_shared<ItemExponentialFailureRateLimiter<int>>(
                               std::chrono::microseconds(50), std::chrono::milliseconds(2)),
                           {.name = "retries", .metrics = registry});
  Tracker t;
  // Each item fails twice, then succeeds: every item must come back for its retries.
  std::atomic<int> failures[kItems] = {};
  std::atomic<int> successes{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto item = q.Get()) {
        t.Work(*item);
        if (failures[*item].fetch_add(1) < 2) {
          q.AddRateLimited(*item);
        } else {
          q.Forget(*item);
          successes++;
        }
        q.Done(*item);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      for (int item = p; item < kItems; item += 2)
        q.AddAfter(item, std::chrono::microseconds(item));
    });
  }
  for (auto& p : producers) p.join();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (successes.load() < kItems && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  q.ShutDownWithDrain();
  for (auto& w : workers) w.join();
  EXPECT_EQ(successes.load(), kItems);
  EXPECT_EQ(t.overlaps.load(), 0);
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(q.NumRequeues(i), 0);
}

}  // namespace
}  // namespace kube::workqueue

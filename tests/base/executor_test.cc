#include "base/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace kube::internal {
namespace {

using namespace std::chrono_literals;

// Waits for `pred` with a generous deadline (never a fixed sleep to synchronise).
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds deadline = 10s) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(ExecutorTest, RunsEveryPostedTask) {
  auto ex = Executor::Create({.threads = 2});
  std::atomic<int> n{0};
  for (int i = 0; i < 1000; ++i) ex->Post([&] { n.fetch_add(1); });
  ex->Shutdown();  // runs what is queued, then joins
  EXPECT_EQ(n.load(), 1000);
}

TEST(ExecutorTest, AddsAWorkerWhenEveryWorkerIsBlocked) {
  auto ex = Executor::Create({.threads = 1, .max_threads = 4, .blocked_after = 5ms});
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> second_ran{false};
  ex->Post([&] {
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return release; });
  });
  ex->Post([&] { second_ran = true; });
  // The only worker is blocked; the supervisor must start another for the waiting task.
  EXPECT_TRUE(Eventually([&] { return second_ran.load(); }));
  EXPECT_GE(ex->PeakThreadCount(), 2u);
  {
    std::lock_guard<std::mutex> l(m);
    release = true;
  }
  cv.notify_all();
  ex->Shutdown();
}

TEST(ExecutorTest, ExtraWorkersRetireWhenIdle) {
  auto ex =
      Executor::Create({.threads = 1, .max_threads = 4, .blocked_after = 5ms, .idle_retire = 20ms});
  std::atomic<bool> release{false};
  ex->Post([&] {
    while (!release) std::this_thread::sleep_for(1ms);
  });
  std::atomic<bool> ran{false};
  ex->Post([&] { ran = true; });
  ASSERT_TRUE(Eventually([&] { return ran.load(); }));
  release = true;
  EXPECT_TRUE(Eventually([&] { return ex->ThreadCount() == 1; }));
}

TEST(ExecutorTest, ThreadsDoNotGrowWithQuickTasks) {
  auto ex = Executor::Create({.threads = 2, .max_threads = 64});
  std::atomic<int> n{0};
  for (int i = 0; i < 20000; ++i) ex->Post([&] { n.fetch_add(1); });
  EXPECT_TRUE(Eventually([&] { return n.load() == 20000; }));
  // Quick tasks never look blocked for long; a noisy machine may add one or two, not dozens.
  EXPECT_LE(ex->PeakThreadCount(), 8u);
}

TEST(ExecutorTest, ATaskThatThrowsDoesNotKillTheWorker) {
  auto ex = Executor::Create({.threads = 1});
  std::atomic<bool> after{false};
  ex->Post([] { throw std::runtime_error("boom"); });
  ex->Post([&] { after = true; });
  ex->Shutdown();
  EXPECT_TRUE(after);
}

TEST(ExecutorTest, DestroyedFromItsOwnWorkerDoesNotDeadlock) {
  auto ex = Executor::Create({.threads = 2});
  std::atomic<bool> done{false};
  std::shared_ptr<Executor> holder = ex;
  ex.reset();
  Executor* raw = holder.get();
  raw->Post([h = std::move(holder), &done]() mutable {
    h.reset();  // the last owner lets go on a worker: workers are detached, not joined
    done = true;
  });
  EXPECT_TRUE(Eventually([&] { return done.load(); }));
}

// `Post` wakes an idle worker after releasing the executor's lock. Each producer waits for its
// task before posting the next, so the workers are idle at almost every post; with idle workers
// never timing out, a lost wake-up would leave a task unrun and the wait below would expire.
TEST(ExecutorTest, EveryPostReachesAnIdleWorker) {
  auto ex = Executor::Create({.threads = 2, .idle_retire = std::chrono::hours(1)});
  constexpr int kProducers = 4, kRounds = 500;
  std::atomic<int> lost{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&] {
      std::mutex m;
      std::condition_variable cv;
      int ran = 0;
      for (int i = 1; i <= kRounds; ++i) {
        ex->Post([&] {
          std::lock_guard<std::mutex> l(m);
          ++ran;
          cv.notify_one();
        });
        std::unique_lock<std::mutex> l(m);
        if (!cv.wait_for(l, 30s, [&] { return ran == i; })) {
          lost.fetch_add(1);
          return;
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(lost.load(), 0);
  ex->Shutdown();
}

TEST(SerialQueueTest, RunsTasksOneAtATimeInOrder) {
  auto ex = Executor::Create({.threads = 4});
  auto q = SerialQueue::Create(ex);
  std::vector<int> order;
  std::atomic<int> concurrent{0}, max_concurrent{0};
  std::atomic<int> done{0};
  for (int i = 0; i < 500; ++i) {
    q->Post([&, i] {
      int c = concurrent.fetch_add(1) + 1;
      int prev = max_concurrent.load();
      while (c > prev && !max_concurrent.compare_exchange_weak(prev, c)) {
      }
      order.push_back(i);  // safe only if tasks never overlap
      concurrent.fetch_sub(1);
      done.fetch_add(1);
    });
  }
  ASSERT_TRUE(Eventually([&] { return done.load() == 500; }));
  EXPECT_EQ(max_concurrent.load(), 1);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(order[i], i);
}

TEST(SerialQueueStressTest, ManyQueuesManyProducers) {
  auto ex = Executor::Create({.threads = 3});
  constexpr int kQueues = 16, kProducers = 4, kPerProducer = 2000;
  std::vector<std::shared_ptr<SerialQueue>> queues;
  std::vector<std::vector<int>> seen(kQueues);
  std::atomic<int> total{0};
  for (int i = 0; i < kQueues; ++i) queues.push_back(SerialQueue::Create(ex));
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        int qi = (p * 7 + i) % kQueues;
        queues[qi]->Post([&, qi, i] {
          seen[qi].push_back(i);
          total.fetch_add(1);
        });
      }
    });
  }
  for (auto& t : producers) t.join();
  ASSERT_TRUE(Eventually([&] { return total.load() == kProducers * kPerProducer; }));
  ex->Shutdown();
}

}  // namespace
}  // namespace kube::internal

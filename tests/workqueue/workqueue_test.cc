// Queue, DelayingQueue and RateLimitingQueue: behaviours B43-B46 of docs/behaviours.md.
#include "kube/workqueue/workqueue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace kube::workqueue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::Optional;

// Waits (up to a generous deadline) for `pred` to hold.
template <typename Pred>
bool Eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

TEST(WorkqueueTest, GetReturnsItemsInAddOrder) {
  Queue<std::string> q;
  q.Add("a");
  q.Add("b");
  q.Add("c");
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
  EXPECT_THAT(q.Get(), Optional(std::string("b")));
  EXPECT_THAT(q.Get(), Optional(std::string("c")));
}

TEST(WorkqueueTest, B43AddWhileQueuedIsDeduplicated) {
  Queue<std::string> q;
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_THAT(q.Get(), Optional(std::string("a")));  // keeps its first place
  EXPECT_THAT(q.Get(), Optional(std::string("b")));
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkqueueTest, B44AddWhileProcessingIsQueuedAtDone) {
  Queue<std::string> q;
  q.Add("a");
  ASSERT_THAT(q.Get(), Optional(std::string("a")));
  q.Add("a");
  q.Add("a");
  EXPECT_EQ(q.Len(), 0u);  // not handed to a second worker while the first holds it
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);  // queued once, however often it was added
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkqueueTest, B44SecondWorkerWaitsForAnotherItem) {
  Queue<int> q;
  q.Add(1);
  ASSERT_THAT(q.Get(), Optional(1));
  q.Add(1);
  std::atomic<int> got{0};
  std::thread worker([&] { got = q.Get().value_or(-1); });
  q.Add(2);  // the blocked worker gets 2, never the 1 still processing
  worker.join();
  EXPECT_EQ(got.load(), 2);
  q.Done(1);
  EXPECT_THAT(q.Get(), Optional(1));
}

TEST(WorkqueueTest, DoneForAnItemNotProcessingDoesNothing) {
  Queue<std::string> q;
  q.Add("a");
  q.Done("a");  // queued, not processing: must not queue it a second time
  q.Done("b");
  EXPECT_EQ(q.Len(), 1u);
}

TEST(WorkqueueTest, B45ShutDownIgnoresAddsAndHandsOutWhatIsQueued) {
  Queue<std::string> q;
  q.Add("a");
  q.Add("b");
  q.ShutDown();
  EXPECT_TRUE(q.ShuttingDown());
  q.Add("c");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
  EXPECT_THAT(q.Get(), Optional(std::string("b")));
  EXPECT_EQ(q.Get(), std::nullopt);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkqueueTest, B45ShutDownWakesBlockedGet) {
  Queue<std::string> q;
  std::atomic<bool> returned{false};
  std::optional<std::string> got = "unset";
  std::thread worker([&] {
    got = q.Get();
    returned = true;
  });
  q.ShutDown();
  worker.join();
  EXPECT_TRUE(returned);
  EXPECT_EQ(got, std::nullopt);
}

TEST(WorkqueueTest, B45ItemAddedBeforeShutDownIsQueuedAtDone) {
  Queue<std::string> q;
  q.Add("a");
  ASSERT_THAT(q.Get(), Optional(std::string("a")));
  q.Add("a");
  q.ShutDown();
  q.Done("a");
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
  q.Done("a");
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkqueueTest, B45ShutDownWithDrainWaitsForEveryDone) {
  Queue<std::string> q;
  q.Add("a");
  q.Add("b");
  ASSERT_THAT(q.Get(), Optional(std::string("a")));
  ASSERT_THAT(q.Get(), Optional(std::string("b")));
  q.Add("a");  // re-added while processing: must also be processed before the drain ends
  std::atomic<bool> drained{false};
  std::thread stopper([&] {
    q.ShutDownWithDrain();
    drained = true;
  });
  ASSERT_TRUE(Eventually([&] { return q.ShuttingDown(); }));
  q.Add("c");  // ignored: shutting down
  q.Done("b");
  q.Done("a");  // queues "a" again
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
  // Not a synchronisation: gives a wrong early return the chance to show.
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(drained);
  q.Done("a");
  stopper.join();
  EXPECT_TRUE(drained);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkqueueTest, B45ShutDownWithDrainReturnsAtOnceWhenIdle) {
  Queue<std::string> q;
  q.Add("a");  // queued but not processing: nothing to wait for
  q.ShutDownWithDrain();
  EXPECT_TRUE(q.ShuttingDown());
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
}

TEST(WorkqueueTest, B45ShutDownEndsADrainWait) {
  Queue<std::string> q;
  q.Add("a");
  ASSERT_THAT(q.Get(), Optional(std::string("a")));
  std::thread stopper([&] { q.ShutDownWithDrain(); });
  ASSERT_TRUE(Eventually([&] { return q.ShuttingDown(); }));
  q.ShutDown();
  stopper.join();  // returns although "a" is still processing
}

TEST(DelayingQueueTest, B46AddAfterAddsOnceTheDelayPasses) {
  auto clock = std::make_shared<FakeClock>();
  DelayingQueue<std::string> q({.clock = clock});
  q.AddAfter("a", seconds(1));
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.WaitingLen(), 1u);
  clock->Advance(milliseconds(999));
  EXPECT_EQ(q.Len(), 0u);
  clock->Advance(milliseconds(1));
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.WaitingLen(), 0u);
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
}

TEST(DelayingQueueTest, B46AddAfterWithoutDelayAddsNow) {
  auto clock = std::make_shared<FakeClock>();
  DelayingQueue<std::string> q({.clock = clock});
  q.AddAfter("a", seconds(0));
  q.AddAfter("b", -seconds(1));
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(clock->PendingTimers(), 0u);
}

TEST(DelayingQueueTest, B46AddAfterOfAWaitingItemKeepsTheEarlierTime) {
  auto clock = std::make_shared<FakeClock>();
  DelayingQueue<std::string> q({.clock = clock});
  q.AddAfter("a", seconds(5));
  q.AddAfter("a", seconds(1));
  q.AddAfter("b", seconds(1));
  q.AddAfter("b", seconds(5));
  EXPECT_EQ(q.WaitingLen(), 2u);
  clock->Advance(seconds(1));
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.WaitingLen(), 0u);
}

TEST(DelayingQueueTest, B46ItemsBecomeReadyInTimeOrder) {
  auto clock = std::make_shared<FakeClock>();
  DelayingQueue<std::string> q({.clock = clock});
  q.AddAfter("c", seconds(3));
  q.AddAfter("a", seconds(1));
  q.AddAfter("b", seconds(2));
  clock->Advance(seconds(10));
  EXPECT_THAT(q.Get(), Optional(std::string("a")));
  EXPECT_THAT(q.Get(), Optional(std::string("b")));
  EXPECT_THAT(q.Get(), Optional(std::string("c")));
}

TEST(DelayingQueueTest, B46ReadyItemIsDeduplicatedWithQueuedOne) {
  auto clock = std::make_shared<FakeClock>();
  DelayingQueue<std::string> q({.clock = clock});
  q.Add("a");
  q.AddAfter("a", seconds(1));
  clock->Advance(seconds(1));
  EXPECT_EQ(q.Len(), 1u);
}

TEST(DelayingQueueTest, KeepsOneTimerArmedWhateverTheNumberOfWaitingItems) {
  auto clock = std::make_shared<FakeClock>();
  DelayingQueue<int> q({.clock = clock});
  for (int i = 0; i < 100; ++i) q.AddAfter(i, milliseconds(100 - i));
  EXPECT_EQ(q.WaitingLen(), 100u);
  EXPECT_EQ(clock->PendingTimers(), 1u);
  clock->Advance(milliseconds(50));
  EXPECT_EQ(q.Len(), 50u);
  EXPECT_EQ(clock->PendingTimers(), 1u);
  clock->Advance(milliseconds(50));
  EXPECT_EQ(q.Len(), 100u);
  EXPECT_EQ(clock->PendingTimers(), 0u);
}

TEST(DelayingQueueTest, B45AddAfterIsIgnoredAfterShutDownAndWaitingItemsAreDropped) {
  auto clock = std::make_shared<FakeClock>();
  DelayingQueue<std::string> q({.clock = clock});
  q.AddAfter("a", seconds(1));
  q.ShutDown();
  q.AddAfter("b", seconds(1));
  q.AddAfter("c", seconds(0));
  clock->Advance(seconds(2));
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.WaitingLen(), 0u);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(DelayingQueueTest, DestroyingTheQueueStopsItsTimer) {
  auto clock = std::make_shared<FakeClock>();
  {
    DelayingQueue<std::string> q({.clock = clock});
    q.AddAfter("a", seconds(1));
    EXPECT_EQ(clock->PendingTimers(), 1u);
  }
  EXPECT_EQ(clock->PendingTimers(), 0u);
  clock->Advance(seconds(2));  // nothing left to fire into
}

TEST(DelayingQueueTest, B46AddAfterWorksOnTheRealClock) {
  DelayingQueue<std::string> q;
  q.AddAfter("a", milliseconds(5));
  EXPECT_THAT(q.Get(), Optional(std::string("a")));  // blocks until the timer adds it
}

TEST(RateLimitingQueueTest, B46AddRateLimitedWaitsForTheLimiterDelay) {
  auto clock = std::make_shared<FakeClock>();
  RateLimitingQueue<std::string> q(
      std::make_shared<ItemExponentialFailureRateLimiter<std::string>>(seconds(1), seconds(60)),
      {.clock = clock});
  q.AddRateLimited("a");
  EXPECT_EQ(q.NumRequeues("a"), 1);
  clock->Advance(milliseconds(999));
  EXPECT_EQ(q.Len(), 0u);
  clock->Advance(milliseconds(1));
  ASSERT_THAT(q.Get(), Optional(std::string("a")));
  q.AddRateLimited("a");  // second failure: 2 s
  q.Done("a");
  EXPECT_EQ(q.NumRequeues("a"), 2);
  clock->Advance(milliseconds(1999));
  EXPECT_EQ(q.Len(), 0u);
  clock->Advance(milliseconds(1));
  EXPECT_EQ(q.Len(), 1u);
}

TEST(RateLimitingQueueTest, B46ForgetClearsTheHistoryButNotTheQueue) {
  auto clock = std::make_shared<FakeClock>();
  RateLimitingQueue<std::string> q(
      std::make_shared<ItemExponentialFailureRateLimiter<std::string>>(seconds(1), seconds(60)),
      {.clock = clock});
  q.AddRateLimited("a");
  q.AddRateLimited("a");
  EXPECT_EQ(q.NumRequeues("a"), 2);
  q.Forget("a");
  EXPECT_EQ(q.NumRequeues("a"), 0);
  EXPECT_EQ(q.WaitingLen(), 1u);  // still waiting (for the earlier time, 1 s)
  clock->Advance(seconds(1));
  EXPECT_EQ(q.Len(), 1u);
}

TEST(RateLimitingQueueTest, DefaultsToTheControllerRateLimiter) {
  auto clock = std::make_shared<FakeClock>();
  RateLimitingQueue<std::string> q({.clock = clock});
  q.AddRateLimited("a");  // 5 ms
  clock->Advance(milliseconds(4));
  EXPECT_EQ(q.Len(), 0u);
  clock->Advance(milliseconds(1));
  EXPECT_EQ(q.Len(), 1u);
}

}  // namespace
}  // namespace kube::workqueue

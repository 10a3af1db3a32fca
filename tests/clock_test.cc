#include "kube/clock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace kube {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

TEST(FakeClockTest, TimersFireInDueOrderWhenTimeAdvances) {
  FakeClock clock;
  std::vector<int> fired;
  auto t0 = clock.Now();
  clock.AfterFunc(3s, [&] { fired.push_back(3); });
  clock.AfterFunc(1s, [&] { fired.push_back(1); });
  clock.AfterFunc(2s, [&] { fired.push_back(2); });
  EXPECT_EQ(clock.PendingTimers(), 3u);
  clock.Advance(1500ms);
  EXPECT_THAT(fired, ElementsAre(1));
  clock.Advance(10s);
  EXPECT_THAT(fired, ElementsAre(1, 2, 3));
  EXPECT_EQ(clock.Now() - t0, std::chrono::steady_clock::duration(11500ms));
}

TEST(FakeClockTest, StoppedTimerNeverFires) {
  FakeClock clock;
  bool fired = false;
  auto t = clock.AfterFunc(1s, [&] { fired = true; });
  EXPECT_TRUE(t->Stop());
  EXPECT_FALSE(t->Stop());
  clock.Advance(5s);
  EXPECT_FALSE(fired);
}

TEST(FakeClockTest, ATimerArmedByACallbackFiresInTheSameAdvanceWhenDue) {
  FakeClock clock;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    clock.AfterFunc(1s, tick);
  };
  clock.AfterFunc(1s, tick);
  clock.Advance(5s);
  EXPECT_EQ(ticks, 5);
}

TEST(FakeClockTest, WaitForTimersSeesTimersArmedOnAnotherThread) {
  FakeClock clock;
  std::thread t([&] { clock.AfterFunc(1s, [] {}); });
  EXPECT_TRUE(clock.WaitForTimers(1));
  t.join();
}

TEST(RealClockTest, AfterFuncFiresOnItsThread) {
  std::atomic<bool> fired{false};
  Clock::Real()->AfterFunc(1ms, [&] { fired = true; });
  for (int i = 0; i < 10000 && !fired; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(fired);
}

}  // namespace
}  // namespace kube

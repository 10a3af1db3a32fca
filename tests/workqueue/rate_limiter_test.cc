// Rate limiters: behaviour B47 of docs/behaviours.md.
#include "kube/workqueue/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace kube::workqueue {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(RateLimiterTest, B47ExponentialDoublesPerFailureUpToMax) {
  ItemExponentialFailureRateLimiter<std::string> r(milliseconds(1), milliseconds(10));
  EXPECT_EQ(r.When("a"), milliseconds(1));
  EXPECT_EQ(r.When("a"), milliseconds(2));
  EXPECT_EQ(r.When("a"), milliseconds(4));
  EXPECT_EQ(r.When("a"), milliseconds(8));
  EXPECT_EQ(r.When("a"), milliseconds(10));
  EXPECT_EQ(r.When("a"), milliseconds(10));
  EXPECT_EQ(r.NumRequeues("a"), 6);
}

TEST(RateLimiterTest, B47ExponentialCountsEachItemSeparatelyAndForgets) {
  ItemExponentialFailureRateLimiter<std::string> r(milliseconds(1), seconds(1));
  EXPECT_EQ(r.When("a"), milliseconds(1));
  EXPECT_EQ(r.When("a"), milliseconds(2));
  EXPECT_EQ(r.When("b"), milliseconds(1));
  EXPECT_EQ(r.NumRequeues("a"), 2);
  EXPECT_EQ(r.NumRequeues("b"), 1);
  EXPECT_EQ(r.NumRequeues("c"), 0);
  r.Forget("a");
  EXPECT_EQ(r.NumRequeues("a"), 0);
  EXPECT_EQ(r.When("a"), milliseconds(1));
  EXPECT_EQ(r.NumRequeues("b"), 1);
}

TEST(RateLimiterTest, B47ExponentialSaturatesInsteadOfOverflowing) {
  ItemExponentialFailureRateLimiter<int> r(nanoseconds(1), seconds(1000));
  nanoseconds last{0};
  for (int i = 0; i < 2000; ++i) last = r.When(1);
  EXPECT_EQ(last, seconds(1000));
}

TEST(RateLimiterTest, B47BucketAllowsTheBurstThenSpacesByQps) {
  auto clock = std::make_shared<FakeClock>();
  BucketRateLimiter<std::string> r(10, 3, clock);
  EXPECT_EQ(r.When("a"), nanoseconds(0));
  EXPECT_EQ(r.When("b"), nanoseconds(0));
  EXPECT_EQ(r.When("a"), nanoseconds(0));
  EXPECT_EQ(r.When("c"), milliseconds(100));  // shared by all items
  EXPECT_EQ(r.When("d"), milliseconds(200));
  EXPECT_EQ(r.NumRequeues("a"), 0);
  clock->Advance(milliseconds(200));  // pays the debt of two tokens
  EXPECT_EQ(r.When("e"), milliseconds(100));
  clock->Advance(seconds(10));  // refills, but never beyond the burst
  EXPECT_EQ(r.When("f"), nanoseconds(0));
  EXPECT_EQ(r.When("f"), nanoseconds(0));
  EXPECT_EQ(r.When("f"), nanoseconds(0));
  EXPECT_EQ(r.When("f"), milliseconds(100));
}

TEST(RateLimiterTest, B47MaxOfTakesTheLongestDelay) {
  auto clock = std::make_shared<FakeClock>();
  auto exp =
      std::make_shared<ItemExponentialFailureRateLimiter<std::string>>(milliseconds(1), seconds(1));
  auto slow =
      std::make_shared<ItemFastSlowRateLimiter<std::string>>(milliseconds(3), seconds(10), 2);
  MaxOfRateLimiter<std::string> r({exp, slow});
  EXPECT_EQ(r.When("a"), milliseconds(3));  // max(1, 3)
  EXPECT_EQ(r.When("a"), milliseconds(3));  // max(2, 3)
  EXPECT_EQ(r.When("a"), seconds(10));      // max(4, 10 s)
  EXPECT_EQ(r.NumRequeues("a"), 3);
  r.Forget("a");
  EXPECT_EQ(exp->NumRequeues("a"), 0);
  EXPECT_EQ(slow->NumRequeues("a"), 0);
}

TEST(RateLimiterTest, B47DefaultControllerIsMaxOfExponentialAndBucket) {
  auto clock = std::make_shared<FakeClock>();
  auto r = DefaultControllerRateLimiter<std::string>(clock);
  // Per item: 5 ms doubling.
  EXPECT_EQ(r->When("one"), milliseconds(5));
  EXPECT_EQ(r->When("one"), milliseconds(10));
  EXPECT_EQ(r->When("one"), milliseconds(20));
  EXPECT_EQ(r->NumRequeues("one"), 3);
  // Overall: a burst of 100, then 10 per second.
  for (int i = 3; i < 100; ++i) EXPECT_EQ(r->When(std::to_string(i)), milliseconds(5));
  EXPECT_EQ(r->When("x"), milliseconds(100));
  EXPECT_EQ(r->When("y"), milliseconds(200));
  r->Forget("one");
  EXPECT_EQ(r->NumRequeues("one"), 0);
}

TEST(RateLimiterTest, B47ExponentialCapsAtThousandSecondsInTheDefaults) {
  auto clock = std::make_shared<FakeClock>();
  auto controller = DefaultControllerRateLimiter<std::string>(clock);
  auto item_based = DefaultItemBasedRateLimiter<std::string>();
  EXPECT_EQ(item_based->When("a"), milliseconds(1));
  EXPECT_EQ(item_based->When("a"), milliseconds(2));
  nanoseconds last{0};
  for (int i = 0; i < 40; ++i) last = item_based->When("a");
  EXPECT_EQ(last, seconds(1000));
  for (int i = 0; i < 40; ++i) {
    clock->Advance(seconds(1));  // keep the bucket out of it
    last = controller->When("a");
  }
  EXPECT_EQ(last, seconds(1000));
}

TEST(RateLimiterTest, FastSlowSwitchesAfterMaxFastAttempts) {
  ItemFastSlowRateLimiter<int> r(milliseconds(5), seconds(10), 2);
  EXPECT_EQ(r.When(1), milliseconds(5));
  EXPECT_EQ(r.When(1), milliseconds(5));
  EXPECT_EQ(r.When(1), seconds(10));
  EXPECT_EQ(r.When(2), milliseconds(5));
  EXPECT_EQ(r.NumRequeues(1), 3);
  r.Forget(1);
  EXPECT_EQ(r.When(1), milliseconds(5));
}

TEST(RateLimiterTest, WithMaxWaitCapsTheDelay) {
  WithMaxWaitRateLimiter<int> r(
      std::make_shared<ItemExponentialFailureRateLimiter<int>>(seconds(1), seconds(100)),
      seconds(3));
  EXPECT_EQ(r.When(1), seconds(1));
  EXPECT_EQ(r.When(1), seconds(2));
  EXPECT_EQ(r.When(1), seconds(3));
  EXPECT_EQ(r.NumRequeues(1), 3);
}

}  // namespace
}  // namespace kube::workqueue

// The workqueue_* metrics, read the way Prometheus would: from the rendered text.
#include "kube/workqueue/queue_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "kube/workqueue/workqueue.h"

namespace kube::workqueue {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

class QueueMetricsTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<metrics::Registry> registry_ = std::make_shared<metrics::Registry>();
};

TEST_F(QueueMetricsTest, CountsAddsDepthAndRetries) {
  RateLimitingQueue<std::string> q(
      std::make_shared<ItemExponentialFailureRateLimiter<std::string>>(seconds(1), seconds(10)),
      {.name = "deployments", .clock = clock_, .metrics = registry_});
  q.Add("a");
  q.Add("b");
  q.Add("a");  // deduplicated: not an add
  q.AddRateLimited("c");
  q.AddAfter("d", seconds(0));
  const std::string text = registry_->Render();
  EXPECT_THAT(text, HasSubstr("workqueue_adds_total{name=\"deployments\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_depth{name=\"deployments\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_retries_total{name=\"deployments\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE workqueue_queue_duration_seconds histogram\n"));
}

TEST_F(QueueMetricsTest, MeasuresQueueAndWorkDurationAndUnfinishedWork) {
  Queue<std::string> q({.name = "q", .clock = clock_, .metrics = registry_});
  q.Add("a");
  clock_->Advance(seconds(2));
  ASSERT_TRUE(q.Get());
  clock_->Advance(seconds(3));
  q.Add("b");
  ASSERT_TRUE(q.Get());
  clock_->Advance(seconds(1));
  std::string text = registry_->Render();
  EXPECT_THAT(text, HasSubstr("workqueue_depth{name=\"q\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_queue_duration_seconds_bucket{name=\"q\",le=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_queue_duration_seconds_bucket{name=\"q\",le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_queue_duration_seconds_sum{name=\"q\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_queue_duration_seconds_count{name=\"q\"} 2\n"));
  // "a" has run 4 s and "b" 1 s.
  EXPECT_THAT(text, HasSubstr("workqueue_unfinished_work_seconds{name=\"q\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_longest_running_processor_seconds{name=\"q\"} 4\n"));
  q.Done("a");
  q.Done("b");
  text = registry_->Render();
  EXPECT_THAT(text, HasSubstr("workqueue_work_duration_seconds_sum{name=\"q\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_work_duration_seconds_count{name=\"q\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_unfinished_work_seconds{name=\"q\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("workqueue_longest_running_processor_seconds{name=\"q\"} 0\n"));
}

TEST_F(QueueMetricsTest, NoMetricsWithoutANameOrRegistry) {
  Queue<std::string> unnamed({.clock = clock_, .metrics = registry_});
  unnamed.Add("a");
  EXPECT_EQ(registry_->Render(), "");
}

TEST_F(QueueMetricsTest, ScrapeTimeGaugesGoWithTheQueue) {
  {
    Queue<std::string> q({.name = "gone", .clock = clock_, .metrics = registry_});
    q.Add("a");
  }
  const std::string text = registry_->Render();
  EXPECT_THAT(text, HasSubstr("workqueue_adds_total{name=\"gone\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("workqueue_unfinished_work_seconds")));
}

}  // namespace
}  // namespace kube::workqueue

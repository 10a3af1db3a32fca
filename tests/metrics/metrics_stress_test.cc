// Increments, observations, renders and collector churn at once. Labelled `concurrency`; CI runs
// it under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "kube/metrics/metrics.h"

namespace kube::metrics {
namespace {

TEST(MetricsStressTest, ConcurrentUpdatesRendersAndCollectorsAreConsistent) {
  Registry r;
  constexpr int kThreads = 4;
  constexpr int kIncrements = 20000;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Looked up concurrently too: every thread must get the same metrics.
      Counter& c = r.GetCounter("ops_total", "Ops.");
      Histogram& h = r.GetHistogram("op_seconds", "Op time.", {0.5, 1});
      Gauge& g = r.GetGauge("per_thread", "Per thread.", {{"t", std::to_string(t)}});
      for (int i = 0; i < kIncrements; ++i) {
        c.Inc();
        h.Observe(i % 2 == 0 ? 0.25 : 2);
        g.Inc();
      }
    });
  }
  std::thread churn([&] {
    while (!stop) {
      CollectorHandle h = r.AddCollector([](Collection& c) { c.AddGauge("up", "Up.", {}, 1); });
    }
  });
  std::thread renderer([&] {
    while (!stop) (void)r.Render();
  });
  for (auto& t : threads) t.join();
  stop = true;
  churn.join();
  renderer.join();

  const std::string text = r.Render();
  const std::string total = std::to_string(kThreads * kIncrements);
  const std::string half = std::to_string(kThreads * kIncrements / 2);
  EXPECT_NE(text.find("ops_total " + total + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("op_seconds_bucket{le=\"0.5\"} " + half + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("op_seconds_count " + total + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("per_thread{t=\"3\"} " + std::to_string(kIncrements) + "\n"),
            std::string::npos);
  EXPECT_EQ(text.find("\nup "), std::string::npos);  // every collector handle was dropped
}

}  // namespace
}  // namespace kube::metrics

// The registry and the Prometheus text format 0.0.4. Expected texts are written by hand from the
// format's specification.
#include "kube/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace kube::metrics {
namespace {

TEST(MetricsTest, RendersACounter) {
  Registry r;
  r.GetCounter("http_requests_total", "Requests served.", {{"code", "200"}, {"method", "get"}})
      .Inc();
  r.GetCounter("http_requests_total", "ignored", {{"code", "500"}, {"method", "get"}}).Inc(2);
  r.GetCounter("http_requests_total", "", {{"code", "200"}, {"method", "get"}}).Inc(0.5);
  EXPECT_EQ(r.Render(),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{code=\"200\",method=\"get\"} 1.5\n"
            "http_requests_total{code=\"500\",method=\"get\"} 2\n");
}

TEST(MetricsTest, CounterNeverDecreases) {
  Registry r;
  Counter& c = r.GetCounter("c_total", "c");
  c.Inc(3);
  c.Inc(-1);
  EXPECT_EQ(c.Value(), 3);
}

TEST(MetricsTest, RendersAGaugeWithoutLabels) {
  Registry r;
  Gauge& g = r.GetGauge("queue_depth", "Items waiting.");
  g.Set(7);
  g.Inc();
  g.Dec();
  g.Dec();
  g.Add(-0.25);
  EXPECT_EQ(r.Render(),
            "# HELP queue_depth Items waiting.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth 5.75\n");
}

TEST(MetricsTest, RendersAHistogramWithCumulativeBuckets) {
  Registry r;
  Histogram& h = r.GetHistogram("rpc_seconds", "RPC latency.", {0.25, 1, 10}, {{"rpc", "get"}});
  h.Observe(0.125);
  h.Observe(0.25);  // a bound is inclusive (le)
  h.Observe(0.5);
  h.Observe(20);
  EXPECT_EQ(r.Render(),
            "# HELP rpc_seconds RPC latency.\n"
            "# TYPE rpc_seconds histogram\n"
            "rpc_seconds_bucket{rpc=\"get\",le=\"0.25\"} 2\n"
            "rpc_seconds_bucket{rpc=\"get\",le=\"1\"} 3\n"
            "rpc_seconds_bucket{rpc=\"get\",le=\"10\"} 3\n"
            "rpc_seconds_bucket{rpc=\"get\",le=\"+Inf\"} 4\n"
            "rpc_seconds_sum{rpc=\"get\"} 20.875\n"
            "rpc_seconds_count{rpc=\"get\"} 4\n");
}

TEST(MetricsTest, RendersAnEmptyHistogramWithoutLabels) {
  Registry r;
  (void)r.GetHistogram("h", "H.", {1e-8, 1e6, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(r.Render(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1e-08\"} 0\n"
            "h_bucket{le=\"1e+06\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\n"
            "h_count 0\n");
}

TEST(MetricsTest, EscapesHelpAndLabelValues) {
  Registry r;
  r.GetGauge("g", "a \\ b\nc \"quoted\"", {{"path", "C:\\dir\n\"x\""}}).Set(1);
  EXPECT_EQ(r.Render(),
            "# HELP g a \\\\ b\\nc \"quoted\"\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(MetricsTest, FamiliesRenderInNameOrder) {
  Registry r;
  r.GetGauge("b", "B").Set(1);
  r.GetCounter("a_total", "A").Inc();
  EXPECT_EQ(r.Render(),
            "# HELP a_total A\n# TYPE a_total counter\na_total 1\n"
            "# HELP b B\n# TYPE b gauge\nb 1\n");
}

TEST(MetricsTest, FormatsValuesLikeGo) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {1, "1"},
      {-2, "-2"},
      {0.25, "0.25"},
      {100000, "100000"},
      {1e6, "1e+06"},
      {123456789, "1.23456789e+08"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.5e-9, "1.5e-09"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(FormatValue(c.value), c.text);
  }
}

TEST(MetricsTest, TheSameNameAndLabelsReturnTheSameMetric) {
  Registry r;
  Counter& a = r.GetCounter("x_total", "X", {{"k", "v"}});
  Counter& b = r.GetCounter("x_total", "X", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
}

TEST(MetricsTest, ANameTakenByAnotherTypeGetsADetachedMetric) {
  Registry r;
  r.GetCounter("x", "X").Inc();
  Gauge& g = r.GetGauge("x", "X");  // rejected with a warning, but usable
  g.Set(5);
  (void)r.GetHistogram("h", "H", {1, 2});
  r.GetHistogram("h", "H", {1, 3}).Observe(1);  // other bounds: detached
  r.GetGauge("bad-name", "B").Set(1);
  r.GetGauge("ok", "O", {{"le", "1"}}).Set(1);  // `le` is reserved
  EXPECT_EQ(r.Render(),
            "# HELP h H\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"
            "# HELP x X\n# TYPE x counter\nx 1\n");
}

TEST(MetricsTest, CollectorsReportAtScrapeTime) {
  Registry r;
  r.GetGauge("objects", "Objects cached.", {{"resource", "pods"}}).Set(3);
  int calls = 0;
  CollectorHandle handle = r.AddCollector([&](Collection& c) {
    ++calls;
    c.AddGauge("objects", "ignored", {{"resource", "services"}}, 2);
    c.AddCounter("events_total", "Events.", {{"type", "add"}}, 10);
    c.AddCounter("objects", "wrong type", {}, 1);  // dropped
  });
  const std::string expected =
      "# HELP events_total Events.\n# TYPE events_total counter\nevents_total{type=\"add\"} 10\n"
      "# HELP objects Objects cached.\n# TYPE objects gauge\n"
      "objects{resource=\"pods\"} 3\nobjects{resource=\"services\"} 2\n";
  EXPECT_EQ(r.Render(), expected);
  EXPECT_EQ(r.Render(), expected);
  EXPECT_EQ(calls, 2);
  handle.Reset();
  EXPECT_EQ(r.Render(),
            "# HELP objects Objects cached.\n# TYPE objects gauge\n"
            "objects{resource=\"pods\"} 3\n");
  EXPECT_EQ(calls, 2);
}

TEST(MetricsTest, ACollectorThatThrowsIsSkipped) {
  Registry r;
  CollectorHandle bad = r.AddCollector([](Collection&) { throw std::runtime_error("boom"); });
  CollectorHandle good = r.AddCollector([](Collection& c) { c.AddGauge("up", "Up.", {}, 1); });
  EXPECT_EQ(r.Render(), "# HELP up Up.\n# TYPE up gauge\nup 1\n");
}

TEST(MetricsTest, BucketHelpers) {
  EXPECT_EQ(ExponentialBuckets(1, 10, 3), (std::vector<double>{1, 10, 100}));
  EXPECT_EQ(LinearBuckets(1, 0.5, 3), (std::vector<double>{1, 1.5, 2}));
  EXPECT_EQ(DefaultBuckets().size(), 11u);
}

}  // namespace
}  // namespace kube::metrics

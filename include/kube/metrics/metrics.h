// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text format.
//
// Reads from: workqueues (workqueue/queue_metrics.h), informers (informers/informer_metrics.h) and
// the application's own metrics. Feeds: whatever serves `Registry::Render()` over HTTP (see
// docs/controllers.md). client-go: the workqueue and reflector metrics providers, which register
// with prometheus/client_golang; here a small registry stands in for client_golang.
//
// Format: text exposition 0.0.4 (`# HELP`, `# TYPE`, one sample per line; histograms as
// cumulative `_bucket{le="..."}` lines, `_sum` and `_count`). Families are rendered in name
// order, the samples of a family in label order.
//
//   auto registry = std::make_shared<kube::metrics::Registry>();
//   auto& requests = registry->GetCounter("app_requests_total", "Requests served.",
//                                         {{"code", "200"}});
//   requests.Inc();                       // lock-free; keep the reference
//   std::string body = registry->Render();  // serve with kContentType
#ifndef KUBE_METRICS_METRICS_H_
#define KUBE_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kube::metrics {

// Label name/value pairs, rendered in the order given. Names match [a-zA-Z_][a-zA-Z0-9_]*.
using Labels = std::vector<std::pair<std::string, std::string>>;

// The Content-Type to serve `Registry::Render()` with.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A value that only goes up. Thread-safe; lock-free.
class Counter {
 public:
  // Adds `v`; negative values are ignored (a counter never decreases).
  void Inc(double v = 1.0) noexcept {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down. Thread-safe; lock-free.
class Gauge {
 public:
  void Set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() noexcept { Add(1.0); }
  void Dec() noexcept { Add(-1.0); }
  double Value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets by upper bound (`le`), plus their sum and count. Thread-safe;
// `Observe` is lock-free. A render racing with `Observe` may show the new count without the new
// sum (or the reverse); `_count` always equals the `+Inf` bucket.
class Histogram {
 public:
  // `bounds` must be sorted ascending; an implicit +Inf bucket follows them.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double v) noexcept;

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot Snap() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<double> sum_{0};
};

// `count` bounds: start, start*factor, start*factor^2, ...
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` bounds: start, start+width, start+2*width, ...
std::vector<double> LinearBuckets(double start, double width, int count);
// client_golang's default buckets: 5 ms to 10 s.
const std::vector<double>& DefaultBuckets();

// What a collector reports at scrape time. A sample whose family name is also registered with a
// different type, or whose name or labels are invalid, is dropped with a warning.
class Collection {
 public:
  void AddCounter(std::string_view name, std::string_view help, Labels labels, double value);
  void AddGauge(std::string_view name, std::string_view help, Labels labels, double value);

  struct Sample {
    bool is_counter;
    std::string name;
    std::string help;
    Labels labels;
    double value;
  };
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<Sample> samples_;
};

// Called on the thread that renders; must be thread-safe if several threads render.
using Collector = std::function<void(Collection&)>;

class Registry;

// Keeps a collector registered; destroying it (or `Reset()`) removes the collector and waits for
// a call to it in progress. Movable.
class CollectorHandle {
 public:
  CollectorHandle() = default;
  ~CollectorHandle() { Reset(); }
  CollectorHandle(CollectorHandle&& o) noexcept : entry_(std::move(o.entry_)) {}
  CollectorHandle& operator=(CollectorHandle&& o) noexcept;
  void Reset() noexcept;

  struct Entry;
  explicit CollectorHandle(std::shared_ptr<Entry> entry) : entry_(std::move(entry)) {}

 private:
  std::shared_ptr<Entry> entry_;
};

// A set of metric families. Thread-safe. `Get*` find or create a metric; the returned reference
// stays valid for the registry's lifetime, so look it up once and keep it: increments are then
// lock-free. A name reused with another type (or a histogram with other bounds) gets a detached
// metric that is never rendered, and a warning is logged; so do invalid names.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A process-wide registry, for applications that want one. Never destroyed.
  static std::shared_ptr<Registry> Default();

  // `help` is taken from the first call for a name.
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                          const Labels& labels = {});

  // Adds a callback run by every `Render()`, outside the registry's lock, to report values
  // computed at scrape time. Remove it by dropping the handle.
  [[nodiscard]] CollectorHandle AddCollector(Collector collector);

  // Every family in the Prometheus text format 0.0.4.
  std::string Render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The sample value as the text format writes it: "+Inf", "-Inf", "NaN", or the shortest decimal
// that reads back as the same double ("1", "0.25", "1e-08").
std::string FormatValue(double v);

}  // namespace kube::metrics

#endif  // KUBE_METRICS_METRICS_H_

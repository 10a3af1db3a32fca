// The workqueue_* metrics of one queue.
#include "kube/workqueue/queue_metrics.h"

#include <algorithm>
#include <set>

#include "base/mutex.h"

namespace kube::workqueue {

using internal::Mutex;
using internal::MutexLock;

struct QueueMetrics::State {
  std::shared_ptr<metrics::Registry> registry;  // keeps the metrics below alive
  std::shared_ptr<Clock> clock;
  metrics::Gauge* depth = nullptr;
  metrics::Counter* adds = nullptr;
  metrics::Counter* retries = nullptr;
  metrics::Histogram* queue_duration = nullptr;
  metrics::Histogram* work_duration = nullptr;
  metrics::CollectorHandle collector;

  Mutex mu;
  // When each item now processing started (a multiset: items differ, times may not).
  std::multiset<Clock::TimePoint> in_flight KUBE_GUARDED_BY(mu);

  void Collect(metrics::Collection& c, const std::string& name) KUBE_EXCLUDES(mu) {
    const Clock::TimePoint now = clock->Now();
    double total = 0;
    double longest = 0;
    {
      MutexLock l(mu);
      for (Clock::TimePoint t : in_flight) {
        total += std::chrono::duration<double>(now - t).count();
      }
      if (!in_flight.empty()) {
        longest = std::chrono::duration<double>(now - *in_flight.begin()).count();
      }
    }
    c.AddGauge("workqueue_unfinished_work_seconds",
               "Seconds of work in progress not yet counted by work_duration (summed over the "
               "items being processed); a steady rise means stuck workers.",
               {{"name", name}}, total);
    c.AddGauge("workqueue_longest_running_processor_seconds",
               "Seconds the longest-running item of the workqueue has been processed.",
               {{"name", name}}, longest);
  }
};

const std::vector<double>& QueueMetrics::DurationBuckets() {
  static const std::vector<double> b = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
  return b;
}

std::shared_ptr<QueueMetrics> QueueMetrics::Create(std::shared_ptr<metrics::Registry> registry,
                                                   const std::string& name,
                                                   std::shared_ptr<Clock> clock) {
  auto s = std::make_shared<State>();
  const metrics::Labels labels = {{"name", name}};
  metrics::Registry& r = *registry;
  s->depth = &r.GetGauge("workqueue_depth", "Items waiting in the workqueue.", labels);
  s->adds = &r.GetCounter("workqueue_adds_total", "Items added to the workqueue.", labels);
  s->retries = &r.GetCounter("workqueue_retries_total",
                             "Delayed and rate-limited adds to the workqueue.", labels);
  s->queue_duration =
      &r.GetHistogram("workqueue_queue_duration_seconds",
                      "Seconds an item waited in the workqueue before a worker took it.",
                      DurationBuckets(), labels);
  s->work_duration = &r.GetHistogram("workqueue_work_duration_seconds",
                                     "Seconds a worker spent on an item, from Get to Done.",
                                     DurationBuckets(), labels);
  s->registry = std::move(registry);
  s->clock = std::move(clock);
  std::weak_ptr<State> weak = s;
  s->collector = r.AddCollector([weak, name](metrics::Collection& c) {
    if (auto state = weak.lock()) state->Collect(c, name);
  });
  return std::shared_ptr<QueueMetrics>(new QueueMetrics(std::move(s)));
}

QueueMetrics::QueueMetrics(std::shared_ptr<State> state) : state_(std::move(state)) {}

QueueMetrics::~QueueMetrics() {
  // Unregister before the state goes: a render in progress holds the collector's lock.
  state_->collector.Reset();
}

void QueueMetrics::Added() {
  state_->adds->Inc();
  state_->depth->Inc();
}

void QueueMetrics::Got(Clock::Duration queued_for, Clock::TimePoint started) {
  state_->depth->Dec();
  state_->queue_duration->Observe(std::chrono::duration<double>(queued_for).count());
  MutexLock l(state_->mu);
  state_->in_flight.insert(started);
}

void QueueMetrics::Finished(Clock::TimePoint started) {
  state_->work_duration->Observe(
      std::chrono::duration<double>(state_->clock->Now() - started).count());
  MutexLock l(state_->mu);
  auto it = state_->in_flight.find(started);
  if (it != state_->in_flight.end()) state_->in_flight.erase(it);
}

void QueueMetrics::Retried() { state_->retries->Inc(); }

}  // namespace kube::workqueue

// QueueMetrics: the Prometheus metrics of one workqueue, fed by `Queue<T>`.
//
// Reads from: `Queue<T>` (add, get, done) and `DelayingQueue<T>` (retry). Feeds:
// `metrics::Registry`. client-go: util/workqueue/metrics.go and component-base's workqueue
// metrics provider (the same metric names).
//
// Metrics, each labelled `name="<queue name>"`:
//   workqueue_depth                              gauge      items waiting to be handed out
//   workqueue_adds_total                         counter    adds that were not deduplicated
//   workqueue_retries_total                      counter    `AddAfter` calls (and rate-limited
//   adds) workqueue_queue_duration_seconds             histogram  from add to `Get`
//   workqueue_work_duration_seconds              histogram  from `Get` to `Done`
//   workqueue_unfinished_work_seconds            gauge      summed age of items not yet `Done`
//   workqueue_longest_running_processor_seconds  gauge      age of the oldest item not yet `Done`
// The two last are computed when the registry is rendered (client-go updates them every 500 ms
// from a goroutine).
#ifndef KUBE_WORKQUEUE_QUEUE_METRICS_H_
#define KUBE_WORKQUEUE_QUEUE_METRICS_H_

#include <memory>
#include <string>

#include "kube/clock.h"
#include "kube/metrics/metrics.h"

namespace kube::workqueue {

// Thread-safe. Holds its registry alive. Its counters, gauge and histograms stay in the registry
// after it is destroyed (as client-go's do); the two scrape-time gauges go with it. Give each
// live queue its own name: two live queues of one name would report those gauges twice.
class QueueMetrics {
 public:
  // The histogram buckets of the two duration metrics: 10 ns to 10 s, ×10 apart (client-go's).
  static const std::vector<double>& DurationBuckets();

  static std::shared_ptr<QueueMetrics> Create(std::shared_ptr<metrics::Registry> registry,
                                              const std::string& name,
                                              std::shared_ptr<Clock> clock);
  ~QueueMetrics();
  QueueMetrics(const QueueMetrics&) = delete;
  QueueMetrics& operator=(const QueueMetrics&) = delete;

  // An item entered the queue's dirty set.
  void Added();
  // An item was handed out by `Get` after waiting `queued_for`; its work started at `started`.
  void Got(Clock::Duration queued_for, Clock::TimePoint started);
  // The item whose work started at `started` is `Done`.
  void Finished(Clock::TimePoint started);
  // `AddAfter` was called.
  void Retried();

 private:
  struct State;
  explicit QueueMetrics(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace kube::workqueue

#endif  // KUBE_WORKQUEUE_QUEUE_METRICS_H_

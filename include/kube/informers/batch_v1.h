// Typed views, listers and informers of the batch/v1 kinds: Job, CronJob. Reach them through
// `factory->Batch().V1()` (informers/typed.h).
//
// Reads from: the factory's shared informers (informers/typed_informer.h).
// Feeds: user code.
// client-go: informers/batch/v1, listers/batch/v1, and the fields of k8s.io/api/batch/v1.
#ifndef KUBE_INFORMERS_BATCH_V1_H_
#define KUBE_INFORMERS_BATCH_V1_H_

#include <cstdint>
#include <optional>
#include <string>

#include "kube/informers/typed_informer.h"

namespace kube {

class Job : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"batch", "v1", "jobs", "job", "Job", true};
  using TypedObject::TypedObject;

  // spec.completions. As the API server defaults it: 1 when both completions and parallelism are
  // absent; nullopt when only parallelism is set (a work-queue Job).
  std::optional<int64_t> completions() const;
  int64_t parallelism() const;  // spec.parallelism; 1 when absent
  int64_t active() const;       // status.active
  int64_t succeeded() const;    // status.succeeded
  int64_t failed() const;       // status.failed
  bool complete() const;        // the Complete condition is True
  bool suspended() const;       // spec.suspend
};

class CronJob : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"batch", "v1", "cronjobs", "cronjob", "CronJob", true};
  using TypedObject::TypedObject;

  std::string schedule() const;  // spec.schedule, e.g. "*/5 * * * *"
  bool suspend() const;          // spec.suspend; false when absent
  // spec.concurrencyPolicy: Allow, Forbid or Replace; "Allow" when absent.
  std::string concurrency_policy() const;
  std::string last_schedule_time() const;  // status.lastScheduleTime (RFC 3339); "" never
  size_t active_jobs() const;              // the number of status.active references
};

KUBE_TYPED_NAMESPACED_KIND(Job, Jobs);
KUBE_TYPED_NAMESPACED_KIND(CronJob, CronJobs);

// `factory->Batch().V1()`. A cheap view over the factory, which must outlive it.
class BatchV1Informers {
 public:
  explicit BatchV1Informers(SharedInformerFactory& factory) : factory_(&factory) {}
  JobInformer Jobs() const { return TypedInformerFor<JobInformer>(*factory_); }
  CronJobInformer CronJobs() const { return TypedInformerFor<CronJobInformer>(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

class BatchInformers {
 public:
  explicit BatchInformers(SharedInformerFactory& factory) : factory_(&factory) {}
  BatchV1Informers V1() const { return BatchV1Informers(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

}  // namespace kube

#endif  // KUBE_INFORMERS_BATCH_V1_H_

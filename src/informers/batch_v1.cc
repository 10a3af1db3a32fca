// The batch/v1 typed views' accessors (informers/batch_v1.h). Defaults are the API server's.
#include "kube/informers/batch_v1.h"

#include <string>

namespace kube {

std::optional<int64_t> Job::completions() const {
  std::optional<int64_t> c = OptionalInt("spec.completions");
  if (c) return c;
  // The API server sets both to 1 when both are unset; parallelism alone means a work queue.
  if (!OptionalInt("spec.parallelism")) return 1;
  return std::nullopt;
}
int64_t Job::parallelism() const { return IntOr("spec.parallelism", 1); }
int64_t Job::active() const { return IntOr("status.active"); }
int64_t Job::succeeded() const { return IntOr("status.succeeded"); }
int64_t Job::failed() const { return IntOr("status.failed"); }
bool Job::complete() const { return ConditionStatus("status.conditions", "Complete") == "True"; }
bool Job::suspended() const { return BoolOr("spec.suspend", false); }

std::string CronJob::schedule() const { return StringOr("spec.schedule"); }
bool CronJob::suspend() const { return BoolOr("spec.suspend", false); }
std::string CronJob::concurrency_policy() const {
  return StringOr("spec.concurrencyPolicy", "Allow");
}
std::string CronJob::last_schedule_time() const { return StringOr("status.lastScheduleTime"); }
size_t CronJob::active_jobs() const { return ArraySize("status.active"); }

}  // namespace kube

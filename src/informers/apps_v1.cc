// The apps/v1 typed views' accessors (informers/apps_v1.h). Defaults are the API server's.
#include "kube/informers/apps_v1.h"

#include <string>

namespace kube {

int64_t ReplicatedObject::replicas() const { return IntOr("spec.replicas", 1); }
int64_t ReplicatedObject::status_replicas() const { return IntOr("status.replicas"); }
int64_t ReplicatedObject::ready_replicas() const { return IntOr("status.readyReplicas"); }
int64_t ReplicatedObject::available_replicas() const { return IntOr("status.availableReplicas"); }
int64_t ReplicatedObject::updated_replicas() const { return IntOr("status.updatedReplicas"); }
int64_t ReplicatedObject::observed_generation() const { return IntOr("status.observedGeneration"); }
StringMap ReplicatedObject::selector_match_labels() const {
  return StringMapAt("spec.selector.matchLabels");
}
bool ReplicatedObject::rolled_out() const {
  int64_t want = replicas();
  return observed_generation() >= generation() && updated_replicas() == want &&
         available_replicas() == want && status_replicas() == want;
}

bool Deployment::paused() const { return BoolOr("spec.paused", false); }
std::string Deployment::strategy_type() const {
  return StringOr("spec.strategy.type", "RollingUpdate");
}

int64_t ReplicaSet::fully_labeled_replicas() const { return IntOr("status.fullyLabeledReplicas"); }

std::string StatefulSet::service_name() const { return StringOr("spec.serviceName"); }
int64_t StatefulSet::current_replicas() const { return IntOr("status.currentReplicas"); }
std::string StatefulSet::pod_management_policy() const {
  return StringOr("spec.podManagementPolicy", "OrderedReady");
}

int64_t DaemonSet::desired_number_scheduled() const {
  return IntOr("status.desiredNumberScheduled");
}
int64_t DaemonSet::current_number_scheduled() const {
  return IntOr("status.currentNumberScheduled");
}
int64_t DaemonSet::number_ready() const { return IntOr("status.numberReady"); }
int64_t DaemonSet::number_available() const { return IntOr("status.numberAvailable"); }
int64_t DaemonSet::updated_number_scheduled() const {
  return IntOr("status.updatedNumberScheduled");
}
int64_t DaemonSet::number_misscheduled() const { return IntOr("status.numberMisscheduled"); }
int64_t DaemonSet::observed_generation() const { return IntOr("status.observedGeneration"); }
StringMap DaemonSet::selector_match_labels() const {
  return StringMapAt("spec.selector.matchLabels");
}

}  // namespace kube

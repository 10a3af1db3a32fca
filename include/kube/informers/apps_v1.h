// Typed views, listers and informers of the apps/v1 kinds: Deployment, ReplicaSet, StatefulSet,
// DaemonSet. Reach them through `factory->Apps().V1()` (informers/typed.h).
//
// Reads from: the factory's shared informers (informers/typed_informer.h).
// Feeds: user code.
// client-go: informers/apps/v1, listers/apps/v1, and the fields of k8s.io/api/apps/v1.
//
// Accessors read the object's JSON on each call; an absent field reads as the API server's
// default, as each accessor says, or as zero.
#ifndef KUBE_INFORMERS_APPS_V1_H_
#define KUBE_INFORMERS_APPS_V1_H_

#include <cstdint>
#include <string>

#include "kube/informers/typed_informer.h"

namespace kube {

// The fields Deployment, ReplicaSet and StatefulSet share.
class ReplicatedObject : public TypedObject {
 public:
  int64_t replicas() const;             // spec.replicas; 1 when absent
  int64_t status_replicas() const;      // status.replicas
  int64_t ready_replicas() const;       // status.readyReplicas
  int64_t available_replicas() const;   // status.availableReplicas
  int64_t updated_replicas() const;     // status.updatedReplicas
  int64_t observed_generation() const;  // status.observedGeneration
  // spec.selector.matchLabels; empty when absent (matchExpressions are in `object()`).
  StringMap selector_match_labels() const;
  // The controller has seen the latest spec and every replica is updated and available (the
  // test `kubectl rollout status` makes, for kinds that report all three).
  bool rolled_out() const;

 protected:
  using TypedObject::TypedObject;
};

class Deployment : public ReplicatedObject {
 public:
  static constexpr KindInfo kInfo{"apps", "v1", "deployments", "deployment", "Deployment", true};
  using ReplicatedObject::ReplicatedObject;

  bool paused() const;                // spec.paused
  std::string strategy_type() const;  // spec.strategy.type; "RollingUpdate" when absent
};

class ReplicaSet : public ReplicatedObject {
 public:
  static constexpr KindInfo kInfo{"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true};
  using ReplicatedObject::ReplicatedObject;

  int64_t fully_labeled_replicas() const;  // status.fullyLabeledReplicas
};

class StatefulSet : public ReplicatedObject {
 public:
  static constexpr KindInfo kInfo{"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true};
  using ReplicatedObject::ReplicatedObject;

  std::string service_name() const;  // spec.serviceName
  int64_t current_replicas() const;  // status.currentReplicas
  // spec.podManagementPolicy; "OrderedReady" when absent.
  std::string pod_management_policy() const;
};

class DaemonSet : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true};
  using TypedObject::TypedObject;

  int64_t desired_number_scheduled() const;  // status.desiredNumberScheduled
  int64_t current_number_scheduled() const;  // status.currentNumberScheduled
  int64_t number_ready() const;              // status.numberReady
  int64_t number_available() const;          // status.numberAvailable
  int64_t updated_number_scheduled() const;  // status.updatedNumberScheduled
  int64_t number_misscheduled() const;       // status.numberMisscheduled
  int64_t observed_generation() const;       // status.observedGeneration
  StringMap selector_match_labels() const;   // spec.selector.matchLabels
};

KUBE_TYPED_NAMESPACED_KIND(Deployment, Deployments);
KUBE_TYPED_NAMESPACED_KIND(ReplicaSet, ReplicaSets);
KUBE_TYPED_NAMESPACED_KIND(StatefulSet, StatefulSets);
KUBE_TYPED_NAMESPACED_KIND(DaemonSet, DaemonSets);

// `factory->Apps().V1()`. A cheap view over the factory, which must outlive it.
class AppsV1Informers {
 public:
  explicit AppsV1Informers(SharedInformerFactory& factory) : factory_(&factory) {}
  DeploymentInformer Deployments() const { return TypedInformerFor<DeploymentInformer>(*factory_); }
  ReplicaSetInformer ReplicaSets() const { return TypedInformerFor<ReplicaSetInformer>(*factory_); }
  StatefulSetInformer StatefulSets() const {
    return TypedInformerFor<StatefulSetInformer>(*factory_);
  }
  DaemonSetInformer DaemonSets() const { return TypedInformerFor<DaemonSetInformer>(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

class AppsInformers {
 public:
  explicit AppsInformers(SharedInformerFactory& factory) : factory_(&factory) {}
  AppsV1Informers V1() const { return AppsV1Informers(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

}  // namespace kube

#endif  // KUBE_INFORMERS_APPS_V1_H_

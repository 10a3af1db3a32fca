// Typed view, lister and informer of coordination.k8s.io/v1 Lease (leader election, node
// heartbeats). Reach it through `factory->Coordination().V1()` (informers/typed.h).
//
// Reads from: the factory's shared informers (informers/typed_informer.h).
// Feeds: user code.
// client-go: informers/coordination/v1, listers/coordination/v1, k8s.io/api/coordination/v1.
#ifndef KUBE_INFORMERS_COORDINATION_V1_H_
#define KUBE_INFORMERS_COORDINATION_V1_H_

#include <cstdint>
#include <string>

#include "kube/informers/typed_informer.h"

namespace kube {

class Lease : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"coordination.k8s.io", "v1", "leases", "lease", "Lease", true};
  using TypedObject::TypedObject;

  std::string holder_identity() const;     // spec.holderIdentity; "" when nobody holds it
  int64_t lease_duration_seconds() const;  // spec.leaseDurationSeconds; 0 when absent
  // spec.renewTime / spec.acquireTime as sent (RFC 3339 with microseconds); "" when absent.
  std::string renew_time() const;
  std::string acquire_time() const;
  int64_t lease_transitions() const;  // spec.leaseTransitions
};

KUBE_TYPED_NAMESPACED_KIND(Lease, Leases);

// `factory->Coordination().V1()`. A cheap view over the factory, which must outlive it.
class CoordinationV1Informers {
 public:
  explicit CoordinationV1Informers(SharedInformerFactory& factory) : factory_(&factory) {}
  LeaseInformer Leases() const { return TypedInformerFor<LeaseInformer>(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

class CoordinationInformers {
 public:
  explicit CoordinationInformers(SharedInformerFactory& factory) : factory_(&factory) {}
  CoordinationV1Informers V1() const { return CoordinationV1Informers(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

}  // namespace kube

#endif  // KUBE_INFORMERS_COORDINATION_V1_H_

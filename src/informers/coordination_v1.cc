// The coordination.k8s.io/v1 typed view's accessors (informers/coordination_v1.h).
#include "kube/informers/coordination_v1.h"

#include <string>

namespace kube {

std::string Lease::holder_identity() const { return StringOr("spec.holderIdentity"); }
int64_t Lease::lease_duration_seconds() const { return IntOr("spec.leaseDurationSeconds"); }
std::string Lease::renew_time() const { return StringOr("spec.renewTime"); }
std::string Lease::acquire_time() const { return StringOr("spec.acquireTime"); }
int64_t Lease::lease_transitions() const { return IntOr("spec.leaseTransitions"); }

}  // namespace kube

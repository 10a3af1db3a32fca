// Typed view, lister and informer of discovery.k8s.io/v1 EndpointSlice. Reach it through
// `factory->Discovery().V1()` (informers/typed.h).
//
// Reads from: the factory's shared informers (informers/typed_informer.h).
// Feeds: user code.
// client-go: informers/discovery/v1, listers/discovery/v1, k8s.io/api/discovery/v1.
#ifndef KUBE_INFORMERS_DISCOVERY_V1_H_
#define KUBE_INFORMERS_DISCOVERY_V1_H_

#include <string>
#include <vector>

#include "kube/informers/typed_informer.h"

namespace kube {

class EndpointSlice : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"discovery.k8s.io", "v1", "endpointslices", "endpointslice",
                                  "EndpointSlice",    true};
  using TypedObject::TypedObject;

  std::string address_type() const;  // addressType: IPv4, IPv6 or FQDN
  // The Service this slice belongs to: the `kubernetes.io/service-name` label; "" when absent.
  std::string service_name() const;
  // endpoints[].addresses[], every endpoint, in order.
  std::vector<std::string> addresses() const;
  // The same, for endpoints whose conditions.ready is true or absent (absent means ready, as the
  // API documents for consumers).
  std::vector<std::string> ready_addresses() const;

 private:
  std::vector<std::string> Addresses(bool ready_only) const;
};

KUBE_TYPED_NAMESPACED_KIND(EndpointSlice, EndpointSlices);

// `factory->Discovery().V1()`. A cheap view over the factory, which must outlive it.
class DiscoveryV1Informers {
 public:
  explicit DiscoveryV1Informers(SharedInformerFactory& factory) : factory_(&factory) {}
  EndpointSliceInformer EndpointSlices() const {
    return TypedInformerFor<EndpointSliceInformer>(*factory_);
  }

 private:
  SharedInformerFactory* factory_;
};

class DiscoveryInformers {
 public:
  explicit DiscoveryInformers(SharedInformerFactory& factory) : factory_(&factory) {}
  DiscoveryV1Informers V1() const { return DiscoveryV1Informers(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

}  // namespace kube

#endif  // KUBE_INFORMERS_DISCOVERY_V1_H_

// The discovery.k8s.io/v1 typed view's accessors (informers/discovery_v1.h).
#include "kube/informers/discovery_v1.h"

#include <string>

namespace kube {

std::string EndpointSlice::address_type() const { return StringOr("addressType"); }

std::string EndpointSlice::service_name() const {
  std::optional<std::string_view> v = labels().Get("kubernetes.io/service-name");
  return v ? std::string(*v) : std::string();
}

std::vector<std::string> EndpointSlice::addresses() const { return Addresses(false); }

std::vector<std::string> EndpointSlice::ready_addresses() const { return Addresses(true); }

std::vector<std::string> EndpointSlice::Addresses(bool ready_only) const {
  std::vector<std::string> out;
  size_t n = ArraySize("endpoints");
  for (size_t i = 0; i < n; ++i) {
    if (ready_only && !BoolOr(ItemPath("endpoints", i, "conditions.ready"), true)) continue;
    for (std::string& a : StringListAt(ItemPath("endpoints", i, "addresses"))) {
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace kube

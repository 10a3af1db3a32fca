// The core/v1 typed views' accessors (informers/core_v1.h). Defaults are those of the API
// server's defaulting and admission, so a view reads the same whether or not the server filled
// them in.
#include "kube/informers/core_v1.h"

#include <algorithm>
#include <string>

namespace kube {
std::string Pod::node_name() const { return StringOr("spec.nodeName"); }
std::string Pod::phase() const { return StringOr("status.phase", "Pending"); }
std::string Pod::pod_ip() const { return StringOr("status.podIP"); }
std::string Pod::host_ip() const { return StringOr("status.hostIP"); }
std::string Pod::service_account_name() const {
  return StringOr("spec.serviceAccountName", "default");
}
std::string Pod::restart_policy() const { return StringOr("spec.restartPolicy", "Always"); }
std::vector<std::string> Pod::container_names() const {
  return StringsOfArray("spec.containers", "name");
}
std::vector<std::string> Pod::container_images() const {
  return StringsOfArray("spec.containers", "image");
}
bool Pod::ready() const { return ConditionStatus("status.conditions", "Ready") == "True"; }
int64_t Pod::restart_count() const {
  int64_t sum = 0;
  size_t n = ArraySize("status.containerStatuses");
  for (size_t i = 0; i < n; ++i)
    sum += IntOr(ItemPath("status.containerStatuses", i, "restartCount"));
  return sum;
}

std::string Service::type() const { return StringOr("spec.type", "ClusterIP"); }
std::string Service::cluster_ip() const { return StringOr("spec.clusterIP"); }
StringMap Service::selector() const { return StringMapAt("spec.selector"); }
std::vector<ServicePort> Service::ports() const {
  std::vector<ServicePort> out;
  size_t n = ArraySize("spec.ports");
  for (size_t i = 0; i < n; ++i) {
    ServicePort p;
    p.name = StringOr(ItemPath("spec.ports", i, "name"));
    p.protocol = StringOr(ItemPath("spec.ports", i, "protocol"), "TCP");
    p.port = IntOr(ItemPath("spec.ports", i, "port"));
    // targetPort is an IntOrString; absent, the API server copies `port`.
    std::string target = ItemPath("spec.ports", i, "targetPort");
    if (std::optional<int64_t> num = OptionalInt(target)) {
      p.target_port = std::to_string(*num);
    } else {
      p.target_port = StringOr(target, std::to_string(p.port));
    }
    p.node_port = IntOr(ItemPath("spec.ports", i, "nodePort"));
    out.push_back(std::move(p));
  }
  return out;
}

// subsets[].<field>[].ip, subset after subset.
std::vector<std::string> Endpoints::SubsetIps(std::string_view field) const {
  std::vector<std::string> out;
  size_t subsets = ArraySize("subsets");
  for (size_t s = 0; s < subsets; ++s) {
    std::string list = ItemPath("subsets", s, field);
    size_t n = ArraySize(list);
    for (size_t i = 0; i < n; ++i) out.push_back(StringOr(ItemPath(list, i, "ip")));
  }
  return out;
}
std::vector<std::string> Endpoints::addresses() const { return SubsetIps("addresses"); }
std::vector<std::string> Endpoints::not_ready_addresses() const {
  return SubsetIps("notReadyAddresses");
}

StringMap ConfigMap::data() const { return StringMapAt("data"); }
std::vector<std::string> ConfigMap::binary_data_keys() const {
  std::vector<std::string> keys;
  for (auto& [k, v] : StringMapAt("binaryData")) keys.push_back(k);
  return keys;
}

std::string Secret::type() const { return StringOr("type", "Opaque"); }
std::vector<std::string> Secret::data_keys() const {
  std::vector<std::string> keys;
  for (auto& [k, v] : StringMapAt("data")) keys.push_back(k);  // a sorted map: sorted keys
  return keys;
}

bool Node::ready() const { return ConditionStatus("status.conditions", "Ready") == "True"; }
bool Node::unschedulable() const { return BoolOr("spec.unschedulable", false); }
std::vector<NodeAddress> Node::addresses() const {
  std::vector<NodeAddress> out;
  size_t n = ArraySize("status.addresses");
  for (size_t i = 0; i < n; ++i) {
    out.push_back({StringOr(ItemPath("status.addresses", i, "type")),
                   StringOr(ItemPath("status.addresses", i, "address"))});
  }
  return out;
}
std::string Node::kubelet_version() const { return StringOr("status.nodeInfo.kubeletVersion"); }
std::string Node::pod_cidr() const { return StringOr("spec.podCIDR"); }

std::string Event::reason() const { return StringOr("reason"); }
std::string Event::message() const { return StringOr("message"); }
std::string Event::type() const { return StringOr("type"); }
int64_t Event::count() const { return IntOr("count"); }
ObjectReference Event::involved_object() const {
  return {StringOr("involvedObject.apiVersion"), StringOr("involvedObject.kind"),
          StringOr("involvedObject.namespace"),  StringOr("involvedObject.name"),
          StringOr("involvedObject.uid"),        StringOr("involvedObject.fieldPath")};
}
std::string Event::source_component() const {
  std::string c = StringOr("source.component");
  return c.empty() ? StringOr("reportingComponent") : c;
}

std::vector<std::string> ServiceAccount::secret_names() const {
  return StringsOfArray("secrets", "name");
}
std::optional<bool> ServiceAccount::automount_service_account_token() const {
  return OptionalBool("automountServiceAccountToken");
}

std::string Namespace::phase() const { return StringOr("status.phase", "Active"); }

}  // namespace kube

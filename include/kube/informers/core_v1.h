// Typed views, listers and informers of the core/v1 kinds: Pod, Service, Endpoints, ConfigMap,
// Secret, Node, Event, ServiceAccount, Namespace. Reach them through
// `factory->Core().V1()` (informers/typed.h).
//
// Reads from: the factory's shared informers (informers/typed_informer.h).
// Feeds: user code.
// client-go: informers/core/v1, listers/core/v1, and the fields of k8s.io/api/core/v1.
//
// Accessors read the object's JSON on each call. An absent field reads as the value the API server
// would have filled in (its defaulting), as each accessor says, or as the zero value.
#ifndef KUBE_INFORMERS_CORE_V1_H_
#define KUBE_INFORMERS_CORE_V1_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kube/informers/typed_informer.h"

namespace kube {

class Pod : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "pods", "pod", "Pod", true};
  using TypedObject::TypedObject;

  std::string node_name() const;  // spec.nodeName; "" until scheduled
  // status.phase: Pending, Running, Succeeded, Failed, Unknown; "Pending" when absent (the API
  // server sets it on create).
  std::string phase() const;
  std::string pod_ip() const;   // status.podIP
  std::string host_ip() const;  // status.hostIP
  // spec.serviceAccountName; "default" when absent (the admission default).
  std::string service_account_name() const;
  std::string restart_policy() const;  // spec.restartPolicy; "Always" when absent
  // spec.containers[].name / .image, in order.
  std::vector<std::string> container_names() const;
  std::vector<std::string> container_images() const;
  // The Ready condition is True.
  bool ready() const;
  // The sum of status.containerStatuses[].restartCount.
  int64_t restart_count() const;
};

struct ServicePort {
  std::string name;
  std::string protocol;  // "TCP" when absent
  int64_t port = 0;
  // targetPort as text (a number or a port name); the port number when absent.
  std::string target_port;
  int64_t node_port = 0;  // 0 when not allocated
};

class Service : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "services", "service", "Service", true};
  using TypedObject::TypedObject;

  std::string type() const;        // spec.type; "ClusterIP" when absent
  std::string cluster_ip() const;  // spec.clusterIP; "None" for a headless service
  StringMap selector() const;      // spec.selector; empty when absent
  std::vector<ServicePort> ports() const;
};

class Endpoints : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "endpoints", "endpoints", "Endpoints", true};
  using TypedObject::TypedObject;

  // subsets[].addresses[].ip: the ready endpoints, subset after subset.
  std::vector<std::string> addresses() const;
  // subsets[].notReadyAddresses[].ip.
  std::vector<std::string> not_ready_addresses() const;

 private:
  std::vector<std::string> SubsetIps(std::string_view field) const;
};

class ConfigMap : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "configmaps", "configmap", "ConfigMap", true};
  using TypedObject::TypedObject;

  StringMap data() const;  // data; empty when absent
  // The keys of binaryData (values are base64).
  std::vector<std::string> binary_data_keys() const;
};

class Secret : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "secrets", "secret", "Secret", true};
  using TypedObject::TypedObject;

  std::string type() const;  // "Opaque" when absent
  // The keys of data, sorted. The values (base64) are left in `object()` on purpose: print keys,
  // never values.
  std::vector<std::string> data_keys() const;
};

struct NodeAddress {
  std::string type;  // InternalIP, ExternalIP, Hostname, ...
  std::string address;
};

class Node : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "nodes", "node", "Node", false};
  using TypedObject::TypedObject;

  bool ready() const;          // the Ready condition is True
  bool unschedulable() const;  // spec.unschedulable; false when absent
  std::vector<NodeAddress> addresses() const;
  std::string kubelet_version() const;  // status.nodeInfo.kubeletVersion
  std::string pod_cidr() const;         // spec.podCIDR
};

// The object an Event is about (core/v1 ObjectReference).
struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string field_path;
};

class Event : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "events", "event", "Event", true};
  using TypedObject::TypedObject;

  std::string reason() const;
  std::string message() const;
  std::string type() const;  // "Normal" or "Warning"
  int64_t count() const;     // 0 when absent (series-style events)
  ObjectReference involved_object() const;
  std::string source_component() const;  // source.component, else reportingComponent
};

class ServiceAccount : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"",  "v1", "serviceaccounts", "serviceaccount", "ServiceAccount",
                                  true};
  using TypedObject::TypedObject;

  std::vector<std::string> secret_names() const;  // secrets[].name
  // automountServiceAccountToken; nullopt when absent (the Pod decides).
  std::optional<bool> automount_service_account_token() const;
};

class Namespace : public TypedObject {
 public:
  static constexpr KindInfo kInfo{"", "v1", "namespaces", "namespace", "Namespace", false};
  using TypedObject::TypedObject;

  std::string phase() const;  // status.phase: Active or Terminating; "Active" when absent
};

KUBE_TYPED_NAMESPACED_KIND(Pod, Pods);
KUBE_TYPED_NAMESPACED_KIND(Service, Services);
KUBE_TYPED_NAMESPACED_KIND(Endpoints, Endpoints);
KUBE_TYPED_NAMESPACED_KIND(ConfigMap, ConfigMaps);
KUBE_TYPED_NAMESPACED_KIND(Secret, Secrets);
KUBE_TYPED_NAMESPACED_KIND(Event, Events);
KUBE_TYPED_NAMESPACED_KIND(ServiceAccount, ServiceAccounts);
KUBE_TYPED_CLUSTER_KIND(Node, NodeLister);
// `NamespaceLister` already names the cache's per-namespace lister (cache/lister.h).
KUBE_TYPED_CLUSTER_KIND(Namespace, NamespaceKindLister);

// `factory->Core().V1()`: the core/v1 informers of one factory. A cheap view over the
// factory, which must outlive it (the informers it returns do not need the factory).
class CoreV1Informers {
 public:
  explicit CoreV1Informers(SharedInformerFactory& factory) : factory_(&factory) {}
  PodInformer Pods() const { return TypedInformerFor<PodInformer>(*factory_); }
  ServiceInformer Services() const { return TypedInformerFor<ServiceInformer>(*factory_); }
  EndpointsInformer Endpoints() const { return TypedInformerFor<EndpointsInformer>(*factory_); }
  ConfigMapInformer ConfigMaps() const { return TypedInformerFor<ConfigMapInformer>(*factory_); }
  SecretInformer Secrets() const { return TypedInformerFor<SecretInformer>(*factory_); }
  NodeInformer Nodes() const { return TypedInformerFor<NodeInformer>(*factory_); }
  EventInformer Events() const { return TypedInformerFor<EventInformer>(*factory_); }
  ServiceAccountInformer ServiceAccounts() const {
    return TypedInformerFor<ServiceAccountInformer>(*factory_);
  }
  NamespaceInformer Namespaces() const { return TypedInformerFor<NamespaceInformer>(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

class CoreInformers {
 public:
  explicit CoreInformers(SharedInformerFactory& factory) : factory_(&factory) {}
  CoreV1Informers V1() const { return CoreV1Informers(*factory_); }

 private:
  SharedInformerFactory* factory_;
};

}  // namespace kube

#endif  // KUBE_INFORMERS_CORE_V1_H_

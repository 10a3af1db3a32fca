// Typed views (defaults, field readers), typed listers over a ThreadSafeStore, and typed handler
// functions.
#include "kube/informers/typed.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "kube/cache/thread_safe_store.h"
#include "tests/testing/objects.h"

namespace kube {
namespace {

using ::kube::testing::MakeObject;
using ::kube::testing::MustParse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Names(const auto& views) {
  std::vector<std::string> out;
  for (const auto& v : views) out.emplace_back(v.name());
  return out;
}

TEST(TypedViewTest, MetadataIsForwardedAndTheObjectShared) {
  ObjectPtr obj = MakeObject("apps/v1", "Deployment", "default", "web", "42", {{"app", "web"}});
  Deployment d(obj);
  EXPECT_EQ(d.object(), obj);  // the same object, not a copy
  EXPECT_EQ(d.name(), "web");
  EXPECT_EQ(d.ns(), "default");
  EXPECT_EQ(d.resource_version(), "42");
  EXPECT_EQ(d.kind(), "Deployment");
  EXPECT_EQ(d.api_version(), "apps/v1");
  EXPECT_EQ(d.labels().Get("app"), "web");
  EXPECT_EQ(d.key(), "default/web");
  EXPECT_EQ(Node(MakeObject("v1", "Node", "", "n1", "1")).key(), "n1");
}

TEST(TypedViewTest, DeploymentDefaultsWhenFieldsAreAbsent) {
  Deployment d(MakeObject("apps/v1", "Deployment", "default", "web", "1"));
  EXPECT_EQ(d.replicas(), 1);  // the API server's default
  EXPECT_EQ(d.ready_replicas(), 0);
  EXPECT_EQ(d.available_replicas(), 0);
  EXPECT_EQ(d.updated_replicas(), 0);
  EXPECT_EQ(d.observed_generation(), 0);
  EXPECT_THAT(d.selector_match_labels(), IsEmpty());
  EXPECT_FALSE(d.paused());
  EXPECT_EQ(d.strategy_type(), "RollingUpdate");
}

TEST(TypedViewTest, DeploymentReadsSpecAndStatus) {
  Deployment d(MustParse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"default","generation":3,"resourceVersion":"9"},
      "spec":{"replicas":3,"paused":true,"selector":{"matchLabels":{"app":"web"}},
              "strategy":{"type":"Recreate"}},
      "status":{"replicas":3,"readyReplicas":2,"availableReplicas":2,"updatedReplicas":3,
                "observedGeneration":3}})"));
  EXPECT_EQ(d.replicas(), 3);
  EXPECT_EQ(d.status_replicas(), 3);
  EXPECT_EQ(d.ready_replicas(), 2);
  EXPECT_EQ(d.available_replicas(), 2);
  EXPECT_EQ(d.updated_replicas(), 3);
  EXPECT_EQ(d.observed_generation(), 3);
  EXPECT_EQ(d.selector_match_labels(), (StringMap{{"app", "web"}}));
  EXPECT_TRUE(d.paused());
  EXPECT_EQ(d.strategy_type(), "Recreate");
  EXPECT_FALSE(d.rolled_out());  // one replica is not available yet
}

TEST(TypedViewTest, ReplicaSetAndStatefulSetShareTheReplicaFields) {
  ReplicaSet rs(MustParse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
      "metadata":{"name":"web-1","namespace":"default","generation":1},
      "spec":{"replicas":2},
      "status":{"replicas":2,"readyReplicas":2,"availableReplicas":2,"fullyLabeledReplicas":2,
                "updatedReplicas":2,"observedGeneration":1}})"));
  EXPECT_EQ(rs.replicas(), 2);
  EXPECT_EQ(rs.fully_labeled_replicas(), 2);
  EXPECT_TRUE(rs.rolled_out());
  StatefulSet ss(MustParse(R"({"apiVersion":"apps/v1","kind":"StatefulSet",
      "metadata":{"name":"db","namespace":"default"},
      "spec":{"serviceName":"db"},"status":{"currentReplicas":1,"readyReplicas":1}})"));
  EXPECT_EQ(ss.replicas(), 1);
  EXPECT_EQ(ss.ready_replicas(), 1);
  EXPECT_EQ(ss.current_replicas(), 1);
  EXPECT_EQ(ss.service_name(), "db");
  EXPECT_EQ(ss.pod_management_policy(), "OrderedReady");
}

TEST(TypedViewTest, DaemonSetCounts) {
  DaemonSet ds(MustParse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
      "metadata":{"name":"agent","namespace":"kube-system"},
      "spec":{"selector":{"matchLabels":{"app":"agent"}}},
      "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,
                "numberAvailable":2,"updatedNumberScheduled":3,"observedGeneration":4}})"));
  EXPECT_EQ(ds.desired_number_scheduled(), 3);
  EXPECT_EQ(ds.current_number_scheduled(), 3);
  EXPECT_EQ(ds.number_ready(), 2);
  EXPECT_EQ(ds.number_available(), 2);
  EXPECT_EQ(ds.updated_number_scheduled(), 3);
  EXPECT_EQ(ds.number_misscheduled(), 0);
  EXPECT_EQ(ds.observed_generation(), 4);
  EXPECT_EQ(ds.selector_match_labels(), (StringMap{{"app", "agent"}}));
}

TEST(TypedViewTest, PodFields) {
  Pod p(MustParse(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"web-0","namespace":"default"},
      "spec":{"nodeName":"n1","serviceAccountName":"web",
              "containers":[{"name":"app","image":"nginx:1.27"},
                            {"name":"sidecar","image":"envoy:1.30","args":["a,b","[c]"]}]},
      "status":{"phase":"Running","podIP":"10.0.0.5","hostIP":"192.168.1.2",
                "conditions":[{"type":"PodScheduled","status":"True"},
                              {"type":"Ready","status":"True"}],
                "containerStatuses":[{"name":"app","restartCount":2},
                                     {"name":"sidecar","restartCount":3}]}})"));
  EXPECT_EQ(p.node_name(), "n1");
  EXPECT_EQ(p.phase(), "Running");
  EXPECT_EQ(p.pod_ip(), "10.0.0.5");
  EXPECT_EQ(p.host_ip(), "192.168.1.2");
  EXPECT_EQ(p.service_account_name(), "web");
  EXPECT_THAT(p.container_names(), ElementsAre("app", "sidecar"));
  EXPECT_THAT(p.container_images(), ElementsAre("nginx:1.27", "envoy:1.30"));
  EXPECT_TRUE(p.ready());
  EXPECT_EQ(p.restart_count(), 5);
}

TEST(TypedViewTest, PodDefaults) {
  Pod p(MakeObject("v1", "Pod", "default", "new", "1"));
  EXPECT_EQ(p.node_name(), "");
  EXPECT_EQ(p.phase(), "Pending");  // the API server sets it on create
  EXPECT_EQ(p.service_account_name(), "default");
  EXPECT_EQ(p.restart_policy(), "Always");
  EXPECT_FALSE(p.ready());
  EXPECT_EQ(p.restart_count(), 0);
  EXPECT_THAT(p.container_names(), IsEmpty());
}

TEST(TypedViewTest, ServicePortsAndDefaults) {
  Service s(MustParse(R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"web","namespace":"default"},
      "spec":{"clusterIP":"10.96.0.10","selector":{"app":"web"},
              "ports":[{"name":"http","port":80,"targetPort":8080},
                       {"name":"grpc","port":9090,"targetPort":"grpc","protocol":"UDP",
                        "nodePort":30090},
                       {"port":443}]}})"));
  EXPECT_EQ(s.type(), "ClusterIP");
  EXPECT_EQ(s.cluster_ip(), "10.96.0.10");
  EXPECT_EQ(s.selector(), (StringMap{{"app", "web"}}));
  std::vector<ServicePort> ports = s.ports();
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[0].name, "http");
  EXPECT_EQ(ports[0].protocol, "TCP");
  EXPECT_EQ(ports[0].port, 80);
  EXPECT_EQ(ports[0].target_port, "8080");
  EXPECT_EQ(ports[1].protocol, "UDP");
  EXPECT_EQ(ports[1].target_port, "grpc");
  EXPECT_EQ(ports[1].node_port, 30090);
  EXPECT_EQ(ports[2].target_port, "443");  // absent: the port itself
}

TEST(TypedViewTest, EndpointsAndEndpointSliceAddresses) {
  Endpoints ep(MustParse(R"({"apiVersion":"v1","kind":"Endpoints",
      "metadata":{"name":"web","namespace":"default"},
      "subsets":[{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],
                  "notReadyAddresses":[{"ip":"10.0.0.9"}]},
                 {"addresses":[{"ip":"10.0.1.1"}]}]})"));
  EXPECT_THAT(ep.addresses(), ElementsAre("10.0.0.1", "10.0.0.2", "10.0.1.1"));
  EXPECT_THAT(ep.not_ready_addresses(), ElementsAre("10.0.0.9"));

  EndpointSlice slice(MustParse(R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
      "metadata":{"name":"web-abc","namespace":"default",
                  "labels":{"kubernetes.io/service-name":"web"}},
      "addressType":"IPv4",
      "endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true}},
                   {"addresses":["10.0.0.2"],"conditions":{"ready":false}},
                   {"addresses":["10.0.0.3"]}]})"));
  EXPECT_EQ(slice.address_type(), "IPv4");
  EXPECT_EQ(slice.service_name(), "web");
  EXPECT_THAT(slice.addresses(), ElementsAre("10.0.0.1", "10.0.0.2", "10.0.0.3"));
  EXPECT_THAT(slice.ready_addresses(), ElementsAre("10.0.0.1", "10.0.0.3"));
}

TEST(TypedViewTest, ConfigMapSecretAndServiceAccount) {
  ConfigMap cm(MustParse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"cfg","namespace":"default"},
      "data":{"a":"1","b":"2"},"binaryData":{"blob":"AAE="}})"));
  EXPECT_EQ(cm.data(), (StringMap{{"a", "1"}, {"b", "2"}}));
  EXPECT_THAT(cm.binary_data_keys(), ElementsAre("blob"));

  Secret s(MustParse(R"({"apiVersion":"v1","kind":"Secret",
      "metadata":{"name":"tls","namespace":"default"},"data":{"tls.key":"eA==","tls.crt":"eQ=="}})"));
  EXPECT_EQ(s.type(), "Opaque");
  EXPECT_THAT(s.data_keys(), ElementsAre("tls.crt", "tls.key"));

  ServiceAccount sa(MustParse(R"({"apiVersion":"v1","kind":"ServiceAccount",
      "metadata":{"name":"web","namespace":"default"},"secrets":[{"name":"web-token"}],
      "automountServiceAccountToken":false})"));
  EXPECT_THAT(sa.secret_names(), ElementsAre("web-token"));
  EXPECT_EQ(sa.automount_service_account_token(), false);
  EXPECT_EQ(ServiceAccount(MakeObject("v1", "ServiceAccount", "default", "x", "1"))
                .automount_service_account_token(),
            std::nullopt);
}

TEST(TypedViewTest, NodeAndNamespace) {
  Node n(MustParse(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},
      "spec":{"unschedulable":true,"podCIDR":"10.244.0.0/24"},
      "status":{"conditions":[{"type":"MemoryPressure","status":"False"},
                              {"type":"Ready","status":"True"}],
                "addresses":[{"type":"InternalIP","address":"192.168.1.2"},
                             {"type":"Hostname","address":"n1"}],
                "nodeInfo":{"kubeletVersion":"v1.32.0"}}})"));
  EXPECT_TRUE(n.ready());
  EXPECT_TRUE(n.unschedulable());
  ASSERT_EQ(n.addresses().size(), 2u);
  EXPECT_EQ(n.addresses()[0].type, "InternalIP");
  EXPECT_EQ(n.addresses()[0].address, "192.168.1.2");
  EXPECT_EQ(n.kubelet_version(), "v1.32.0");
  EXPECT_EQ(n.pod_cidr(), "10.244.0.0/24");
  Node bare(MakeObject("v1", "Node", "", "n2", "1"));
  EXPECT_FALSE(bare.ready());
  EXPECT_FALSE(bare.unschedulable());

  EXPECT_EQ(Namespace(MakeObject("v1", "Namespace", "", "default", "1")).phase(), "Active");
  EXPECT_EQ(Namespace(MakeObject("v1", "Namespace", "", "old", "1", {},
                                 R"("status":{"phase":"Terminating"})"))
                .phase(),
            "Terminating");
}

TEST(TypedViewTest, EventAndLease) {
  Event e(MustParse(R"({"apiVersion":"v1","kind":"Event",
      "metadata":{"name":"web.1","namespace":"default"},
      "reason":"Scheduled","message":"assigned to n1","type":"Normal","count":2,
      "source":{"component":"scheduler"},
      "involvedObject":{"apiVersion":"v1","kind":"Pod","namespace":"default","name":"web-0",
                        "uid":"u1"}})"));
  EXPECT_EQ(e.reason(), "Scheduled");
  EXPECT_EQ(e.message(), "assigned to n1");
  EXPECT_EQ(e.type(), "Normal");
  EXPECT_EQ(e.count(), 2);
  EXPECT_EQ(e.source_component(), "scheduler");
  ObjectReference ref = e.involved_object();
  EXPECT_EQ(ref.kind, "Pod");
  EXPECT_EQ(ref.ns, "default");
  EXPECT_EQ(ref.name, "web-0");
  EXPECT_EQ(ref.uid, "u1");

  Lease l(MustParse(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"name":"leader","namespace":"kube-system"},
      "spec":{"holderIdentity":"pod-a","leaseDurationSeconds":15,
              "renewTime":"2026-11-28T10:00:00.000000Z","leaseTransitions":4}})"));
  EXPECT_EQ(l.holder_identity(), "pod-a");
  EXPECT_EQ(l.lease_duration_seconds(), 15);
  EXPECT_EQ(l.renew_time(), "2026-11-28T10:00:00.000000Z");
  EXPECT_EQ(l.acquire_time(), "");
  EXPECT_EQ(l.lease_transitions(), 4);
}

TEST(TypedViewTest, JobCompletionsFollowTheServersDefaulting) {
  Job both_unset(MakeObject("batch/v1", "Job", "default", "a", "1"));
  EXPECT_EQ(both_unset.completions(), 1);
  EXPECT_EQ(both_unset.parallelism(), 1);
  Job work_queue(
      MakeObject("batch/v1", "Job", "default", "b", "1", {}, R"("spec":{"parallelism":4})"));
  EXPECT_EQ(work_queue.completions(), std::nullopt);
  EXPECT_EQ(work_queue.parallelism(), 4);
  Job done(MustParse(R"({"apiVersion":"batch/v1","kind":"Job",
      "metadata":{"name":"c","namespace":"default"},"spec":{"completions":3},
      "status":{"succeeded":3,"failed":1,"conditions":[{"type":"Complete","status":"True"}]}})"));
  EXPECT_EQ(done.completions(), 3);
  EXPECT_EQ(done.succeeded(), 3);
  EXPECT_EQ(done.failed(), 1);
  EXPECT_EQ(done.active(), 0);
  EXPECT_TRUE(done.complete());
  EXPECT_FALSE(done.suspended());

  CronJob cj(MustParse(R"({"apiVersion":"batch/v1","kind":"CronJob",
      "metadata":{"name":"nightly","namespace":"default"},
      "spec":{"schedule":"0 3 * * *"},
      "status":{"active":[{"name":"nightly-1"},{"name":"nightly-2"}],
                "lastScheduleTime":"2026-11-28T03:00:00Z"}})"));
  EXPECT_EQ(cj.schedule(), "0 3 * * *");
  EXPECT_FALSE(cj.suspend());
  EXPECT_EQ(cj.concurrency_policy(), "Allow");
  EXPECT_EQ(cj.active_jobs(), 2u);
  EXPECT_EQ(cj.last_schedule_time(), "2026-11-28T03:00:00Z");
}

TEST(TypedViewTest, AFieldOfAnotherTypeReadsAsTheDefault) {
  Deployment d(MakeObject("apps/v1", "Deployment", "default", "odd", "1", {},
                          R"("spec":{"replicas":"three"})"));
  EXPECT_EQ(d.replicas(), 1);
}

TEST(TypedKindsTest, EveryKindIsListedOnceWithItsSingularName) {
  std::set<std::string> resources;
  for (const KindInfo& k : TypedKinds()) {
    SCOPED_TRACE(std::string(k.kind));
    EXPECT_TRUE(resources.insert(k.gvr().GroupResource()).second);
    EXPECT_EQ(k.lister_resource().resource, k.singular);
    EXPECT_EQ(k.scope().kind, k.kind);
  }
  EXPECT_EQ(resources.size(), 17u);
  EXPECT_EQ(Deployment::kInfo.lister_resource().QualifiedName(), "deployment.apps");
  EXPECT_FALSE(Node::kInfo.namespaced);
  EXPECT_FALSE(Namespace::kInfo.namespaced);
}

class TypedListerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = ThreadSafeStore::Create({{std::string(kNamespaceIndex), MetaNamespaceIndexFunc}});
    for (ObjectPtr obj : {
             MakeObject("apps/v1", "Deployment", "default", "web", "1", {{"app", "web"}}),
             MakeObject("apps/v1", "Deployment", "default", "api", "2", {{"app", "api"}}),
             MakeObject("apps/v1", "Deployment", "other", "web", "3", {{"app", "web"}}),
         }) {
      ASSERT_TRUE(store_->Add(obj).ok());
    }
  }
  std::shared_ptr<ThreadSafeStore> store_;
};

TEST_F(TypedListerTest, B09ListsEveryNamespaceOrOneNamespaceBySelector) {
  DeploymentLister lister(Lister(store_, Deployment::kInfo.lister_resource()));
  EXPECT_THAT(Names(lister.List(labels::Everything())), UnorderedElementsAre("web", "api", "web"));
  EXPECT_THAT(lister.List(labels::Nothing()), IsEmpty());
  LabelSelector web = *LabelSelector::Parse("app=web");
  EXPECT_THAT(Names(lister.List(web)), ElementsAre("web", "web"));
  EXPECT_THAT(Names(lister.Deployments("default").List(labels::Everything())),
              UnorderedElementsAre("web", "api"));
  EXPECT_THAT(Names(lister.Deployments("default").List(web)), ElementsAre("web"));
  EXPECT_THAT(lister.Deployments("nowhere").List(labels::Everything()), IsEmpty());
}

TEST_F(TypedListerTest, B10GetFindsTheObjectOrNamesTheSingularResource) {
  DeploymentLister lister(Lister(store_, Deployment::kInfo.lister_resource()));
  Result<Deployment> web = lister.Deployments("other").Get("web");
  ASSERT_TRUE(web.has_value()) << web.error();
  EXPECT_EQ(web->resource_version(), "3");

  Result<Deployment> missing = lister.Deployments("default").Get("nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(IsNotFound(missing.error()));
  EXPECT_EQ(missing.error().message(), R"(deployment.apps "nope" not found)");

  auto nodes = ThreadSafeStore::Create();
  ASSERT_TRUE(nodes->Add(MakeObject("v1", "Node", "", "n1", "5")).ok());
  NodeLister node_lister(Lister(nodes, Node::kInfo.lister_resource()));
  EXPECT_EQ(node_lister.Get("n1")->resource_version(), "5");
  EXPECT_EQ(node_lister.Get("n2").error().message(), R"(node "n2" not found)");
}

TEST(TypedHandlerFuncsTest, TypedFunctionsReceiveViewsAndResyncFallsBackToUpdate) {
  std::vector<std::string> seen;
  ResourceEventHandlerFuncs funcs = UntypedHandlerFuncs(TypedHandlerFuncs<Deployment>{
      .add =
          [&](const Deployment& d, bool initial) {
            seen.push_back("add " + std::string(d.name()) + (initial ? " initial" : ""));
          },
      .update =
          [&](const Deployment& a, const Deployment& b) {
            seen.push_back("update " + std::string(a.resource_version()) + "->" +
                           std::string(b.resource_version()));
          },
      .del =
          [&](const TypedDeletedObject<Deployment>& d) {
            seen.push_back("delete " + d.key() + " " + std::to_string(d.object().replicas()) +
                           (d.final_state_unknown() ? " unknown" : ""));
          }});
  std::shared_ptr<ResourceEventHandler> handler = MakeHandler(std::move(funcs));
  ObjectPtr v1 = MakeObject("apps/v1", "Deployment", "default", "web", "1");
  ObjectPtr v2 = MakeObject("apps/v1", "Deployment", "default", "web", "2");
  handler->OnAdd(v1, true);
  handler->OnUpdate(v1, v2);
  handler->OnResync(v2);
  handler->OnDelete(DeletedObject(v2, true, "default/web"));
  EXPECT_THAT(seen, ElementsAre("add web initial", "update 1->2", "update 2->2",
                                "delete default/web 1 unknown"));
}

}  // namespace
}  // namespace kube

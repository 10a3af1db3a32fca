// Tests for `kubectl get` tables: columns per kind, cells, row objects and durations.
#include "server/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/testing/objects.h"

namespace kube::server {
namespace {

using json = nlohmann::json;
using kube::testing::MustParse;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAreArray;

// 2024-05-01T12:00:00Z.
const std::chrono::system_clock::time_point kNow{seconds(1714564800)};
constexpr const char* kCreated = "2024-05-01T11:55:00Z";  // kNow - 5m

// The built-in catalog, alive for the whole test binary so `Info` can hand out references.
const ResourceCatalog& Builtins() {
  static const ResourceCatalog* catalog = ResourceCatalog::WithBuiltins().release();
  return *catalog;
}

const ResourceInfo& Info(GroupVersionResource gvr) {
  ResourceInfoPtr r = Builtins().Find(gvr);
  if (r == nullptr) {
    ADD_FAILURE() << "no built-in " << gvr;
    static const ResourceInfo kNone;
    return kNone;
  }
  return *r;  // the catalog keeps it alive
}

std::vector<std::string> ColumnNames(const json& table) {
  std::vector<std::string> out;
  for (const json& c : table["columnDefinitions"]) out.push_back(c["name"]);
  return out;
}

json Cells(const ResourceInfo& info, const std::string& object_json) {
  json t = BuildTable(info, {MustParse(object_json)}, IncludeObject::kNone, true, kNow);
  EXPECT_EQ(t["rows"].size(), 1u);
  return t["rows"][0]["cells"];
}

TEST(TableTest, HumanDuration) {
  struct Case {
    seconds d;
    const char* want;
  };
  const Case cases[] = {
      {seconds(-5), "<invalid>"},
      {seconds(-1), "0s"},
      {seconds(0), "0s"},
      {seconds(45), "45s"},
      {seconds(119), "119s"},
      {seconds(120), "2m"},
      {seconds(5 * 60 + 30), "5m30s"},
      {minutes(10), "10m"},
      {minutes(179), "179m"},
      {hours(3), "3h"},
      {hours(3) + minutes(25), "3h25m"},
      {hours(8), "8h"},
      {hours(47), "47h"},
      {hours(48), "2d"},
      {hours(24 * 2 + 3), "2d3h"},
      {hours(24 * 8), "8d"},
      {hours(24 * 400), "400d"},
      {hours(24 * 365 * 2), "2y"},
      {hours(24 * (365 * 3 + 10)), "3y10d"},
      {hours(24 * 365 * 9), "9y"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.d.count());
    EXPECT_EQ(HumanDuration(c.d), c.want);
  }
}

TEST(TableTest, AcceptsTable) {
  struct Case {
    const char* accept;
    bool want;
  };
  const Case cases[] = {
      {"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
       "g=meta.k8s.io,application/json",
       true},
      {"application/json;as=Table;v=v1beta1;g=meta.k8s.io", true},
      {"application/json; as=Table; g=meta.k8s.io; v=v1", true},
      {"application/json;as=Table;v=v2;g=meta.k8s.io", false},
      {"application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", false},
      {"application/json", false},
      {"", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.accept);
    EXPECT_EQ(AcceptsTable(c.accept), c.want);
  }
}

TEST(TableTest, ParseIncludeObject) {
  EXPECT_EQ(*ParseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Metadata"), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("None"), IncludeObject::kNone);
  EXPECT_EQ(*ParseIncludeObject("Object"), IncludeObject::kObject);
  Result<IncludeObject> bad = ParseIncludeObject("Everything");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().http_code(), 400);
  EXPECT_EQ(bad.error().reason(), "BadRequest");
}

TEST(TableTest, ColumnsPerKind) {
  struct Case {
    GroupVersionResource gvr;
    std::vector<std::string> columns;
  };
  const Case cases[] = {
      {{"", "v1", "pods"},
       {"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node",
        "Readiness Gates"}},
      {{"apps", "v1", "deployments"},
       {"Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"}},
      {{"apps", "v1", "replicasets"},
       {"Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"}},
      {{"apps", "v1", "statefulsets"}, {"Name", "Ready", "Age", "Containers", "Images"}},
      {{"apps", "v1", "daemonsets"},
       {"Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age",
        "Containers", "Images", "Selector"}},
      {{"", "v1", "services"},
       {"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"}},
      {{"", "v1", "configmaps"}, {"Name", "Data", "Age"}},
      {{"", "v1", "secrets"}, {"Name", "Type", "Data", "Age"}},
      {{"", "v1", "namespaces"}, {"Name", "Status", "Age"}},
      {{"", "v1", "nodes"},
       {"Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image",
        "Kernel-Version", "Container-Runtime"}},
      {{"batch", "v1", "jobs"},
       {"Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"}},
      {{"batch", "v1", "cronjobs"},
       {"Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers",
        "Images", "Selector"}},
      {{"", "v1", "events"},
       {"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen",
        "Count", "Name"}},
      {{"coordination.k8s.io", "v1", "leases"}, {"Name", "Holder", "Age"}},
      {{"", "v1", "serviceaccounts"}, {"Name", "Secrets", "Age"}},
      {{"", "v1", "endpoints"}, {"Name", "Endpoints", "Age"}},
      {{"discovery.k8s.io", "v1", "endpointslices"},
       {"Name", "AddressType", "Ports", "Endpoints", "Age"}},
      {{"apiextensions.k8s.io", "v1", "customresourcedefinitions"}, {"Name", "Created At"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.gvr.ToString());
    const ResourceInfo& info = Info(c.gvr);
    json t = BuildTable(info, {}, IncludeObject::kMetadata, true, kNow);
    EXPECT_EQ(t["kind"], "Table");
    EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
    EXPECT_EQ(t["rows"], json::array());
    EXPECT_THAT(ColumnNames(t), ElementsAreArray(c.columns));
    // Every column is well formed, and exactly one is the name column.
    int name_columns = 0;
    for (const json& col : t["columnDefinitions"]) {
      EXPECT_TRUE(col["type"].is_string());
      EXPECT_TRUE(col["description"].is_string());
      EXPECT_TRUE(col["priority"].is_number_integer());
      if (col["format"] == "name") ++name_columns;
    }
    EXPECT_EQ(name_columns, 1);
  }
}

TEST(TableTest, WideColumnsHavePriorityOne) {
  json t = BuildTable(Info({"", "v1", "pods"}), {}, IncludeObject::kNone, true, kNow);
  std::vector<int> priorities;
  for (const json& c : t["columnDefinitions"]) priorities.push_back(c["priority"]);
  EXPECT_THAT(priorities, ElementsAreArray({0, 0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(TableTest, PodRow) {
  json cells = Cells(Info({"", "v1", "pods"}), R"({
    "apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"web-1","namespace":"default","creationTimestamp":"2024-05-01T11:55:00Z"},
    "spec":{"nodeName":"node-a","containers":[{"name":"a"},{"name":"b"}]},
    "status":{"phase":"Running","podIP":"10.0.0.7","containerStatuses":[
      {"name":"a","ready":true,"restartCount":2,"state":{"running":{}},
       "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-05-01T11:58:00Z"}}},
      {"name":"b","ready":false,"restartCount":1,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}
    ]}})");
  EXPECT_EQ(cells, json({"web-1", "1/2", "CrashLoopBackOff", "3 (2m ago)", "5m", "10.0.0.7",
                         "node-a", "<none>", "<none>"}));
}

TEST(TableTest, PodStatusColumn) {
  struct Case {
    const char* name;
    const char* spec_status;
    const char* want;
  };
  const Case cases[] = {
      {"pending", R"("status":{"phase":"Pending"})", "Pending"},
      {"running", R"("status":{"phase":"Running","containerStatuses":[{"ready":true,
        "state":{"running":{}}}]})",
       "Running"},
      {"evicted", R"("status":{"phase":"Failed","reason":"Evicted"})", "Evicted"},
      {"init_waiting", R"("spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"c"}]},
        "status":{"phase":"Pending","initContainerStatuses":[{"name":"i",
        "state":{"waiting":{"reason":"PodInitializing"}}}]})",
       "Init:0/1"},
      {"init_crash", R"("spec":{"initContainers":[{"name":"i"}]},"status":{"phase":"Pending",
        "initContainerStatuses":[{"name":"i","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]})",
       "Init:CrashLoopBackOff"},
      {"init_failed", R"("status":{"phase":"Pending","initContainerStatuses":[{"name":"i",
        "state":{"terminated":{"exitCode":2}}}]})",
       "Init:ExitCode:2"},
      {"completed", R"("status":{"phase":"Succeeded","containerStatuses":[{
        "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]})",
       "Completed"},
      {"signal", R"("status":{"phase":"Failed","containerStatuses":[{
        "state":{"terminated":{"exitCode":137,"signal":9}}}]})",
       "Signal:9"},
      {"exit_code", R"("status":{"phase":"Failed","containerStatuses":[{
        "state":{"terminated":{"exitCode":3}}}]})",
       "ExitCode:3"},
      {"gated", R"("status":{"phase":"Pending","conditions":[{"type":"PodScheduled",
        "status":"False","reason":"SchedulingGated"}]})",
       "SchedulingGated"},
  };
  const ResourceInfo& info = Info({"", "v1", "pods"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json cells =
        Cells(info, std::string(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},)") +
                        c.spec_status + "}");
    EXPECT_EQ(cells[2], c.want);
  }
  json terminating = Cells(info, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p",
        "deletionTimestamp":"2024-05-01T11:59:00Z"},"status":{"phase":"Running"}})");
  EXPECT_EQ(terminating[2], "Terminating");
}

TEST(TableTest, WorkloadRows) {
  const std::string tmpl =
      R"("template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25"},
        {"name":"side","image":"busybox"}]}},"selector":{"matchLabels":{"app":"web"},
        "matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]},
        {"key":"canary","operator":"DoesNotExist"}]})";
  const std::string meta =
      std::string(R"("metadata":{"name":"web","namespace":"default","creationTimestamp":")") +
      kCreated + R"("})";
  const char* selector = "app=web,tier in (a,b),!canary";

  EXPECT_EQ(
      Cells(Info({"apps", "v1", "deployments"}),
            R"({"apiVersion":"apps/v1","kind":"Deployment",)" + meta + R"(,"spec":{"replicas":3,)" +
                tmpl +
                R"(},"status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})"),
      json({"web", "2/3", 3, 2, "5m", "web,side", "nginx:1.25,busybox", selector}));
  EXPECT_EQ(
      Cells(Info({"apps", "v1", "replicasets"}),
            R"({"apiVersion":"apps/v1","kind":"ReplicaSet",)" + meta + R"(,"spec":{"replicas":3,)" +
                tmpl + R"(},"status":{"replicas":3,"readyReplicas":1}})"),
      json({"web", 3, 3, 1, "5m", "web,side", "nginx:1.25,busybox", selector}));
  EXPECT_EQ(Cells(Info({"apps", "v1", "statefulsets"}),
                  R"({"apiVersion":"apps/v1","kind":"StatefulSet",)" + meta + R"(,"spec":{)" +
                      tmpl + R"(},"status":{"readyReplicas":1}})"),
            json({"web", "1/1", "5m", "web,side", "nginx:1.25,busybox"}));
  EXPECT_EQ(
      Cells(Info({"apps", "v1", "daemonsets"}),
            R"({"apiVersion":"apps/v1","kind":"DaemonSet",)" + meta +
                R"(,"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},
                "containers":[{"name":"agent","image":"agent:1"}]}}},
                "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,
                "updatedNumberScheduled":3,"numberAvailable":2}})"),
      json({"web", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "5m", "agent", "agent:1", "<none>"}));
}

TEST(TableTest, ServiceRows) {
  struct Case {
    const char* name;
    const char* spec_status;
    std::vector<std::string> want;  // type, cluster ip, external ip, ports, selector
  };
  const Case cases[] = {
      {"cluster_ip",
       R"("spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","selector":{"app":"web"},
         "ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]})",
       {"ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "app=web"}},
      {"headless",
       R"("spec":{"clusterIP":"None"})",
       {"ClusterIP", "None", "<none>", "<none>", "<none>"}},
      {"node_port",
       R"("spec":{"type":"NodePort","clusterIP":"10.96.0.11",
         "ports":[{"port":80,"nodePort":30080}]})",
       {"NodePort", "10.96.0.11", "<none>", "80:30080/TCP", "<none>"}},
      {"lb_pending",
       R"("spec":{"type":"LoadBalancer","clusterIP":"10.96.0.12",
         "ports":[{"port":443,"nodePort":31443,"protocol":"TCP"}]})",
       {"LoadBalancer", "10.96.0.12", "<pending>", "443:31443/TCP", "<none>"}},
      {"lb_ready",
       R"("spec":{"type":"LoadBalancer","clusterIP":"10.96.0.12"},
         "status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"},{"hostname":"lb.example"}]}})",
       {"LoadBalancer", "10.96.0.12", "1.2.3.4,lb.example", "<none>", "<none>"}},
      {"external_name",
       R"("spec":{"type":"ExternalName","externalName":"db.example.com"})",
       {"ExternalName", "<none>", "db.example.com", "<none>", "<none>"}},
  };
  const ResourceInfo& info = Info({"", "v1", "services"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json cells = Cells(info, std::string(R"({"apiVersion":"v1","kind":"Service","metadata":{
      "name":"s","creationTimestamp":"2024-05-01T11:55:00Z"},)") +
                                 c.spec_status + "}");
    EXPECT_EQ(cells, json({"s", c.want[0], c.want[1], c.want[2], c.want[3], "5m", c.want[4]}));
  }
}

TEST(TableTest, SmallKindRows) {
  const std::string meta =
      std::string(R"("metadata":{"name":"x","creationTimestamp":")") + kCreated + R"("})";
  EXPECT_EQ(Cells(Info({"", "v1", "configmaps"}),
                  R"({"apiVersion":"v1","kind":"ConfigMap",)" + meta +
                      R"(,"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})"),
            json({"x", 3, "5m"}));
  EXPECT_EQ(Cells(Info({"", "v1", "secrets"}),
                  R"({"apiVersion":"v1","kind":"Secret",)" + meta +
                      R"(,"type":"kubernetes.io/tls","data":{"tls.crt":"","tls.key":""}})"),
            json({"x", "kubernetes.io/tls", 2, "5m"}));
  EXPECT_EQ(Cells(Info({"", "v1", "namespaces"}), R"({"apiVersion":"v1","kind":"Namespace",)" +
                                                      meta + R"(,"status":{"phase":"Active"}})"),
            json({"x", "Active", "5m"}));
  EXPECT_EQ(Cells(Info({"coordination.k8s.io", "v1", "leases"}),
                  R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",)" + meta +
                      R"(,"spec":{"holderIdentity":"ctrl-1"}})"),
            json({"x", "ctrl-1", "5m"}));
  EXPECT_EQ(
      Cells(Info({"", "v1", "serviceaccounts"}), R"({"apiVersion":"v1","kind":"ServiceAccount",)" +
                                                     meta + R"(,"secrets":[{"name":"t"}]})"),
      json({"x", 1, "5m"}));
  EXPECT_EQ(Cells(Info({"", "v1", "endpoints"}),
                  R"({"apiVersion":"v1","kind":"Endpoints",)" + meta +
                      R"(,"subsets":[{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],
                      "ports":[{"port":80},{"port":443}]}]})"),
            json({"x", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...", "5m"}));
  EXPECT_EQ(Cells(Info({"", "v1", "endpoints"}),
                  R"({"apiVersion":"v1","kind":"Endpoints",)" + meta + "}"),
            json({"x", "<none>", "5m"}));
  EXPECT_EQ(Cells(Info({"discovery.k8s.io", "v1", "endpointslices"}),
                  R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",)" + meta +
                      R"(,"addressType":"IPv4","ports":[{"port":80}],
                      "endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2"]}]})"),
            json({"x", "IPv4", "80", "10.0.0.1,10.0.0.2", "5m"}));
  EXPECT_EQ(Cells(Info({"apiextensions.k8s.io", "v1", "customresourcedefinitions"}),
                  R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",)" +
                      meta + "}"),
            json({"x", kCreated}));
}

TEST(TableTest, NodeRow) {
  EXPECT_EQ(Cells(Info({"", "v1", "nodes"}), R"({"apiVersion":"v1","kind":"Node",
        "metadata":{"name":"n1","creationTimestamp":"2024-04-29T12:00:00Z",
          "labels":{"node-role.kubernetes.io/control-plane":"","kubernetes.io/os":"linux"}},
        "spec":{"unschedulable":true},
        "status":{"conditions":[{"type":"MemoryPressure","status":"False"},
          {"type":"Ready","status":"True"}],
          "addresses":[{"type":"InternalIP","address":"192.168.1.5"}],
          "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian 12","kernelVersion":"6.1",
          "containerRuntimeVersion":"containerd://1.7"}}})"),
            json({"n1", "Ready,SchedulingDisabled", "control-plane", "2d", "v1.32.0", "192.168.1.5",
                  "<none>", "Debian 12", "6.1", "containerd://1.7"}));
  json bare = Cells(Info({"", "v1", "nodes"}),
                    R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"}})");
  EXPECT_EQ(bare[1], "Unknown");
  EXPECT_EQ(bare[2], "<none>");
  EXPECT_EQ(bare[3], "<unknown>");
}

TEST(TableTest, JobAndCronJobRows) {
  const ResourceInfo& jobs = Info({"batch", "v1", "jobs"});
  EXPECT_EQ(Cells(jobs, R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j",
              "creationTimestamp":"2024-05-01T11:55:00Z"},"spec":{"completions":3,
              "template":{"spec":{"containers":[{"name":"w","image":"busybox"}]}}},
              "status":{"succeeded":3,"startTime":"2024-05-01T11:55:00Z",
              "completionTime":"2024-05-01T11:55:42Z",
              "conditions":[{"type":"Complete","status":"True"}]}})"),
            json({"j", "Complete", "3/3", "42s", "5m", "w", "busybox", "<none>"}));
  json running = Cells(jobs, R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},
              "spec":{"parallelism":2},"status":{"succeeded":1,
              "startTime":"2024-05-01T11:58:00Z"}})");
  EXPECT_EQ(running[1], "Running");
  EXPECT_EQ(running[2], "1/1 of 2");
  EXPECT_EQ(running[3], "2m");

  EXPECT_EQ(
      Cells(Info({"batch", "v1", "cronjobs"}),
            R"({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c",
              "creationTimestamp":"2024-05-01T11:55:00Z"},"spec":{"schedule":"*/5 * * * *",
              "suspend":false,"jobTemplate":{"spec":{"template":{"spec":{"containers":[
              {"name":"w","image":"busybox"}]}}}}},"status":{"active":[{"name":"c-1"}],
              "lastScheduleTime":"2024-05-01T11:59:00Z"}})"),
      json({"c", "*/5 * * * *", "<none>", "False", 1, "60s", "5m", "w", "busybox", "<none>"}));
}

TEST(TableTest, EventRow) {
  EXPECT_EQ(Cells(Info({"", "v1", "events"}), R"({"apiVersion":"v1","kind":"Event",
      "metadata":{"name":"web.17c","namespace":"default"},
      "involvedObject":{"kind":"Pod","name":"web","fieldPath":"spec.containers{web}"},
      "reason":"BackOff","message":"Back-off restarting","type":"Warning","count":4,
      "source":{"component":"kubelet","host":"node-a"},
      "firstTimestamp":"2024-05-01T11:00:00Z","lastTimestamp":"2024-05-01T11:59:30Z"})"),
            json({"30s (x4 over 60m)", "Warning", "BackOff", "pod/web", "spec.containers{web}",
                  "kubelet, node-a", "Back-off restarting", "60m", 4, "web.17c"}));
}

TEST(TableTest, CustomResourcesShowNameAndAge) {
  ResourceInfo info;
  info.gvr = {"example.com", "v1", "widgets"};
  info.kind = "Widget";
  info.is_custom = true;
  json t = BuildTable(info, {MustParse(R"({"apiVersion":"example.com/v1","kind":"Widget",
                        "metadata":{"name":"w","creationTimestamp":"2024-05-01T11:55:00Z"}})")},
                      IncludeObject::kNone, true, kNow);
  EXPECT_THAT(ColumnNames(t), ElementsAreArray({"Name", "Age"}));
  EXPECT_EQ(t["rows"][0]["cells"], json({"w", "5m"}));
}

// Integer fields are int32 in the Go types: a number outside int32, a fraction, NaN-ish strings
// and other JSON types read as unset (the printer's default), never as a wrapped number.
TEST(TableTest, AbsurdNumbersRenderAsUnset) {
  const ResourceInfo& deployments = Info({"apps", "v1", "deployments"});
  auto deployment = [&](const std::string& replicas, const std::string& ready) {
    return Cells(deployments, R"({"apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":"d","creationTimestamp":"2024-05-01T11:55:00Z"},
        "spec":{"replicas":)" + replicas +
                                  R"(},"status":{"readyReplicas":)" + ready +
                                  R"(,"updatedReplicas":)" + ready + R"(,"availableReplicas":)" +
                                  ready + "}}");
  };
  for (const std::string& absurd :
       {std::string("1e300"), std::string("-1e300"), std::string("1e19"),
        std::string("10000000000000000000"), std::string("-9223372036854775809"),
        std::string("9223372036854775807"), std::string("2147483648"), std::string("-2147483649"),
        std::string("2.5"), std::string("\"NaN\""), std::string("\"Infinity\""),
        std::string("\"3\""), std::string("true"), std::string("[3]"), std::string("{}"),
        std::string("null")}) {
    SCOPED_TRACE(absurd);
    EXPECT_EQ(deployment(absurd, absurd), json({"d", "0/1", 0, 0, "5m", "", "", "<none>"}));
  }
  EXPECT_EQ(
      deployment("2147483647", "-2147483648"),
      json({"d", "-2147483648/2147483647", -2147483648LL, -2147483648LL, "5m", "", "", "<none>"}));
  EXPECT_EQ(deployment("3.0", "2"), json({"d", "2/3", 2, 2, "5m", "", "", "<none>"}));

  json pod = Cells(Info({"", "v1", "pods"}), R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"p","creationTimestamp":"2024-05-01T11:55:00Z"},
      "spec":{"containers":[{"name":"a"},{"name":"b"}]},
      "status":{"phase":"Running","containerStatuses":[
        {"name":"a","restartCount":1e300,"state":{"terminated":{"exitCode":-1e300,
         "signal":1e19}}},
        {"name":"b","restartCount":"NaN","state":{"running":{}},"ready":true}]}})");
  EXPECT_EQ(pod[1], "1/2");
  EXPECT_EQ(pod[2], "ExitCode:0");  // the exit code and signal read as unset
  EXPECT_EQ(pod[3], "0");

  const ResourceInfo& jobs = Info({"batch", "v1", "jobs"});
  json job = Cells(jobs, R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},
      "spec":{"completions":1e19,"parallelism":-1e300},"status":{"succeeded":1e300}})");
  EXPECT_EQ(job[2], "0/1");
  json svc = Cells(Info({"", "v1", "services"}), R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"s"},"spec":{"type":"NodePort","clusterIP":"10.0.0.1",
      "ports":[{"port":1e300,"nodePort":-1e19,"protocol":"TCP"}]}})");
  EXPECT_EQ(svc[4], "0/TCP");
  json event = Cells(Info({"", "v1", "events"}), R"({"apiVersion":"v1","kind":"Event",
      "metadata":{"name":"e"},"count":1e300,"series":{"count":"many"},
      "lastTimestamp":"2024-05-01T11:59:30Z"})");
  EXPECT_EQ(event[0], "30s");
  EXPECT_EQ(event[8], 1);
}

// Times are read as Go reads them (years 0000-9999), and durations saturate at Go's
// time.Duration bounds (292 years) instead of overflowing: a creation time in year 9999 is
// "<invalid>" (in the future), one in year 0001 is "292y", Go's zero time is "<unknown>".
TEST(TableTest, TimesOutsideTheClockRangeRenderAsGoDoes) {
  const ResourceInfo& pods = Info({"", "v1", "pods"});
  auto age = [&](const std::string& created) {
    json cells = Cells(pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p",
        "creationTimestamp":)" + created +
                                 "}}");
    return cells[4];
  };
  EXPECT_EQ(age(R"("9999-12-31T23:59:59Z")"), "<invalid>");
  EXPECT_EQ(age(R"("2262-04-12T00:00:00Z")"), "<invalid>");
  EXPECT_EQ(age(R"("0001-06-01T00:00:00Z")"), "292y");
  EXPECT_EQ(age(R"("1677-09-21T00:00:00Z")"), "292y");
  EXPECT_EQ(age(R"("1800-01-01T00:00:00Z")"), "224y");
  EXPECT_EQ(age(R"("0001-01-01T00:00:00Z")"), "<unknown>");
  EXPECT_EQ(age(R"("2024-05-01T13:00:00+01:00")"), "0s");
  EXPECT_EQ(age(R"("2024-05-01T11:54:59.999999999Z")"), "5m");
  for (const char* bad :
       {R"("")", R"("yesterday")", R"("2024-02-30T00:00:00Z")", R"("2024-05-01T24:00:00Z")",
        R"("2024-05-01T11:55:00")", R"("-001-05-01T11:55:00Z")", R"("2024-05-01T11:55:00+99:00")",
        R"("2024-05-01T11:55:00Zjunk")", "null"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(age(bad), "<unknown>");
  }

  const ResourceInfo& jobs = Info({"batch", "v1", "jobs"});
  auto duration = [&](const std::string& start, const std::string& end) {
    return Cells(jobs, R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},
        "status":{"startTime":")" +
                           start + R"(","completionTime":")" + end + R"("}})")[3];
  };
  EXPECT_EQ(duration("0001-06-01T00:00:00Z", "9999-12-31T23:59:59Z"), "292y");
  EXPECT_EQ(duration("9999-12-31T23:59:59Z", "0001-06-01T00:00:00Z"), "<invalid>");
  EXPECT_EQ(duration("1960-01-01T00:00:00Z", "2030-01-01T00:00:00Z"), "70y");
  // A start time of another JSON type reads as unset: no duration.
  EXPECT_EQ(Cells(jobs, R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},
        "status":{"startTime":1e300,"completionTime":[]}})")[3],
            "");

  json restarts = Cells(pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
      "status":{"containerStatuses":[{"name":"a","restartCount":2,
      "lastState":{"terminated":{"finishedAt":"9999-01-01T00:00:00Z"}}}]}})");
  EXPECT_EQ(restarts[3], "2 (<invalid> ago)");
  restarts = Cells(pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
      "status":{"containerStatuses":[{"name":"a","restartCount":2,
      "lastState":{"terminated":{"finishedAt":"0001-01-01T00:00:00Z"}}}]}})");
  EXPECT_EQ(restarts[3], "2");
}

// "Created At" (kinds without a printer) is the time in UTC RFC 3339, Go's zero time when unset;
// a custom resource's Age is a "date" column: null when absent, "<invalid>" when unparseable.
TEST(TableTest, DateCellsOfDefaultAndCustomPrinters) {
  const ResourceInfo& crds = Info({"apiextensions.k8s.io", "v1", "customresourcedefinitions"});
  auto created_at = [&](const std::string& created) {
    return Cells(crds, R"({"apiVersion":"apiextensions.k8s.io/v1",
        "kind":"CustomResourceDefinition","metadata":{"name":"c","creationTimestamp":)" +
                           created + "}}")[1];
  };
  EXPECT_EQ(created_at(R"("2024-05-01T13:55:00+02:00")"), "2024-05-01T11:55:00Z");
  EXPECT_EQ(created_at(R"("9999-12-31T23:59:59Z")"), "9999-12-31T23:59:59Z");
  EXPECT_EQ(created_at(R"("0001-02-03T04:05:06Z")"), "0001-02-03T04:05:06Z");
  EXPECT_EQ(created_at(R"("<script>")"), "0001-01-01T00:00:00Z");
  EXPECT_EQ(created_at("null"), "0001-01-01T00:00:00Z");

  ResourceInfo info;
  info.gvr = {"example.com", "v1", "widgets"};
  info.kind = "Widget";
  info.is_custom = true;
  auto cr_age = [&](const std::string& created) {
    return Cells(info, R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w",
        "creationTimestamp":)" +
                           created + "}}")[1];
  };
  EXPECT_EQ(cr_age(R"("9999-12-31T23:59:59Z")"), "<invalid>");
  EXPECT_EQ(cr_age(R"("0001-06-01T00:00:00Z")"), "292y");
  EXPECT_EQ(cr_age(R"("not a time")"), "<invalid>");
  EXPECT_EQ(cr_age(R"("")"), "<unknown>");
  EXPECT_EQ(cr_age("null"), nullptr);
}

TEST(TableTest, RowObjectFollowsIncludeObject) {
  const ResourceInfo& info = Info({"", "v1", "configmaps"});
  ObjectPtr cm = MustParse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"c","namespace":"ns1","labels":{"a":"b"},"resourceVersion":"7"},
      "data":{"k":"v"}})");

  json meta = BuildTable(info, {cm}, IncludeObject::kMetadata, true, kNow);
  ASSERT_EQ(meta["rows"].size(), 1u);
  EXPECT_EQ(meta["rows"][0]["object"],
            json::parse(R"({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",
              "metadata":{"name":"c","namespace":"ns1","labels":{"a":"b"},
              "resourceVersion":"7"}})"));

  json none = BuildTable(info, {cm}, IncludeObject::kNone, true, kNow);
  EXPECT_FALSE(none["rows"][0].contains("object"));

  json whole = BuildTable(info, {cm}, IncludeObject::kObject, true, kNow);
  EXPECT_EQ(whole["rows"][0]["object"], json::parse(cm->json()));
}

TEST(TableTest, LaterWatchEventsOmitColumnDefinitions) {
  json t =
      BuildTable(Info({"", "v1", "configmaps"}),
                 {MustParse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})"),
                  MustParse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"}})")},
                 IncludeObject::kMetadata, false, kNow);
  EXPECT_EQ(t["columnDefinitions"], json::array());
  ASSERT_EQ(t["rows"].size(), 2u);
  EXPECT_EQ(t["rows"][1]["cells"], json({"d", 0, "<unknown>"}));
}

}  // namespace
}  // namespace kube::server

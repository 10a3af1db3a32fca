#include "pod_generator.h"

#include <cstdio>
#include <string_view>

namespace kube::bench {
namespace {

// splitmix64: a fixed, well-mixed function of (seed, index, field), so every Pod is reproducible
// on its own without generating the ones before it.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  Rng(uint64_t seed, size_t index) : state_(Mix(seed * 0x100000001b3ULL ^ Mix(index))) {}
  uint64_t Next() { return state_ = Mix(state_); }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  // `n` characters of Kubernetes' random-suffix alphabet.
  std::string Suffix(size_t n) {
    static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string s;
    for (size_t i = 0; i < n; ++i) s += kAlphabet[Below(kAlphabet.size())];
    return s;
  }
  std::string Hex(size_t n) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) s += kHex[Below(16)];
    return s;
  }
  std::string Uuid() {
    return Hex(8) + "-" + Hex(4) + "-4" + Hex(3) + "-a" + Hex(3) + "-" + Hex(12);
  }

 private:
  uint64_t state_;
};

std::string Timestamp(uint64_t seconds_after_base) {
  // Base: 2024-03-01T00:00:00Z; spread over 28 days so every date is valid.
  uint64_t day = 1 + (seconds_after_base / 86400) % 28;
  uint64_t rest = seconds_after_base % 86400;
  char buf[32];
  std::snprintf(buf, sizeof buf, "2024-03-%02uT%02u:%02u:%02uZ", static_cast<unsigned>(day),
                static_cast<unsigned>(rest / 3600), static_cast<unsigned>(rest / 60 % 60),
                static_cast<unsigned>(rest % 60));
  return buf;
}

constexpr std::string_view kApps[] = {"checkout",  "payments", "catalog",  "frontend", "search",
                                      "inventory", "shipping", "accounts", "ledger",   "gateway"};
constexpr std::string_view kNamespaces[] = {"prod",     "staging",       "team-a", "team-b",
                                            "platform", "observability", "data",   "edge"};
constexpr std::string_view kImages[] = {"registry.example.com/shop/%s:1.%u.%u",
                                        "ghcr.io/example/%s:v2.%u.%u"};

void Field(std::string* out, std::string_view key, std::string_view value, bool comma = true) {
  if (comma) *out += ',';
  *out += '"';
  *out += key;
  *out += "\":\"";
  *out += value;
  *out += '"';
}

std::string PodBody(size_t index, uint64_t seed, bool with_type) {
  Rng r(seed, index);
  const std::string_view app = kApps[index % std::size(kApps)];
  const std::string_view ns = kNamespaces[(index / std::size(kApps)) % std::size(kNamespaces)];
  const std::string hash = r.Hex(9).substr(0, 9);
  const std::string rs = std::string(app) + "-" + hash;
  const std::string name = rs + "-" + r.Suffix(5);
  const std::string uid = r.Uuid();
  const std::string rs_uid = r.Uuid();
  const uint64_t created = r.Below(28 * 86400);
  const std::string created_ts = Timestamp(created);
  const std::string started_ts = Timestamp(created + 2);
  const std::string ready_ts = Timestamp(created + 9 + r.Below(20));
  const std::string node = "ip-10-" + std::to_string(r.Below(256)) + "-" +
                           std::to_string(r.Below(256)) + "-" + std::to_string(r.Below(256)) +
                           ".eu-west-1.compute.internal";
  const std::string pod_ip =
      "10.42." + std::to_string(r.Below(256)) + "." + std::to_string(1 + r.Below(254));
  const std::string host_ip =
      "10.0." + std::to_string(r.Below(256)) + "." + std::to_string(1 + r.Below(254));
  char image[160];
  std::snprintf(image, sizeof image, kImages[index % 2].data(), std::string(app).c_str(),
                static_cast<unsigned>(r.Below(30)), static_cast<unsigned>(r.Below(10)));
  const std::string rv = std::to_string(100000 + index * 7 + r.Below(7));
  const unsigned port = 8000 + static_cast<unsigned>(r.Below(1000));
  const std::string cpu = std::to_string(100 + 50 * r.Below(8)) + "m";
  const std::string mem = std::to_string(128 * (1 + r.Below(8))) + "Mi";

  std::string j;
  j.reserve(4400);
  j += '{';
  if (with_type) j += R"("apiVersion":"v1","kind":"Pod",)";
  j += R"("metadata":{)";
  Field(&j, "name", name, false);
  Field(&j, "generateName", rs + "-");
  Field(&j, "namespace", ns);
  Field(&j, "uid", uid);
  Field(&j, "resourceVersion", rv);
  Field(&j, "creationTimestamp", created_ts);
  j += R"(,"labels":{"app":")";
  j += app;
  j += R"(","app.kubernetes.io/name":")";
  j += app;
  j += R"(","pod-template-hash":")";
  j += hash;
  j += R"("})";
  j += R"(,"annotations":{"kubectl.kubernetes.io/restartedAt":")" + Timestamp(created / 2) +
       R"(","prometheus.io/port":")" + std::to_string(port) + R"(","prometheus.io/scrape":"true"})";
  j += R"(,"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" + rs +
       R"(","uid":")" + rs_uid + R"(","controller":true,"blockOwnerDeletion":true}])";
  j += R"(,"managedFields":[{"manager":"kube-controller-manager","operation":"Update",)"
       R"("apiVersion":"v1","time":")" +
       created_ts +
       R"(","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},)"
       R"("f:prometheus.io/port":{},"f:prometheus.io/scrape":{}},"f:generateName":{},)"
       R"("f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},)"
       R"("k:{\"uid\":\")" +
       rs_uid +
       R"(\"}":{}}},"f:spec":{"f:containers":{}}}},)"
       R"({"manager":"kubelet","operation":"Update","apiVersion":"v1","time":")" +
       ready_ts +
       R"(","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{)"
       R"("k:{\"type\":\"Ready\"}":{".":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},)"
       R"("f:phase":{},"f:podIP":{},"f:startTime":{}}},"subresource":"status"},)"
       R"({"manager":"kubectl-rollout","operation":"Update","apiVersion":"v1","time":")" +
       created_ts +
       R"(","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{)"
       R"("f:kubectl.kubernetes.io/restartedAt":{}}}}}]})";

  j += R"(,"spec":{"volumes":[{"name":"config","configMap":{"name":")" + std::string(app) +
       R"(-config","defaultMode":420}},{"name":"kube-api-access-)" + r.Suffix(5) +
       R"(","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,)"
       R"("path":"token"}}],"defaultMode":420}}],"containers":[{"name":"app","image":")" +
       image + R"(","ports":[{"name":"http","containerPort":)" + std::to_string(port) +
       R"(,"protocol":"TCP"}],"env":[{"name":"APP_ENV","value":"production"}],)"
       R"("resources":{"limits":{"cpu":")" +
       cpu + R"(","memory":")" + mem + R"("},"requests":{"cpu":")" + cpu + R"(","memory":")" + mem +
       R"("}},"volumeMounts":[{"name":"config","mountPath":"/etc/app"}],)"
       R"("livenessProbe":{"httpGet":{"path":"/healthz","port":)" +
       std::to_string(port) +
       R"(,"scheme":"HTTP"},"initialDelaySeconds":10,"periodSeconds":10},)"
       R"("readinessProbe":{"httpGet":{"path":"/ready",)"
       R"("port":)" +
       std::to_string(port) +
       R"(,"scheme":"HTTP"},"periodSeconds":5},"imagePullPolicy":"IfNotPresent"},)"
       R"({"name":"proxy","image":"envoyproxy/envoy:v1.28.)" +
       std::to_string(r.Below(5)) +
       R"(","resources":{"limits":{"cpu":"200m","memory":"128Mi"},"requests":{"cpu":"50m",)"
       R"("memory":"64Mi"}}}],)"
       R"("restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
       R"("serviceAccountName":"default","nodeName":")" +
       node +
       R"(","schedulerName":"default-scheduler","tolerations":[)"
       R"({"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",)"
       R"("tolerationSeconds":300}],"priority":0})";

  j += R"(,"status":{"phase":"Running","conditions":[)"
       R"({"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":")" +
       ready_ts +
       R"("},{"type":"ContainersReady","status":"True","lastProbeTime":null,)"
       R"("lastTransitionTime":")" +
       ready_ts +
       R"("},{"type":"PodScheduled","status":"True","lastProbeTime":null,)"
       R"("lastTransitionTime":")" +
       created_ts + R"("}],"hostIP":")" + host_ip + R"(","podIP":")" + pod_ip +
       R"(","podIPs":[{"ip":")" + pod_ip + R"("}],"startTime":")" + started_ts +
       R"(","containerStatuses":[{"name":"app","state":{"running":{"startedAt":")" + started_ts +
       R"("}},"ready":true,"restartCount":)" + std::to_string(r.Below(3)) + R"(,"image":")" +
       image + R"(","imageID":"sha256:)" + r.Hex(64) + R"(","containerID":"containerd://)" +
       r.Hex(64) + R"(","started":true},{"name":"proxy","state":{"running":{"startedAt":")" +
       started_ts +
       R"("}},"ready":true,"restartCount":0,"image":"envoyproxy/envoy:v1.28",)"
       R"("started":true}],"qosClass":"Burstable"}})";
  return j;
}

}  // namespace

std::string MakePodJson(size_t index, uint64_t seed) { return PodBody(index, seed, true); }

std::string MakePodListJson(size_t count, size_t first, uint64_t seed) {
  std::string body = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":")" +
                     std::to_string(100000 + (first + count) * 7) + R"("},"items":[)";
  body.reserve(body.size() + count * 4100);
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) body += ',';
    body += PodBody(first + i, seed, false);
  }
  body += "]}";
  return body;
}

}  // namespace kube::bench

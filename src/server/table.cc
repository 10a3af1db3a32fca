// Table rendering for `kubectl get`: the columns kube-apiserver's printers produce for the
// built-in kinds we serve, a Name/Created At default for other built-ins, and Name/Age for
// custom resources (what a CRD without additionalPrinterColumns shows).
//
// Reads from: stored objects. Feeds: list, get and watch answers when kubectl asks for a Table.
// Kubernetes' pkg/printers/internalversion
// is the reference for the cells (facts only; the code here is ours).
#include "server/table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time_format.h"

namespace kube::server {
namespace {

using internal::AsciiLower;
using internal::Join;
using internal::kOptionalWhitespace;
using internal::Trim;

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

// --- JSON access that never throws ---------------------------------------------------------------

const json* At(const json& j, std::initializer_list<std::string_view> path) {
  const json* cur = &j;
  for (std::string_view key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string Str(const json& j, std::initializer_list<std::string_view> path,
                std::string fallback = "") {
  const json* v = At(j, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

// The integer fields these printers read are int32 in the Go types, which refuse a fraction,
// a number outside int32 or a value of another type at decode time. Such a value reads as absent
// here (the caller's fallback), so no cell ever shows a wrapped or undefined number.
std::optional<int64_t> OptInt(const json& j, std::initializer_list<std::string_view> path) {
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  const json* v = At(j, path);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(kMax)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) {
    const int64_t i = v->get<int64_t>();
    if (i < kMin || i > kMax) return std::nullopt;
    return i;
  }
  if (v->is_number_float()) {
    // Only whole numbers in range (3.0 as the client wrote 3); the comparisons are false for NaN.
    const double d = v->get<double>();
    if (!(d >= static_cast<double>(kMin) && d <= static_cast<double>(kMax)) || std::trunc(d) != d) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

int64_t Int(const json& j, std::initializer_list<std::string_view> path, int64_t fallback = 0) {
  return OptInt(j, path).value_or(fallback);
}

const json& Arr(const json& j, std::initializer_list<std::string_view> path) {
  static const json kEmpty = json::array();
  const json* v = At(j, path);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

size_t MapSize(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = At(j, path);
  return v != nullptr && v->is_object() ? v->size() : 0;
}

std::string OrNone(std::string s, std::string_view none = "<none>") {
  return s.empty() ? std::string(none) : s;
}

// --- time ----------------------------------------------------------------------------------------

// Times are kept as Go's time.Time holds them: any RFC 3339 year (0000-9999), in seconds and
// nanoseconds since the Unix epoch, with no conversion to system_clock (whose nanosecond count
// only spans the years 1678-2261). Durations between them saturate at Go's time.Duration bounds
// (about 292 years), as time.Sub does.
struct Instant {
  int64_t secs = 0;
  int64_t nanos = 0;  // [0, 1e9)
  friend bool operator<(const Instant& a, const Instant& b) {
    return a.secs != b.secs ? a.secs < b.secs : a.nanos < b.nanos;
  }
};

constexpr int64_t kNanosPerSecond = 1000000000;
// 0001-01-01T00:00:00Z, Go's zero time: metav1.Time.IsZero() and "<unknown>" in the printers.
constexpr int64_t kZeroTimeSecs = -62135596800;
// time.Duration's bounds in whole seconds (math.MaxInt64 nanoseconds).
constexpr int64_t kMaxDurationSecs = std::numeric_limits<int64_t>::max() / kNanosPerSecond;

bool IsZero(const Instant& t) { return t.secs == kZeroTimeSecs && t.nanos == 0; }

Instant FromClock(Clock::time_point t) {
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  int64_t secs = ns / kNanosPerSecond, nanos = ns % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --secs;
  }
  return {secs, nanos};
}

// a - b as Go's Time.Sub computes it, in whole seconds truncated toward zero (what HumanDuration
// reads): saturates at about +-292 years instead of overflowing.
std::chrono::seconds Sub(const Instant& a, const Instant& b) {
  const int64_t secs = a.secs - b.secs;  // |secs| < 2^39 for years 0000-9999
  if (secs > kMaxDurationSecs - 1) return std::chrono::seconds(kMaxDurationSecs);
  if (secs < -kMaxDurationSecs + 1) return std::chrono::seconds(-kMaxDurationSecs);
  const int64_t ns = secs * kNanosPerSecond + (a.nanos - b.nanos);
  return std::chrono::seconds(ns / kNanosPerSecond);
}

// RFC 3339 as Go's time.Parse(time.RFC3339) takes it ("2024-05-01T10:00:00Z", an optional
// fraction, "Z" or a numeric offset; fields in range); nullopt otherwise.
std::optional<Instant> ParseTime(std::string_view s) {
  std::optional<internal::Rfc3339Time> t = internal::ParseRfc3339(s, {.lower_case_t_and_z = false});
  if (!t) return std::nullopt;
  return Instant{t->unix_seconds, t->nanos};
}

// The field at `path` as a time; nullopt when absent, not a string or not RFC 3339 (a typed Go
// object would refuse the last two at decode time; here they read as unset).
std::optional<Instant> TimeAt(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = At(j, path);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return ParseTime(v->get_ref<const std::string&>());
}

// The printers' translateTimestampSince: "<unknown>" when unset or Go's zero time, else the
// human duration since `t` ("<invalid>" for a time more than a second ahead of `now`).
std::string Since(std::optional<Instant> t, Clock::time_point now) {
  if (!t || IsZero(*t)) return "<unknown>";
  return HumanDuration(Sub(FromClock(now), *t));
}

// `t` as time.RFC3339 in UTC ("2024-05-01T10:00:00Z"), Go's zero time when unset.
std::string FormatRfc3339(std::optional<Instant> t) {
  std::string out;
  internal::AppendRfc3339(t ? t->secs : kZeroTimeSecs, -1, &out);
  return out;
}

// --- selectors -----------------------------------------------------------------------------------

std::string FormatLabelMap(const json* m) {
  if (m == nullptr || !m->is_object() || m->empty()) return "";
  std::vector<std::string> parts;
  for (const auto& [k, v] : m->items()) {
    parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  }
  return Join(parts, ",");  // nlohmann objects iterate in key order
}

// metav1.FormatLabelSelector: matchLabels then matchExpressions; "<none>" when empty.
std::string FormatSelector(const json* sel) {
  if (sel == nullptr || !sel->is_object()) return "<none>";
  std::vector<std::string> parts;
  if (std::string labels = FormatLabelMap(At(*sel, {"matchLabels"})); !labels.empty()) {
    parts.push_back(labels);
  }
  for (const json& e : Arr(*sel, {"matchExpressions"})) {
    std::string key = Str(e, {"key"}), op = Str(e, {"operator"});
    std::vector<std::string> values;
    for (const json& v : Arr(e, {"values"})) {
      if (v.is_string()) values.push_back(v.get<std::string>());
    }
    if (op == "In") {
      parts.push_back(key + " in (" + Join(values, ",") + ")");
    } else if (op == "NotIn") {
      parts.push_back(key + " notin (" + Join(values, ",") + ")");
    } else if (op == "Exists") {
      parts.push_back(key);
    } else if (op == "DoesNotExist") {
      parts.push_back("!" + key);
    } else {
      parts.push_back(key + " " + op + " (" + Join(values, ",") + ")");
    }
  }
  return OrNone(Join(parts, ","));
}

// Containers and images of a pod template spec, for the wide columns of workload kinds.
std::pair<std::string, std::string> ContainersAndImages(const json& pod_spec) {
  std::vector<std::string> names, images;
  for (const json& c : Arr(pod_spec, {"containers"})) {
    names.push_back(Str(c, {"name"}));
    images.push_back(Str(c, {"image"}));
  }
  return {Join(names, ","), Join(images, ",")};
}

// --- columns -------------------------------------------------------------------------------------

struct Column {
  const char* name;
  const char* type;
  const char* description;
  int priority = 0;
  const char* format = "";
};

using RowFunc = std::function<std::vector<json>(const json& obj, Clock::time_point now)>;

struct Printer {
  std::vector<Column> columns;
  RowFunc row;
};

const Column kNameColumn{"Name", "string", "Name must be unique within a namespace.", 0, "name"};
const Column kAgeColumn{"Age", "string", "Time since the object was created.", 0, ""};

std::string Name(const json& o) { return Str(o, {"metadata", "name"}); }
std::string Age(const json& o, Clock::time_point now) {
  return Since(TimeAt(o, {"metadata", "creationTimestamp"}), now);
}

// --- Pod -----------------------------------------------------------------------------------------

std::string PodStatusReason(const json& pod) {
  std::string reason = Str(pod, {"status", "phase"});
  if (std::string r = Str(pod, {"status", "reason"}); !r.empty()) reason = r;

  for (const json& c : Arr(pod, {"status", "conditions"})) {
    if (Str(c, {"type"}) == "PodScheduled" && Str(c, {"reason"}) == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  }

  // Init containers, in order: the first that has not completed decides.
  bool initializing = false;
  const json& init_statuses = Arr(pod, {"status", "initContainerStatuses"});
  const size_t init_count = Arr(pod, {"spec", "initContainers"}).size();
  for (size_t i = 0; i < init_statuses.size(); ++i) {
    const json& s = init_statuses[i];
    if (const json* t = At(s, {"state", "terminated"}); t != nullptr) {
      if (Int(*t, {"exitCode"}) == 0) continue;
      initializing = true;
      if (std::string r = Str(*t, {"reason"}); !r.empty()) {
        reason = "Init:" + r;
      } else if (int64_t sig = Int(*t, {"signal"}); sig != 0) {
        reason = "Init:Signal:" + std::to_string(sig);
      } else {
        reason = "Init:ExitCode:" + std::to_string(Int(*t, {"exitCode"}));
      }
      break;
    }
    // A started restartable init container (sidecar) does not hold up the pod.
    if (At(s, {"state", "running"}) != nullptr && At(s, {"started"}) != nullptr &&
        At(s, {"started"})->is_boolean() && At(s, {"started"})->get<bool>()) {
      continue;
    }
    initializing = true;
    if (std::string r = Str(s, {"state", "waiting", "reason"});
        !r.empty() && r != "PodInitializing") {
      reason = "Init:" + r;
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_count);
    }
    break;
  }

  if (!initializing) {
    bool has_running = false;
    const json& statuses = Arr(pod, {"status", "containerStatuses"});
    for (size_t k = statuses.size(); k-- > 0;) {
      const json& s = statuses[k];
      if (std::string r = Str(s, {"state", "waiting", "reason"}); !r.empty()) {
        reason = r;
      } else if (const json* t = At(s, {"state", "terminated"}); t != nullptr) {
        if (std::string r2 = Str(*t, {"reason"}); !r2.empty()) {
          reason = r2;
        } else if (int64_t sig = Int(*t, {"signal"}); sig != 0) {
          reason = "Signal:" + std::to_string(sig);
        } else {
          reason = "ExitCode:" + std::to_string(Int(*t, {"exitCode"}));
        }
      } else if (At(s, {"state", "running"}) != nullptr && At(s, {"ready"}) != nullptr &&
                 At(s, {"ready"})->is_boolean() && At(s, {"ready"})->get<bool>()) {
        has_running = true;
      }
    }
    if (reason == "Completed" && has_running) {
      reason = "NotReady";
      for (const json& c : Arr(pod, {"status", "conditions"})) {
        if (Str(c, {"type"}) == "Ready" && Str(c, {"status"}) == "True") reason = "Running";
      }
    }
  }

  if (At(pod, {"metadata", "deletionTimestamp"}) != nullptr) {
    reason = Str(pod, {"status", "reason"}) == "NodeLost" ? "Unknown" : "Terminating";
  }
  return reason;
}

std::vector<json> PodRow(const json& pod, Clock::time_point now) {
  int64_t total = static_cast<int64_t>(Arr(pod, {"spec", "containers"}).size());
  int64_t ready = 0, restarts = 0;
  std::optional<Instant> last_restart;
  auto note_restart = [&](const json& s) {
    restarts += Int(s, {"restartCount"});
    if (auto t = TimeAt(s, {"lastState", "terminated", "finishedAt"}); t) {
      if (!last_restart || *last_restart < *t) last_restart = t;
    }
  };
  for (const json& s : Arr(pod, {"status", "containerStatuses"})) {
    note_restart(s);
    const json* r = At(s, {"ready"});
    if (r != nullptr && r->is_boolean() && r->get<bool>() && At(s, {"state", "running"})) ++ready;
  }
  // Restartable init containers (sidecars) count as containers.
  std::map<std::string, bool> sidecars;
  for (const json& c : Arr(pod, {"spec", "initContainers"})) {
    if (Str(c, {"restartPolicy"}) == "Always") sidecars[Str(c, {"name"})] = true;
  }
  for (const json& s : Arr(pod, {"status", "initContainerStatuses"})) {
    if (!sidecars.count(Str(s, {"name"}))) continue;
    ++total;
    note_restart(s);
    const json* r = At(s, {"ready"});
    if (r != nullptr && r->is_boolean() && r->get<bool>()) ++ready;
  }
  std::string restarts_cell = std::to_string(restarts);
  if (restarts != 0 && last_restart && !IsZero(*last_restart)) {
    restarts_cell += " (" + Since(last_restart, now) + " ago)";
  }
  std::string gates = "<none>";
  if (const json& g = Arr(pod, {"spec", "readinessGates"}); !g.empty()) {
    int64_t ok = 0;
    for (const json& gate : g) {
      for (const json& c : Arr(pod, {"status", "conditions"})) {
        if (Str(c, {"type"}) == Str(gate, {"conditionType"}) && Str(c, {"status"}) == "True") ++ok;
      }
    }
    gates = std::to_string(ok) + "/" + std::to_string(g.size());
  }
  return {Name(pod),
          std::to_string(ready) + "/" + std::to_string(total),
          PodStatusReason(pod),
          restarts_cell,
          Age(pod, now),
          OrNone(Str(pod, {"status", "podIP"})),
          OrNone(Str(pod, {"spec", "nodeName"})),
          OrNone(Str(pod, {"status", "nominatedNodeName"})),
          gates};
}

// --- Service, Endpoints, EndpointSlice
// -------------------------------------------------------------

std::string ServiceExternalIp(const json& svc) {
  std::string type = Str(svc, {"spec", "type"}, "ClusterIP");
  std::vector<std::string> external;
  for (const json& ip : Arr(svc, {"spec", "externalIPs"})) {
    if (ip.is_string()) external.push_back(ip.get<std::string>());
  }
  if (type == "ClusterIP" || type == "NodePort") return OrNone(Join(external, ","));
  if (type == "LoadBalancer") {
    std::vector<std::string> ips;
    for (const json& in : Arr(svc, {"status", "loadBalancer", "ingress"})) {
      if (std::string ip = Str(in, {"ip"}); !ip.empty()) {
        ips.push_back(ip);
      } else if (std::string host = Str(in, {"hostname"}); !host.empty()) {
        ips.push_back(host);
      }
    }
    ips.insert(ips.end(), external.begin(), external.end());
    return ips.empty() ? "<pending>" : Join(ips, ",");
  }
  if (type == "ExternalName") return Str(svc, {"spec", "externalName"});
  return "<unknown>";
}

std::string ServicePorts(const json& svc) {
  std::vector<std::string> parts;
  for (const json& p : Arr(svc, {"spec", "ports"})) {
    std::string s = std::to_string(Int(p, {"port"}));
    if (int64_t node_port = Int(p, {"nodePort"}); node_port != 0) {
      s += ":" + std::to_string(node_port);
    }
    parts.push_back(s + "/" + Str(p, {"protocol"}, "TCP"));
  }
  return OrNone(Join(parts, ","));
}

// At most three entries, then " + N more...", as kubectl shows long lists.
std::string FirstThree(const std::vector<std::string>& items, std::string_view none) {
  if (items.empty()) return std::string(none);
  std::vector<std::string> shown(items.begin(), items.begin() + std::min<size_t>(3, items.size()));
  std::string out = Join(shown, ",");
  if (items.size() > 3) out += " + " + std::to_string(items.size() - 3) + " more...";
  return out;
}

std::string EndpointsCell(const json& ep) {
  std::vector<std::string> items;
  for (const json& subset : Arr(ep, {"subsets"})) {
    json ports = Arr(subset, {"ports"});
    if (ports.empty()) ports.push_back(json::object());
    for (const json& port : ports) {
      for (const json& addr : Arr(subset, {"addresses"})) {
        std::string ip = Str(addr, {"ip"});
        if (auto p = OptInt(port, {"port"}); p) ip += ":" + std::to_string(*p);
        items.push_back(ip);
      }
    }
  }
  return FirstThree(items, "<none>");
}

// --- Node
// ------------------------------------------------------------------------------------------

std::string NodeStatus(const json& node) {
  std::vector<std::string> parts;
  for (const json& c : Arr(node, {"status", "conditions"})) {
    if (Str(c, {"type"}) != "Ready") continue;
    parts.push_back(Str(c, {"status"}) == "True" ? "Ready" : "NotReady");
  }
  if (parts.empty()) parts.push_back("Unknown");
  const json* unsched = At(node, {"spec", "unschedulable"});
  if (unsched != nullptr && unsched->is_boolean() && unsched->get<bool>()) {
    parts.push_back("SchedulingDisabled");
  }
  return Join(parts, ",");
}

std::string NodeRoles(const json& node) {
  std::vector<std::string> roles;
  const json* labels = At(node, {"metadata", "labels"});
  if (labels != nullptr && labels->is_object()) {
    constexpr std::string_view kPrefix = "node-role.kubernetes.io/";
    for (const auto& [k, v] : labels->items()) {
      if (k.starts_with(kPrefix) && k.size() > kPrefix.size()) {
        roles.push_back(k.substr(kPrefix.size()));
      } else if (k == "kubernetes.io/role" && v.is_string() && !v.get<std::string>().empty()) {
        roles.push_back(v.get<std::string>());
      }
    }
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return OrNone(Join(roles, ","));
}

std::string NodeAddress(const json& node, std::string_view type) {
  for (const json& a : Arr(node, {"status", "addresses"})) {
    if (Str(a, {"type"}) == type) return Str(a, {"address"});
  }
  return "<none>";
}

// --- Job, CronJob
// ----------------------------------------------------------------------------------

bool HasTrueCondition(const json& obj, std::string_view type) {
  for (const json& c : Arr(obj, {"status", "conditions"})) {
    if (Str(c, {"type"}) == type && Str(c, {"status"}) == "True") return true;
  }
  return false;
}

std::string JobStatus(const json& job) {
  if (HasTrueCondition(job, "Complete")) return "Complete";
  if (HasTrueCondition(job, "Failed")) return "Failed";
  if (At(job, {"metadata", "deletionTimestamp"}) != nullptr) return "Terminating";
  if (HasTrueCondition(job, "FailureTarget")) return "FailureTarget";
  if (HasTrueCondition(job, "Suspended")) return "Suspended";
  if (HasTrueCondition(job, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

std::string JobCompletions(const json& job) {
  int64_t succeeded = Int(job, {"status", "succeeded"});
  if (auto completions = OptInt(job, {"spec", "completions"}); completions) {
    return std::to_string(succeeded) + "/" + std::to_string(*completions);
  }
  int64_t parallelism = Int(job, {"spec", "parallelism"}, 1);
  if (parallelism > 1) {
    return std::to_string(succeeded) + "/1 of " + std::to_string(parallelism);
  }
  return std::to_string(succeeded) + "/1";
}

std::string JobDuration(const json& job, Clock::time_point now) {
  auto start = TimeAt(job, {"status", "startTime"});
  if (!start) return "";
  auto end = TimeAt(job, {"status", "completionTime"}).value_or(FromClock(now));
  return HumanDuration(Sub(end, *start));
}

std::string BoolPtr(const json& obj, std::initializer_list<std::string_view> path) {
  const json* v = At(obj, path);
  if (v == nullptr || !v->is_boolean()) return "<unset>";
  return v->get<bool>() ? "True" : "False";
}

// --- Event
// -----------------------------------------------------------------------------------------

std::string EventLastSeen(const json& ev, Clock::time_point now) {
  std::optional<Instant> first = TimeAt(ev, {"firstTimestamp"});
  if (!first) first = TimeAt(ev, {"eventTime"});
  std::optional<Instant> last = TimeAt(ev, {"series", "lastObservedTime"});
  if (!last) last = TimeAt(ev, {"lastTimestamp"});
  if (!last) last = first;
  if (!last) last = TimeAt(ev, {"metadata", "creationTimestamp"});
  int64_t count = Int(ev, {"series", "count"}, Int(ev, {"count"}, 1));
  std::string out = Since(last, now);
  if (count > 1 && first) {
    out += " (x" + std::to_string(count) + " over " + Since(first, now) + ")";
  }
  return out;
}

std::string EventSource(const json& ev) {
  std::string component = Str(ev, {"source", "component"});
  if (component.empty()) component = Str(ev, {"reportingComponent"});
  std::string host = Str(ev, {"source", "host"});
  if (host.empty()) host = Str(ev, {"reportingInstance"});
  if (host.empty()) return component;
  return component + ", " + host;
}

// --- the printers
// ----------------------------------------------------------------------------------

const std::map<std::string, Printer, std::less<>>& BuiltinPrinters() {
  static const auto* printers = [] {
    auto* m = new std::map<std::string, Printer, std::less<>>();
    const Column containers{"Containers", "string", "Names of the containers in the template.", 1};
    const Column images{"Images", "string", "Images of the containers in the template.", 1};
    const Column selector{"Selector", "string", "Label selector of the managed pods.", 1};

    (*m)["Pod"] = {{kNameColumn,
                    {"Ready", "string", "Ready containers out of all containers."},
                    {"Status", "string", "Aggregate status of the pod."},
                    {"Restarts", "string", "Container restarts, with the time since the last one."},
                    kAgeColumn,
                    {"IP", "string", "IP address allocated to the pod.", 1},
                    {"Node", "string", "Node the pod is scheduled to.", 1},
                    {"Nominated Node", "string", "Node the scheduler nominated for preemption.", 1},
                    {"Readiness Gates", "string", "Readiness gates that are satisfied.", 1}},
                   PodRow};

    (*m)["Deployment"] = {{kNameColumn,
                           {"Ready", "string", "Ready replicas out of desired replicas."},
                           {"Up-to-date", "integer", "Replicas updated to the current template."},
                           {"Available", "integer", "Replicas available to users."},
                           kAgeColumn,
                           containers,
                           images,
                           selector},
                          [](const json& o, Clock::time_point now) -> std::vector<json> {
                            auto [c, i] =
                                ContainersAndImages(At(o, {"spec", "template", "spec"}) != nullptr
                                                        ? *At(o, {"spec", "template", "spec"})
                                                        : json::object());
                            return {Name(o),
                                    std::to_string(Int(o, {"status", "readyReplicas"})) + "/" +
                                        std::to_string(Int(o, {"spec", "replicas"}, 1)),
                                    Int(o, {"status", "updatedReplicas"}),
                                    Int(o, {"status", "availableReplicas"}),
                                    Age(o, now),
                                    c,
                                    i,
                                    FormatSelector(At(o, {"spec", "selector"}))};
                          }};

    (*m)["ReplicaSet"] = {{kNameColumn,
                           {"Desired", "integer", "Desired replicas."},
                           {"Current", "integer", "Observed replicas."},
                           {"Ready", "integer", "Ready replicas."},
                           kAgeColumn,
                           containers,
                           images,
                           selector},
                          [](const json& o, Clock::time_point now) -> std::vector<json> {
                            const json* spec = At(o, {"spec", "template", "spec"});
                            auto [c, i] =
                                ContainersAndImages(spec != nullptr ? *spec : json::object());
                            return {Name(o),
                                    Int(o, {"spec", "replicas"}, 1),
                                    Int(o, {"status", "replicas"}),
                                    Int(o, {"status", "readyReplicas"}),
                                    Age(o, now),
                                    c,
                                    i,
                                    FormatSelector(At(o, {"spec", "selector"}))};
                          }};

    (*m)["StatefulSet"] = {{kNameColumn,
                            {"Ready", "string", "Ready replicas out of desired replicas."},
                            kAgeColumn,
                            containers,
                            images},
                           [](const json& o, Clock::time_point now) -> std::vector<json> {
                             const json* spec = At(o, {"spec", "template", "spec"});
                             auto [c, i] =
                                 ContainersAndImages(spec != nullptr ? *spec : json::object());
                             return {Name(o),
                                     std::to_string(Int(o, {"status", "readyReplicas"})) + "/" +
                                         std::to_string(Int(o, {"spec", "replicas"}, 1)),
                                     Age(o, now), c, i};
                           }};

    (*m)["DaemonSet"] = {
        {kNameColumn,
         {"Desired", "integer", "Nodes that should run the daemon pod."},
         {"Current", "integer", "Nodes running at least one daemon pod."},
         {"Ready", "integer", "Nodes whose daemon pod is ready."},
         {"Up-to-date", "integer", "Nodes running the updated daemon pod."},
         {"Available", "integer", "Nodes whose daemon pod is available."},
         {"Node Selector", "string", "Nodes the daemon pods may run on."},
         kAgeColumn,
         containers,
         images,
         selector},
        [](const json& o, Clock::time_point now) -> std::vector<json> {
          const json* spec = At(o, {"spec", "template", "spec"});
          auto [c, i] = ContainersAndImages(spec != nullptr ? *spec : json::object());
          return {Name(o),
                  Int(o, {"status", "desiredNumberScheduled"}),
                  Int(o, {"status", "currentNumberScheduled"}),
                  Int(o, {"status", "numberReady"}),
                  Int(o, {"status", "updatedNumberScheduled"}),
                  Int(o, {"status", "numberAvailable"}),
                  OrNone(FormatLabelMap(At(o, {"spec", "template", "spec", "nodeSelector"}))),
                  Age(o, now),
                  c,
                  i,
                  FormatSelector(At(o, {"spec", "selector"}))};
        }};

    (*m)["Service"] = {{kNameColumn,
                        {"Type", "string", "How the service is exposed."},
                        {"Cluster-IP", "string", "Cluster-internal IP of the service."},
                        {"External-IP", "string", "External IPs of the service."},
                        {"Port(s)", "string", "Ports the service exposes."},
                        kAgeColumn,
                        {"Selector", "string", "Pods the service routes to.", 1}},
                       [](const json& o, Clock::time_point now) -> std::vector<json> {
                         return {Name(o),
                                 Str(o, {"spec", "type"}, "ClusterIP"),
                                 OrNone(Str(o, {"spec", "clusterIP"})),
                                 ServiceExternalIp(o),
                                 ServicePorts(o),
                                 Age(o, now),
                                 OrNone(FormatLabelMap(At(o, {"spec", "selector"})))};
                       }};

    (*m)["Endpoints"] = {
        {kNameColumn, {"Endpoints", "string", "Endpoint addresses and ports."}, kAgeColumn},
        [](const json& o, Clock::time_point now) -> std::vector<json> {
          return {Name(o), EndpointsCell(o), Age(o, now)};
        }};

    (*m)["EndpointSlice"] = {{kNameColumn,
                              {"AddressType", "string", "Type of the addresses in the slice."},
                              {"Ports", "string", "Ports of the slice."},
                              {"Endpoints", "string", "Addresses of the endpoints."},
                              kAgeColumn},
                             [](const json& o, Clock::time_point now) -> std::vector<json> {
                               std::vector<std::string> ports, addrs;
                               for (const json& p : Arr(o, {"ports"})) {
                                 auto n = OptInt(p, {"port"});
                                 ports.push_back(n ? std::to_string(*n) : "<unset>");
                               }
                               for (const json& e : Arr(o, {"endpoints"})) {
                                 for (const json& a : Arr(e, {"addresses"})) {
                                   if (a.is_string()) addrs.push_back(a.get<std::string>());
                                 }
                               }
                               return {Name(o), Str(o, {"addressType"}),
                                       FirstThree(ports, "<unset>"), FirstThree(addrs, "<unset>"),
                                       Age(o, now)};
                             }};

    (*m)["ConfigMap"] = {
        {kNameColumn, {"Data", "integer", "Number of keys in data and binaryData."}, kAgeColumn},
        [](const json& o, Clock::time_point now) -> std::vector<json> {
          return {Name(o), static_cast<int64_t>(MapSize(o, {"data"}) + MapSize(o, {"binaryData"})),
                  Age(o, now)};
        }};

    (*m)["Secret"] = {{kNameColumn,
                       {"Type", "string", "Type of the secret."},
                       {"Data", "integer", "Number of keys in data."},
                       kAgeColumn},
                      [](const json& o, Clock::time_point now) -> std::vector<json> {
                        return {Name(o), Str(o, {"type"}, "Opaque"),
                                static_cast<int64_t>(MapSize(o, {"data"})), Age(o, now)};
                      }};

    (*m)["Namespace"] = {{kNameColumn, {"Status", "string", "Phase of the namespace."}, kAgeColumn},
                         [](const json& o, Clock::time_point now) -> std::vector<json> {
                           return {Name(o), Str(o, {"status", "phase"}), Age(o, now)};
                         }};

    (*m)["Node"] = {{kNameColumn,
                     {"Status", "string", "Readiness of the node."},
                     {"Roles", "string", "Roles from the node-role.kubernetes.io/ labels."},
                     kAgeColumn,
                     {"Version", "string", "Kubelet version."},
                     {"Internal-IP", "string", "Internal address.", 1},
                     {"External-IP", "string", "External address.", 1},
                     {"OS-Image", "string", "Operating system image.", 1},
                     {"Kernel-Version", "string", "Kernel version.", 1},
                     {"Container-Runtime", "string", "Container runtime and version.", 1}},
                    [](const json& o, Clock::time_point now) -> std::vector<json> {
                      return {
                          Name(o),
                          NodeStatus(o),
                          NodeRoles(o),
                          Age(o, now),
                          Str(o, {"status", "nodeInfo", "kubeletVersion"}),
                          NodeAddress(o, "InternalIP"),
                          NodeAddress(o, "ExternalIP"),
                          Str(o, {"status", "nodeInfo", "osImage"}, "<unknown>"),
                          Str(o, {"status", "nodeInfo", "kernelVersion"}, "<unknown>"),
                          Str(o, {"status", "nodeInfo", "containerRuntimeVersion"}, "<unknown>")};
                    }};

    (*m)["Job"] = {{kNameColumn,
                    {"Status", "string", "Status of the job."},
                    {"Completions", "string", "Succeeded pods out of desired completions."},
                    {"Duration", "string", "Time the job took (or has been running)."},
                    kAgeColumn,
                    containers,
                    images,
                    selector},
                   [](const json& o, Clock::time_point now) -> std::vector<json> {
                     const json* spec = At(o, {"spec", "template", "spec"});
                     auto [c, i] = ContainersAndImages(spec != nullptr ? *spec : json::object());
                     return {Name(o),
                             JobStatus(o),
                             JobCompletions(o),
                             JobDuration(o, now),
                             Age(o, now),
                             c,
                             i,
                             FormatSelector(At(o, {"spec", "selector"}))};
                   }};

    (*m)["CronJob"] = {
        {kNameColumn,
         {"Schedule", "string", "Cron schedule."},
         {"Timezone", "string", "Time zone of the schedule."},
         {"Suspend", "boolean", "Whether new runs are suspended."},
         {"Active", "integer", "Running jobs."},
         {"Last Schedule", "string", "Time since the job was last scheduled."},
         kAgeColumn,
         containers,
         images,
         selector},
        [](const json& o, Clock::time_point now) -> std::vector<json> {
          const json* spec = At(o, {"spec", "jobTemplate", "spec", "template", "spec"});
          auto [c, i] = ContainersAndImages(spec != nullptr ? *spec : json::object());
          auto last = TimeAt(o, {"status", "lastScheduleTime"});
          return {Name(o),
                  Str(o, {"spec", "schedule"}),
                  OrNone(Str(o, {"spec", "timeZone"})),
                  BoolPtr(o, {"spec", "suspend"}),
                  static_cast<int64_t>(Arr(o, {"status", "active"}).size()),
                  last ? Since(last, now) : "<none>",
                  Age(o, now),
                  c,
                  i,
                  FormatSelector(At(o, {"spec", "jobTemplate", "spec", "selector"}))};
        }};

    (*m)["Event"] = {{{"Last Seen", "string", "Time since the event was last seen."},
                      {"Type", "string", "Type of the event (Normal, Warning)."},
                      {"Reason", "string", "Why the event happened."},
                      {"Object", "string", "The object the event is about."},
                      {"Subobject", "string", "Field path within the object.", 1},
                      {"Source", "string", "Component that reported the event.", 1},
                      {"Message", "string", "Human-readable description."},
                      {"First Seen", "string", "Time since the event was first seen.", 1},
                      {"Count", "integer", "Times the event happened.", 1},
                      {"Name", "string", "Name of the event object.", 1, "name"}},
                     [](const json& o, Clock::time_point now) -> std::vector<json> {
                       auto first = TimeAt(o, {"firstTimestamp"});
                       if (!first) first = TimeAt(o, {"eventTime"});
                       return {EventLastSeen(o, now),
                               Str(o, {"type"}),
                               Str(o, {"reason"}),
                               AsciiLower(Str(o, {"involvedObject", "kind"})) + "/" +
                                   Str(o, {"involvedObject", "name"}),
                               Str(o, {"involvedObject", "fieldPath"}),
                               EventSource(o),
                               Str(o, {"message"}),
                               Since(first, now),
                               Int(o, {"series", "count"}, Int(o, {"count"}, 1)),
                               Name(o)};
                     }};

    (*m)["Lease"] = {
        {kNameColumn, {"Holder", "string", "Current holder of the lease."}, kAgeColumn},
        [](const json& o, Clock::time_point now) -> std::vector<json> {
          return {Name(o), Str(o, {"spec", "holderIdentity"}), Age(o, now)};
        }};

    (*m)["ServiceAccount"] = {
        {kNameColumn, {"Secrets", "integer", "Number of secrets listed."}, kAgeColumn},
        [](const json& o, Clock::time_point now) -> std::vector<json> {
          return {Name(o), static_cast<int64_t>(Arr(o, {"secrets"}).size()), Age(o, now)};
        }};
    return m;
  }();
  return *printers;
}

const Printer& DefaultPrinter() {
  static const Printer p{
      {kNameColumn, {"Created At", "date", "Time the object was created.", 0, ""}},
      [](const json& o, Clock::time_point) -> std::vector<json> {
        return {Name(o), FormatRfc3339(TimeAt(o, {"metadata", "creationTimestamp"}))};
      }};
  return p;
}

// The Age cell of a custom resource, as the CRD table convertor fills a "date" column: null when
// the field is absent or not a string, "<invalid>" when it is not RFC 3339, "<unknown>" for ""
// or Go's zero time.
json CustomResourceAge(const json& o, Clock::time_point now) {
  const json* v = At(o, {"metadata", "creationTimestamp"});
  if (v == nullptr || !v->is_string()) return nullptr;
  const std::string& s = v->get_ref<const std::string&>();
  if (s.empty()) return "<unknown>";
  std::optional<Instant> t = ParseTime(s);
  if (!t) return "<invalid>";
  return Since(t, now);
}

const Printer& CustomResourcePrinter() {
  static const Printer p{{kNameColumn, {"Age", "date", "Time since the object was created."}},
                         [](const json& o, Clock::time_point now) -> std::vector<json> {
                           return {Name(o), CustomResourceAge(o, now)};
                         }};
  return p;
}

const Printer& PrinterFor(const ResourceInfo& info) {
  if (info.is_custom) return CustomResourcePrinter();
  // Only the kinds of the core, apps, batch, discovery and coordination groups have printers
  // here; a same-named kind in another group gets the default.
  static const std::vector<std::string> kPrintedGroups = {"", "apps", "batch", "discovery.k8s.io",
                                                          "coordination.k8s.io"};
  if (std::find(kPrintedGroups.begin(), kPrintedGroups.end(), info.gvr.group) !=
      kPrintedGroups.end()) {
    const auto& printers = BuiltinPrinters();
    if (auto it = printers.find(info.kind); it != printers.end()) return it->second;
  }
  return DefaultPrinter();
}

struct MediaType {
  std::string type;
  std::map<std::string, std::string> params;
};

std::vector<MediaType> ParseAccept(std::string_view accept) {
  std::vector<MediaType> out;
  for (size_t pos = 0; pos <= accept.size();) {
    size_t comma = std::min(accept.find(',', pos), accept.size());
    std::string_view entry = accept.substr(pos, comma - pos);
    MediaType m;
    bool first = true;
    for (size_t p = 0; p <= entry.size();) {
      size_t semi = std::min(entry.find(';', p), entry.size());
      std::string part = std::string(Trim(entry.substr(p, semi - p), kOptionalWhitespace));
      if (first) {
        m.type = part;
        first = false;
      } else if (size_t eq = part.find('='); eq != std::string::npos) {
        m.params[std::string(Trim(std::string_view(part).substr(0, eq), kOptionalWhitespace))] =
            Trim(std::string_view(part).substr(eq + 1), kOptionalWhitespace);
      }
      p = semi + 1;
    }
    out.push_back(std::move(m));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

bool AcceptsTable(std::string_view accept) {
  for (const MediaType& m : ParseAccept(accept)) {
    auto param = [&](const std::string& k) {
      auto it = m.params.find(k);
      return it == m.params.end() ? std::string() : it->second;
    };
    if (m.type == "application/json" && param("as") == "Table" && param("g") == "meta.k8s.io" &&
        (param("v") == "v1" || param("v") == "v1beta1")) {
      return true;
    }
  }
  return false;
}

Result<IncludeObject> ParseIncludeObject(std::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "None") return IncludeObject::kNone;
  if (value == "Object") return IncludeObject::kObject;
  return StatusFromHttp(400, "BadRequest",
                        "includeObject: Unsupported value: \"" + std::string(value) +
                            "\": supported values: \"Metadata\", \"None\", \"Object\"");
}

nlohmann::json BuildTable(const ResourceInfo& info, const std::vector<ObjectPtr>& objects,
                          IncludeObject include, bool column_definitions,
                          std::chrono::system_clock::time_point now) {
  const Printer& printer = PrinterFor(info);
  json columns = json::array();
  if (column_definitions) {
    for (const Column& c : printer.columns) {
      columns.push_back({{"name", c.name},
                         {"type", c.type},
                         {"format", c.format},
                         {"description", c.description},
                         {"priority", c.priority}});
    }
  }
  json rows = json::array();
  for (const ObjectPtr& obj : objects) {
    if (obj == nullptr) continue;
    json o = json::parse(obj->json(), nullptr, /*allow_exceptions=*/false);
    if (!o.is_object()) o = json::object();
    json row = {{"cells", printer.row(o, now)}};
    switch (include) {
      case IncludeObject::kNone:
        break;
      case IncludeObject::kMetadata: {
        const json* meta = At(o, {"metadata"});
        row["object"] = {{"kind", "PartialObjectMetadata"},
                         {"apiVersion", "meta.k8s.io/v1"},
                         {"metadata", meta != nullptr ? *meta : json::object()}};
        break;
      }
      case IncludeObject::kObject:
        row["object"] = std::move(o);
        break;
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", json::object()},
          {"columnDefinitions", std::move(columns)},
          {"rows", std::move(rows)}};
}

std::string HumanDuration(std::chrono::seconds d) {
  const int64_t secs = d.count();
  if (secs < -1) return "<invalid>";
  if (secs < 0) return "0s";
  if (secs < 120) return std::to_string(secs) + "s";
  const int64_t minutes = secs / 60;
  if (minutes < 10) {
    int64_t s = secs % 60;
    return std::to_string(minutes) + "m" + (s == 0 ? "" : std::to_string(s) + "s");
  }
  if (minutes < 3 * 60) return std::to_string(minutes) + "m";
  const int64_t hours = secs / 3600;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return std::to_string(hours) + "h" + (m == 0 ? "" : std::to_string(m) + "m");
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return std::to_string(hours / 24) + "d" + (h == 0 ? "" : std::to_string(h) + "h");
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t days = (hours / 24) % 365;
    return std::to_string(hours / 24 / 365) + "y" + (days == 0 ? "" : std::to_string(days) + "d");
  }
  return std::to_string(hours / 24 / 365) + "y";
}

}  // namespace kube::server

// A real controller on kube-informer: for every Deployment it keeps exactly `spec.replicas` Pods
// owned by it — the job kube-controller-manager splits between the Deployment and ReplicaSet
// controllers, folded into one for the example (no ReplicaSets, no rolling updates).
//
//   replica_controller [--kubeconfig PATH] [--workers N] [--leader-elect=true|false]
//                      [--id NAME] [--lease-namespace NS] [--lease-name NAME]
//                      [--lease-duration S] [--renew-deadline S] [--retry-period S]
//                      [--snapshot DIR]
//
// The pieces are client-go's (sample-controller and the ReplicaSet controller):
//   - informers on Deployments and Pods from one factory; handlers only enqueue keys
//     ("ns/name" of the Deployment; a Pod's key is its controlling Deployment's);
//   - a rate-limited workqueue of keys; workers sync one key at a time, `Forget` on success and
//     `AddRateLimited` on failure;
//   - expectations: after asking for N creations or deletions, a key is not synced again until
//     the informer has seen them (or 5 minutes pass), so a stale cache never causes over-creation;
//   - read-your-writes: the next sync of a key first waits (up to 2 s) until the informers'
//     caches reflect the resourceVersions its own last writes returned (the Pods it created, the
//     status it applied), so it reads its writes back from the listers instead of the server;
//     a wait that runs out falls back to the expectations and to a GET of the Deployment;
//   - Pods it creates: name `<deployment>-<5 random chars>` (generateName), labels from
//     `spec.template.metadata.labels`, spec from `spec.template.spec`, and an ownerReference to
//     the Deployment with `controller: true`; excess Pods are deleted (pending ones and the
//     newest first), with the Pod's uid as a precondition;
//   - `status.replicas` written back by server-side apply of the `status` subresource (field
//     manager `replica-controller`, forced: client-go's `ApplyStatus`), which owns just those
//     fields and needs no resourceVersion and no retry on 409 Conflict;
//   - Pods whose controlling Deployment is gone are deleted (the garbage collector's job, which
//     the embedded server lacks);
//   - leader election on the Lease `kube-system/replica-controller` (client-go's timings by
//     default; `--leader-elect=false` to run alone): workers run only while leading; a lost lease
//     ends the process with status 1 (client-go's examples exit too), SIGTERM/SIGINT releases it
//     and exits 0;
//   - metrics: SIGUSR1 prints the registry (workqueue_* for the queue, kube_informer_* for both
//     informers) in the Prometheus text format to stdout.
//
// Output: one line per action, flushed, e.g.
//   leading as host_1a2b...             new leader: host_1a2b...
//   sync default/web: 1 pods, want 3: creating 2
//   created pod default/web-x7k2q
//   deleted pod default/web-x7k2q
//
// Try it with `kinf serve --seed demo --write-kubeconfig /tmp/kc` and
// `replica_controller --kubeconfig /tmp/kc`, then `kubectl scale deploy web --replicas 5`
// (README.md walks through it).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "kube/config/kubeconfig.h"
#include "kube/informers/factory.h"
#include "kube/informers/informer_metrics.h"
#include "kube/informers/typed.h"
#include "kube/leaderelection/leader_elector.h"
#include "kube/metrics/metrics.h"
#include "kube/workqueue/workqueue.h"

namespace {

using namespace std::chrono_literals;  // NOLINT(build/namespaces)
using Clock = std::chrono::steady_clock;

// Handlers and workers print concurrently: keep lines whole.
void PrintLine(std::string_view text) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string Key(std::string_view ns, std::string_view name) {
  return std::string(ns) + "/" + std::string(name);
}

// The Deployment controlling `pod` (ownerReference with controller=true), if any.
const kube::OwnerReference* ControllerOf(const kube::TypedObject& pod) {
  for (const kube::OwnerReference& ref : pod.owner_references()) {
    if (ref.controller && ref.kind == "Deployment" && ref.api_version == "apps/v1") return &ref;
  }
  return nullptr;
}

// client-go's ControllerExpectations, reduced to counts: how many creations and deletions of a
// key's Pods are still to be seen by the informer. Thread-safe.
class Expectations {
 public:
  explicit Expectations(Clock::duration ttl = 5min) : ttl_(ttl) {}

  // Satisfied when nothing is pending, or the expectations are older than the TTL (an event was
  // lost; sync again rather than wait forever).
  bool Satisfied(const std::string& key) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = pending_.find(key);
    if (it == pending_.end()) return true;
    const Entry& e = it->second;
    return (e.adds <= 0 && e.dels <= 0) || Clock::now() - e.set > ttl_;
  }
  void Expect(const std::string& key, int adds, int dels) {
    std::lock_guard<std::mutex> l(mu_);
    pending_[key] = {adds, dels, Clock::now()};
  }
  void CreationObserved(const std::string& key) { Lower(key, 1, 0); }
  void DeletionObserved(const std::string& key) { Lower(key, 0, 1); }
  void Lower(const std::string& key, int adds, int dels) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    it->second.adds -= adds;
    it->second.dels -= dels;
  }
  void Forget(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    pending_.erase(key);
  }

 private:
  struct Entry {
    int adds = 0;
    int dels = 0;
    Clock::time_point set;
  };
  Clock::duration ttl_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> pending_;
};

// The resourceVersion of a key's last write of one kind, for read-your-writes: the next sync of
// the key waits until the informer's cache reflects it. One worker syncs a key at a time, so a
// key's writes come in order and the last one recorded is the newest. Thread-safe.
class WrittenVersions {
 public:
  void Record(const std::string& key, std::string_view rv) {
    if (rv.empty()) return;
    std::lock_guard<std::mutex> l(mu_);
    last_[key] = std::string(rv);
  }
  std::optional<std::string> Get(const std::string& key) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = last_.find(key);
    if (it == last_.end()) return std::nullopt;
    return it->second;
  }
  void Forget(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    last_.erase(key);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> last_;
};

// How long a sync waits for a cache to catch up with the controller's own last write before it
// falls back (expectations for Pods, a GET for the Deployment's status). Events usually arrive
// within milliseconds; a write the informer's watch cannot see (a selector) waits for a bookmark.
constexpr std::chrono::seconds kCatchUpTimeout{2};

class ReplicaController {
 public:
  ReplicaController(kube::SharedInformerFactory& factory, std::shared_ptr<kube::HttpClient> http,
                    std::shared_ptr<kube::metrics::Registry> registry)
      : deployments_(factory.Apps().V1().Deployments()),
        pods_(factory.Core().V1().Pods()),
        deploy_lister_(deployments_.Lister()),
        pod_lister_(pods_.Lister()),
        deploy_client_(http, kube::Deployment::kInfo.gvr()),
        pod_client_(http, kube::Pod::kInfo.gvr()),
        queue_(kube::workqueue::QueueOptions{.name = "replica_controller",
                                             .metrics = std::move(registry)}) {}

  // Registers the handlers. Call before the factory starts.
  kube::Status AddHandlers() {
    auto deploy_reg = deployments_.AddEventHandler(kube::TypedHandlerFuncs<kube::Deployment>{
        .add = [this](const kube::Deployment& d, bool) { Enqueue(d.key()); },
        .update = [this](const kube::Deployment&, const kube::Deployment& d) { Enqueue(d.key()); },
        .del =
            [this](const kube::TypedDeletedObject<kube::Deployment>& d) {
              expectations_.Forget(d.key());
              status_written_.Forget(d.key());
              Enqueue(d.key());
            }});
    if (!deploy_reg) return deploy_reg.error();
    auto pod_reg = pods_.AddEventHandler(kube::TypedHandlerFuncs<kube::Pod>{
        .add =
            [this](const kube::Pod& pod, bool) {
              if (const kube::OwnerReference* ref = ControllerOf(pod)) {
                std::string key = Key(pod.ns(), ref->name);
                expectations_.CreationObserved(key);
                Enqueue(key);
              }
            },
        .update =
            [this](const kube::Pod& old_pod, const kube::Pod& pod) {
              // A changed controller (or labels) concerns both the old and the new owner.
              if (const kube::OwnerReference* ref = ControllerOf(old_pod)) {
                Enqueue(Key(old_pod.ns(), ref->name));
              }
              if (const kube::OwnerReference* ref = ControllerOf(pod)) {
                Enqueue(Key(pod.ns(), ref->name));
              }
            },
        .del =
            [this](const kube::TypedDeletedObject<kube::Pod>& d) {
              if (const kube::OwnerReference* ref = ControllerOf(d.object())) {
                std::string key = Key(d.object().ns(), ref->name);
                expectations_.DeletionObserved(key);
                Enqueue(key);
              }
            }});
    if (!pod_reg) return pod_reg.error();
    registrations_ = {*deploy_reg, *pod_reg};
    return kube::Status();
  }

  // Runs `workers` workers until `stop`; then shuts the queue down and joins them. Once.
  void Run(int workers, std::stop_token stop) {
    std::vector<std::jthread> threads;
    for (int i = 0; i < workers; ++i) {
      threads.emplace_back([this] {
        while (ProcessNextWorkItem()) {
        }
      });
    }
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, stop, [] { return false; });
    queue_.ShutDown();
  }

 private:
  void Enqueue(std::string key) { queue_.Add(std::move(key)); }

  bool ProcessNextWorkItem() {
    std::optional<std::string> key = queue_.Get();
    if (!key) return false;
    kube::Status s = Sync(*key);
    if (s.ok()) {
      queue_.Forget(*key);
    } else {
      PrintLine("sync " + *key + " failed (retry " + std::to_string(queue_.NumRequeues(*key) + 1) +
                "): " + s.ToString());
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
    return true;
  }

  // Pods of namespace `ns` controlled by a Deployment named `name`, split into those owned by
  // `uid` and stale ones (an earlier Deployment of the same name). Pods being deleted are left out.
  void OwnedPods(const std::string& ns, const std::string& name, std::string_view uid,
                 std::vector<kube::Pod>* owned, std::vector<kube::Pod>* stale) const {
    for (kube::Pod& pod : pod_lister_.Pods(ns).List(kube::labels::Everything())) {
      const kube::OwnerReference* ref = ControllerOf(pod);
      if (ref == nullptr || ref->name != name || !pod.deletion_timestamp().empty()) continue;
      if (ref->uid == uid) {
        owned->push_back(std::move(pod));
      } else {
        stale->push_back(std::move(pod));
      }
    }
  }

  // Read-your-writes: waits until `informer`'s cache reflects the last version `written` records
  // for `key`. False when it does not within `kCatchUpTimeout` (or the versions cannot be
  // compared: a server whose resourceVersions are not numbers); the caller then falls back.
  template <typename Informer>
  static bool CatchUp(const Informer& informer, const WrittenVersions& written,
                      const std::string& key, std::string_view what) {
    std::optional<std::string> rv = written.Get(key);
    if (!rv) return true;
    kube::Status s = informer.WaitForResourceVersion(*rv, kCatchUpTimeout);
    if (s.ok()) return true;
    if (s.code() != kube::StatusCode::kCancelled) {
      PrintLine("sync " + key + ": the " + std::string(what) +
                " cache has not caught up with our " + "last write (" + s.message() +
                "); falling back");
    }
    return false;
  }

  kube::Status Sync(const std::string& key) {
    auto slash = key.find('/');
    std::string ns = key.substr(0, slash);
    std::string name = key.substr(slash + 1);
    // Our own last writes first: the Pods created for the key, its status. The listers read
    // below then reflect them (expectations stay the guard if the Pod cache lags anyway).
    CatchUp(pods_, pods_written_, key, "Pod");
    const bool status_fresh = CatchUp(deployments_, status_written_, key, "Deployment");
    kube::Result<kube::Deployment> deploy = deploy_lister_.Deployments(ns).Get(name);
    if (!deploy && !kube::IsNotFound(deploy.error())) return deploy.error();
    std::string uid = deploy ? std::string(deploy->uid()) : std::string();

    std::vector<kube::Pod> owned, stale;
    OwnedPods(ns, name, uid, &owned, &stale);
    if (!stale.empty()) {
      kube::Status s = DeletePods(key, stale, "its Deployment is gone");
      if (!s.ok()) return s;
    }
    if (!deploy) {
      expectations_.Forget(key);
      pods_written_.Forget(key);
      status_written_.Forget(key);
      return kube::Status();
    }
    if (!expectations_.Satisfied(key)) return kube::Status();  // the informer will requeue it

    const int64_t want = deploy->replicas();
    const int64_t have = static_cast<int64_t>(owned.size());
    kube::Status result;
    if (have < want) {
      PrintLine("sync " + key + ": " + std::to_string(have) + " pods, want " +
                std::to_string(want) + ": creating " + std::to_string(want - have));
      result = CreatePods(key, *deploy, static_cast<int>(want - have));
    } else if (have > want) {
      PrintLine("sync " + key + ": " + std::to_string(have) + " pods, want " +
                std::to_string(want) + ": deleting " + std::to_string(have - want));
      // Pending Pods and the newest go first (the ReplicaSet controller's ranking, shortened).
      std::sort(owned.begin(), owned.end(), [](const kube::Pod& a, const kube::Pod& b) {
        bool a_running = a.phase() == "Running", b_running = b.phase() == "Running";
        if (a_running != b_running) return !a_running;
        return a.creation_timestamp() > b.creation_timestamp();
      });
      owned.erase(owned.begin() + (have - want), owned.end());
      result = DeletePods(key, owned, "excess");
    }
    kube::Status status = UpdateStatus(key, ns, name, have, status_fresh ? &*deploy : nullptr);
    return result.ok() ? status : result;
  }

  kube::Status CreatePods(const std::string& key, const kube::Deployment& deploy, int n) {
    std::string labels = deploy.object()->GetJson("spec.template.metadata.labels").value_or("{}");
    std::string spec = deploy.object()->GetJson("spec.template.spec").value_or("{}");
    std::string body =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"generateName\":" +
        kube::JsonQuote(std::string(deploy.name()) + "-") +
        ",\"namespace\":" + kube::JsonQuote(deploy.ns()) + ",\"labels\":" + labels +
        ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"," +
        "\"name\":" + kube::JsonQuote(deploy.name()) + ",\"uid\":" + kube::JsonQuote(deploy.uid()) +
        ",\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":" + spec + "}";
    expectations_.Expect(key, n, 0);
    kube::Status first_error;
    for (int i = 0; i < n; ++i) {
      kube::Result<kube::ObjectPtr> pod = pod_client_.Create(std::string_view(body));
      if (!pod) {
        expectations_.CreationObserved(key);  // it will never be seen
        if (first_error.ok()) first_error = pod.error().WithContext("creating a pod for " + key);
        continue;
      }
      pods_written_.Record(key, (*pod)->resource_version());
      PrintLine("created pod " + Key((*pod)->ns(), (*pod)->name()));
    }
    return first_error;
  }

  kube::Status DeletePods(const std::string& key, const std::vector<kube::Pod>& pods,
                          std::string_view why) {
    expectations_.Expect(key, 0, static_cast<int>(pods.size()));
    kube::Status first_error;
    for (const kube::Pod& pod : pods) {
      kube::Status s = pod_client_.InNamespace(std::string(pod.ns()))
                           .Delete(pod.name(), {.precondition_uid = std::string(pod.uid())});
      if (!s.ok() && !kube::IsNotFound(s)) {
        expectations_.DeletionObserved(key);
        if (first_error.ok()) first_error = s.WithContext("deleting pod " + pod.key());
        continue;
      }
      PrintLine("deleted pod " + pod.key() + " (" + std::string(why) + ")");
    }
    return first_error;
  }

  // Writes `status.replicas` (and observedGeneration) unless it already says so, by server-side
  // apply of the status subresource: the controller owns exactly these status fields (field
  // manager "replica-controller", forced, as client-go's ApplyStatus from a controller), so the
  // write needs no resourceVersion and no retry on 409 Conflict. `cached` is the Deployment from
  // the lister when its cache reflects our last status write (read-your-writes); otherwise
  // (null) the Deployment is read from the server.
  kube::Status UpdateStatus(const std::string& key, const std::string& ns, const std::string& name,
                            int64_t replicas, const kube::Deployment* cached) {
    kube::ResourceClient client = deploy_client_.InNamespace(ns);
    std::optional<kube::Deployment> fresh;
    if (cached != nullptr) {
      fresh = *cached;
    } else {
      kube::Result<kube::ObjectPtr> got = client.Get(name);
      if (!got) return kube::IsNotFound(got.error()) ? kube::Status() : got.error();
      fresh.emplace(*got);
    }
    const kube::Deployment& d = *fresh;
    if (d.status_replicas() == replicas && d.updated_replicas() == replicas &&
        d.observed_generation() == d.generation()) {
      return kube::Status();
    }
    std::string body =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":" +
        kube::JsonQuote(name) + ",\"namespace\":" + kube::JsonQuote(ns) +
        "},\"status\":{\"replicas\":" + std::to_string(replicas) +
        ",\"updatedReplicas\":" + std::to_string(replicas) +
        ",\"observedGeneration\":" + std::to_string(d.generation()) + "}}";
    kube::Result<kube::ObjectPtr> applied =
        client.Apply(body, {.field_manager = "replica-controller", .force = true}, "status");
    if (!applied) {
      if (kube::IsNotFound(applied.error())) return kube::Status();
      return applied.error().WithContext("applying the status of " + ns + "/" + name);
    }
    status_written_.Record(key, (*applied)->resource_version());
    return kube::Status();
  }

  kube::DeploymentInformer deployments_;
  kube::PodInformer pods_;
  kube::DeploymentLister deploy_lister_;
  kube::PodLister pod_lister_;
  kube::ResourceClient deploy_client_;
  kube::ResourceClient pod_client_;
  kube::workqueue::RateLimitingQueue<std::string> queue_;
  Expectations expectations_;
  WrittenVersions pods_written_;    // per Deployment key: the newest Pod it created
  WrittenVersions status_written_;  // per Deployment key: its last status apply
  std::vector<kube::RegistrationPtr> registrations_;
};

struct Flags {
  std::string kubeconfig;
  int workers = 2;
  bool leader_elect = true;
  std::string id;
  std::string lease_namespace = "kube-system";
  std::string lease_name = "replica-controller";
  double lease_duration = 15;
  double renew_deadline = 10;
  double retry_period = 2;
  std::string snapshot;  // --snapshot DIR: warm restarts of the informers' caches
};

const char kUsage[] =
    "usage: %s [--kubeconfig PATH] [--workers N] [--leader-elect=true|false] [--id NAME]\n"
    "          [--lease-namespace NS] [--lease-name NAME] [--lease-duration S]\n"
    "          [--renew-deadline S] [--retry-period S] [--snapshot DIR]\n";

// `--name VALUE`, `--name=VALUE`, `-name ...`; a bare `--leader-elect` means true.
bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t dashes = arg.find_first_not_of('-');
    if (dashes == 0 || dashes == std::string::npos) {
      std::fprintf(stderr, "%s: bad argument %s\n", argv[0], arg.c_str());
      return false;
    }
    std::string name = arg.substr(dashes), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "h" || name == "help") {
      std::printf(kUsage, argv[0]);
      std::exit(0);
    }
    if (name == "leader-elect" && !has_value) {
      f->leader_elect = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value\n", argv[0], arg.c_str());
        return false;
      }
      value = argv[++i];
    }
    try {
      if (name == "kubeconfig") {
        f->kubeconfig = value;
      } else if (name == "workers") {
        f->workers = std::max(1, std::stoi(value));
      } else if (name == "leader-elect") {
        f->leader_elect = value == "true" || value == "1";
      } else if (name == "id") {
        f->id = value;
      } else if (name == "lease-namespace") {
        f->lease_namespace = value;
      } else if (name == "lease-name") {
        f->lease_name = value;
      } else if (name == "lease-duration") {
        f->lease_duration = std::stod(value);
      } else if (name == "renew-deadline") {
        f->renew_deadline = std::stod(value);
      } else if (name == "retry-period") {
        f->retry_period = std::stod(value);
      } else if (name == "snapshot") {
        f->snapshot = value;
      } else {
        std::fprintf(stderr, "%s: unknown flag %s\n", argv[0], arg.c_str());
        return false;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "%s: bad value for %s: %s\n", argv[0], name.c_str(), value.c_str());
      return false;
    }
  }
  return true;
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// How the process ends: the first reason wins.
class ExitLatch {
 public:
  void Set(int code, std::string why) {
    std::lock_guard<std::mutex> l(mu_);
    if (code_) return;
    code_ = code;
    why_ = std::move(why);
    cv_.notify_all();
  }
  int Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return code_.has_value(); });
    if (!why_.empty()) PrintLine(why_);
    return *code_;
  }
  bool set() const {
    std::lock_guard<std::mutex> l(mu_);
    return code_.has_value();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<int> code_;
  std::string why_;
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  const char* home = std::getenv("HOME");
  flags.kubeconfig = home != nullptr ? std::string(home) + "/.kube/config" : "";
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr, kUsage, argv[0]);
    return 2;
  }

  // Every library thread inherits this mask, so only the signal thread below gets them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kube::Result<kube::RestConfig> config = kube::InClusterOrKubeconfig(flags.kubeconfig);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().ToString().c_str());
    return 1;
  }
  kube::Result<std::shared_ptr<kube::HttpClient>> http = kube::MakeCurlHttpClient(*config);
  if (!http) {
    std::fprintf(stderr, "%s\n", http.error().ToString().c_str());
    return 1;
  }

  auto registry = std::make_shared<kube::metrics::Registry>();
  // With --snapshot, the Deployments' and Pods' caches are kept in DIR and a restarted controller
  // resumes its watches without listing; the snapshot's objects are adds like a list's, so the
  // controller reconciles each once, as after a list.
  auto factory = kube::SharedInformerFactory::Create(
      *http, {.default_resync = 30s, .snapshot_dir = flags.snapshot});
  ReplicaController controller(*factory, *http, registry);
  if (kube::Status s = controller.AddHandlers(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<kube::metrics::CollectorHandle> informer_metrics = kube::metrics::RegisterFactory(
      *registry, *factory, {kube::Deployment::kInfo.gvr(), kube::Pod::kInfo.gvr()});

  // SIGUSR1 prints the metrics; SIGINT/SIGTERM end the process (and a cache sync still waiting
  // for an unreachable server).
  ExitLatch exit_latch;
  std::atomic<bool> synced{false};
  std::atomic<bool> signal_thread_done{false};
  std::thread signal_thread([&] {
    while (true) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig == SIGUSR1) {
        PrintLine(registry->Render());
        continue;
      }
      exit_latch.Set(0, "");
      if (!synced) factory->Shutdown();
      signal_thread_done = true;
      return;
    }
  });
  auto finish = [&](int code) {
    if (!exit_latch.set()) exit_latch.Set(code, "");
    if (!signal_thread_done) pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    factory->Shutdown();
    return code;
  };

  factory->Start();
  // Caches first, as client-go controllers do: a worker must never act on a partial cache.
  for (const auto& [gvr, ok] : factory->WaitForCacheSync(std::chrono::hours(24 * 365))) {
    if (!ok) {
      if (exit_latch.set()) return finish(0);
      std::fprintf(stderr, "timed out waiting for caches to sync\n");
      return finish(1);
    }
  }
  synced = true;
  PrintLine("caches synced");

  std::unique_ptr<kube::LeaderElector> elector;
  std::jthread solo;
  std::atomic<bool> stopping{false};
  if (flags.leader_elect) {
    std::string id = flags.id.empty() ? kube::DefaultLeaderIdentity() : flags.id;
    auto lock = kube::LeaseLock::Create(*http, flags.lease_namespace, flags.lease_name, id);
    if (!lock) {
      std::fprintf(stderr, "%s\n", lock.error().ToString().c_str());
      return finish(1);
    }
    auto created = kube::LeaderElector::Create({
        .lock = *lock,
        .lease_duration = Millis(flags.lease_duration),
        .renew_deadline = Millis(flags.renew_deadline),
        .retry_period = Millis(flags.retry_period),
        .callbacks = {.on_started_leading =
                          [&, id](std::stop_token stop) {
                            PrintLine("leading as " + id);
                            controller.Run(flags.workers, stop);
                          },
                      .on_stopped_leading =
                          [&] {
                            if (!stopping) exit_latch.Set(1, "leader election lost");
                          },
                      .on_new_leader =
                          [](const std::string& who) {
                            if (!who.empty()) PrintLine("new leader: " + who);
                          }},
        .release_on_cancel = true,
    });
    if (!created) {
      std::fprintf(stderr, "%s\n", created.error().ToString().c_str());
      return finish(2);
    }
    elector = std::move(created).value();
    PrintLine("waiting for the lease " + (*lock)->Describe() + " as " + id);
    elector->Start();
  } else {
    solo = std::jthread([&](std::stop_token stop) { controller.Run(flags.workers, stop); });
  }

  int code = exit_latch.Wait();
  stopping = true;
  if (elector) elector->Stop();  // ends the workers, then releases the lease
  solo = std::jthread();         // requests stop and joins
  return finish(code);
}

// The classic client-go Deployment informer example, ported to kube-informer: watch the cluster's
// Deployments through a shared informer, print every add, update and delete, then list the
// `default` namespace from the informer's cache, and keep watching until SIGINT or SIGTERM.
//
//   deployment_informer [--kubeconfig PATH] [--snapshot DIR]
//
// With --snapshot, the informer keeps its cache in DIR (written every 60 s and at exit) and the
// next run starts from it: the watch resumes where the last run stopped, without listing, and the
// snapshot's Deployments print as `add a deployment (snapshot): NAME` (docs/informers.md, "Warm
// restarts from a snapshot").
//
// Configuration as client-go's example finds it: the pod's service account when running in a
// cluster, else the kubeconfig at --kubeconfig (default ~/.kube/config). Try it against the
// embedded server: `kinf serve --seed demo --churn 2 --write-kubeconfig /tmp/kc` then
// `deployment_informer --kubeconfig /tmp/kc`.
//
// Output, one line each, flushed as printed (handler lines may interleave with the list, as in
// client-go: the cache has synced when the list is printed, but handlers run on their own):
//   add a deployment: NAME
//   update deployment: OLD_NAME NEW_NAME    (also every 30 s per Deployment: the resync)
//   delete a deployment: NAME
//   1 -> NAME
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "kube/client/http_client.h"
#include "kube/config/kubeconfig.h"
#include "kube/informers/factory.h"
#include "kube/informers/typed.h"

namespace {

// Handlers run on library threads while main prints the list: keep lines whole.
void PrintLine(std::string_view text) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void OnAdd(const kube::Deployment& deploy, bool /*is_in_initial_list*/) {
  PrintLine("add a deployment: " + std::string(deploy.name()));
}

void OnUpdate(const kube::Deployment& old_deploy, const kube::Deployment& new_deploy) {
  PrintLine("update deployment: " + std::string(old_deploy.name()) + " " +
            std::string(new_deploy.name()));
}

void OnSnapshotAdd(const kube::Deployment& deployment) {
  PrintLine("add a deployment (snapshot): " + std::string(deployment.name()));
}

void OnDelete(const kube::TypedDeletedObject<kube::Deployment>& deleted) {
  PrintLine("delete a deployment: " + std::string(deleted.object().name()));
}

// Go's flag package: `-kubeconfig PATH`, `--kubeconfig PATH`, `--kubeconfig=PATH`; the same for
// `--snapshot`. Returns false (after printing why) on anything else.
bool ParseFlags(int argc, char** argv, std::string* kubeconfig, std::string* snapshot) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg.substr(
        arg.find_first_not_of('-') == std::string::npos ? arg.size() : arg.find_first_not_of('-'));
    if (name == "h" || name == "help") {
      std::printf("usage: %s [--kubeconfig PATH] [--snapshot DIR]\n", argv[0]);
      std::exit(0);
    }
    if (name.rfind("kubeconfig=", 0) == 0) {
      *kubeconfig = name.substr(std::string_view("kubeconfig=").size());
    } else if (name == "kubeconfig" && i + 1 < argc) {
      *kubeconfig = argv[++i];
    } else if (name.rfind("snapshot=", 0) == 0) {
      *snapshot = name.substr(std::string_view("snapshot=").size());
    } else if (name == "snapshot" && i + 1 < argc) {
      *snapshot = argv[++i];
    } else {
      std::fprintf(stderr, "%s: bad argument %s\nusage: %s [--kubeconfig PATH] [--snapshot DIR]\n",
                   argv[0], arg.c_str(), argv[0]);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* home = std::getenv("HOME");
  std::string kubeconfig = home != nullptr ? std::string(home) + "/.kube/config" : "";
  std::string snapshot;
  if (!ParseFlags(argc, argv, &kubeconfig, &snapshot)) return 2;

  // Block the stop signals before any thread starts, so that every library thread inherits the
  // mask and only `signal_thread` below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // In the cluster first, then the kubeconfig.
  kube::Result<kube::RestConfig> config = kube::InClusterOrKubeconfig(kubeconfig);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().ToString().c_str());
    return 1;
  }
  kube::Result<std::shared_ptr<kube::HttpClient>> client = kube::MakeCurlHttpClient(*config);
  if (!client) {
    std::fprintf(stderr, "%s\n", client.error().ToString().c_str());
    return 1;
  }

  auto factory = kube::SharedInformerFactory::Create(
      *client, {.default_resync = std::chrono::seconds(30), .snapshot_dir = snapshot});
  kube::DeploymentInformer deployment_informer = factory->Apps().V1().Deployments();
  kube::DeploymentLister deploy_lister = deployment_informer.Lister();
  kube::Result<kube::RegistrationPtr> registration =
      deployment_informer.AddEventHandler(kube::TypedHandlerFuncs<kube::Deployment>{
          .add = OnAdd, .update = OnUpdate, .del = OnDelete, .snapshot_add = OnSnapshotAdd});
  if (!registration) {
    std::fprintf(stderr, "%s\n", registration.error().ToString().c_str());
    return 1;
  }

  // The stop channel: a signal shuts the factory down, which also ends a cache sync still
  // waiting for an unreachable server.
  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stopping = true;
    factory->Shutdown();
  });
  auto stop = [&](int code) {
    if (!stopping) pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    return code;
  };

  factory->Start();
  // client-go's example waits without a deadline; a year stands for that here.
  for (const auto& [gvr, synced] : factory->WaitForCacheSync(std::chrono::hours(24 * 365))) {
    if (!synced) {
      if (stopping) return stop(0);
      std::fprintf(stderr, "timed out waiting for caches to sync\n");
      return stop(1);
    }
  }

  std::vector<kube::Deployment> deployments =
      deploy_lister.Deployments("default").List(kube::labels::Everything());
  for (size_t i = 0; i < deployments.size(); ++i) {
    PrintLine(std::to_string(i + 1) + " -> " + std::string(deployments[i].name()));
  }

  signal_thread.join();  // until SIGINT or SIGTERM; the factory is then shut down
  return 0;
}

// What kinf's client commands (get, watch, sync) share: kubectl-style flags, the connection to
// the API server, the resource named on the command line, and a factory over it.
//
// Reads from: argv, kubeconfig files / in-cluster config, the server's discovery documents.
// Feeds: get.cc, watch.cc, sync.cc.
#ifndef KUBE_TOOLS_KINF_CLIENT_FLAGS_H_
#define KUBE_TOOLS_KINF_CLIENT_FLAGS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kinf/flags.h"
#include "kube/client/http_client.h"
#include "kube/group_version.h"
#include "kube/informers/factory.h"
#include "kube/object.h"
#include "kube/status.h"

namespace kinf {

struct ClientFlags {
  std::string resource;         // RESOURCE: plural, singular, short name, or resource.group
  std::string ns;               // -n/--namespace; "" = the kubeconfig context's, else "default"
  bool all_namespaces = false;  // -A/--all-namespaces
  std::string selector;         // -l/--selector: a label selector, applied by the server
  std::string kubeconfig;       // --kubeconfig; "" = $KUBECONFIG or ~/.kube/config
  std::string server;           // --server: overrides the kubeconfig's server
  bool protobuf = true;         // --protobuf: read built-in kinds as protobuf (false: JSON only)
  // --snapshot DIR: keep the informer's cache snapshot there (warm restarts); "" = none. Only the
  // informer commands (get, watch, sync) register it.
  std::string snapshot_dir;
  double snapshot_interval_seconds = 60;  // --snapshot-interval
};

// Parses `kinf <command> RESOURCE [flags]`. RESOURCE may come anywhere; short flags (`-n NS`,
// `-nNS`, `-A`, `-l SEL`) are accepted as kubectl spells them. `extra` registers the command's
// own flags on the FlagSet; `extra_value_flags` names those that take a value, with their
// one-letter form or '\0' (`{'o', "output"}`, `{'\0', "for"}`).
// Returns nullopt to go on, else the exit code to return at once (0 after --help, 2 for bad
// usage, with the reason printed).
std::optional<int> ParseClientFlags(
    const std::string& command, const std::vector<std::string>& args, ClientFlags* flags,
    const std::function<void(FlagSet&)>& extra = nullptr,
    const std::vector<std::pair<char, std::string>>& extra_value_flags = {});

// The resource a command works on, and how to reach it.
struct Target {
  std::shared_ptr<kube::HttpClient> client;
  kube::GroupVersionResource gvr;
  std::string kind;  // "Deployment"
  bool namespaced = true;
  // The namespace to cache: "" for all namespaces (-A) or a cluster-scoped resource.
  std::string ns;
};

// Builds the client (--server/--kubeconfig, else in-cluster, else the default kubeconfig) and
// resolves RESOURCE through the server's discovery; when discovery cannot be read, through the
// built-in kinds (`kube::TypedKinds()`) or a `resource.version.group` spelling. Errors: the
// configuration's, the discovery's (kNotFound `the server doesn't have a resource type "x"`).
kube::Result<Target> ResolveTarget(const ClientFlags& flags);

// A factory caching `target` in its namespace, with `flags.selector` applied to list and watch.
std::unique_ptr<kube::SharedInformerFactory> MakeFactory(const Target& target,
                                                         const ClientFlags& flags);

// `namespace/name`, or `name` for a cluster-scoped object.
std::string ObjectKey(const kube::Object& obj);

// Prints `kinf <command>: <message>` on stderr.
void PrintError(const std::string& command, const std::string& message);

}  // namespace kinf

#endif  // KUBE_TOOLS_KINF_CLIENT_FLAGS_H_

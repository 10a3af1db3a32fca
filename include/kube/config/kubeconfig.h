// Kubeconfig and in-cluster configuration: where a client finds its API server and credentials.
//
// Reads from: kubeconfig files (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`), the pod's
// service-account folder and `KUBERNETES_SERVICE_HOST`/`_PORT`.
// Feeds: `RestConfig` (config/rest_config.h), which the HTTP transport turns into TLS settings and
// headers.
// client-go: tools/clientcmd (loader.go, client_config.go, validation.go, api/v1/types.go) and
// rest.InClusterConfig (rest/config.go).
//
// Typical use, the order of client-go's examples (in the pod first, else the `--kubeconfig` flag):
//
//   kube::Result<kube::RestConfig> config = kube::InClusterOrKubeconfig(flags.kubeconfig);
//   if (!config) { std::cerr << config.error() << "\n"; return 1; }
//
// Errors from this file name the file and the field at fault ("kubeconfig /home/a/.kube/config:7:
// users[0].user.client-key-data (user \"alice\"): not valid base64 at byte 12") and never contain a
// credential: tokens, passwords, keys and `*-data` values are never echoed.
//
// Thread-safety: every function is thread-safe, but reads the environment (`HOME`, `KUBECONFIG`,
// ...), so it must not race with `setenv`. Every function blocks on file reads only; none runs an
// exec plugin (the transport does that later, see config/exec_credential.h).
#ifndef KUBE_CONFIG_KUBECONFIG_H_
#define KUBE_CONFIG_KUBECONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/config/rest_config.h"
#include "kube/status.h"

namespace kube {

// --- The kubeconfig model (clientcmd/api) ------------------------------------------------------
// These mirror the file's stanzas. `*_data` fields hold decoded bytes (PEM), never base64. Paths
// are as written in the file after `ParseKubeconfig`, and absolute after `LoadKubeconfigFiles`.

// `clusters[].cluster`.
struct KubeconfigCluster {
  std::string server;
  std::string certificate_authority;       // a file
  std::string certificate_authority_data;  // PEM
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
  bool disable_compression = false;
  std::string location_of_origin;  // the file this entry came from
  int line = 0;                    // 1-based line of the entry in that file; 0 if unknown
};

// `users[].user` (client-go's AuthInfo).
struct KubeconfigUser {
  std::string client_certificate;       // a file
  std::string client_certificate_data;  // PEM
  std::string client_key;               // a file
  std::string client_key_data;          // PEM
  std::string token;
  std::string token_file;
  std::string username;
  std::string password;
  std::string impersonate;  // `as`
  std::string impersonate_uid;
  std::vector<std::string> impersonate_groups;
  std::optional<ExecConfig> exec;
  bool has_auth_provider = false;  // `auth-provider` is present (not supported: use exec)
  std::string location_of_origin;
  int line = 0;
};

// `contexts[].context`.
struct KubeconfigContext {
  std::string cluster;
  std::string user;
  std::string ns;  // `namespace`
  std::string location_of_origin;
  int line = 0;
};

// One file, or several merged by kubectl's rules. Maps are keyed by the entry's `name`.
struct Kubeconfig {
  std::string current_context;
  std::map<std::string, KubeconfigCluster> clusters;
  std::map<std::string, KubeconfigUser> users;
  std::map<std::string, KubeconfigContext> contexts;
  // The files read, in precedence order, and the ones skipped because they do not exist.
  std::vector<std::string> files;
  std::vector<std::string> missing_files;
};

// Parses one kubeconfig (YAML or JSON). `path` is only used in error messages and as each entry's
// `location_of_origin`; relative paths inside are kept as written. An empty document is an empty
// config. Unknown fields are ignored, as client-go does.
// Errors (kInvalidArgument, naming `path`, the line and the field): malformed YAML, a field of the
// wrong type, bad base64 in a `*-data` field, `apiVersion` other than v1 or `kind` other than
// Config, an entry without a name, two entries of one list with the same name.
Result<Kubeconfig> ParseKubeconfig(std::string_view text, std::string_view path);

// What to load and what to override: kubectl's `--kubeconfig`, `--context`, `--cluster`, `--user`
// and `--server` flags.
struct KubeconfigOptions {
  // Load only this file, which must exist. Empty: `$KUBECONFIG` (a ':'-separated list) when set
  // and non-empty, else `$HOME/.kube/config`.
  std::string explicit_path = {};
  std::string context = {};  // "" = the merged `current-context`
  std::string cluster = {};  // "" = the context's cluster
  std::string user = {};     // "" = the context's user
  // "" = the cluster's server. Setting it also drops the kubeconfig's `tls-server-name`, as
  // kubectl does for `--server`.
  std::string server = {};
};

// The files `LoadKubeconfigFiles` reads, in precedence order: `{explicit_path}`, else the
// `$KUBECONFIG` entries (empty ones dropped, duplicates removed), else `$HOME/.kube/config` (none
// when `HOME` is unset). Does not touch the file system.
std::vector<std::string> KubeconfigLoadingPrecedence(const KubeconfigOptions& options = {});

// Reads and merges the files of `KubeconfigLoadingPrecedence` as client-go's loading rules do:
// - missing files are skipped (recorded in `missing_files`), except an explicit path, which must
//   exist (kNotFound naming it);
// - for `clusters`, `users` and `contexts` the first file to define a name wins, whole: a later
//   file's entry of the same name is ignored, even its fields the first one lacks;
// - `current-context` comes from the first file that sets it;
// - relative paths inside a file (`certificate-authority`, `client-certificate`, `client-key`,
//   `tokenFile`, and an exec `command` containing '/') are made absolute against that file's
//   folder.
// No file at all is not an error here (an empty `Kubeconfig`). Referenced files are not read.
// Errors: a file that exists but cannot be read (kInvalidArgument, or kNotFound for a missing
// explicit path) or fails `ParseKubeconfig`.
Result<Kubeconfig> LoadKubeconfigFiles(const KubeconfigOptions& options = {});

// Builds the RestConfig of one context of a (merged) kubeconfig: the context named by
// `options.context` or `current-context`, its cluster and user (or `options.cluster`/`.user`), and
// `options.server` if set. Reads the files the chosen entries name (CA, client certificate and
// key into the `*_data` fields, keeping the file names; `tokenFile`, whitespace-trimmed, into
// `bearer_token`, keeping `bearer_token_file` so the transport re-reads it when it rotates).
//
// Follows client-go where it matters:
// - user credentials are applied only when the server URL is https (client-go's "only try to read
//   the auth information if we are secure"): an http:// server gets none of them;
// - `token` wins over `tokenFile` (both kept), `-data` fields conflict with their file fields;
// - exec `interactiveMode` defaults to IfAvailable for v1beta1 and is required for v1.
// Differs from kubectl, to fail early and clearly: a context whose user does not exist is an error
// (kubectl goes on without credentials), and `server` must have a scheme.
//
// Errors (kInvalidArgument unless said, naming the file the entry came from and the field): no
// context chosen and no `options.server` (kNotFound, listing the files looked at); the context,
// its cluster or user missing (kNotFound); no server; a server or proxy-url that does not parse or
// has another scheme than http/https (socks5 too for the proxy); certificate-authority with
// certificate-authority-data, or either with insecure-skip-tls-verify; client-certificate with
// client-certificate-data (or key likewise), a certificate without a key; token with
// username/password; a referenced file that cannot be read; `auth-provider`; an exec stanza
// without command, with an unknown apiVersion, an env entry without name or a bad
// interactiveMode.
Result<RestConfig> RestConfigFromKubeconfig(const Kubeconfig& kubeconfig,
                                            const KubeconfigOptions& options = {});

// `LoadKubeconfigFiles` then `RestConfigFromKubeconfig`: what kubectl does with its flags. When no
// kubeconfig exists but `options.server` is set, returns a config with that server only.
// `source` reads "kubeconfig <file>, context <name>".
Result<RestConfig> LoadKubeconfig(const KubeconfigOptions& options = {});

// --- In-cluster ---------------------------------------------------------------------------------

// Where the pod's service account is mounted.
struct InClusterOptions {
  // The folder holding `token` and `ca.crt`. Empty: `$KUBE_INFORMER_SERVICEACCOUNT_DIR` when set
  // and non-empty (for tests and unusual mounts), else
  // /var/run/secrets/kubernetes.io/serviceaccount.
  std::string service_account_dir = {};
};

// client-go's rest.InClusterConfig: server
// `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (an IPv6 host in brackets), the token
// read now into `bearer_token` and its path in `bearer_token_file` (so the transport picks up the
// kubelet's rotations), the CA from `ca.crt`. As in client-go, an unreadable `ca.crt` is not an
// error: `ca_data` stays empty (the system trust store) and `source` says why ("in-cluster (no CA:
// ...)"). Errors: kUnavailable "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST
// and KUBERNETES_SERVICE_PORT must be defined" when either is unset or empty (not in a pod);
// kUnavailable naming the file when the token cannot be read.
Result<RestConfig> InClusterConfig(const InClusterOptions& options = {});

// client-go's clientcmd.BuildConfigFromFlags: when both arguments are empty, in-cluster, falling
// back on any in-cluster error to the default loading rules; otherwise `LoadKubeconfig` with
// `explicit_path = kubeconfig_path` and `server = master_url`.
// Errors: as `LoadKubeconfig`.
Result<RestConfig> BuildConfigFromFlags(std::string_view master_url,
                                        std::string_view kubeconfig_path);

// The order of client-go's examples: in-cluster first; on any in-cluster error the kubeconfig at
// `kubeconfig_path`, or `$HOME/.kube/config` when it is empty (an explicit path either way: it
// must exist). Errors: the kubeconfig's error, with the in-cluster error appended.
Result<RestConfig> InClusterOrKubeconfig(std::string_view kubeconfig_path);

}  // namespace kube

#endif  // KUBE_CONFIG_KUBECONFIG_H_

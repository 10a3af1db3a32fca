// Exec credential plugins: credentials produced by running a command named in the kubeconfig
// (`users[].user.exec`), as cloud providers' CLIs do (aws eks get-token, gke-gcloud-auth-plugin,
// kubelogin, ...).
//
// Reads from: `ExecConfig` and the cluster fields of a `RestConfig` (config/kubeconfig.h).
// Feeds: the HTTP transport, which asks an `ExecCredentialProvider` for a token or client
// certificate before a request and invalidates it after a 401.
// client-go: plugin/pkg/client/auth/exec/exec.go, pkg/apis/clientauthentication (ExecCredential).
//
// The protocol: the command runs without a shell, with the kubeconfig's args, the process
// environment plus the kubeconfig's env, and `KUBERNETES_EXEC_INFO` holding an ExecCredential
// whose `spec.interactive` is false (and `spec.cluster` when `provideClusterInfo` is set). Its
// stdin is /dev/null: kube-informer never runs a plugin interactively. It prints an
// ExecCredential of the same apiVersion with `status.token`, or
// `status.clientCertificateData` + `status.clientKeyData`, and optionally
// `status.expirationTimestamp` (RFC 3339).
//
// Unlike client-go, the plugin's stderr is captured rather than passed through, and its tail goes
// into the error when the plugin fails. Credentials never appear in errors: a failed plugin's
// stdout is never quoted, and exec env values are never printed.
#ifndef KUBE_CONFIG_EXEC_CREDENTIAL_H_
#define KUBE_CONFIG_EXEC_CREDENTIAL_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "kube/config/rest_config.h"
#include "kube/status.h"

namespace kube {

struct ExecPluginOptions {
  // The plugin (its whole process group) is killed after this long.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  // Stdout beyond this is an error (the plugin is killed).
  size_t max_output_bytes = size_t{1} << 20;
};

// Runs the plugin once and returns its credential. `cluster` supplies `spec.cluster` (server,
// certificate-authority-data, insecure-skip-tls-verify, tls-server-name, proxy-url) when
// `exec.provide_cluster_info` is set; its user fields are ignored.
//
// Blocks until the plugin exits and closes its output, or `options.timeout` passes. Thread-safe
// (each call runs its own process), but reads the process environment, so it must not race with
// `setenv`.
// Errors, each naming the command (never its args or env values):
// - kInvalidArgument: `exec.api_version` is not client.authentication.k8s.io/v1 or v1beta1;
//   `interactive_mode` is Always (no terminal is ever given); the command cannot be found or run
//   (with the kubeconfig's `installHint` appended); the output is not an ExecCredential of the
//   configured apiVersion, lacks `status`, has neither token nor certificate and key, only one of
//   certificate and key, or a bad `expirationTimestamp`.
// - kUnavailable: the plugin exited non-zero or was killed by a signal (with the exit code and the
//   trimmed tail of its stderr).
// - kDeadlineExceeded: the timeout passed (the plugin was killed).
// - kDataLoss: stdout exceeded `options.max_output_bytes`.
Result<ExecCredential> RunExecCredentialPlugin(const ExecConfig& exec, const RestConfig& cluster,
                                               const ExecPluginOptions& options = {});

struct ExecCredentialProviderOptions {
  ExecPluginOptions plugin = {};
  // The clock for expiry; defaults to `std::chrono::system_clock::now`.
  std::function<std::chrono::system_clock::time_point()> now = {};
};

// A cached exec credential for one user: runs the plugin on first use, again when the credential
// has expired (`now` after `expiration`; one without expiration lasts until invalidated), and
// after `Invalidate`.
//
// Thread-safe. One plugin run at a time: callers of `Get` during a run wait for it and share its
// result (client-go holds its lock while the plugin runs, for the same reason). A failed run is
// not cached: the next `Get` runs the plugin again.
class ExecCredentialProvider {
 public:
  using Options = ExecCredentialProviderOptions;

  // `config` gives the plugin (`config.exec`, which must be set) and the cluster fields passed to
  // it. The provider keeps a copy.
  explicit ExecCredentialProvider(const RestConfig& config, Options options = {});
  ExecCredentialProvider(const ExecCredentialProvider&) = delete;
  ExecCredentialProvider& operator=(const ExecCredentialProvider&) = delete;
  ~ExecCredentialProvider();

  // The cached credential, or a fresh one from the plugin. Blocks while the plugin runs.
  // Errors: those of `RunExecCredentialPlugin`; kInvalidArgument when the config has no exec.
  Result<ExecCredential> Get();

  // Forgets the cached credential, so the next `Get` runs the plugin.
  void Invalidate();

  // Forgets the cached credential only if it is still `refused` (the one a request was sent with
  // and the server answered 401 to). When several requests fail at once with the same credential,
  // the plugin then runs once, not once per request.
  void InvalidateIfCurrent(const ExecCredential& refused);

  // How many times the plugin has run.
  int runs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_CONFIG_EXEC_CREDENTIAL_H_

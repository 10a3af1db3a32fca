// RestConfig: everything needed to reach one API server as one user.
//
// Reads from: kubeconfig files and the in-cluster service account (config/kubeconfig.h).
// Feeds: the HTTP transport (client/http_client.h), which turns it into TLS settings and headers.
// client-go: rest/config.go (`rest.Config`).
#ifndef KUBE_CONFIG_REST_CONFIG_H_
#define KUBE_CONFIG_REST_CONFIG_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kube/status.h"

namespace kube {

// An exec credential plugin (`users[].user.exec` in a kubeconfig), run by the transport when it
// needs a credential and again when the one it has expires or is refused.
struct ExecConfig {
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never | IfAvailable | Always
};

// A credential produced by an exec plugin (`ExecCredential.status`).
struct ExecCredential {
  std::string token;
  std::string client_certificate_data;  // PEM
  std::string client_key_data;          // PEM
  // Absent: valid until the server refuses it (401).
  std::optional<std::chrono::system_clock::time_point> expiration;
};

struct RestConfig {
  // --- Cluster ---------------------------------------------------------------------------------
  std::string server;  // "https://10.0.0.1:6443"; may include a path prefix
  // PEM bytes of the CA bundle (from certificate-authority-data, or read from the file named by
  // certificate-authority at load time). Empty: the system trust store.
  std::string ca_data;
  std::string ca_file;  // the file it came from, for error messages and reloads
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;  // "" = libcurl's environment rules (HTTPS_PROXY, NO_PROXY)

  // --- User ------------------------------------------------------------------------------------
  std::string bearer_token;
  // Re-read when it changes (service-account token rotation); wins over `bearer_token`.
  std::string bearer_token_file;
  std::string client_certificate_data;  // PEM
  std::string client_key_data;          // PEM
  std::string client_certificate_file;  // for error messages and reloads
  std::string client_key_file;
  std::string username;  // basic auth
  std::string password;
  std::optional<ExecConfig> exec;
  std::string impersonate_user;

  // --- Client behaviour ------------------------------------------------------------------------
  std::string user_agent = "kube-informer/0.1.0";
  // Timeout of one non-watch request (0 = none). Watches use their own timeoutSeconds.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};

  // Where this configuration came from ("kubeconfig /root/.kube/config, context kind-dev",
  // "in-cluster"), for error messages. Never contains a credential.
  std::string source;
};

// Prints a RestConfig with every credential redacted ("token: <redacted, 32 bytes>").
std::string RedactedString(const RestConfig& config);

}  // namespace kube

#endif  // KUBE_CONFIG_REST_CONFIG_H_

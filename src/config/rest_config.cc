// RestConfig printing with every credential redacted.
//
// Reads from: a RestConfig (config/kubeconfig.h builds them). Feeds: logs and debug output.
// client-go: rest/config.go (`Config.String`/`GoString`, which redact the same fields).
#include "kube/config/rest_config.h"

#include <string>

namespace kube {
namespace {

// "<redacted, 32 bytes>" for a secret, "<none>" when unset: the length helps tell an empty token
// file from a real one without showing anything.
std::string Secret(const std::string& value) {
  if (value.empty()) return "<none>";
  return "<redacted, " + std::to_string(value.size()) + " bytes>";
}

// Non-secret PEM (CA, client certificate): its size and the file it came from.
std::string Pem(const std::string& data, const std::string& file) {
  std::string out = data.empty() ? "<none>" : "<" + std::to_string(data.size()) + " bytes>";
  if (!file.empty()) out += " from " + file;
  return out;
}

// A proxy URL may carry "user:password@"; keep the user, hide the password.
std::string RedactUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  size_t at = url.find('@', host_start);
  size_t slash = url.find('/', host_start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  size_t colon = url.find(':', host_start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "<redacted>" + url.substr(at);
}

}  // namespace

std::string RedactedString(const RestConfig& c) {
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out += key;
    out += ": ";
    out += value;
    out += '\n';
  };
  line("server", c.server);
  line("ca", Pem(c.ca_data, c.ca_file));
  line("insecure_skip_tls_verify", c.insecure_skip_tls_verify ? "true" : "false");
  if (!c.tls_server_name.empty()) line("tls_server_name", c.tls_server_name);
  if (!c.proxy_url.empty()) line("proxy_url", RedactUrl(c.proxy_url));
  line("bearer_token", Secret(c.bearer_token));
  if (!c.bearer_token_file.empty()) line("bearer_token_file", c.bearer_token_file);
  if (!c.client_certificate_data.empty() || !c.client_certificate_file.empty()) {
    line("client_certificate", Pem(c.client_certificate_data, c.client_certificate_file));
  }
  if (!c.client_key_data.empty() || !c.client_key_file.empty()) {
    std::string key = Secret(c.client_key_data);
    if (!c.client_key_file.empty()) key += " from " + c.client_key_file;
    line("client_key", key);
  }
  if (!c.username.empty()) line("username", c.username);
  if (!c.password.empty()) line("password", Secret(c.password));
  if (c.exec) {
    const ExecConfig& e = *c.exec;
    std::string exec = e.command;
    for (const std::string& a : e.args) exec += " " + a;
    line("exec", exec);
    line("exec_api_version", e.api_version);
    if (!e.env.empty()) {
      // Plugins take secrets through env (cloud keys): names only.
      std::string names;
      for (const auto& [name, value] : e.env) {
        if (!names.empty()) names += ", ";
        names += name + "=" + Secret(value);
      }
      line("exec_env", names);
    }
    line("exec_provide_cluster_info", e.provide_cluster_info ? "true" : "false");
    if (!e.interactive_mode.empty()) line("exec_interactive_mode", e.interactive_mode);
  }
  if (!c.impersonate_user.empty()) line("impersonate_user", c.impersonate_user);
  line("user_agent", c.user_agent);
  line("timeout", std::to_string(c.timeout.count()) + "ms");
  line("connect_timeout", std::to_string(c.connect_timeout.count()) + "ms");
  if (!c.source.empty()) line("source", c.source);
  return out;
}

}  // namespace kube

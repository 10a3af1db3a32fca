// Kubeconfig loading (clientcmd's loading rules, merge and validation) and in-cluster config.
//
// Reads from: kubeconfig files, the environment, the service-account folder.
// Feeds: RestConfig, for the HTTP transport.
// client-go: tools/clientcmd/loader.go, client_config.go, validation.go; rest/config.go
// (InClusterConfig).
//
// yaml-cpp is called only here; its exceptions are caught in `ParseKubeconfig` and become a
// Status naming the file and line. Values of credential fields never reach a message.
#include "kube/config/kubeconfig.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include "base/strings.h"
#include "yaml/yaml_stream.h"

namespace kube {
namespace {

using internal::AsciiLower;
using internal::ErrnoText;

constexpr char kDefaultServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr char kServiceAccountDirEnv[] = "KUBE_INFORMER_SERVICEACCOUNT_DIR";
constexpr char kNotInClusterMessage[] =
    "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
    "must be defined";
constexpr char kExecV1[] = "client.authentication.k8s.io/v1";
constexpr char kExecV1Beta1[] = "client.authentication.k8s.io/v1beta1";
// Kubeconfigs, certificates and tokens are small; this only stops a misnamed device file.
constexpr size_t kMaxFileBytes = size_t{16} << 20;

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// A name or value from the file, quoted for an error message, clipped so that no secret follows
// it: a malformed file can make one value of the lines after it (an unterminated quote runs on,
// folding line breaks into spaces, so "alice" becomes `alice user: token: s3cr3t`). So the quote
// stops at 100 bytes (found by kubeconfig_fuzz), and at the first line break or ": ", which a
// plain YAML scalar cannot hold and a swallowed `key: value` line always does; "..." marks a cut.
std::string QuoteClipped(std::string_view s) {
  constexpr size_t kMax = 100;
  size_t cut = std::min({s.size(), kMax, s.find('\n'), s.find('\r'), s.find(": "), s.find(":\t")});
  std::string out = "\"";
  out += s.substr(0, cut);
  out += cut < s.size() ? "\"..." : "\"";
  return out;
}

// Reads a whole file into `out`. Returns 0 or an errno value (ENOENT for a missing file).
int ReadWholeFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  out->clear();
  std::array<char, 65536> buf;
  int result = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      result = errno;
      break;
    }
    if (n == 0) break;
    if (out->size() + static_cast<size_t>(n) > kMaxFileBytes) {
      result = EFBIG;
      break;
    }
    out->append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return result;
}

// "kubeconfig /a/config:7"
std::string Location(std::string_view file, int line) {
  std::string out = "kubeconfig ";
  out += file;
  if (line > 0) out += ":" + std::to_string(line);
  return out;
}

// --- Parsing one file ----------------------------------------------------------------------------

std::string TypeName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
  }
  return "an unknown node";
}

int LineOf(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  YAML::Mark m = n.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

bool IsAbsent(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

// yaml-cpp throws when asked the type of an undefined node (a missing key), so every type test on
// a node that may be missing goes through here.
bool IsMapNode(const YAML::Node& n) { return n.IsDefined() && n.IsMap(); }

// Parses one document. Every error names the file, the line and the field path, and, inside a
// named entry, the entry ("users[0].user.token (user \"alice\")").
class FileParser {
 public:
  explicit FileParser(std::string_view path) : path_(path) {}

  Status Parse(const YAML::Node& root, Kubeconfig* out) {
    if (IsAbsent(root)) return Status::Ok();
    if (!root.IsMap()) return Fail(root, "(top level)", "expected a map, found " + TypeName(root));
    std::string api_version, kind;
    if (Status s = ReadString(root, "apiVersion", "apiVersion", &api_version); !s.ok()) return s;
    if (!api_version.empty() && api_version != "v1") {
      return Fail(root["apiVersion"], "apiVersion",
                  "unsupported version " + QuoteClipped(api_version) + " (want v1)");
    }
    if (Status s = ReadString(root, "kind", "kind", &kind); !s.ok()) return s;
    if (!kind.empty() && kind != "Config") {
      return Fail(root["kind"], "kind",
                  "unsupported kind " + QuoteClipped(kind) + " (want Config)");
    }
    if (Status s = ReadString(root, "current-context", "current-context", &out->current_context);
        !s.ok()) {
      return s;
    }
    if (Status s = ParseNamedList<KubeconfigCluster>(root, "clusters", "cluster", "cluster",
                                                     &out->clusters, &FileParser::ParseCluster);
        !s.ok()) {
      return s;
    }
    if (Status s = ParseNamedList<KubeconfigUser>(root, "users", "user", "user", &out->users,
                                                  &FileParser::ParseUser);
        !s.ok()) {
      return s;
    }
    return ParseNamedList<KubeconfigContext>(root, "contexts", "context", "context", &out->contexts,
                                             &FileParser::ParseContext);
  }

 private:
  Status Fail(const YAML::Node& at, std::string_view field, std::string_view problem) const {
    std::string msg = Location(path_, LineOf(at));
    msg += ": ";
    msg += field;
    msg += entry_;
    msg += ": ";
    msg += problem;
    return InvalidArgumentError(std::move(msg));
  }

  // An absent or null field reads as "". Any scalar is taken as text.
  Status ReadString(const YAML::Node& map, const char* key, const std::string& field,
                    std::string* out) const {
    out->clear();
    if (!IsMapNode(map)) return Status::Ok();
    const YAML::Node v = map[key];
    if (IsAbsent(v)) return Status::Ok();
    if (!v.IsScalar()) return Fail(v, field, "expected a string, found " + TypeName(v));
    *out = v.Scalar();
    return Status::Ok();
  }

  // An absent or null field reads as false. A quoted string is refused, as client-go does.
  Status ReadBool(const YAML::Node& map, const char* key, const std::string& field,
                  bool* out) const {
    *out = false;
    if (!IsMapNode(map)) return Status::Ok();
    const YAML::Node v = map[key];
    if (IsAbsent(v)) return Status::Ok();
    if (!v.IsScalar()) return Fail(v, field, "expected true or false, found " + TypeName(v));
    bool b = false;
    if (v.Tag() == "!" || !YAML::convert<bool>::decode(v, b)) {
      return Fail(v, field, "expected true or false, found " + QuoteClipped(v.Scalar()));
    }
    *out = b;
    return Status::Ok();
  }

  // Decodes a `*-data` field. The value itself never reaches a message.
  Status ReadBase64(const YAML::Node& map, const char* key, const std::string& field,
                    std::string* out) const {
    std::string text;
    if (Status s = ReadString(map, key, field, &text); !s.ok()) return s;
    if (text.empty()) {
      out->clear();
      return Status::Ok();
    }
    size_t bad_at = 0;
    out->clear();
    if (!internal::DecodeBase64(text, out, &bad_at)) {
      out->clear();
      std::string where = bad_at >= text.size()
                              ? "truncated (length " + std::to_string(text.size()) +
                                    " is not a multiple of 4 or bad padding)"
                              : "bad character at byte " + std::to_string(bad_at);
      return Fail(map[key], field, "not valid base64: " + where);
    }
    return Status::Ok();
  }

  Status ReadStringList(const YAML::Node& map, const char* key, const std::string& field,
                        std::vector<std::string>* out) const {
    out->clear();
    if (!IsMapNode(map)) return Status::Ok();
    const YAML::Node v = map[key];
    if (IsAbsent(v)) return Status::Ok();
    if (!v.IsSequence()) return Fail(v, field, "expected a list of strings, found " + TypeName(v));
    for (size_t i = 0; i < v.size(); ++i) {
      const YAML::Node item = v[i];
      if (IsAbsent(item)) {
        out->emplace_back();
      } else if (item.IsScalar()) {
        out->push_back(item.Scalar());
      } else {
        return Fail(item, field + "[" + std::to_string(i) + "]",
                    "expected a string, found " + TypeName(item));
      }
    }
    return Status::Ok();
  }

  template <typename T>
  using ItemParser = Status (FileParser::*)(const YAML::Node&, const std::string&, T*) const;

  // `clusters`, `users`, `contexts`: lists of {name, <item_key>: {...}}.
  template <typename T>
  Status ParseNamedList(const YAML::Node& root, const char* list_key, const char* item_key,
                        const char* noun, std::map<std::string, T>* out, ItemParser<T> parse) {
    const YAML::Node list = root[list_key];
    if (IsAbsent(list)) return Status::Ok();
    if (!list.IsSequence()) {
      return Fail(list, list_key, "expected a list, found " + TypeName(list));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      std::string field = std::string(list_key) + "[" + std::to_string(i) + "]";
      if (!item.IsMap()) {
        return Fail(
            item, field,
            std::string("expected a map with name and ") + item_key + ", found " + TypeName(item));
      }
      std::string name;
      if (Status s = ReadString(item, "name", field + ".name", &name); !s.ok()) return s;
      if (name.empty()) return Fail(item, field + ".name", "missing");
      entry_ = std::string(" (") + noun + " " + QuoteClipped(name) + ")";
      if (out->count(name) != 0) {
        Status s = Fail(item, field + ".name", "duplicate name");
        entry_.clear();
        return s;
      }
      const YAML::Node body = item[item_key];
      std::string body_field = field + "." + item_key;
      if (!IsAbsent(body) && !body.IsMap()) {
        Status s = Fail(body, body_field, "expected a map, found " + TypeName(body));
        entry_.clear();
        return s;
      }
      T value;
      value.location_of_origin = path_;
      value.line = LineOf(item);
      Status s = (this->*parse)(body, body_field, &value);
      entry_.clear();
      if (!s.ok()) return s;
      out->emplace(std::move(name), std::move(value));
    }
    return Status::Ok();
  }

  Status ParseCluster(const YAML::Node& n, const std::string& f, KubeconfigCluster* c) const {
    Status s;
    if (s = ReadString(n, "server", f + ".server", &c->server); !s.ok()) return s;
    if (s = ReadString(n, "certificate-authority", f + ".certificate-authority",
                       &c->certificate_authority);
        !s.ok()) {
      return s;
    }
    if (s = ReadBase64(n, "certificate-authority-data", f + ".certificate-authority-data",
                       &c->certificate_authority_data);
        !s.ok()) {
      return s;
    }
    if (s = ReadBool(n, "insecure-skip-tls-verify", f + ".insecure-skip-tls-verify",
                     &c->insecure_skip_tls_verify);
        !s.ok()) {
      return s;
    }
    if (s = ReadString(n, "tls-server-name", f + ".tls-server-name", &c->tls_server_name);
        !s.ok()) {
      return s;
    }
    if (s = ReadString(n, "proxy-url", f + ".proxy-url", &c->proxy_url); !s.ok()) return s;
    return ReadBool(n, "disable-compression", f + ".disable-compression", &c->disable_compression);
  }

  Status ParseUser(const YAML::Node& n, const std::string& f, KubeconfigUser* u) const {
    struct StringField {
      const char* key;
      std::string* out;
    };
    const StringField strings[] = {
        {"client-certificate", &u->client_certificate},
        {"client-key", &u->client_key},
        {"token", &u->token},
        {"tokenFile", &u->token_file},
        {"username", &u->username},
        {"password", &u->password},
        {"as", &u->impersonate},
        {"as-uid", &u->impersonate_uid},
    };
    for (const StringField& sf : strings) {
      if (Status s = ReadString(n, sf.key, f + "." + sf.key, sf.out); !s.ok()) return s;
    }
    if (Status s = ReadBase64(n, "client-certificate-data", f + ".client-certificate-data",
                              &u->client_certificate_data);
        !s.ok()) {
      return s;
    }
    if (Status s = ReadBase64(n, "client-key-data", f + ".client-key-data", &u->client_key_data);
        !s.ok()) {
      return s;
    }
    if (Status s = ReadStringList(n, "as-groups", f + ".as-groups", &u->impersonate_groups);
        !s.ok()) {
      return s;
    }
    if (!IsMapNode(n)) return Status::Ok();
    u->has_auth_provider = !IsAbsent(n["auth-provider"]);
    const YAML::Node exec = n["exec"];
    if (IsAbsent(exec)) return Status::Ok();
    if (!exec.IsMap()) return Fail(exec, f + ".exec", "expected a map, found " + TypeName(exec));
    ExecConfig e;
    if (Status s = ParseExec(exec, f + ".exec", &e); !s.ok()) return s;
    u->exec = std::move(e);
    return Status::Ok();
  }

  Status ParseExec(const YAML::Node& n, const std::string& f, ExecConfig* e) const {
    Status s;
    if (s = ReadString(n, "command", f + ".command", &e->command); !s.ok()) return s;
    if (s = ReadStringList(n, "args", f + ".args", &e->args); !s.ok()) return s;
    if (s = ReadString(n, "apiVersion", f + ".apiVersion", &e->api_version); !s.ok()) return s;
    if (s = ReadString(n, "installHint", f + ".installHint", &e->install_hint); !s.ok()) return s;
    if (s = ReadBool(n, "provideClusterInfo", f + ".provideClusterInfo", &e->provide_cluster_info);
        !s.ok()) {
      return s;
    }
    if (s = ReadString(n, "interactiveMode", f + ".interactiveMode", &e->interactive_mode);
        !s.ok()) {
      return s;
    }
    const YAML::Node env = n["env"];
    if (IsAbsent(env)) return Status::Ok();
    if (!env.IsSequence()) {
      return Fail(env, f + ".env", "expected a list of {name, value}, found " + TypeName(env));
    }
    for (size_t i = 0; i < env.size(); ++i) {
      const YAML::Node item = env[i];
      std::string field = f + ".env[" + std::to_string(i) + "]";
      if (!item.IsMap()) {
        return Fail(item, field, "expected a map with name and value, found " + TypeName(item));
      }
      std::string name, value;
      if (s = ReadString(item, "name", field + ".name", &name); !s.ok()) return s;
      if (s = ReadString(item, "value", field + ".value", &value); !s.ok()) return s;
      e->env.emplace_back(std::move(name), std::move(value));
    }
    return Status::Ok();
  }

  Status ParseContext(const YAML::Node& n, const std::string& f, KubeconfigContext* c) const {
    Status s;
    if (s = ReadString(n, "cluster", f + ".cluster", &c->cluster); !s.ok()) return s;
    if (s = ReadString(n, "user", f + ".user", &c->user); !s.ok()) return s;
    return ReadString(n, "namespace", f + ".namespace", &c->ns);
  }

  std::string path_;
  std::string entry_;  // " (user \"alice\")" while inside a named entry
};

// --- Loading rules ---------------------------------------------------------------------------

// Makes the file references of one file's entries absolute against the file's folder, as
// clientcmd's ResolveLocalPaths does.
void ResolveLocalPaths(const std::string& file, Kubeconfig* kc) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(file, ec);
  if (ec) abs = file;
  const std::filesystem::path base = abs.lexically_normal().parent_path();
  auto resolve = [&base](std::string* ref) {
    if (ref->empty() || (*ref)[0] == '/') return;
    *ref = (base / *ref).lexically_normal().string();
  };
  for (auto& [name, c] : kc->clusters) resolve(&c.certificate_authority);
  for (auto& [name, u] : kc->users) {
    resolve(&u.client_certificate);
    resolve(&u.client_key);
    resolve(&u.token_file);
    // A bare command name is looked up on PATH; only a path is resolved.
    if (u.exec && u.exec->command.find('/') != std::string::npos) resolve(&u.exec->command);
  }
}

// First definition of a name wins, whole; the first non-empty current-context wins.
void MergeInto(Kubeconfig* dst, Kubeconfig&& src) {
  if (dst->current_context.empty()) dst->current_context = std::move(src.current_context);
  for (auto& [k, v] : src.clusters) dst->clusters.try_emplace(k, std::move(v));
  for (auto& [k, v] : src.users) dst->users.try_emplace(k, std::move(v));
  for (auto& [k, v] : src.contexts) dst->contexts.try_emplace(k, std::move(v));
}

// "kubeconfig a, b" or "kubeconfig (none found; looked for a, b)".
std::string FilesDescription(const Kubeconfig& kc) {
  if (!kc.files.empty()) return "kubeconfig " + internal::Join(kc.files, ", ");
  if (kc.missing_files.empty()) return "kubeconfig (no file given and HOME is not set)";
  return "kubeconfig (none found; looked for " + internal::Join(kc.missing_files, ", ") + ")";
}

// --- Building the RestConfig ----------------------------------------------------------------

template <typename Entry>
Status EntryError(const Entry& e, std::string_view noun, std::string_view name,
                  std::string_view field, std::string_view problem) {
  std::string msg = Location(e.location_of_origin, e.line);
  msg += ": ";
  msg += noun;
  msg += " ";
  msg += QuoteClipped(name);
  msg += ": ";
  msg += field;
  msg += ": ";
  msg += problem;
  return InvalidArgumentError(std::move(msg));
}

// The scheme of "scheme://rest", lower-cased; "" when there is none or nothing follows it.
std::string SchemeOf(std::string_view url) {
  size_t p = url.find("://");
  if (p == std::string_view::npos || p == 0 || p + 3 >= url.size()) return "";
  return AsciiLower(url.substr(0, p));
}

// Reads a file an entry names; `field` is the kubeconfig field that named it.
template <typename Entry>
Status ReadReferencedFile(const Entry& e, std::string_view noun, std::string_view name,
                          std::string_view field, const std::string& path, std::string* out) {
  int err = ReadWholeFile(path, out);
  if (err == 0) return Status::Ok();
  return EntryError(e, noun, name, field, "cannot read " + path + ": " + ErrnoText(err));
}

Status ApplyCluster(const KubeconfigCluster& c, const std::string& name, RestConfig* config) {
  if (!c.proxy_url.empty()) {
    std::string scheme = SchemeOf(c.proxy_url);
    if (scheme != "http" && scheme != "https" && scheme != "socks5") {
      return EntryError(c, "cluster", name, "proxy-url",
                        scheme.empty() ? "not a URL (want http://, https:// or socks5://host:port)"
                                       : "unsupported scheme " + QuoteClipped(scheme) +
                                             " (want http, https or socks5)");
    }
  }
  if (!c.certificate_authority.empty() && !c.certificate_authority_data.empty()) {
    return EntryError(c, "cluster", name, "certificate-authority",
                      "set together with certificate-authority-data; set only one");
  }
  if (c.insecure_skip_tls_verify &&
      (!c.certificate_authority.empty() || !c.certificate_authority_data.empty())) {
    return EntryError(c, "cluster", name, "insecure-skip-tls-verify",
                      "set together with a certificate authority; set only one");
  }
  if (!c.certificate_authority.empty()) {
    if (Status s = ReadReferencedFile(c, "cluster", name, "certificate-authority",
                                      c.certificate_authority, &config->ca_data);
        !s.ok()) {
      return s;
    }
    config->ca_file = c.certificate_authority;
  } else {
    config->ca_data = c.certificate_authority_data;
  }
  config->insecure_skip_tls_verify = c.insecure_skip_tls_verify;
  config->tls_server_name = c.tls_server_name;
  config->proxy_url = c.proxy_url;
  return Status::Ok();
}

Status ValidateExec(const KubeconfigUser& u, const std::string& name, ExecConfig* e) {
  if (e->command.empty()) return EntryError(u, "user", name, "exec.command", "missing");
  if (e->api_version.empty()) {
    return EntryError(u, "user", name, "exec.apiVersion",
                      std::string("missing (want ") + kExecV1 + " or v1beta1)");
  }
  if (e->api_version != kExecV1 && e->api_version != kExecV1Beta1) {
    return EntryError(u, "user", name, "exec.apiVersion",
                      "unsupported " + QuoteClipped(e->api_version) + " (want " + kExecV1 + " or " +
                          kExecV1Beta1 + ")");
  }
  for (size_t i = 0; i < e->env.size(); ++i) {
    if (e->env[i].first.empty()) {
      return EntryError(u, "user", name, "exec.env[" + std::to_string(i) + "].name", "missing");
    }
  }
  if (e->interactive_mode.empty() && e->api_version == kExecV1Beta1) {
    e->interactive_mode = "IfAvailable";  // clientcmd's default for v1beta1
  }
  if (e->interactive_mode.empty()) {
    return EntryError(u, "user", name, "exec.interactiveMode",
                      "missing (want Never, IfAvailable or Always)");
  }
  if (e->interactive_mode != "Never" && e->interactive_mode != "IfAvailable" &&
      e->interactive_mode != "Always") {
    return EntryError(u, "user", name, "exec.interactiveMode",
                      "unsupported " + QuoteClipped(e->interactive_mode) +
                          " (want Never, IfAvailable or Always)");
  }
  return Status::Ok();
}

Status ApplyUser(const KubeconfigUser& u, const std::string& name, RestConfig* config) {
  if (u.has_auth_provider) {
    return EntryError(u, "user", name, "auth-provider",
                      "not supported; use an exec credential plugin");
  }
  if (!u.token.empty() && (!u.username.empty() || !u.password.empty())) {
    return EntryError(u, "user", name, "token",
                      "set together with username/password; only one authentication method is "
                      "allowed");
  }
  if (!u.client_certificate.empty() || !u.client_certificate_data.empty()) {
    if (!u.client_certificate.empty() && !u.client_certificate_data.empty()) {
      return EntryError(u, "user", name, "client-certificate",
                        "set together with client-certificate-data; set only one");
    }
    if (!u.client_key.empty() && !u.client_key_data.empty()) {
      return EntryError(u, "user", name, "client-key",
                        "set together with client-key-data; set only one");
    }
    if (u.client_key.empty() && u.client_key_data.empty()) {
      return EntryError(u, "user", name, "client-key",
                        "missing: client-certificate needs client-key or client-key-data");
    }
    if (!u.client_certificate.empty()) {
      if (Status s = ReadReferencedFile(u, "user", name, "client-certificate", u.client_certificate,
                                        &config->client_certificate_data);
          !s.ok()) {
        return s;
      }
      config->client_certificate_file = u.client_certificate;
    } else {
      config->client_certificate_data = u.client_certificate_data;
    }
    if (!u.client_key.empty()) {
      if (Status s = ReadReferencedFile(u, "user", name, "client-key", u.client_key,
                                        &config->client_key_data);
          !s.ok()) {
        return s;
      }
      config->client_key_file = u.client_key;
    } else {
      config->client_key_data = u.client_key_data;
    }
  }
  if (!u.token.empty()) {
    config->bearer_token = u.token;
    config->bearer_token_file = u.token_file;
  } else if (!u.token_file.empty()) {
    std::string token;
    if (Status s = ReadReferencedFile(u, "user", name, "tokenFile", u.token_file, &token);
        !s.ok()) {
      return s;
    }
    config->bearer_token = std::string(internal::Trim(token, internal::kAsciiWhitespace));
    config->bearer_token_file = u.token_file;
  }
  config->username = u.username;
  config->password = u.password;
  if (u.exec) {
    ExecConfig e = *u.exec;
    if (Status s = ValidateExec(u, name, &e); !s.ok()) return s;
    config->exec = std::move(e);
  }
  return Status::Ok();
}

void DropUserCredentials(RestConfig* c) {
  c->bearer_token.clear();
  c->bearer_token_file.clear();
  c->client_certificate_data.clear();
  c->client_key_data.clear();
  c->client_certificate_file.clear();
  c->client_key_file.clear();
  c->username.clear();
  c->password.clear();
  c->exec.reset();
}

}  // namespace

// --- Public functions ----------------------------------------------------------------------

Result<Kubeconfig> ParseKubeconfig(std::string_view text, std::string_view path) {
  Kubeconfig kc;
  try {
    // A check pass over the whole stream first: `YAML::Load` reads one document and silently
    // drops what follows a stray top-level `,` (`{...},`), where `YAML::LoadAll` would loop
    // forever (yaml/yaml_stream.h). Kubeconfigs are small; the second pass costs little.
    internal::IgnoreYamlEvents ignore;
    internal::ParseYamlStream(text, ignore);
    YAML::Node root = YAML::Load(std::string(text));
    FileParser parser(path);
    if (Status s = parser.Parse(root, &kc); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    // `e.msg` is one of yaml-cpp's fixed texts; it never quotes the document.
    std::string msg = Location(path, e.mark.is_null() ? 0 : e.mark.line + 1);
    msg += ": not valid YAML";
    if (!e.mark.is_null()) msg += " (column " + std::to_string(e.mark.column + 1) + ")";
    msg += ": " + e.msg;
    return InvalidArgumentError(std::move(msg));
  } catch (const std::exception& e) {
    return InternalError(Location(path, 0) + ": " + e.what());
  }
  return kc;
}

std::vector<std::string> KubeconfigLoadingPrecedence(const KubeconfigOptions& options) {
  if (!options.explicit_path.empty()) return {options.explicit_path};
  std::vector<std::string> files;
  std::string env = Getenv("KUBECONFIG");
  if (!env.empty()) {
    std::set<std::string> seen;
    size_t start = 0;
    while (start <= env.size()) {
      size_t end = env.find(':', start);
      if (end == std::string::npos) end = env.size();
      std::string f = env.substr(start, end - start);
      if (!f.empty() && seen.insert(f).second) files.push_back(std::move(f));
      start = end + 1;
    }
    return files;
  }
  std::string home = Getenv("HOME");
  if (!home.empty()) files.push_back(home + "/.kube/config");
  return files;
}

Result<Kubeconfig> LoadKubeconfigFiles(const KubeconfigOptions& options) {
  Kubeconfig merged;
  for (const std::string& file : KubeconfigLoadingPrecedence(options)) {
    std::string text;
    int err = ReadWholeFile(file, &text);
    if (err == ENOENT) {
      if (!options.explicit_path.empty()) {
        return NotFoundError(Location(file, 0) + ": " + ErrnoText(err) +
                             " (a kubeconfig path given explicitly must exist)");
      }
      merged.missing_files.push_back(file);
      continue;
    }
    if (err != 0) {
      return InvalidArgumentError(Location(file, 0) + ": cannot read: " + ErrnoText(err));
    }
    Result<Kubeconfig> parsed = ParseKubeconfig(text, file);
    if (!parsed) return parsed.error();
    ResolveLocalPaths(file, &*parsed);
    merged.files.push_back(file);
    MergeInto(&merged, std::move(*parsed));
  }
  return merged;
}

Result<RestConfig> RestConfigFromKubeconfig(const Kubeconfig& kc,
                                            const KubeconfigOptions& options) {
  RestConfig config;
  const std::string context_name = options.context.empty() ? kc.current_context : options.context;
  const KubeconfigContext* context = nullptr;
  if (!context_name.empty()) {
    auto it = kc.contexts.find(context_name);
    if (it == kc.contexts.end()) {
      return NotFoundError((options.context.empty() ? "current-context " : "context ") +
                           QuoteClipped(context_name) + " does not exist in " +
                           FilesDescription(kc));
    }
    context = &it->second;
  }
  const std::string cluster_name =
      !options.cluster.empty() ? options.cluster : (context ? context->cluster : "");
  const std::string user_name =
      !options.user.empty() ? options.user : (context ? context->user : "");

  if (context == nullptr && cluster_name.empty() && options.server.empty()) {
    if (kc.files.empty()) return NotFoundError("no configuration: " + FilesDescription(kc));
    return NotFoundError("no context chosen: " + FilesDescription(kc) +
                         " sets no current-context and none was asked for");
  }

  // Cluster.
  std::string server = options.server;
  if (!cluster_name.empty()) {
    auto it = kc.clusters.find(cluster_name);
    if (it == kc.clusters.end()) {
      if (!options.cluster.empty() || context == nullptr) {
        return NotFoundError("cluster " + QuoteClipped(cluster_name) + " does not exist in " +
                             FilesDescription(kc));
      }
      return NotFoundError(Location(context->location_of_origin, context->line) + ": context " +
                           QuoteClipped(context_name) + ": cluster " + QuoteClipped(cluster_name) +
                           " was not found");
    }
    const KubeconfigCluster& cluster = it->second;
    if (Status s = ApplyCluster(cluster, cluster_name, &config); !s.ok()) return s;
    if (server.empty()) {
      server = cluster.server;
      if (server.empty()) return EntryError(cluster, "cluster", cluster_name, "server", "missing");
    } else {
      config.tls_server_name.clear();  // --server drops the kubeconfig's tls-server-name
    }
  } else if (server.empty()) {
    return InvalidArgumentError(Location(context->location_of_origin, context->line) +
                                ": context " + QuoteClipped(context_name) + ": cluster: missing");
  }
  std::string scheme = SchemeOf(server);
  if (scheme != "https" && scheme != "http") {
    std::string problem = "must start with https:// (or http://)";
    if (!options.server.empty()) return InvalidArgumentError("server (override): " + problem);
    return EntryError(kc.clusters.at(cluster_name), "cluster", cluster_name, "server", problem);
  }
  // client-go drops a query and fragment from the server URL.
  server = server.substr(0, server.find_first_of("?#"));
  config.server = server;

  // User.
  if (!user_name.empty()) {
    auto it = kc.users.find(user_name);
    if (it == kc.users.end()) {
      if (!options.user.empty() || context == nullptr) {
        return NotFoundError("user " + QuoteClipped(user_name) + " does not exist in " +
                             FilesDescription(kc));
      }
      return NotFoundError(Location(context->location_of_origin, context->line) + ": context " +
                           QuoteClipped(context_name) + ": user " + QuoteClipped(user_name) +
                           " was not found");
    }
    const KubeconfigUser& user = it->second;
    if (Status s = ApplyUser(user, user_name, &config); !s.ok()) return s;
    config.impersonate_user = user.impersonate;
    // As client-go: credentials only travel over TLS.
    if (scheme != "https") DropUserCredentials(&config);
  }

  if (context != nullptr) {
    config.source = "kubeconfig " + context->location_of_origin + ", context " + context_name;
  } else {
    config.source = FilesDescription(kc) + ", no context";
  }
  if (!options.server.empty()) config.source += ", server overridden";
  return config;
}

Result<RestConfig> LoadKubeconfig(const KubeconfigOptions& options) {
  Result<Kubeconfig> kc = LoadKubeconfigFiles(options);
  if (!kc) return kc.error();
  return RestConfigFromKubeconfig(*kc, options);
}

Result<RestConfig> InClusterConfig(const InClusterOptions& options) {
  const std::string host = Getenv("KUBERNETES_SERVICE_HOST");
  const std::string port = Getenv("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) return UnavailableError(kNotInClusterMessage);

  std::string dir = options.service_account_dir;
  if (dir.empty()) dir = Getenv(kServiceAccountDirEnv);
  if (dir.empty()) dir = kDefaultServiceAccountDir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();

  RestConfig config;
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;

  const std::string token_file = dir + "/token";
  std::string token;
  if (int err = ReadWholeFile(token_file, &token); err != 0) {
    return UnavailableError("in-cluster configuration: cannot read the service-account token " +
                            token_file + ": " + ErrnoText(err));
  }
  config.bearer_token = std::string(internal::Trim(token, internal::kAsciiWhitespace));
  config.bearer_token_file = token_file;

  config.source = "in-cluster";
  const std::string ca_file = dir + "/ca.crt";
  std::string ca;
  if (int err = ReadWholeFile(ca_file, &ca); err != 0) {
    config.source += " (no CA: cannot read " + ca_file + ": " + ErrnoText(err) +
                     "; using the system trust store)";
  } else {
    config.ca_data = std::move(ca);
    config.ca_file = ca_file;
  }
  return config;
}

Result<RestConfig> BuildConfigFromFlags(std::string_view master_url,
                                        std::string_view kubeconfig_path) {
  if (master_url.empty() && kubeconfig_path.empty()) {
    Result<RestConfig> in_cluster = InClusterConfig();
    if (in_cluster) return in_cluster;
  }
  return LoadKubeconfig(
      {.explicit_path = std::string(kubeconfig_path), .server = std::string(master_url)});
}

Result<RestConfig> InClusterOrKubeconfig(std::string_view kubeconfig_path) {
  Result<RestConfig> in_cluster = InClusterConfig();
  if (in_cluster) return in_cluster;
  std::string path(kubeconfig_path);
  if (path.empty()) {
    std::string home = Getenv("HOME");
    if (home.empty()) {
      return NotFoundError("no kubeconfig given and HOME is not set (in-cluster: " +
                           in_cluster.error().message() + ")");
    }
    path = home + "/.kube/config";
  }
  Result<RestConfig> loaded = LoadKubeconfig({.explicit_path = path});
  if (loaded) return loaded;
  Status s = loaded.error();
  return Status(s.code(), s.message() + " (in-cluster: " + in_cluster.error().message() + ")");
}

}  // namespace kube

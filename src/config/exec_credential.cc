// Exec credential plugins: run the command, speak the ExecCredential protocol, cache the result.
//
// Reads from: ExecConfig and the cluster fields of a RestConfig. Feeds: the HTTP transport.
// client-go: plugin/pkg/client/auth/exec/exec.go.
//
// The plugin is started with posix_spawnp (no shell) in its own process group, so a timeout can
// kill it together with anything it started (a shell script's `sleep` would otherwise hold the
// pipes open). yaml-cpp parses the plugin's output (JSON is YAML, and client-go's decoder accepts
// YAML too); its exceptions stop in this file.
#include "kube/config/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/strings.h"
#include "base/thread_annotations.h"
#include "base/time_format.h"
#include "config/exec_credential_internal.h"
#include "kube/object.h"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace kube {
namespace {

using internal::Base64Encode;
using internal::ErrnoText;

using std::chrono::system_clock;

constexpr char kExecInfoEnv[] = "KUBERNETES_EXEC_INFO";
constexpr char kExecV1[] = "client.authentication.k8s.io/v1";
constexpr char kExecV1Beta1[] = "client.authentication.k8s.io/v1beta1";
constexpr size_t kStderrKeep = 4096;  // bytes of stderr kept while the plugin runs
constexpr size_t kStderrShow = 512;   // bytes of it shown in an error

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

// The ExecCredential in KUBERNETES_EXEC_INFO, fields in client-go's order.
std::string ExecInfoJson(const ExecConfig& exec, const RestConfig& cluster) {
  std::string out = "{\"kind\":\"ExecCredential\",\"apiVersion\":";
  out += JsonQuote(exec.api_version);
  out += ",\"spec\":{";
  if (exec.provide_cluster_info) {
    out += "\"cluster\":{\"server\":" + JsonQuote(cluster.server);
    if (!cluster.tls_server_name.empty()) {
      out += ",\"tls-server-name\":" + JsonQuote(cluster.tls_server_name);
    }
    if (cluster.insecure_skip_tls_verify) out += ",\"insecure-skip-tls-verify\":true";
    if (!cluster.ca_data.empty()) {
      out += ",\"certificate-authority-data\":" + JsonQuote(Base64Encode(cluster.ca_data));
    }
    if (!cluster.proxy_url.empty()) out += ",\"proxy-url\":" + JsonQuote(cluster.proxy_url);
    out += "},";
  }
  out += "\"interactive\":false}}";
  return out;
}

// RFC 3339 as metav1.Time reads it: "2006-01-02T15:04:05Z", optional fraction, 'Z' or +-hh:mm.
// `system_clock` counts nanoseconds (years 1678-2261); later expiries saturate
// (exec_credential_fuzz).
std::optional<system_clock::time_point> ParseExpiry(std::string_view s) {
  std::optional<internal::Rfc3339Time> t = internal::ParseRfc3339(s);
  if (!t) return std::nullopt;
  if (t->year > 2261) return system_clock::time_point::max();
  if (t->year < 1678) return system_clock::time_point::min();
  return internal::ToSystemTime(*t);
}

// The last `kStderrShow` bytes of stderr, trimmed, on one line, without control characters.
std::string StderrTail(std::string_view err) {
  err = internal::Trim(err, internal::kAsciiWhitespace);
  if (err.empty()) return "";
  std::string out;
  if (err.size() > kStderrShow) {
    err = err.substr(err.size() - kStderrShow);
    // Do not start inside a UTF-8 sequence.
    while (!err.empty() && (static_cast<unsigned char>(err.front()) & 0xc0) == 0x80) {
      err.remove_prefix(1);
    }
    out = "...";
  }
  for (char c : err) {
    if (c == '\n') {
      out += " | ";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// The kubeconfig's installHint for a terminal: control characters other than newline and tab
// (escape sequences) become '?', as client-go cleans them too.
std::string CleanInstallHint(std::string_view hint) {
  std::string out;
  for (char c : hint) {
    bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    out += control && c != '\n' && c != '\t' ? '?' : c;
  }
  return out;
}

std::string WithStderr(std::string msg, std::string_view err) {
  std::string tail = StderrTail(err);
  if (!tail.empty()) msg += "; stderr: " + tail;
  return msg;
}

// The environment of the plugin: ours, then the kubeconfig's env (the last entry of a name wins,
// as with Go's exec.Cmd), then KUBERNETES_EXEC_INFO.
std::vector<std::string> PluginEnvironment(const ExecConfig& exec, const std::string& exec_info) {
  std::set<std::string, std::less<>> overridden;
  for (const auto& [name, value] : exec.env) overridden.insert(name);
  overridden.insert(kExecInfoEnv);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (overridden.count(kv.substr(0, kv.find('='))) != 0) continue;
    env.emplace_back(kv);
  }
  for (size_t i = 0; i < exec.env.size(); ++i) {
    const std::string& name = exec.env[i].first;
    bool later = std::any_of(exec.env.begin() + static_cast<std::ptrdiff_t>(i) + 1, exec.env.end(),
                             [&name](const auto& kv) { return kv.first == name; });
    if (!later) env.push_back(name + "=" + exec.env[i].second);
  }
  env.push_back(std::string(kExecInfoEnv) + "=" + exec_info);
  return env;
}

// What a finished (or killed) plugin left behind.
struct ProcessOutcome {
  std::string out;
  std::string err;  // the tail only
  int wait_status = 0;
  bool timed_out = false;
  bool too_large = false;
};

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// Spawns argv with envp and collects its output until it exits, the deadline passes or stdout
// grows past `max_out`. Returns the spawn error (errno) or 0.
int RunProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
               const ExecPluginOptions& options, ProcessOutcome* outcome) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return errno;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    CloseFd(&out_pipe[0]);
    CloseFd(&out_pipe[1]);
    return e;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Our other descriptors (sockets, files without O_CLOEXEC) are none of the plugin's business.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  CloseFd(&out_pipe[1]);
  CloseFd(&err_pipe[1]);
  if (rc != 0) {
    CloseFd(&out_pipe[0]);
    CloseFd(&err_pipe[0]);
    return rc;
  }

  int out_fd = out_pipe[0];
  int err_fd = err_pipe[0];
  // A pidfd lets one poll() wait for output and exit together; without one (kernels before
  // 5.3) the exit is awaited after the pipes close.
  int pid_fd = -1;
#ifdef SYS_pidfd_open
  pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#endif
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::array<char, 65536> buf;
  while (out_fd >= 0 || err_fd >= 0 || !exited) {
    auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      outcome->timed_out = true;
      break;
    }
    if (out_fd < 0 && err_fd < 0 && pid_fd < 0) {
      // No pidfd: block on the exit. The pipes are closed, so the plugin is finishing.
      while (::waitpid(pid, &outcome->wait_status, 0) < 0 && errno == EINTR) {
      }
      exited = true;
      break;
    }
    std::array<pollfd, 3> fds;
    nfds_t n = 0;
    for (int fd : {out_fd, err_fd, exited ? -1 : pid_fd}) {
      if (fd >= 0) fds[n++] = pollfd{fd, POLLIN, 0};
    }
    int ready =
        ::poll(fds.data(), n, static_cast<int>(std::min<int64_t>(remaining.count(), INT_MAX)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      outcome->timed_out = true;  // cannot wait any more: treat as a timeout and kill
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      const int fd = fds[i].fd;
      if (fd == pid_fd) {
        pid_t w = ::waitpid(pid, &outcome->wait_status, WNOHANG);
        // -1 (ECHILD): someone else reaped it (SIGCHLD ignored); the status is lost.
        if (w == pid || (w < 0 && errno != EINTR)) exited = true;
        continue;
      }
      ssize_t got = ::read(fd, buf.data(), buf.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        CloseFd(fd == out_fd ? &out_fd : &err_fd);
        continue;
      }
      if (fd == out_fd) {
        outcome->out.append(buf.data(), static_cast<size_t>(got));
        if (outcome->out.size() > options.max_output_bytes) outcome->too_large = true;
      } else {
        outcome->err.append(buf.data(), static_cast<size_t>(got));
        if (outcome->err.size() > 2 * kStderrKeep) {
          outcome->err.erase(0, outcome->err.size() - kStderrKeep);
        }
      }
    }
    if (outcome->too_large) break;
  }
  if (outcome->timed_out || outcome->too_large) {
    // The whole process group: children of a plugin that already exited may hold the pipes.
    ::kill(-pid, SIGKILL);
    if (!exited) ::kill(pid, SIGKILL);
  }
  if (!exited) {
    while (::waitpid(pid, &outcome->wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  CloseFd(&out_fd);
  CloseFd(&err_fd);
  CloseFd(&pid_fd);
  return 0;
}

// A scalar field of `map` as text; absent or null is "". Sets `*wrong_type` for anything else.
std::string ScalarField(const YAML::Node& map, const char* key, bool* wrong_type) {
  const YAML::Node v = map[key];
  if (!v.IsDefined() || v.IsNull()) return "";
  if (!v.IsScalar()) {
    *wrong_type = true;
    return "";
  }
  return v.Scalar();
}

std::string Truncated(std::string_view s) {
  return s.size() <= 80 ? std::string(s) : std::string(s.substr(0, 80)) + "...";
}

}  // namespace

namespace internal {

// Nothing of the output is quoted in errors except `apiVersion`, `kind` and the expiration
// timestamp, which are not secrets.
Result<ExecCredential> ParseExecCredential(const std::string& out, const ExecConfig& exec,
                                           const std::string& who) {
  YAML::Node root;
  try {
    root = YAML::Load(out);
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null()) {
      where = " (line " + std::to_string(e.mark.line + 1) + ", column " +
              std::to_string(e.mark.column + 1) + ")";
    }
    return InvalidArgumentError(who + ": output is not valid JSON" + where);
  }
  try {
    if (!root.IsMap()) {
      return InvalidArgumentError(who + ": output is not a JSON ExecCredential object (" +
                                  std::to_string(out.size()) + " bytes)");
    }
    bool wrong = false;
    std::string api_version = ScalarField(root, "apiVersion", &wrong);
    std::string kind = ScalarField(root, "kind", &wrong);
    if (wrong) return InvalidArgumentError(who + ": apiVersion or kind is not a string");
    if (api_version != exec.api_version) {
      return InvalidArgumentError(who + ": configured for apiVersion " + exec.api_version +
                                  ", but the plugin returned " + Quoted(Truncated(api_version)));
    }
    if (kind != "ExecCredential") {
      return InvalidArgumentError(who + ": returned kind " + Quoted(Truncated(kind)) +
                                  ", want ExecCredential");
    }
    const YAML::Node status = root["status"];
    if (!status.IsDefined() || status.IsNull()) {
      return InvalidArgumentError(who + ": returned no status");
    }
    if (!status.IsMap()) return InvalidArgumentError(who + ": status is not an object");
    ExecCredential cred;
    cred.token = ScalarField(status, "token", &wrong);
    cred.client_certificate_data = ScalarField(status, "clientCertificateData", &wrong);
    cred.client_key_data = ScalarField(status, "clientKeyData", &wrong);
    std::string expiry = ScalarField(status, "expirationTimestamp", &wrong);
    if (wrong) {
      return InvalidArgumentError(who +
                                  ": status.token, clientCertificateData, clientKeyData or "
                                  "expirationTimestamp is not a string");
    }
    if (cred.token.empty() && cred.client_certificate_data.empty() &&
        cred.client_key_data.empty()) {
      return InvalidArgumentError(who + ": returned neither a token nor a certificate and key");
    }
    if (cred.client_certificate_data.empty() != cred.client_key_data.empty()) {
      return InvalidArgumentError(who +
                                  ": returned only one of clientCertificateData and "
                                  "clientKeyData; both are needed");
    }
    if (!expiry.empty()) {
      cred.expiration = ParseExpiry(expiry);
      if (!cred.expiration) {
        return InvalidArgumentError(who + ": status.expirationTimestamp " +
                                    Quoted(Truncated(expiry)) + " is not an RFC 3339 time");
      }
    }
    return cred;
  } catch (const YAML::Exception&) {
    return InvalidArgumentError(who + ": output is not a valid ExecCredential");
  }
}

}  // namespace internal

namespace {

bool SameCredential(const ExecCredential& a, const ExecCredential& b) {
  return a.token == b.token && a.client_certificate_data == b.client_certificate_data &&
         a.client_key_data == b.client_key_data && a.expiration == b.expiration;
}

}  // namespace

Result<ExecCredential> RunExecCredentialPlugin(const ExecConfig& exec, const RestConfig& cluster,
                                               const ExecPluginOptions& options) {
  if (exec.command.empty()) return InvalidArgumentError("exec plugin: no command given");
  const std::string who = "exec plugin " + Quoted(exec.command);
  if (exec.api_version != kExecV1 && exec.api_version != kExecV1Beta1) {
    return InvalidArgumentError(who + ": unsupported apiVersion " + Quoted(exec.api_version) +
                                " (want " + kExecV1 + " or " + kExecV1Beta1 + ")");
  }
  if (exec.interactive_mode == "Always") {
    return InvalidArgumentError(who +
                                ": interactiveMode Always needs a terminal, and kube-informer "
                                "never gives a plugin one");
  }

  std::vector<std::string> args;
  args.push_back(exec.command);
  args.insert(args.end(), exec.args.begin(), exec.args.end());
  ProcessOutcome outcome;
  int spawn_error =
      RunProcess(args, PluginEnvironment(exec, ExecInfoJson(exec, cluster)), options, &outcome);
  if (spawn_error != 0) {
    std::string msg = who + ": cannot run: " + ErrnoText(spawn_error);
    if (spawn_error == ENOENT) msg = who + ": executable not found";
    if ((spawn_error == ENOENT || spawn_error == EACCES) && !exec.install_hint.empty()) {
      msg += "\n\n" + CleanInstallHint(exec.install_hint);
    }
    return InvalidArgumentError(std::move(msg));
  }
  if (outcome.timed_out) {
    return DeadlineExceededError(WithStderr(
        who + ": no answer within " + std::to_string(options.timeout.count()) + "ms; killed",
        outcome.err));
  }
  if (outcome.too_large) {
    return DataLossError(who + ": wrote more than " + std::to_string(options.max_output_bytes) +
                         " bytes to stdout; killed");
  }
  if (WIFSIGNALED(outcome.wait_status)) {
    return UnavailableError(WithStderr(
        who + ": killed by signal " + std::to_string(WTERMSIG(outcome.wait_status)), outcome.err));
  }
  if (WIFEXITED(outcome.wait_status) && WEXITSTATUS(outcome.wait_status) != 0) {
    return UnavailableError(WithStderr(
        who + ": failed with exit code " + std::to_string(WEXITSTATUS(outcome.wait_status)),
        outcome.err));
  }
  return internal::ParseExecCredential(outcome.out, exec, who);
}

// --- ExecCredentialProvider ------------------------------------------------------------------

struct ExecCredentialProvider::Impl {
  RestConfig config;
  Options options;
  // Held while the plugin runs, so that concurrent callers share one run.
  internal::Mutex mu;
  std::optional<ExecCredential> cached KUBE_GUARDED_BY(mu);
  int runs KUBE_GUARDED_BY(mu) = 0;

  bool ExpiredLocked() const KUBE_REQUIRES(mu) {
    if (!cached->expiration) return false;
    system_clock::time_point now = options.now ? options.now() : system_clock::now();
    return now > *cached->expiration;
  }
};

ExecCredentialProvider::ExecCredentialProvider(const RestConfig& config, Options options)
    : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->options = std::move(options);
}

ExecCredentialProvider::~ExecCredentialProvider() = default;

Result<ExecCredential> ExecCredentialProvider::Get() {
  if (!impl_->config.exec) {
    return InvalidArgumentError("exec credential provider: the config has no exec plugin (" +
                                impl_->config.source + ")");
  }
  internal::MutexLock lock(impl_->mu);
  if (impl_->cached && !impl_->ExpiredLocked()) return *impl_->cached;
  impl_->cached.reset();
  ++impl_->runs;
  Result<ExecCredential> fresh =
      RunExecCredentialPlugin(*impl_->config.exec, impl_->config, impl_->options.plugin);
  if (fresh) impl_->cached = *fresh;
  return fresh;
}

void ExecCredentialProvider::Invalidate() {
  internal::MutexLock lock(impl_->mu);
  impl_->cached.reset();
}

void ExecCredentialProvider::InvalidateIfCurrent(const ExecCredential& refused) {
  internal::MutexLock lock(impl_->mu);
  if (impl_->cached && SameCredential(*impl_->cached, refused)) impl_->cached.reset();
}

int ExecCredentialProvider::runs() const {
  internal::MutexLock lock(impl_->mu);
  return impl_->runs;
}

}  // namespace kube

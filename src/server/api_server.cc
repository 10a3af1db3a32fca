// EmbeddedApiServer: wires the catalog, storage, registry, router, HTTP server, churn and faults
// together; see include/kube/server/api_server.h.
//
// Reads from: ApiServerOptions, in-process callers. Feeds: everything under src/server/.
#include "kube/server/api_server.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "server/auth.h"
#include "server/churn.h"
#include "server/faults.h"
#include "server/http_session.h"
#include "server/object_json.h"
#include "server/registry.h"
#include "server/resource_info.h"
#include "server/router.h"
#include "server/seed.h"
#include "server/storage.h"

namespace kube {
namespace {

using server::ApiOr;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 127.0.0.0/8, ::1 and "localhost"; anything else (0.0.0.0 and :: included) reaches the network.
bool IsLoopbackAddress(const std::string& address) {
  if (address == "localhost" || address == "::1" || address == "[::1]") return true;
  if (address.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : address) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

// A YAML double-quoted scalar.
std::string YamlQuote(std::string_view s) { return server::Dump(nlohmann::json(std::string(s))); }

}  // namespace

// Member order is construction order: each part borrows the ones above it, and destruction runs
// bottom-up, so the HTTP server (and its sessions) go before the storage they use.
struct EmbeddedApiServer::Impl {
  ApiServerOptions options;
  std::unique_ptr<server::ResourceCatalog> catalog;
  server::Storage storage;
  server::Registry registry;
  server::Faults faults;
  std::unique_ptr<server::Authenticator> auth;
  server::Router router;
  server::Churn churn;
  std::unique_ptr<server::HttpServer> http;
  std::string first_token;

  explicit Impl(ApiServerOptions o)
      : options(std::move(o)),
        catalog(server::ResourceCatalog::WithBuiltins()),
        storage({.history_limit = options.history_size,
                 .history_bytes_limit = options.history_bytes,
                 .watch_queue_limit = options.watch_queue_limit}),
        registry(storage, *catalog),
        faults(options.fault_seed),
        router(registry, {.max_watch_timeout = options.max_watch_timeout,
                          .max_request_body_bytes = options.max_request_body_bytes}),
        churn(registry) {
    registry.SetMaxObjectBytes(options.max_request_body_bytes);
  }

  Result<server::ResourceInfoPtr> InfoOf(const nlohmann::json& obj) const {
    Result<GroupVersion> gv = GroupVersion::Parse(server::StringAt(obj, "apiVersion"));
    if (!gv) return gv.error();
    std::string kind = server::StringAt(obj, "kind");
    server::ResourceInfoPtr info = catalog->FindByKind({gv->group, gv->version, kind});
    if (!info) {
      return NotFoundError("the server does not serve apiVersion " + gv->ToString() + " kind " +
                           kind);
    }
    return info;
  }
};

EmbeddedApiServer::EmbeddedApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedApiServer::~EmbeddedApiServer() { Stop(); }

Result<std::unique_ptr<EmbeddedApiServer>> EmbeddedApiServer::Start(ApiServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  const ApiServerOptions& o = impl->options;
  if (o.bookmark_interval.count() <= 0) {
    // A zero period would re-arm each watch's bookmark timer at once, forever: a busy loop.
    return InvalidArgumentError("ApiServerOptions::bookmark_interval must be positive, got " +
                                std::to_string(o.bookmark_interval.count()) + " ms");
  }
  if (!o.resources_file.empty()) {
    if (Status s = impl->catalog->LoadFile(o.resources_file); !s.ok()) return s;
  }
  auto auth = server::Authenticator::Create(o.token_auth_file, !o.client_ca_file.empty());
  if (!auth) return auth.error();
  if (!(*auth)->required() && !o.allow_anonymous_non_loopback && !IsLoopbackAddress(o.address)) {
    return InvalidArgumentError(
        "refusing to listen on " + o.address +
        " without authentication: anyone who can reach it could read and change everything. "
        "Give --token-auth-file or --client-ca-file, listen on 127.0.0.1, or pass "
        "--insecure-allow-anonymous");
  }
  impl->auth = std::move(auth).value();
  impl->router.SetAuthenticator(impl->auth.get());
  if (!o.token_auth_file.empty()) {
    Result<std::string> text = ReadFile(o.token_auth_file);
    // The kubeconfig writer's default token: the file's first user.
    std::istringstream lines(text ? *text : "");
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#' || line[0] == '\r') continue;
      impl->first_token = line.substr(0, line.find(','));
      break;
    }
  }
  if (o.default_namespaces) impl->registry.CreateDefaultNamespaces();
  std::unique_ptr<EmbeddedApiServer> server(new EmbeddedApiServer(std::move(impl)));
  if (!server->impl_->options.seed.empty()) {
    if (Status s = server->Seed(server->impl_->options.seed); !s.ok()) return s;
  }
  Impl& i = *server->impl_;
  server::HttpServerOptions http{
      .address = i.options.address,
      .port = i.options.port,
      .threads = i.options.threads,
      .tls_cert_file = i.options.tls_cert_file,
      .tls_private_key_file = i.options.tls_private_key_file,
      .client_ca_file = i.options.client_ca_file,
      .bookmark_interval = i.options.bookmark_interval,
      .rv_wait = i.options.resource_version_wait,
      .idle_timeout = i.options.idle_timeout,
      .write_timeout = i.options.write_timeout,
      .max_body_bytes = i.options.max_request_body_bytes,
      .max_header_bytes = i.options.max_header_bytes,
      .max_connections = i.options.max_connections,
  };
  auto started = server::HttpServer::Start(
      http,
      {.router = &i.router, .storage = &i.storage, .faults = &i.faults, .auth = i.auth.get()});
  if (!started) return started.error();
  i.http = std::move(started).value();
  return server;
}

void EmbeddedApiServer::Stop() noexcept {
  impl_->churn.Stop();
  if (impl_->http) impl_->http->Stop();
}

uint16_t EmbeddedApiServer::Port() const { return impl_->http ? impl_->http->port() : 0; }

std::string EmbeddedApiServer::Url() const {
  bool tls = impl_->http && impl_->http->tls();
  std::string host = impl_->options.address;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(Port());
}

Result<ObjectPtr> EmbeddedApiServer::Create(std::string_view json) {
  ApiOr<nlohmann::json> obj = server::ParseJsonObject(json);
  if (!obj.ok()) return server::ToStatus(obj.error());
  auto info = impl_->InfoOf(*obj);
  if (!info) return info.error();
  std::string ns =
      (*obj)["metadata"].is_object() ? server::StringAt((*obj)["metadata"], "namespace") : "";
  if ((*info)->namespaced && ns.empty()) ns = "default";
  ApiOr<ObjectPtr> created = impl_->registry.Create(**info, ns, std::move(obj).value());
  if (!created.ok()) return server::ToStatus(created.error());
  return *created;
}

Result<ObjectPtr> EmbeddedApiServer::Apply(std::string_view json) {
  ApiOr<nlohmann::json> obj = server::ParseJsonObject(json);
  if (!obj.ok()) return server::ToStatus(obj.error());
  auto info = impl_->InfoOf(*obj);
  if (!info) return info.error();
  ApiOr<ObjectPtr> applied = impl_->registry.Apply(**info, std::move(obj).value());
  if (!applied.ok()) return server::ToStatus(applied.error());
  return *applied;
}

Result<ObjectPtr> EmbeddedApiServer::Get(const GroupVersionResource& gvr, std::string_view ns,
                                         std::string_view name) const {
  server::ResourceInfoPtr info = impl_->catalog->Find(gvr);
  if (!info) return NotFoundError("the server does not serve " + gvr.ToString());
  ApiOr<ObjectPtr> obj = impl_->registry.Get(*info, ns, name);
  if (!obj.ok()) return server::ToStatus(obj.error());
  return *obj;
}

Status EmbeddedApiServer::Delete(const GroupVersionResource& gvr, std::string_view ns,
                                 std::string_view name) {
  server::ResourceInfoPtr info = impl_->catalog->Find(gvr);
  if (!info) return NotFoundError("the server does not serve " + gvr.ToString());
  ApiOr<server::DeleteResult> r = impl_->registry.Delete(*info, ns, name);
  if (!r.ok()) return server::ToStatus(r.error());
  return Status::Ok();
}

Status EmbeddedApiServer::LoadManifests(std::string_view text) {
  auto objects = server::ParseManifests(text);
  if (!objects) return objects.error();
  Status s = server::ApplyManifests(impl_->registry, std::move(objects).value());
#if defined(__GLIBC__)
  // A big manifest's parse tree is freed by now; hand those pages back (a 100,000-Pod seed
  // otherwise keeps its peak, several times the stored objects, for the server's lifetime).
  malloc_trim(0);
#endif
  return s;
}

Status EmbeddedApiServer::Seed(std::string_view demo_or_path) {
  if (demo_or_path == "demo") {
    return server::ApplyManifests(impl_->registry, server::DemoObjects());
  }
  Result<std::string> text = ReadFile(std::string(demo_or_path));
  if (!text) return text.error();
  Status s = LoadManifests(*text);
  return s.ok() ? s : s.WithContext(std::string(demo_or_path));
}

uint64_t EmbeddedApiServer::ResourceVersion() const { return impl_->storage.CurrentRv(); }

size_t EmbeddedApiServer::WatchCount() const { return impl_->storage.WatcherCount(); }

EmbeddedApiServer::ListRequests EmbeddedApiServer::ListRequestCount() const {
  server::Router::ListCounts c = impl_->router.ListRequestCounts();
  return {c.all, c.single_item};
}

size_t EmbeddedApiServer::WaitingRequestCount() const { return impl_->storage.RvWaiterCount(); }

Status EmbeddedApiServer::StartChurn(const ChurnOptions& options) {
  return impl_->churn.Start(options);
}

void EmbeddedApiServer::StopChurn() { impl_->churn.Stop(); }

void EmbeddedApiServer::DropWatches() {
  impl_->storage.CloseAllWatchers(server::Watcher::End::kDropped);
}

void EmbeddedApiServer::CompactHistory() { impl_->storage.Compact(); }

void EmbeddedApiServer::FailRequests(double fraction, int http_code,
                                     std::chrono::seconds retry_after) {
  impl_->faults.FailRequests(fraction, http_code, static_cast<int>(retry_after.count()));
}

void EmbeddedApiServer::SetLatency(std::chrono::milliseconds latency) {
  impl_->faults.SetLatency(latency);
}

void EmbeddedApiServer::CutWatchStreams() { impl_->storage.CutAllWatchers(); }

Status EmbeddedApiServer::WriteKubeconfig(const std::string& path,
                                          const ServerKubeconfigOptions& options) const {
  const std::string& name = options.context_name;
  std::string cluster = "    server: " + YamlQuote(Url()) + "\n";
  if (impl_->http && impl_->http->tls()) {
    if (options.insecure_skip_tls_verify) {
      cluster += "    insecure-skip-tls-verify: true\n";
    } else {
      std::string ca_file = options.certificate_authority_file.empty()
                                ? impl_->options.tls_cert_file
                                : options.certificate_authority_file;
      Result<std::string> ca = ReadFile(ca_file);
      if (!ca) return ca.error();
      cluster += "    certificate-authority-data: " + internal::Base64Encode(*ca) + "\n";
    }
  }
  std::string user;
  std::string token = options.token.empty() ? impl_->first_token : options.token;
  if (!token.empty()) user += "    token: " + YamlQuote(token) + "\n";
  if (!options.client_certificate_file.empty()) {
    user += "    client-certificate: " + YamlQuote(options.client_certificate_file) + "\n";
  }
  if (!options.client_key_file.empty()) {
    user += "    client-key: " + YamlQuote(options.client_key_file) + "\n";
  }
  if (user.empty()) user = "    {}\n";
  std::string text =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: " + YamlQuote(name) + "\n  cluster:\n" +
      cluster + "users:\n- name: " + YamlQuote(name) + "\n  user:\n" + user +
      "contexts:\n- name: " + YamlQuote(name) + "\n  context:\n    cluster: " + YamlQuote(name) +
      "\n    user: " + YamlQuote(name) + "\n    namespace: " + YamlQuote(options.ns) +
      "\ncurrent-context: " + YamlQuote(name) + "\n";
  // It may hold a token: owner-only (0600), as kubectl writes kubeconfig files, also when the file
  // existed with wider permissions.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return InvalidArgumentError("cannot write kubeconfig " + path + ": " +
                                internal::ErrnoText(errno));
  }
  bool ok = ::fchmod(fd, 0600) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  int err = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok)
    return InvalidArgumentError("cannot write kubeconfig " + path + ": " +
                                internal::ErrnoText(err));
  return Status::Ok();
}

}  // namespace kube

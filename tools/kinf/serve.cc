// `kinf serve`: runs the embedded API server until SIGTERM or SIGINT.
//
// The first line printed on stdout is `listening on <url>` (scripts read the port from it).
// Flag names follow kube-apiserver where one exists (--tls-cert-file, --tls-private-key-file,
// --client-ca-file, --token-auth-file). See docs/server.md.
//
// Reads from: flags. Feeds: kube::EmbeddedApiServer.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "kinf/commands.h"
#include "kinf/flags.h"
#include "kube/server/api_server.h"

namespace kinf {
namespace {

// "127.0.0.1:8080", "127.0.0.1" (port 0), ":6443" (127.0.0.1), "[::1]:0".
bool ParseListen(const std::string& text, std::string* host, uint16_t* port) {
  std::string h = text;
  std::string p;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return false;
    h = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      p = text.substr(close + 2);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  *host = h.empty() ? "127.0.0.1" : h;
  *port = 0;
  if (!p.empty()) {
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), *port);
    if (ec != std::errc() || end != p.data() + p.size()) return false;
  }
  return true;
}

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int RunServe(const std::vector<std::string>& args) {
  kube::ApiServerOptions options;
  std::string listen = "127.0.0.1:0";
  std::string kubeconfig;
  int64_t history = static_cast<int64_t>(options.history_size);
  int64_t history_mib = static_cast<int64_t>(options.history_bytes >> 20);
  int64_t threads = options.threads;
  int64_t churn_seed = 1;
  int64_t bookmark_seconds = 60;
  double churn = 0;
  std::string churn_ns = "default";
  std::string churn_resources = "pods";

  FlagSet flags("serve");
  flags.String("listen", "ADDRESS[:PORT] to listen on (default 127.0.0.1:0; port 0 picks one)",
               &listen);
  flags.String("seed", "`demo` or a manifest file (YAML documents, JSON object, array or List)",
               &options.seed);
  flags.Double("churn",
               "create/update/delete this many objects per second (deterministic; Pods unless "
               "--churn-resources says otherwise)",
               &churn);
  flags.String("churn-resources",
               "comma-separated namespaced resources to churn in turn, e.g. deployments,pods "
               "(default pods)",
               &churn_resources);
  flags.Int("churn-seed", "seed of the churn sequence (default 1)", &churn_seed);
  flags.String("churn-namespace", "namespace the churned Pods live in (default default)",
               &churn_ns);
  flags.Int("history",
            "events kept for watch resume, exact lists and continue tokens "
            "(older ones answer 410 Expired; default 10000)",
            &history);
  flags.Int("history-mib",
            "MiB of objects the event history may hold; the oldest events are compacted beyond "
            "(default 128)",
            &history_mib);
  flags.Int("threads", "I/O threads (default 1)", &threads);
  flags.Int("bookmark-interval", "seconds between watch BOOKMARK events (default 60)",
            &bookmark_seconds);
  flags.String("tls-cert-file", "serve HTTPS with this PEM certificate (chain)",
               &options.tls_cert_file);
  flags.String("tls-private-key-file", "the PEM private key of --tls-cert-file",
               &options.tls_private_key_file);
  flags.String("client-ca-file", "accept client certificates signed by this CA bundle",
               &options.client_ca_file);
  flags.String("token-auth-file", "bearer tokens, CSV lines token,user,uid,\"group1,group2\"",
               &options.token_auth_file);
  flags.String("resources", "extra resources to serve (see docs/server.md)",
               &options.resources_file);
  flags.String(
      "write-kubeconfig",
      "write a kubeconfig that reaches this server to PATH (mode 0600: it may hold a token)",
      &kubeconfig);
  flags.Bool("insecure-allow-anonymous",
             "allow listening on a non-loopback address without --token-auth-file or "
             "--client-ca-file (anyone who reaches it may do anything)",
             &options.allow_anonymous_non_loopback);
  if (!flags.Parse(args)) return 2;
  if (flags.help_requested()) return 0;
  if (!ParseListen(listen, &options.address, &options.port)) {
    std::fprintf(stderr, "kinf serve: bad --listen %s\n", listen.c_str());
    return 2;
  }
  if (history < 0 || history_mib < 0 || history_mib > (int64_t{1} << 30) || threads < 1 ||
      bookmark_seconds < 1 || churn < 0) {
    std::fprintf(stderr,
                 "kinf serve: --history, --history-mib, --threads, --bookmark-interval and "
                 "--churn must be positive\n");
    return 2;
  }
  options.history_size = static_cast<size_t>(history);
  options.history_bytes = static_cast<size_t>(history_mib) << 20;
  options.threads = static_cast<int>(threads);
  options.bookmark_interval = std::chrono::seconds(bookmark_seconds);

  // Block the stop signals before any thread starts, so every thread inherits the mask and the
  // main thread alone receives them in sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = kube::EmbeddedApiServer::Start(options);
  if (!server) {
    std::fprintf(stderr, "kinf serve: %s\n", server.error().ToString().c_str());
    return 1;
  }
  std::printf("listening on %s\n", (*server)->Url().c_str());
  std::fflush(stdout);
  if (!kubeconfig.empty()) {
    kube::Status s = (*server)->WriteKubeconfig(kubeconfig);
    if (!s.ok()) {
      std::fprintf(stderr, "kinf serve: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("kubeconfig written to %s\n", kubeconfig.c_str());
    std::fflush(stdout);
  }
  if (churn > 0) {
    kube::ChurnOptions churn_options{
        .ops_per_second = churn, .seed = static_cast<uint64_t>(churn_seed), .ns = churn_ns};
    churn_options.resources = SplitList(churn_resources);
    kube::Status s = (*server)->StartChurn(churn_options);
    if (!s.ok()) {
      std::fprintf(stderr, "kinf serve: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "kinf serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Stop();
  return 0;
}

}  // namespace kinf

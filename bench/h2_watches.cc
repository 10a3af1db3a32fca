// Many watches over one HttpClient against a loopback TLS server (bench/h2_watches.sh starts
// node's http2 module, tests/client/testdata/h2_server.mjs): how many connections and TLS
// handshakes the watches cost, and the client's memory. A plain main; prints one JSON line. The
// server's counts include the final /stats request (one more stream).
//
//   h2_watches SERVER_URL CA_FILE WATCHES [--no-client-stats]
//
// --no-client-stats: do not call `HttpClient::Stats()` (for a library built before it existed).
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"

namespace {

// A field of /proc/self/status in KiB ("VmRSS", "VmHWM").
long ProcStatusKib(const std::string& field) {  // NOLINT(runtime/int)
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: h2_watches SERVER_URL CA_FILE WATCHES [--no-client-stats]\n";
    return 2;
  }
  const int watches = std::atoi(argv[3]);
  const bool client_stats = !(argc > 4 && std::strcmp(argv[4], "--no-client-stats") == 0);
  kube::RestConfig config;
  config.server = argv[1];
  config.ca_file = argv[2];
  kube::Result<std::shared_ptr<kube::HttpClient>> http = kube::MakeCurlHttpClient(config);
  if (!http) {
    std::cerr << http.error() << "\n";
    return 1;
  }
  kube::ResourceClient pods(*http, {"", "v1", "pods"}, "default");
  const long rss_before = ProcStatusKib("VmRSS");  // NOLINT(runtime/int)
  std::mutex mu;
  std::condition_variable cv;
  int events = 0;
  auto start = std::chrono::steady_clock::now();
  std::vector<kube::WatchHandle> handles;
  handles.reserve(watches);
  for (int i = 0; i < watches; ++i) {
    handles.push_back(pods.WatchAsync({}, [&](kube::WatchEvent e) {
      if (e.type != kube::WatchEventType::kAdded) return;
      std::lock_guard<std::mutex> l(mu);
      ++events;
      cv.notify_all();
    }));
  }
  {
    std::unique_lock<std::mutex> l(mu);
    if (!cv.wait_for(l, std::chrono::seconds(120), [&] { return events == watches; })) {
      std::cerr << "only " << events << " of " << watches << " watches got their event\n";
      return 1;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long rss = ProcStatusKib("VmRSS");  // NOLINT(runtime/int)
  // Before the /stats request below, which is one more stream (and may need one more connection).
  kube::HttpClientStats client = client_stats ? (*http)->Stats() : kube::HttpClientStats{};
  kube::HttpRequest req;
  req.path = "/stats";
  kube::Result<kube::HttpResponse> stats = (*http)->Do(req);
  std::ostringstream out;
  out << "{\"watches\":" << watches << ",\"seconds_to_all_events\":" << seconds
      << ",\"rss_kib\":" << rss << ",\"rss_growth_kib\":" << (rss - rss_before)
      << ",\"server\":" << (stats ? stats->body : "null");
  if (client_stats) {
    out << ",\"client_connections_opened\":" << client.connections_opened
        << ",\"http2\":" << (client.http2 ? "true" : "false");
  }
  out << "}";
  std::cout << out.str() << std::endl;
  handles.clear();
  return 0;
}

// ApiServerFixture: an EmbeddedApiServer on 127.0.0.1:0 per test, with a small libcurl client for
// plain requests and watch streams.
//
// Tests derive from `ApiServerFixture` (override `Options()` to change the server), or use
// `TestHttpClient`/`WatchClient` directly against any server.
#ifndef KUBE_TESTS_TESTING_API_SERVER_FIXTURE_H_
#define KUBE_TESTS_TESTING_API_SERVER_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/server/api_server.h"

namespace kube::testing {

struct HttpResult {
  long code = 0;  // NOLINT(runtime/int): 0 when the transfer failed (see `error`)
  std::string body{};
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error{};
  // The body parsed; a discarded value when it is not JSON.
  nlohmann::json Json() const;
};

struct ClientOptions {
  std::string ca_file{};  // verify the server against this CA (TLS)
  std::string client_cert_file{};
  std::string client_key_file{};
  std::string token{};  // sent as `Authorization: Bearer`
};

// Blocking requests with libcurl; one connection per request. Thread-compatible.
class TestHttpClient {
 public:
  explicit TestHttpClient(std::string base_url, ClientOptions options = {});
  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     const std::vector<std::string>& headers = {}) const;
  HttpResult Get(const std::string& path, const std::string& accept = "") const;
  const std::string& base_url() const { return base_url_; }
  const ClientOptions& options() const { return options_; }

 private:
  std::string base_url_{};
  ClientOptions options_;
};

// A streaming GET read on a background thread, split into lines. Thread-safe.
class WatchClient {
 public:
  WatchClient(const std::string& url, const ClientOptions& options,
              const std::vector<std::string>& headers = {});
  ~WatchClient();  // aborts the transfer and joins
  WatchClient(const WatchClient&) = delete;
  WatchClient& operator=(const WatchClient&) = delete;

  // Waits for the response headers (the server registers the watch before sending them).
  bool WaitForHeaders(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  long status() const;  // NOLINT(runtime/int)
  // The next line, parsed; nullopt when none arrives within `timeout` or the stream ended.
  std::optional<nlohmann::json> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next line that is not a BOOKMARK.
  std::optional<nlohmann::json> NextNonBookmark(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until the transfer ends; true if it did within `timeout`.
  bool WaitDone(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // After the end: whether libcurl saw a clean end of the chunked body.
  bool ended_cleanly() const;
  // Bytes received after the last newline (a cut stream leaves half an event here).
  std::string Leftover() const;

 private:
  void Run(std::string url, ClientOptions options, std::vector<std::string> headers);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_{};  // guarded by mu_
  bool headers_done_ = false;
  long status_ = 0;  // NOLINT(runtime/int)
  bool done_ = false;
  bool clean_ = false;
  bool stop_ = false;
  void* multi_ = nullptr;  // CURLM*, for wakeups
  std::thread thread_;
};

class ApiServerFixture : public ::testing::Test {
 protected:
  // The server's options; the default is a plain server with short bookmarks.
  virtual ApiServerOptions Options() const;
  // The client's options (TLS, tokens).
  virtual ClientOptions ClientOpts() const { return {}; }

  void SetUp() override;
  void TearDown() override;

  EmbeddedApiServer& server() { return *server_; }
  const TestHttpClient& client() const { return *client_; }

  HttpResult Get(const std::string& path, const std::string& accept = "") const;
  HttpResult Post(const std::string& path, const std::string& body) const;
  HttpResult Put(const std::string& path, const std::string& body) const;
  HttpResult Patch(const std::string& path, const std::string& body,
                   const std::string& content_type = "application/merge-patch+json") const;
  HttpResult Delete(const std::string& path, const std::string& body = "") const;
  // Starts a watch and waits until the server has registered it.
  std::unique_ptr<WatchClient> Watch(const std::string& path,
                                     const std::vector<std::string>& headers = {}) const;
  // Creates through the in-process helper; fails the test on error. Returns the stored object.
  nlohmann::json MustCreate(const std::string& json);

  // Polls `cond` until true or `timeout`.
  static bool WaitFor(const std::function<bool()>& cond,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  std::unique_ptr<EmbeddedApiServer> server_;
  std::unique_ptr<TestHttpClient> client_;
};

// A ConfigMap's JSON: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{...},"data":{...}}`.
std::string ConfigMapJson(const std::string& ns, const std::string& name,
                          const std::map<std::string, std::string>& labels = {},
                          const std::string& data_value = "v");

}  // namespace kube::testing

#endif  // KUBE_TESTS_TESTING_API_SERVER_FIXTURE_H_

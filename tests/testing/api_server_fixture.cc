// ApiServerFixture and its libcurl clients; see api_server_fixture.h.
#include "tests/testing/api_server_fixture.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace kube::testing {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};
void EnsureCurl() { static CurlGlobal g; }

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*headers)[name] = value;
  }
  return size * n;
}

curl_slist* Configure(CURL* curl, const ClientOptions& o, const std::vector<std::string>& headers) {
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Expect:");
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  if (!o.token.empty()) {
    list = curl_slist_append(list, ("Authorization: Bearer " + o.token).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (!o.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.client_cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, o.client_cert_file.c_str());
  }
  if (!o.client_key_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, o.client_key_file.c_str());
  return list;
}

}  // namespace

nlohmann::json HttpResult::Json() const { return nlohmann::json::parse(body, nullptr, false); }

TestHttpClient::TestHttpClient(std::string base_url, ClientOptions options)
    : base_url_(std::move(base_url)), options_(std::move(options)) {
  EnsureCurl();
}

HttpResult TestHttpClient::Request(const std::string& method, const std::string& path,
                                   const std::string& body,
                                   const std::vector<std::string>& headers) const {
  HttpResult r;
  CURL* curl = curl_easy_init();
  std::string url = base_url_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));  // NOLINT
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_slist* list = Configure(curl, options_, headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.code);
  } else {
    r.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

HttpResult TestHttpClient::Get(const std::string& path, const std::string& accept) const {
  std::vector<std::string> headers;
  if (!accept.empty()) headers.push_back("Accept: " + accept);
  return Request("GET", path, "", headers);
}

// --- WatchClient -------------------------------------------------------------------------------

WatchClient::WatchClient(const std::string& url, const ClientOptions& options,
                         const std::vector<std::string>& headers) {
  EnsureCurl();
  multi_ = curl_multi_init();
  thread_ = std::thread([this, url, options, headers] { Run(url, options, headers); });
}

WatchClient::~WatchClient() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  thread_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void WatchClient::Run(std::string url, ClientOptions options, std::vector<std::string> headers) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  auto on_body = +[](char* data, size_t size, size_t n, void* user) -> size_t {
    auto* self = static_cast<WatchClient*>(user);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->buffer_.append(data, size * n);
    self->cv_.notify_all();
    return size * n;
  };
  auto on_header = +[](char* data, size_t size, size_t n, void* user) -> size_t {
    auto* self = static_cast<WatchClient*>(user);
    std::string line(data, size * n);
    std::lock_guard<std::mutex> lock(self->mu_);
    if (line.rfind("HTTP/", 0) == 0) {
      size_t sp = line.find(' ');
      if (sp != std::string::npos) self->status_ = std::atol(line.c_str() + sp + 1);
    } else if (line == "\r\n" || line == "\n") {
      self->headers_done_ = true;
      self->cv_.notify_all();
    }
    return size * n;
  };
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
  curl_slist* list = Configure(curl, options, headers);
  CURLM* multi = static_cast<CURLM*>(multi_);
  curl_multi_add_handle(multi, curl);
  bool clean = false;
  for (;;) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg == CURLMSG_DONE) clean = msg->data.result == CURLE_OK;
    }
    if (running == 0) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    curl_multi_poll(multi, nullptr, 0, 200, nullptr);
  }
  curl_multi_remove_handle(multi, curl);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  clean_ = clean;
  headers_done_ = true;
  cv_.notify_all();
}

bool WatchClient::WaitForHeaders(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return headers_done_; }) && status_ != 0;
}

long WatchClient::status() const {  // NOLINT(runtime/int)
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::optional<nlohmann::json> WatchClient::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  bool got =
      cv_.wait_for(lock, timeout, [&] { return buffer_.find('\n') != std::string::npos || done_; });
  size_t nl = buffer_.find('\n');
  if (!got || nl == std::string::npos) return std::nullopt;
  std::string line = buffer_.substr(0, nl);
  buffer_.erase(0, nl + 1);
  return nlohmann::json::parse(line, nullptr, false);
}

std::optional<nlohmann::json> WatchClient::NextNonBookmark(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int i = 0; i < 100000; ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto e = Next(left);
    if (!e || !e->is_object() || (*e)["type"] != "BOOKMARK") return e;
  }
  return std::nullopt;
}

bool WatchClient::WaitDone(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return done_; });
}

bool WatchClient::ended_cleanly() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_ && clean_;
}

std::string WatchClient::Leftover() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t nl = buffer_.rfind('\n');
  return nl == std::string::npos ? buffer_ : buffer_.substr(nl + 1);
}

// --- ApiServerFixture --------------------------------------------------------------------------

ApiServerOptions ApiServerFixture::Options() const {
  ApiServerOptions o;
  o.bookmark_interval = std::chrono::milliseconds(200);
  return o;
}

void ApiServerFixture::SetUp() {
  auto server = EmbeddedApiServer::Start(Options());
  ASSERT_TRUE(server) << server.error();
  server_ = std::move(server).value();
  client_ = std::make_unique<TestHttpClient>(server_->Url(), ClientOpts());
  ASSERT_TRUE(WaitFor([&] { return client_->Get("/readyz").code == 200; }))
      << "server at " << server_->Url() << " never became ready";
}

void ApiServerFixture::TearDown() {
  if (server_) server_->Stop();
  server_.reset();
}

HttpResult ApiServerFixture::Get(const std::string& path, const std::string& accept) const {
  return client_->Get(path, accept);
}
HttpResult ApiServerFixture::Post(const std::string& path, const std::string& body) const {
  return client_->Request("POST", path, body, {"Content-Type: application/json"});
}
HttpResult ApiServerFixture::Put(const std::string& path, const std::string& body) const {
  return client_->Request("PUT", path, body, {"Content-Type: application/json"});
}
HttpResult ApiServerFixture::Patch(const std::string& path, const std::string& body,
                                   const std::string& content_type) const {
  return client_->Request("PATCH", path, body, {"Content-Type: " + content_type});
}
HttpResult ApiServerFixture::Delete(const std::string& path, const std::string& body) const {
  return client_->Request("DELETE", path, body, {"Content-Type: application/json"});
}

std::unique_ptr<WatchClient> ApiServerFixture::Watch(
    const std::string& path, const std::vector<std::string>& headers) const {
  auto w = std::make_unique<WatchClient>(client_->base_url() + path, client_->options(), headers);
  EXPECT_TRUE(w->WaitForHeaders()) << "no response headers for " << path;
  return w;
}

nlohmann::json ApiServerFixture::MustCreate(const std::string& json) {
  auto obj = server_->Create(json);
  EXPECT_TRUE(obj) << obj.error();
  if (!obj) return nlohmann::json();
  return nlohmann::json::parse((*obj)->json());
}

bool ApiServerFixture::WaitFor(const std::function<bool()>& cond,
                               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

std::string ConfigMapJson(const std::string& ns, const std::string& name,
                          const std::map<std::string, std::string>& labels,
                          const std::string& data_value) {
  nlohmann::json j = {{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", {{"name", name}, {"namespace", ns}}},
                      {"data", {{"k", data_value}}}};
  if (!labels.empty()) j["metadata"]["labels"] = labels;
  return j.dump();
}

}  // namespace kube::testing

// Fuzzes the embedded API server's request handling without a socket: a request target split as a
// session splits it (`SplitRequestTarget`, percent-decoding and the query string), then the Router
// with a fresh registry holding a Pod, a Deployment and a ConfigMap. Covers paths, query
// parameters (selectors, resourceVersion, limit/continue, watch), content negotiation, bodies and
// every patch type.
//
// Input: the first byte picks the method (GET twice as often as POST, PUT, PATCH, DELETE); then
// four lines (target, Content-Type, Accept, then the body to the end). A `\x01` and three bytes in
// the body stand for a value nested as deep as the bytes say (`ExpandNesting`, fuzz_check.h).
//
// Invariants: no exception escapes and no 500 (bad input is the client's fault: 4xx); a JSON
// response is valid JSON, and an error's body is a Status whose `code` is the HTTP status; a watch
// answer is only given to a GET with watch; a precondition that is not a string (a
// `metadata.resourceVersion` of a PUT or a merge or strategic merge patch, a DeleteOptions
// `preconditions.uid` or `.resourceVersion`) never lets the write succeed: Go's decoder refuses
// it, and dropping it would turn a conditional write into an unconditional one.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz/fuzz_check.h"
#include "server/http_session.h"
#include "server/registry.h"
#include "server/resource_info.h"
#include "server/router.h"
#include "server/storage.h"

namespace {

using kube::server::HttpRequest;
using kube::server::HttpResponse;

constexpr const char* kMethods[] = {"GET", "GET", "POST", "PUT", "PATCH", "DELETE"};

std::string_view TakeLine(std::string_view* input) {
  size_t nl = input->find('\n');
  std::string_view line = input->substr(0, nl);
  *input = nl == std::string_view::npos ? std::string_view() : input->substr(nl + 1);
  return line;
}

void Seed(kube::server::Registry& registry, kube::server::ResourceCatalog& catalog) {
  registry.CreateDefaultNamespaces();
  const char* objects[][2] = {
      {"pods",
       R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"default",)"
       R"("labels":{"app":"web"}},"spec":{"nodeName":"node-a","containers":[{"name":"c",)"
       R"("image":"nginx","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}]}})"},
      {"configmaps",
       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"default"},)"
       R"("data":{"k":"v"}})"},
      {"deployments",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web",)"
       R"("namespace":"default","labels":{"app":"web"}},"spec":{"replicas":2,"selector":)"
       R"({"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},)"
       R"("spec":{"containers":[{"name":"c","image":"nginx"}]}}}})"},
  };
  for (const auto& [resource, json] : objects) {
    std::string group = std::string_view(resource) == "deployments" ? "apps" : "";
    auto info = catalog.Find({group, "v1", resource});
    FUZZ_CHECK(info != nullptr, std::string("no resource ") + resource);
    auto applied = registry.Apply(*info, nlohmann::json::parse(json));
    FUZZ_CHECK(applied.ok(), std::string("seeding ") + resource + " failed");
  }
}

void CheckResponse(const HttpRequest& req, const HttpResponse& r) {
  // A list's body is scattered (prefix, stored items, suffix); FlatBody() joins it.
  std::string flat = r.FlatBody();
  std::string what = req.method + " " + req.path + " (" + req.content_type +
                     "): " + std::to_string(r.status) + " " + flat.substr(0, 300);
  FUZZ_CHECK(r.status >= 200 && r.status < 600, what);
  FUZZ_CHECK(r.status != 500, what);
  if (r.content_type.starts_with("application/json") && !flat.empty()) {
    nlohmann::json body = nlohmann::json::parse(flat, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(!body.is_discarded(), "invalid JSON in " + what);
    if (r.status >= 400) {
      FUZZ_CHECK(body.is_object() && body.value("kind", "") == "Status" &&
                     body.value("code", 0) == r.status,
                 "an error that is not a matching Status: " + what);
    }
  }
}

// Whether `v` is a JSON value a Go string field refuses and that no patch directive rewrites: a
// number, a boolean or a list (`null` decodes to "", an object may be a `$patch` directive).
bool NotAString(const nlohmann::json& v) { return v.is_number() || v.is_boolean() || v.is_array(); }

// The precondition of `req` that is not a string, if any (see the invariants above).
std::string TypedPrecondition(const HttpRequest& req) {
  const bool put = req.method == "PUT";
  const bool merge = req.method == "PATCH" && (req.content_type.starts_with("application/merge") ||
                                               req.content_type.starts_with("application/strat"));
  const bool del = req.method == "DELETE";
  if (!put && !merge && !del) return "";
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return "";
  if (del) {
    auto p = body.find("preconditions");
    if (p == body.end() || !p->is_object()) return "";
    for (const char* k : {"uid", "resourceVersion"}) {
      auto v = p->find(k);
      if (v != p->end() && (NotAString(*v) || v->is_object())) return k;
    }
    return "";
  }
  auto m = body.find("metadata");
  if (m == body.end() || !m->is_object()) return "";
  auto rv = m->find("resourceVersion");
  return rv != m->end() && NotAString(*rv) ? "resourceVersion" : "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  HttpRequest req;
  req.method = kMethods[kube::fuzz::TakeByte(&input) % std::size(kMethods)];
  kube::server::SplitRequestTarget(TakeLine(&input), &req);
  req.content_type = std::string(TakeLine(&input));
  req.accept = std::string(TakeLine(&input));
  req.host = "127.0.0.1:6443";
  req.body = kube::fuzz::ExpandNesting(input);

  // Fresh state per input, so that a crash reproduces from its input alone (a CRD in the body
  // changes the catalog).
  auto catalog = kube::server::ResourceCatalog::WithBuiltins();
  kube::server::Storage storage({.history_limit = 100, .watch_queue_limit = 100});
  kube::server::Registry registry(storage, *catalog);
  Seed(registry, *catalog);
  kube::server::Router router(registry, {});

  kube::server::RouteResult result = router.Handle(req, [] {});
  if (auto* response = std::get_if<HttpResponse>(&result)) {
    CheckResponse(req, *response);
    if (std::string field = TypedPrecondition(req); !field.empty()) {
      FUZZ_CHECK(response->status >= 400,
                 "a write with a " + field + " precondition that is not a string succeeded: " +
                     req.method + " " + req.path + " " + req.body.substr(0, 300));
    }
  } else {
    FUZZ_CHECK(req.method == "GET", "a watch answer to " + req.method);
  }
  return 0;
}

// Router: URL layout, parameters and verbs of the Kubernetes REST protocol; see router.h.
//
// Reads from: HTTP sessions. Feeds: registry, storage, watch plans.
#include "server/router.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "server/access_review.h"
#include "server/content_type.h"
#include "server/decode_checks.h"
#include "server/discovery.h"
#include "server/field_validation.h"
#include "server/managed_fields.h"
#include "server/object_json.h"
#include "server/openapi.h"
#include "server/patch.h"
#include "server/seed.h"

namespace kube::server {
namespace {

using internal::Base64UrlDecode;
using internal::Base64UrlEncode;

using nlohmann::json;

constexpr std::string_view kTooOldContinue =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list.";

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string_view Param(const HttpRequest& req, std::string_view key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? std::string_view() : std::string_view(it->second);
}

bool HasParam(const HttpRequest& req, std::string_view key) { return req.query.contains(key); }

std::optional<bool> BoolParam(const HttpRequest& req, std::string_view key) {
  if (!HasParam(req, key)) return std::nullopt;
  std::string_view v = Param(req, key);
  return v == "true" || v == "1" || v == "True";
}

bool Acceptable(std::string_view accept) {
  if (accept.empty()) return true;
  std::string lower = internal::AsciiLower(accept);
  return lower.find("application/json") != std::string::npos ||
         lower.find("*/*") != std::string::npos || lower.find("application/*") != std::string::npos;
}

struct Selectors {
  LabelSelector labels = LabelSelector::Everything();
  FieldSelector fields = FieldSelector::Everything();
  bool empty() const { return labels.Empty() && fields.Empty(); }
};

ApiOr<Selectors> ParseSelectors(const HttpRequest& req, const ResourceInfo& info) {
  Selectors s;
  if (auto l = Param(req, "labelSelector"); !l.empty()) {
    Result<LabelSelector> parsed = LabelSelector::Parse(l);
    if (!parsed) return BadRequest(parsed.error().message());
    s.labels = *parsed;
  }
  if (auto f = Param(req, "fieldSelector"); !f.empty()) {
    Result<FieldSelector> parsed = FieldSelector::Parse(f);
    if (!parsed) return BadRequest(parsed.error().message());
    for (const FieldRequirement& r : parsed->requirements()) {
      bool known = r.field == "metadata.name" || r.field == "metadata.namespace" ||
                   std::find(info.field_labels.begin(), info.field_labels.end(), r.field) !=
                       info.field_labels.end();
      if (!known) return BadRequest("field label not supported: " + r.field);
    }
    s.fields = *parsed;
  }
  return s;
}

// "": absent; else must be a decimal number.
ApiOr<std::optional<uint64_t>> ParseRvParam(std::string_view text) {
  if (text.empty()) return std::optional<uint64_t>();
  uint64_t rv = 0;
  if (!ParseResourceVersion(text, &rv)) {
    return BadRequest("invalid resource version: " + std::string(text));
  }
  return std::optional<uint64_t>(rv);
}

// A continue token: kube-apiserver's fields (`v`, `rv`, `start`) plus `n`, how many objects the
// pages so far returned, so the next page counts `remainingItemCount` without a walk. Tokens
// are opaque to clients; a token without `n` (or with a wrong one) still works, only slower.
std::string EncodeContinue(uint64_t rv, std::string_view start, std::optional<size_t> n) {
  json j = {{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", start}};
  if (n) j["n"] = *n;
  return Base64UrlEncode(Dump(j));
}

struct ContinueToken {
  uint64_t rv = 0;  // 0: the latest state (an "inconsistent" continuation)
  std::string start;
  std::optional<size_t> n;  // objects returned by the earlier pages; nullopt = unknown
};

ApiOr<ContinueToken> DecodeContinue(std::string_view token) {
  std::optional<std::string> raw = Base64UrlDecode(token);
  if (!raw) return BadRequest("continue key is not valid: illegal base64 data");
  if (auto err = ScanJsonText(*raw); err && *err == kExceededMaxDepth) {
    return BadRequest("continue key is not valid: " + *err);
  }
  json j = json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rv") || !j["rv"].is_number_unsigned() ||
      !j.contains("start") || !j["start"].is_string() ||
      (j.contains("n") && !j["n"].is_number_unsigned())) {
    return BadRequest("continue key is not valid: incorrect encoded start resourceVersion");
  }
  ContinueToken t{j["rv"].get<uint64_t>(), j["start"].get<std::string>(), std::nullopt};
  if (j.contains("n")) t.n = j["n"].get<size_t>();
  return t;
}

ApiOr<IncludeObject> IncludeParam(const HttpRequest& req) {
  Result<IncludeObject> inc = ParseIncludeObject(Param(req, "includeObject"));
  if (!inc) return BadRequest(inc.error().message());
  return *inc;
}

std::string TableBody(const ResourceInfo& info, const std::vector<ObjectPtr>& items,
                      IncludeObject include, uint64_t rv, const std::string& cont,
                      std::optional<int64_t> remaining) {
  json table = BuildTable(info, items, include, true, std::chrono::system_clock::now());
  json meta = {{"resourceVersion", std::to_string(rv)}};
  if (!cont.empty()) meta["continue"] = cont;
  if (remaining) meta["remainingItemCount"] = *remaining;
  table["metadata"] = std::move(meta);
  return Dump(table);
}

}  // namespace

size_t HttpResponse::body_size() const {
  size_t n = body.size() + body_suffix.size();
  for (const ObjectPtr& o : items) n += o->json().size();
  for (const EncodedItem& e : encoded_items) n += e.field.size();
  return n + (items.empty() ? 0 : items.size() - 1);
}

std::string HttpResponse::FlatBody() const {
  std::string out;
  out.reserve(body_size());
  out += body;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i]->json();
  }
  for (const EncodedItem& e : encoded_items) out += e.field;
  out += body_suffix;
  return out;
}

namespace {

// A list answer made of the stored objects' bytes: nothing is re-serialized or copied (the
// session writes the items as a scatter list).
HttpResponse ListResponse(const ResourceInfo& info, std::vector<ObjectPtr> items, uint64_t rv,
                          const std::string& cont, std::optional<int64_t> remaining) {
  HttpResponse r;
  std::string& body = r.body;
  body.reserve(160 + cont.size());
  body += R"({"kind":")";
  body += info.list_kind;
  body += R"(","apiVersion":")";
  body += info.api_version();
  body += R"(","metadata":{"resourceVersion":")";
  body += std::to_string(rv);
  body += '"';
  if (!cont.empty()) {
    body += R"(,"continue":")";
    body += cont;
    body += '"';
  }
  if (remaining) {
    body += R"(,"remainingItemCount":)";
    body += std::to_string(*remaining);
  }
  body += R"(},"items":[)";
  if (items.empty()) {
    body += "]}";
  } else {
    r.items = std::move(items);
    r.body_suffix = "]}";
  }
  return r;
}

// A create/update body of `kind` in `version`: JSON, or YAML converted to JSON, whose aliases
// may expand it to at most `max_bytes` of JSON (protobuf bodies arrive here already transcoded
// to JSON, see content_type.h). CBOR is not served: 415. What Go's decoder refuses is a 400 in
// kube-apiserver's words, checked on the bytes before any parse (nesting, numbers) and then on
// the parsed `kind` and `metadata`.
ApiOr<json> DecodeBody(const HttpRequest& req, std::string_view kind, std::string_view version,
                       size_t max_bytes) {
  std::string_view ct = req.content_type;
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  json body;
  if (ct == "application/yaml" || ct == "application/x-yaml" || ct == "text/yaml") {
    Result<json> j = YamlToJson(req.body, max_bytes);
    if (!j || !j->is_object()) {
      return BadRequest("the body of the request is not a YAML object" +
                        (j ? std::string() : ": " + j.error().message()));
    }
    body = std::move(j).value();
  } else if (!ct.empty() && ct != "application/json" && ct != "*/*") {
    return UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted "
        "media types include: application/json, application/yaml, "
        "application/vnd.kubernetes.protobuf");
  } else {
    if (auto err = ScanJsonText(req.body)) {
      if (*err == kExceededMaxDepth) {
        return BadRequest(
            Unrecognized(kind, "couldn't get version/kind; json parse error: " + *err, req.body));
      }
      return BadRequest(CannotBeHandled(json::object(), kind, version, *err));
    }
    ApiOr<json> parsed = ParseJsonObject(req.body);
    if (!parsed.ok()) return parsed.error();
    body = std::move(parsed).value();
  }
  if (auto err = KindTypeError(body)) return BadRequest(Unrecognized(kind, *err, req.body));
  return body;
}

// A DeleteOptions body. Decoding errors are 400 with Go's message, as kube-apiserver answers
// since v1.35 (v1.32 answered 500): a `preconditions.resourceVersion` that is a number must not
// be dropped, which would turn a conditional delete into an unconditional one.
ApiOr<DeleteOptions> ParseDeleteOptions(const HttpRequest& req) {
  DeleteOptions opts;
  opts.dry_run = Param(req, "dryRun") == "All";
  if (req.body.empty()) return opts;
  if (auto err = ScanJsonText(req.body)) {
    return BadRequest(
        *err == kExceededMaxDepth ? "couldn't get version/kind; json parse error: " + *err : *err);
  }
  ApiOr<json> body = ParseJsonObject(req.body);
  if (!body.ok()) return body.error();
  if (auto err = DeleteOptionsTypeError(*body)) return BadRequest(*err);
  if (auto p = body->find("preconditions"); p != body->end() && p->is_object()) {
    if (auto uid = p->find("uid"); uid != p->end() && uid->is_string()) {
      opts.precondition_uid = uid->get<std::string>();
    }
    if (auto rv = p->find("resourceVersion"); rv != p->end() && rv->is_string()) {
      opts.precondition_rv = rv->get<std::string>();
    }
  }
  if (auto d = body->find("dryRun"); d != body->end() && d->is_array()) {
    for (const auto& v : *d) {
      if (v == "All") opts.dry_run = true;
    }
  }
  return opts;
}

std::function<bool(const Object&)> Filter(const Selectors& sel) {
  if (sel.empty()) return nullptr;
  return [sel](const Object& o) { return sel.labels.Matches(o) && sel.fields.Matches(o); };
}

}  // namespace

HttpResponse ErrorResponse(const ApiError& e) {
  HttpResponse r = JsonResponse(e.code, StatusJson(e));
  if (e.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
  }
  return r;
}

Router::Router(Registry& registry, RouterOptions options)
    : registry_(registry), options_(options) {}

RouteResult Router::Handle(const HttpRequest& req, std::function<void()> watch_notify) const {
  try {
    ContentNegotiation content =
        NegotiateContent(req, registry_.catalog(), options_.max_request_body_bytes);
    if (content.refusal) return std::move(*content.refusal);
    RouteResult result =
        RouteNegotiated(content.request ? *content.request : req, std::move(watch_notify));
    EncodeAnswer(content, &result);
    return result;
  } catch (const std::exception& e) {  // nlohmann type errors on odd bodies, bad_alloc, ...
    return ErrorResponse(InternalServerError(e.what()));
  }
}

namespace {

// One request against a resource, after the URL has been taken apart.
struct ResourceRequest {
  const HttpRequest& req;
  ResourceInfoPtr info;
  std::string ns;
  std::string name;
  std::string sub;
  bool watch = false;
};

class Handler {
 public:
  Handler(Registry& registry, const RouterOptions& options, const Authenticator* authenticator,
          std::function<void()> notify, Router::ListCounter* lists)
      : registry_(registry),
        storage_(registry.storage()),
        options_(options),
        authenticator_(authenticator),
        notify_(std::move(notify)),
        lists_(lists) {}

  RouteResult Serve(const ResourceRequest& r) {
    const std::string& m = r.req.method;
    if (r.info->review) return Review(r);
    if (r.name.empty()) {
      if (m == "GET") return r.watch ? Watch(r) : List(r);
      if (m == "POST") return Create(r);
      if (m == "DELETE") return DeleteCollection(r);
      return ErrorResponse(MethodNotAllowed(m, *r.info));
    }
    if (r.watch && m == "GET") return Watch(r);  // the legacy /watch/.../NAME form
    if (r.sub.empty()) {
      if (m == "GET") return Get(r);
      if (m == "PUT") return Update(r, Subresource::kNone);
      if (m == "PATCH") return Patch(r, Subresource::kNone);
      if (m == "DELETE") return Delete(r);
      return ErrorResponse(MethodNotAllowed(m, *r.info));
    }
    if (r.sub == "status" && r.info->has_status) {
      if (m == "GET") return Get(r);
      if (m == "PUT") return Update(r, Subresource::kStatus);
      if (m == "PATCH") return Patch(r, Subresource::kStatus);
      return ErrorResponse(MethodNotAllowed(m, *r.info));
    }
    if (r.sub == "scale" && r.info->has_scale) {
      if (m == "GET") return Scale(r);
      if (m == "PUT" || m == "PATCH") return Scale(r);
      return ErrorResponse(MethodNotAllowed(m, *r.info));
    }
    return ErrorResponse(PathNotFound());
  }

 private:
  static WriteOptions Write(const ResourceRequest& r) {
    std::string manager(Param(r.req, "fieldManager"));
    if (manager.empty()) manager = ManagerFromUserAgent(r.req.user_agent);
    return {.dry_run = Param(r.req, "dryRun") == "All",
            .field_manager = std::move(manager),
            .force = BoolParam(r.req, "force").value_or(false)};
  }

  // `fieldValidation` of a create or update body: Strict refuses fields the kind's schema does
  // not declare (400, kube-apiserver's "strict decoding error"); Warn, the default, answers with
  // one `Warning` per field; Ignore skips the check, as does a kind without a schema.
  std::optional<ApiError> ValidateFields(const ResourceRequest& r, const json& body,
                                         std::vector<std::string>* warnings) {
    std::string_view mode = Param(r.req, "fieldValidation");
    if (mode == "Ignore") return std::nullopt;
    std::optional<KindSchema> schema = SchemaOfKind(*r.info, storage_);
    if (!schema) return std::nullopt;
    std::vector<std::string> unknown = UnknownFields(*schema, body, r.req.body);
    if (unknown.empty()) return std::nullopt;
    if (mode == "Strict") {
      return BadRequest(
          CannotBeHandled(body, r.info->kind, r.info->gvr.version, StrictDecodingError(unknown)));
    }
    for (const std::string& u : unknown) warnings->push_back(UnknownFieldWarning(u));
    return std::nullopt;
  }

  static RouteResult WithWarnings(RouteResult result, const std::vector<std::string>& warnings) {
    if (auto* resp = std::get_if<HttpResponse>(&result)) {
      for (const std::string& w : warnings) resp->headers.emplace_back("Warning", w);
    }
    return result;
  }

  // A read "not older than `rv`" that the server cannot serve yet: wait for `rv` first, then
  // answer 504 Too large resource version (Retry-After: 1), as kube-apiserver's watch cache does.
  RouteResult TooLarge(const ResourceRequest& r, uint64_t rv) {
    if (!r.req.rv_wait_over) return RvWait{rv};
    return ErrorResponse(TooLargeResourceVersion(rv, storage_.CurrentRv()));
  }

  RouteResult ObjectResponse(const ResourceRequest& r, const ObjectPtr& obj, int status) {
    if (AcceptsTable(r.req.accept)) {
      ApiOr<IncludeObject> include = IncludeParam(r.req);
      if (!include.ok()) return ErrorResponse(include.error());
      return JsonResponse(
          status, TableBody(*r.info, {obj}, *include, storage_.CurrentRv(), "", std::nullopt));
    }
    return JsonResponse(status, std::string(obj->json()));
  }

  RouteResult Get(const ResourceRequest& r) {
    ApiOr<std::optional<uint64_t>> rv = ParseRvParam(Param(r.req, "resourceVersion"));
    if (!rv.ok()) return ErrorResponse(rv.error());
    if (*rv && **rv > storage_.CurrentRv()) return TooLarge(r, **rv);
    ApiOr<ObjectPtr> obj = registry_.Get(*r.info, r.ns, r.name);
    if (!obj.ok()) return ErrorResponse(obj.error());
    return ObjectResponse(r, *obj, 200);
  }

  RouteResult List(const ResourceRequest& r) {
    const HttpRequest& req = r.req;
    ApiOr<Selectors> sel = ParseSelectors(req, *r.info);
    if (!sel.ok()) return ErrorResponse(sel.error());
    if (HasParam(req, "sendInitialEvents")) {
      return ErrorResponse(InvalidListOptions(
          ForbiddenCause("sendInitialEvents", "sendInitialEvents is forbidden for list")));
    }
    std::string_view rv_text = Param(req, "resourceVersion");
    std::string_view rvm = Param(req, "resourceVersionMatch");
    std::string_view cont = Param(req, "continue");
    if (!rvm.empty()) {
      if (rvm != "Exact" && rvm != "NotOlderThan") {
        return ErrorResponse(InvalidListOptions(
            UnsupportedValueCause("resourceVersionMatch", rvm, "\"Exact\", \"NotOlderThan\"")));
      }
      if (rv_text.empty()) {
        return ErrorResponse(InvalidListOptions(ForbiddenCause(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided")));
      }
      if (!cont.empty()) {
        return ErrorResponse(InvalidListOptions(
            ForbiddenCause("resourceVersionMatch",
                           "resourceVersionMatch is forbidden when continue is provided")));
      }
      if (rvm == "Exact" && rv_text == "0") {
        return ErrorResponse(InvalidListOptions(ForbiddenCause(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")));
      }
    }
    if (!cont.empty() && !rv_text.empty() && rv_text != "0") {
      return ErrorResponse(
          BadRequest("specifying resource version is not allowed when using continue"));
    }
    ApiOr<std::optional<uint64_t>> rv = ParseRvParam(rv_text);
    if (!rv.ok()) return ErrorResponse(rv.error());
    int64_t limit = 0;
    if (auto l = Param(req, "limit"); !l.empty()) {
      if (auto err = ParseInt64Param(l, &limit)) return ErrorResponse(BadRequest(*err));
      if (limit < 0) limit = 0;  // kube-apiserver lists without a limit then
    }
    lists_->Count(limit, !cont.empty());
    // kube-apiserver answers resourceVersion="0" from its watch cache, which ignores `limit`
    // (cacher.go `computeListLimit`, still so with pagination from cache snapshots): the whole
    // list comes in one page without `continue`. Continuations keep their limit.
    if (rv_text == "0" && cont.empty()) limit = 0;

    Storage::ListQuery q;
    q.ns = r.ns;
    q.filter = Filter(*sel);
    q.limit = static_cast<size_t>(limit);
    q.count_remaining = limit > 0 && sel->empty();
    std::optional<ContinueToken> token;
    if (!cont.empty()) {
      ApiOr<ContinueToken> t = DecodeContinue(cont);
      if (!t.ok()) return ErrorResponse(t.error());
      token = *t;
      if (token->rv > 0) {
        q.at_rv = token->rv;
        q.after_count = token->n;  // counted at that snapshot; meaningless at another
      }
      q.after_key = token->start;
    } else if (rvm == "Exact") {
      q.at_rv = **rv;
    } else if (*rv && **rv > 0) {
      if (rvm.empty() && limit > 0) {
        q.at_rv = **rv;  // the legacy rule: a limited list at N is exact
      } else if (**rv > storage_.CurrentRv()) {
        return TooLarge(r, **rv);  // not older than N: wait for N (served "from the cache")
      }
    }
    ApiOr<Storage::ListPage> page = storage_.List(r.info->gvr, q);
    if (!page.ok()) {
      if (token && page.error().code == 410) {
        ApiError e = Expired(std::string(kTooOldContinue));
        e.continue_token = EncodeContinue(0, token->start, std::nullopt);
        return ErrorResponse(e);
      }
      return ErrorResponse(page.error());
    }
    std::string next = page->more ? EncodeContinue(page->rv, page->last_key, page->position) : "";
    std::optional<int64_t> remaining;
    if (page->more && q.count_remaining) remaining = page->remaining;
    if (AcceptsTable(req.accept)) {
      ApiOr<IncludeObject> include = IncludeParam(req);
      if (!include.ok()) return ErrorResponse(include.error());
      return JsonResponse(200,
                          TableBody(*r.info, page->items, *include, page->rv, next, remaining));
    }
    return ListResponse(*r.info, std::move(page->items), page->rv, next, remaining);
  }

  RouteResult Watch(const ResourceRequest& r) {
    const HttpRequest& req = r.req;
    ApiOr<Selectors> sel = ParseSelectors(req, *r.info);
    if (!sel.ok()) return ErrorResponse(sel.error());
    auto plan = std::make_shared<WatchPlan>();
    plan->info = r.info;
    plan->ns = r.ns;
    plan->labels = sel->labels;
    plan->fields = sel->fields;
    if (!r.name.empty()) {  // /watch/.../NAME: a watch of one object
      plan->fields = FieldSelector::OneTermEqual("metadata.name", r.name);
    }
    plan->bookmarks = BoolParam(req, "allowWatchBookmarks").value_or(false);
    plan->table = AcceptsTable(req.accept);
    if (plan->table) {
      ApiOr<IncludeObject> include = IncludeParam(req);
      if (!include.ok()) return ErrorResponse(include.error());
      plan->include = *include;
    }
    plan->timeout = options_.max_watch_timeout;
    if (auto t = Param(req, "timeoutSeconds"); !t.empty()) {
      int64_t secs = 0;
      if (auto err = ParseInt64Param(t, &secs)) return ErrorResponse(BadRequest(*err));
      // 0 is the server's own timeout; a negative one ends the watch at once, as kube-apiserver's
      // timer does.
      if (secs > 0) {
        plan->timeout = std::min(plan->timeout, std::chrono::seconds(secs));
      } else if (secs < 0) {
        plan->timeout = std::chrono::seconds(0);
      }
    }
    std::string_view rv_text = Param(req, "resourceVersion");
    std::string_view rvm = Param(req, "resourceVersionMatch");
    std::optional<bool> initial = BoolParam(req, "sendInitialEvents");
    ApiOr<std::optional<uint64_t>> rv = ParseRvParam(rv_text);
    if (!rv.ok()) return ErrorResponse(rv.error());
    if (initial) {
      if (rvm != "NotOlderThan") {
        return ErrorResponse(InvalidListOptions(ForbiddenCause(
            "resourceVersionMatch",
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")));
      }
      if (*initial && !plan->bookmarks) {
        return ErrorResponse(InvalidListOptions(
            ForbiddenCause("allowWatchBookmarks",
                           "sendInitialEvents requires setting allowWatchBookmarks to true")));
      }
    } else if (!rvm.empty()) {
      return ErrorResponse(InvalidListOptions(ForbiddenCause(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")));
    }

    std::optional<uint64_t> from;
    if (initial.value_or(false)) {
      plan->initial_events_end = true;  // from "now", which is never older than the request
      if (*rv && **rv > storage_.CurrentRv()) {
        if (!req.rv_wait_over) return RvWait{**rv};
        plan->error_event = StatusJson(TooLargeResourceVersion(**rv, storage_.CurrentRv()));
        return plan;
      }
    } else if (initial) {
      from = (*rv && **rv > 0) ? **rv : storage_.CurrentRv();
    } else if (*rv && **rv > 0) {
      from = **rv;
    }
    ApiOr<Storage::WatchStart> start =
        storage_.Watch(r.info->gvr, r.info->namespaced ? r.ns : "", from, notify_);
    if (!start.ok()) {
      // A watch from a version the server has not reached waits for it; then, like a version
      // gone from the history, it fails inside the stream (HTTP 200 and one ERROR event), as
      // kube-apiserver's watch fails once it has parsed the resourceVersion.
      if (start.error().code == 504 && !req.rv_wait_over) return RvWait{*from};
      if (start.error().code != 410 && start.error().code != 504) {
        return ErrorResponse(start.error());
      }
      plan->error_event = StatusJson(start.error());
      return plan;
    }
    plan->watcher = start->watcher;
    plan->initial = std::move(start->initial);
    plan->start_rv = start->rv;
    return plan;
  }

  RouteResult Create(const ResourceRequest& r) {
    ApiOr<json> body =
        DecodeBody(r.req, r.info->kind, r.info->gvr.version, options_.max_request_body_bytes);
    if (!body.ok()) return ErrorResponse(body.error());
    if (r.info->namespaced && r.ns.empty()) return ErrorResponse(PathNotFound());
    std::vector<std::string> warnings;
    if (auto err = ValidateFields(r, *body, &warnings)) return ErrorResponse(*err);
    WriteOptions opts = Write(r);
    ApiOr<ObjectPtr> obj = registry_.Create(*r.info, r.ns, std::move(body).value(), opts);
    if (!obj.ok()) return ErrorResponse(obj.error());
    // 201 for a dry run too, as kube-apiserver answers it.
    return WithWarnings(ObjectResponse(r, *obj, 201), warnings);
  }

  RouteResult Update(const ResourceRequest& r, Subresource sub) {
    ApiOr<json> body =
        DecodeBody(r.req, r.info->kind, r.info->gvr.version, options_.max_request_body_bytes);
    if (!body.ok()) return ErrorResponse(body.error());
    std::vector<std::string> warnings;
    if (auto err = ValidateFields(r, *body, &warnings)) return ErrorResponse(*err);
    ApiOr<ObjectPtr> obj =
        registry_.Update(*r.info, r.ns, r.name, std::move(body).value(), sub, Write(r));
    if (!obj.ok()) return ErrorResponse(obj.error());
    return WithWarnings(ObjectResponse(r, *obj, 200), warnings);
  }

  RouteResult Patch(const ResourceRequest& r, Subresource sub) {
    Result<PatchType> type = ParsePatchType(r.req.content_type);
    if (!type) return ErrorResponse(FromStatus(type.error()));
    if (*type == PatchType::kApplyPatch) {
      WriteOptions opts = Write(r);
      opts.field_manager = std::string(Param(r.req, "fieldManager"));  // required, never guessed
      bool created = false;
      ApiOr<ObjectPtr> applied =
          registry_.ApplyServerSide(*r.info, r.ns, r.name, r.req.body, sub, opts, &created);
      if (!applied.ok()) return ErrorResponse(applied.error());
      return ObjectResponse(r, *applied, created && !opts.dry_run ? 201 : 200);
    }
    ApiOr<ObjectPtr> obj = registry_.Patch(*r.info, r.ns, r.name, *type, r.req.body, sub, Write(r));
    if (!obj.ok()) return ErrorResponse(obj.error());
    return ObjectResponse(r, *obj, 200);
  }

  RouteResult Scale(const ResourceRequest& r) {
    const std::string& m = r.req.method;
    ApiOr<json> scale = json::object();
    if (m == "GET") {
      scale = registry_.GetScale(*r.info, r.ns, r.name);
    } else if (m == "PUT") {
      ApiOr<json> body = DecodeBody(r.req, "Scale", "v1", options_.max_request_body_bytes);
      if (!body.ok()) return ErrorResponse(body.error());
      scale = registry_.UpdateScale(*r.info, r.ns, r.name, std::move(body).value(), Write(r));
    } else {
      Result<PatchType> type = ParsePatchType(r.req.content_type);
      if (!type) return ErrorResponse(FromStatus(type.error()));
      scale = registry_.PatchScale(*r.info, r.ns, r.name, *type, r.req.body, Write(r));
    }
    if (!scale.ok()) return ErrorResponse(scale.error());
    return JsonResponse(200, Dump(*scale));
  }

  RouteResult Delete(const ResourceRequest& r) {
    ApiOr<DeleteOptions> opts = ParseDeleteOptions(r.req);
    if (!opts.ok()) return ErrorResponse(opts.error());
    ApiOr<DeleteResult> result = registry_.Delete(*r.info, r.ns, r.name, *opts);
    if (!result.ok()) return ErrorResponse(result.error());
    if (result->pending || r.info->delete_returns_object) {
      return JsonResponse(200, std::string(result->object->json()));
    }
    return JsonResponse(200, SuccessStatusJson(r.name, r.info->gvr.group, r.info->gvr.resource,
                                               result->object->uid()));
  }

  RouteResult DeleteCollection(const ResourceRequest& r) {
    ApiOr<Selectors> sel = ParseSelectors(r.req, *r.info);
    if (!sel.ok()) return ErrorResponse(sel.error());
    ApiOr<DeleteOptions> opts = ParseDeleteOptions(r.req);
    if (!opts.ok()) return ErrorResponse(opts.error());
    ApiOr<std::vector<ObjectPtr>> deleted =
        registry_.DeleteCollection(*r.info, r.ns, Filter(*sel), *opts);
    if (!deleted.ok()) return ErrorResponse(deleted.error());
    return ListResponse(*r.info, std::move(*deleted), storage_.CurrentRv(), "", std::nullopt);
  }

  // A review kind takes only a POST to its collection, answered and not stored.
  RouteResult Review(const ResourceRequest& r) {
    if (!r.name.empty() || r.watch) return ErrorResponse(PathNotFound());
    if (r.req.method != "POST") return ErrorResponse(MethodNotAllowed(r.req.method, *r.info));
    ApiOr<json> body =
        DecodeBody(r.req, r.info->kind, r.info->gvr.version, options_.max_request_body_bytes);
    if (!body.ok()) return ErrorResponse(body.error());
    ApiOr<std::string> answer = AnswerReview(*r.info, r.ns, *body, r.req.user, authenticator_);
    if (!answer.ok()) return ErrorResponse(answer.error());
    return JsonResponse(201, std::move(answer).value());
  }

  Registry& registry_;
  Storage& storage_;
  const RouterOptions& options_;
  const Authenticator* authenticator_;
  std::function<void()> notify_;
  Router::ListCounter* lists_;
};

}  // namespace

RouteResult Router::RouteNegotiated(const HttpRequest& req,
                                    std::function<void()> watch_notify) const {
  const std::string& path = req.path;
  ResourceCatalog& catalog = registry_.catalog();
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    HttpResponse r = JsonResponse(200, "ok");
    r.content_type = "text/plain; charset=utf-8";
    return r;
  }
  if (!Acceptable(req.accept)) return ErrorResponse(NotAcceptable());
  if (path == "/version" || path == "/version/") return JsonResponse(200, VersionJson());
  if (path == "/api" || path == "/api/" || path == "/apis" || path == "/apis/") {
    bool core = path.starts_with("/api") && !path.starts_with("/apis");
    if (AcceptsAggregatedDiscovery(req.accept)) {
      HttpResponse r = JsonResponse(200, AggregatedDiscoveryJson(catalog, core));
      r.content_type = std::string(kAggregatedDiscoveryContentType);
      return r;
    }
    return JsonResponse(200, core ? CoreApiVersionsJson(req.host) : ApiGroupListJson(catalog));
  }
  if (std::optional<HttpResponse> doc = ServeOpenApi(req, catalog, registry_.storage())) {
    return std::move(*doc);
  }

  std::vector<std::string> seg = SplitPath(path);
  GroupVersion gv;
  size_t rest = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    gv = {"", seg[1]};
    rest = 2;
  } else if (seg.size() >= 2 && seg[0] == "apis") {
    if (seg.size() == 2) {  // /apis/GROUP: the APIGroup document
      std::vector<GroupVersion> versions;
      for (const GroupVersion& g : catalog.GroupVersions()) {
        if (g.group == seg[1]) versions.push_back(g);
      }
      if (versions.empty()) return ErrorResponse(PathNotFound());
      json vs = json::array();
      for (const auto& v : versions) {
        vs.push_back({{"groupVersion", v.ToString()}, {"version", v.version}});
      }
      json doc = {{"kind", "APIGroup"},
                  {"apiVersion", "v1"},
                  {"name", seg[1]},
                  {"versions", vs},
                  {"preferredVersion", vs[0]}};
      return JsonResponse(200, Dump(doc));
    }
    gv = {seg[1], seg[2]};
    rest = 3;
  } else {
    return ErrorResponse(PathNotFound());
  }
  if (seg.size() == rest) {
    Result<std::string> doc = ApiResourceListJson(catalog, gv);
    if (!doc) return ErrorResponse(PathNotFound());
    return JsonResponse(200, std::move(doc).value());
  }
  std::vector<std::string> s(seg.begin() + static_cast<std::ptrdiff_t>(rest), seg.end());
  bool watch = false;
  if (!s.empty() && s[0] == "watch") {
    watch = true;
    s.erase(s.begin());
  }
  std::string ns, resource, name, sub;
  ResourceInfoPtr info;
  if (s.size() >= 3 && s[0] == "namespaces") {
    info = catalog.Find({gv.group, gv.version, s[2]});
    if (info && info->namespaced) {
      if (s.size() > 5) return ErrorResponse(PathNotFound());
      ns = s[1];
      name = s.size() > 3 ? s[3] : "";
      sub = s.size() > 4 ? s[4] : "";
    } else {
      info = nullptr;
    }
  }
  if (!info && !s.empty()) {
    if (s.size() > 3) return ErrorResponse(PathNotFound());
    info = catalog.Find({gv.group, gv.version, s[0]});
    name = s.size() > 1 ? s[1] : "";
    sub = s.size() > 2 ? s[2] : "";
    // A namespaced resource named without its namespace: only list and watch make sense.
    if (info && info->namespaced && !name.empty()) return ErrorResponse(PathNotFound());
  }
  if (!info) return ErrorResponse(PathNotFound());
  if (!watch) {
    std::optional<bool> w = BoolParam(req, "watch");
    watch = w.value_or(false);
  }
  ResourceRequest rr{req, info, ns, name, sub, watch};
  Handler handler(registry_, options_, authenticator_, std::move(watch_notify), &list_counter_);
  return handler.Serve(rr);
}

}  // namespace kube::server

// ApiError rendering and constructors; see status_json.h.
//
// Reads from: failures anywhere in the server. Feeds: HTTP answers, watch ERROR events.
#include "server/status_json.h"

#include <nlohmann/json.hpp>

namespace kube::server {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// `"x"` as Go's %q prints a plain string.
std::string Quote(std::string_view s) { return Dump(json(std::string(s))); }

ApiError Make(int code, std::string reason, std::string message) {
  ApiError e;
  e.code = code;
  e.reason = std::move(reason);
  e.message = std::move(message);
  return e;
}

}  // namespace

std::string StatusJson(const ApiError& e) {
  json meta = json::object();
  if (!e.continue_token.empty()) meta["continue"] = e.continue_token;
  json j = {{"kind", "Status"},    {"apiVersion", "v1"},   {"metadata", meta},
            {"status", "Failure"}, {"message", e.message}, {"reason", e.reason}};
  json details = json::object();
  if (!e.name.empty()) details["name"] = e.name;
  if (!e.group.empty()) details["group"] = e.group;
  if (!e.kind.empty()) details["kind"] = e.kind;
  if (!e.causes.empty()) {
    json causes = json::array();
    for (const auto& c : e.causes) {
      json cj = {{"reason", c.reason}, {"message", c.message}};
      if (!c.field.empty()) cj["field"] = c.field;
      causes.push_back(std::move(cj));
    }
    details["causes"] = std::move(causes);
  }
  if (e.retry_after_seconds > 0) details["retryAfterSeconds"] = e.retry_after_seconds;
  if (!details.empty()) j["details"] = std::move(details);
  j["code"] = e.code;
  return Dump(j);
}

std::string SuccessStatusJson(std::string_view name, std::string_view group,
                              std::string_view resource, std::string_view uid) {
  json details = {{"name", name}, {"group", group}, {"kind", resource}};
  if (!uid.empty()) details["uid"] = uid;
  json j = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", "Success"},
            {"details", details}};
  return Dump(j);
}

Status ToStatus(const ApiError& e) {
  Status s = StatusFromHttp(e.code, e.reason, e.message);
  if (e.retry_after_seconds > 0) s.set_retry_after(std::chrono::seconds(e.retry_after_seconds));
  return s;
}

ApiError FromStatus(const Status& s) {
  if (s.http_code() != 0) {
    ApiError e = Make(s.http_code(), s.reason(), s.message());
    if (e.reason.empty()) e.reason = StatusFromHttp(s.http_code(), "", "").reason();
    return e;
  }
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return BadRequest(s.message());
    case StatusCode::kNotFound:
      return Make(404, "NotFound", s.message());
    case StatusCode::kAlreadyExists:
      return Make(409, "AlreadyExists", s.message());
    case StatusCode::kConflict:
      return Make(409, "Conflict", s.message());
    case StatusCode::kGone:
      return Expired(s.message());
    default:
      return InternalServerError(s.message());
  }
}

ApiError NotFound(const ResourceInfo& info, std::string_view name) {
  ApiError e = Make(404, "NotFound", info.group_resource() + " " + Quote(name) + " not found");
  e.name = name;
  e.group = info.gvr.group;
  e.kind = info.gvr.resource;
  return e;
}

ApiError NamespaceNotFound(std::string_view ns) {
  ApiError e = Make(404, "NotFound", "namespaces " + Quote(ns) + " not found");
  e.name = ns;
  e.kind = "namespaces";
  return e;
}

ApiError PathNotFound() {
  return Make(404, "NotFound", "the server could not find the requested resource");
}

ApiError AlreadyExists(const ResourceInfo& info, std::string_view name) {
  ApiError e =
      Make(409, "AlreadyExists", info.group_resource() + " " + Quote(name) + " already exists");
  e.name = name;
  e.group = info.gvr.group;
  e.kind = info.gvr.resource;
  return e;
}

ApiError Conflict(const ResourceInfo& info, std::string_view name, std::string_view detail) {
  ApiError e = Make(409, "Conflict",
                    "Operation cannot be fulfilled on " + info.group_resource() + " " +
                        Quote(name) + ": " + std::string(detail));
  e.name = name;
  e.group = info.gvr.group;
  e.kind = info.gvr.resource;
  return e;
}

ApiError Invalid(std::string_view kind, std::string_view group, std::string_view name,
                 std::vector<StatusCause> causes) {
  std::string qualified(kind);
  if (!group.empty()) qualified += "." + std::string(group);
  std::string detail;
  if (causes.size() == 1) {
    detail =
        causes[0].field.empty() ? causes[0].message : causes[0].field + ": " + causes[0].message;
  } else {
    detail = "[";
    for (size_t i = 0; i < causes.size(); ++i) {
      if (i > 0) detail += ", ";
      detail +=
          causes[i].field.empty() ? causes[i].message : causes[i].field + ": " + causes[i].message;
    }
    detail += "]";
  }
  ApiError e = Make(422, "Invalid", qualified + " " + Quote(name) + " is invalid: " + detail);
  e.name = name;
  e.group = group;
  e.kind = kind;
  e.causes = std::move(causes);
  return e;
}

StatusCause InvalidValueCause(std::string_view field, std::string_view value,
                              std::string_view detail) {
  return {"FieldValueInvalid", "Invalid value: " + Quote(value) + ": " + std::string(detail),
          std::string(field)};
}

StatusCause RequiredCause(std::string_view field, std::string_view detail) {
  return {"FieldValueRequired", "Required value: " + std::string(detail), std::string(field)};
}

StatusCause ForbiddenCause(std::string_view field, std::string_view detail) {
  return {"FieldValueForbidden", "Forbidden: " + std::string(detail), std::string(field)};
}

StatusCause UnsupportedValueCause(std::string_view field, std::string_view value,
                                  std::string_view supported) {
  return {"FieldValueNotSupported",
          "Unsupported value: " + Quote(value) + ": supported values: " + std::string(supported),
          std::string(field)};
}

ApiError InvalidListOptions(StatusCause cause) {
  return Invalid("ListOptions", "meta.k8s.io", "", {std::move(cause)});
}

ApiError BadRequest(std::string message) { return Make(400, "BadRequest", std::move(message)); }

ApiError MethodNotAllowed(std::string_view verb, const ResourceInfo& info) {
  return Make(
      405, "MethodNotAllowed",
      std::string(verb) + " is not supported on resources of kind " + Quote(info.group_resource()));
}

ApiError NotAcceptable() {
  return Make(406, "NotAcceptable",
              "the server was unable to respond with a content type that the client supports");
}

ApiError UnsupportedMediaType(std::string message) {
  return Make(415, "UnsupportedMediaType", std::move(message));
}

ApiError Expired(std::string message) { return Make(410, "Expired", std::move(message)); }

ApiError TooOldResourceVersion(uint64_t requested, uint64_t compacted) {
  return Expired("too old resource version: " + std::to_string(requested) + " (" +
                 std::to_string(compacted) + ")");
}

ApiError TooLargeResourceVersion(uint64_t requested, uint64_t current) {
  ApiError e = Make(504, "Timeout",
                    "Timeout: Too large resource version: " + std::to_string(requested) +
                        ", current: " + std::to_string(current));
  e.causes.push_back({"ResourceVersionTooLarge", "Too large resource version", ""});
  e.retry_after_seconds = 1;
  return e;
}

ApiError TooManyRequests(int retry_after_seconds) {
  ApiError e = Make(429, "TooManyRequests", "Too many requests, please try again later.");
  e.retry_after_seconds = retry_after_seconds;
  return e;
}

ApiError RequestEntityTooLarge(std::string message) {
  return Make(413, "RequestEntityTooLarge", std::move(message));
}

ApiError InternalServerError(std::string detail) {
  ApiError e = Make(500, "InternalError", "Internal error occurred: " + detail);
  e.causes.push_back({"", std::move(detail), ""});
  return e;
}

ApiError Unauthorized() { return Make(401, "Unauthorized", "Unauthorized"); }

}  // namespace kube::server

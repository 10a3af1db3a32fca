// Access reviews answered from the allow-all authorizer; see access_review.h.
//
// Reads from: the router. Feeds: HTTP answers.
#include "server/access_review.h"

#include <utility>
#include <vector>

#include "kube/proto/protobuf.h"
#include "server/decode_checks.h"
#include "server/object_json.h"
#include "server/registry.h"

namespace kube::server {
namespace {

using nlohmann::json;

std::string GoQuote(std::string_view s) { return Dump(json(std::string(s))); }

// `obj` as the Go type of `info`'s kind decodes and encodes it: members the type lacks are
// dropped, `null` and empty `omitempty` members vanish, and the members come in Go's declaration
// order. The protobuf transcoder knows every built-in type, so a round trip through it is that
// decode and encode.
ApiOr<std::string> GoJson(const json& obj, const ResourceInfo& info) {
  Result<std::string> pb = JsonToProtobuf(Dump(obj));
  if (!pb) {
    return BadRequest(CannotBeHandled(obj, info.kind, info.gvr.version, pb.error().message()));
  }
  Result<std::string> back = ProtobufToJson(*pb);
  if (!back) return InternalServerError(back.error().message());
  return std::move(back).value();
}

ApiOr<json> GoValue(const json& obj, const ResourceInfo& info) {
  ApiOr<std::string> text = GoJson(obj, info);
  if (!text.ok()) return text.error();
  return json::parse(*text);
}

// The body with the kind's `kind` and `apiVersion`; 400 when it names others.
ApiOr<json> Typed(const json& body, const ResourceInfo& info) {
  if (auto err = CheckTypeMeta(body, info)) return *err;
  json obj = body;
  obj["kind"] = info.kind;
  obj["apiVersion"] = info.api_version();
  return obj;
}

const json& Member(const json& obj, std::string_view key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// Whether Go's ObjectMeta of `obj` is empty, managedFields (and `namespace` when `but_namespace`)
// aside.
bool MetadataEmpty(const json& obj, bool but_namespace) {
  const json& meta = Member(obj, "metadata");
  if (!meta.is_object()) return true;
  for (const auto& [k, v] : meta.items()) {
    if (k == "managedFields" || (k == "namespace" && but_namespace)) continue;
    if (k == "creationTimestamp" && v.is_null()) continue;
    return false;
  }
  return true;
}

// Go's `%#v` of an authorization.NonResourceAttributes, the value kube-apiserver quotes.
std::string NonResourceText(const json& attrs) {
  return "authorization.NonResourceAttributes{Path:" + GoQuote(StringAt(attrs, "path")) +
         ", Verb:" + GoQuote(StringAt(attrs, "verb")) + "}";
}

StatusCause RawInvalidCause(std::string_view field, std::string_view raw_value,
                            std::string_view detail) {
  return {"FieldValueInvalid",
          "Invalid value: " + std::string(raw_value) + ": " + std::string(detail),
          std::string(field)};
}

// ValidateSubjectAccessReviewSpec (`with_user`) / ValidateSelfSubjectAccessReviewSpec.
void SpecCauses(const json& spec, bool with_user, std::vector<StatusCause>* causes) {
  const json& res = Member(spec, "resourceAttributes");
  const json& non = Member(spec, "nonResourceAttributes");
  if (!res.is_null() && !non.is_null()) {
    causes->push_back(
        RawInvalidCause("spec.nonResourceAttributes", NonResourceText(non),
                        "cannot be specified in combination with resourceAttributes"));
  }
  if (res.is_null() && non.is_null()) {
    causes->push_back(
        InvalidValueCause("spec.resourceAttributes", "null",
                          "exactly one of nonResourceAttributes or resourceAttributes must be "
                          "specified"));
  }
  if (with_user && StringAt(spec, "user").empty() && Member(spec, "groups").empty()) {
    causes->push_back(
        InvalidValueCause("spec.user", "", "at least one of user or group must be specified"));
  }
}

ApiError InvalidReview(const ResourceInfo& info, std::vector<StatusCause> causes) {
  return Invalid(info.kind, info.gvr.group, "", std::move(causes));
}

// The status every access review gets from the allow-all authorizer.
json AllowedStatus() { return {{"allowed", true}}; }

ApiOr<std::string> AccessReview(const ResourceInfo& info, std::string_view ns, json obj) {
  const bool self = info.kind == "SelfSubjectAccessReview";
  const bool local = info.kind == "LocalSubjectAccessReview";
  if (local) {
    std::string body_ns = StringAt(Member(obj, "metadata"), "namespace");
    if (!body_ns.empty() && body_ns != ns) {
      return BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    obj["metadata"]["namespace"] = std::string(ns);
  }
  ApiOr<json> go = GoValue(obj, info);
  if (!go.ok()) return go.error();
  json& review = *go;
  const json& spec = Member(review, "spec");
  std::vector<StatusCause> causes;
  SpecCauses(spec, !self, &causes);
  if (!MetadataEmpty(review, local)) {
    causes.push_back(
        InvalidValueCause("metadata", Dump(Member(review, "metadata")),
                          local ? "must be empty except for namespace" : "must be empty"));
  }
  if (local) {
    const json& res = Member(spec, "resourceAttributes");
    if (!res.is_null() && StringAt(res, "namespace") != ns) {
      causes.push_back(InvalidValueCause("spec.resourceAttributes.namespace",
                                         StringAt(res, "namespace"),
                                         "must match metadata.namespace"));
    }
    if (!Member(spec, "nonResourceAttributes").is_null()) {
      causes.push_back(RawInvalidCause("spec.nonResourceAttributes",
                                       "&" + NonResourceText(Member(spec, "nonResourceAttributes")),
                                       "disallowed on this kind of request"));
    }
  }
  if (!causes.empty()) return InvalidReview(info, std::move(causes));
  review["status"] = AllowedStatus();
  return GoJson(review, info);
}

ApiOr<std::string> RulesReview(const ResourceInfo& info, json obj) {
  ApiOr<json> go = GoValue(obj, info);
  if (!go.ok()) return go.error();
  if (StringAt(Member(*go, "spec"), "namespace").empty()) {
    return BadRequest("no namespace on request");
  }
  // A new object: the answer keeps nothing of the request.
  json answer = {
      {"kind", info.kind},
      {"apiVersion", info.api_version()},
      {"metadata", {{"creationTimestamp", nullptr}}},
      {"spec", json::object()},
      {"status",
       {{"resourceRules", {{{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}}}},
        {"nonResourceRules", {{{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}}},
        {"incomplete", false}}}};
  return GoJson(answer, info);
}

json UserInfoJson(const UserInfo& user) {
  json u = {{"username", user.name}};
  if (!user.uid.empty()) u["uid"] = user.uid;
  if (!user.groups.empty()) u["groups"] = user.groups;
  if (!user.extra.empty()) u["extra"] = user.extra;
  return u;
}

ApiOr<std::string> SelfSubjectReview(const ResourceInfo& info, const json& obj,
                                     const UserInfo& user) {
  ApiOr<json> go = GoValue(obj, info);  // decoding errors still count
  if (!go.ok()) return go.error();
  json answer = {{"kind", info.kind},
                 {"apiVersion", info.api_version()},
                 {"metadata", {{"creationTimestamp", Rfc3339Now()}}},
                 {"status", {{"userInfo", UserInfoJson(user)}}}};
  return GoJson(answer, info);
}

ApiOr<std::string> TokenReview(const ResourceInfo& info, const json& obj,
                               const Authenticator* authenticator) {
  ApiOr<json> go = GoValue(obj, info);
  if (!go.ok()) return go.error();
  json& review = *go;
  std::string token = StringAt(Member(review, "spec"), "token");
  if (token.empty()) return BadRequest("token is required for TokenReview in authentication");
  std::optional<UserInfo> user =
      authenticator ? authenticator->UserOfToken(token) : std::optional<UserInfo>();
  if (user) {
    review["status"] = {{"authenticated", true}, {"user", UserInfoJson(*user)}};
  } else {
    review["status"] = {{"user", json::object()}, {"error", "invalid bearer token"}};
  }
  return GoJson(review, info);
}

}  // namespace

ApiOr<std::string> AnswerReview(const ResourceInfo& info, std::string_view ns, const json& body,
                                const UserInfo& user, const Authenticator* authenticator) {
  ApiOr<json> obj = Typed(body, info);
  if (!obj.ok()) return obj.error();
  const std::string& kind = info.kind;
  if (kind == "SelfSubjectAccessReview" || kind == "SubjectAccessReview" ||
      kind == "LocalSubjectAccessReview") {
    return AccessReview(info, ns, std::move(obj).value());
  }
  if (kind == "SelfSubjectRulesReview") return RulesReview(info, std::move(obj).value());
  if (kind == "SelfSubjectReview") return SelfSubjectReview(info, *obj, user);
  if (kind == "TokenReview") return TokenReview(info, *obj, authenticator);
  return MethodNotAllowed("POST", info);
}

}  // namespace kube::server

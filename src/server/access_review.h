// Access reviews: the create-only kinds that ask the server who the caller is and what a user may
// do. authorization.k8s.io/v1 SelfSubjectAccessReview, SelfSubjectRulesReview,
// SubjectAccessReview and LocalSubjectAccessReview; authentication.k8s.io/v1 SelfSubjectReview
// and TokenReview. A POST answers the object with its `status` filled in (201); nothing is stored.
//
// The answers come from the server's authorizer, which allows every request, as kube-apiserver's
// `AlwaysAllow` mode does: an access review is `allowed: true` with no reason (AlwaysAllow gives
// none), and a rules review lists the two rules that say everything (`*` verbs on `*` resources
// of `*` groups; `*` verbs on `*` non-resource URLs), complete. The identity reviews read the
// request's user (auth.h): the token file's or the certificate's user, `system:anonymous`, or the
// impersonated one.
//
// Bodies are decoded as kube-apiserver's Go types decode them (unknown fields dropped, `null` is
// absent) and answered in Go's member order, so JSON and protobuf answers match a real server's.
//
// Thread-safe: pure functions.
//
// Reads from: the router (a POST of a review kind). Feeds: the HTTP answer.
// kube-apiserver: pkg/registry/authorization/{selfsubjectaccessreview,selfsubjectrulesreview,
// subjectaccessreview,localsubjectaccessreview}, pkg/registry/authentication/{selfsubjectreview,
// tokenreview}, pkg/apis/authorization/validation.
#ifndef KUBE_SERVER_ACCESS_REVIEW_H_
#define KUBE_SERVER_ACCESS_REVIEW_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/auth.h"
#include "server/resource_info.h"
#include "server/status_json.h"

namespace kube::server {

// Answers the POST of `body` (a decoded JSON object) to the review resource `info` (one with
// `ResourceInfo::review`), in namespace `ns` ("" for the cluster-scoped kinds), by `user`.
// `authenticator` checks TokenReview tokens (null: no token is valid). Returns the answer's JSON
// text. Errors, with kube-apiserver's messages: 400 for a body of another kind or apiVersion, a
// field of the wrong type, a SelfSubjectRulesReview without `spec.namespace`, a TokenReview
// without `spec.token`, a LocalSubjectAccessReview whose namespace is not the URL's; 422 Invalid
// for an access review without exactly one of `resourceAttributes`/`nonResourceAttributes`, a
// (Local)SubjectAccessReview without user or groups, or a review with metadata.
ApiOr<std::string> AnswerReview(const ResourceInfo& info, std::string_view ns,
                                const nlohmann::json& body, const UserInfo& user,
                                const Authenticator* authenticator);

}  // namespace kube::server

#endif  // KUBE_SERVER_ACCESS_REVIEW_H_

// Authenticator: who is calling, from a bearer token (`--token-auth-file`) or a verified client
// certificate (`--client-ca-file`), and whom the request acts as (impersonation headers).
//
// The token file has kube-apiserver's format: CSV lines `token,user,uid,"group1,group2"` (groups
// optional). A certificate's user is its common name, its groups its organizations. Every
// authenticated user also belongs to `system:authenticated`, as kube-apiserver adds it. When
// neither source is configured every request runs as `system:anonymous` (group
// `system:unauthenticated`) and is allowed; when one is, requests without valid credentials get
// 401 (the health and `/version` endpoints excepted). The authorizer allows everything, as
// kube-apiserver's `AlwaysAllow` mode does (docs/server.md), so any user may impersonate anyone.
//
// Immutable after `Create`; thread-safe.
//
// Reads from: the session's headers and TLS handshake. Feeds: the session's 401 decision and the
// request's user (access reviews).
// kube-apiserver: authentication/request/bearertoken, plugin/pkg/authenticator/token/tokenfile,
// endpoints/filters/impersonation.go.
#ifndef KUBE_SERVER_AUTH_H_
#define KUBE_SERVER_AUTH_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/status.h"

namespace kube::server {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra{};  // keys in lower case
};

inline constexpr std::string_view kAnonymousUser = "system:anonymous";
inline constexpr std::string_view kAllAuthenticated = "system:authenticated";
inline constexpr std::string_view kAllUnauthenticated = "system:unauthenticated";

// Who a request without credentials is on a server that does not require them.
UserInfo AnonymousUser();

// The `Impersonate-*` headers of one request.
struct ImpersonationHeaders {
  std::optional<std::string> user{};                       // Impersonate-User
  std::vector<std::string> groups{};                       // every Impersonate-Group, in order
  std::optional<std::string> uid{};                        // Impersonate-Uid
  std::vector<std::pair<std::string, std::string>> extra;  // Impersonate-Extra-<key>: value
  bool empty() const { return !user && groups.empty() && !uid && extra.empty(); }
};

// The user a request acts as when it carries impersonation headers, as kube-apiserver's filter
// builds it: the named user (a `system:serviceaccount:NS:NAME` user gets its service-account
// groups), the named groups, or, when none are named and the user is not anonymous,
// `system:authenticated`. kInvalidArgument (kube-apiserver answers 500) when groups, uid or
// extras come without a user; the message is kube-apiserver's.
Result<UserInfo> Impersonate(const ImpersonationHeaders& headers);

class Authenticator {
 public:
  // `token_file` may be empty. kInvalidArgument for an unreadable or malformed file (the line
  // number is in the message).
  static Result<std::unique_ptr<Authenticator>> Create(const std::string& token_file,
                                                       bool client_certificates);
  // Parses token-file text (for tests).
  static Result<std::map<std::string, UserInfo, std::less<>>> ParseTokenFile(std::string_view text);

  bool required() const { return client_certificates_ || !tokens_.empty(); }
  // The user behind an `Authorization` header value or a verified certificate (`cert_user`,
  // nullopt when none; its groups are the certificate's organizations), with
  // `system:authenticated` among its groups; nullopt when neither identifies anyone.
  std::optional<UserInfo> Authenticate(std::string_view authorization,
                                       const std::optional<UserInfo>& cert_user) const;
  // The user of a request: the authenticated one; `system:anonymous` when nothing identifies
  // anyone and credentials are not required; nullopt when they are (401).
  std::optional<UserInfo> UserOf(std::string_view authorization,
                                 const std::optional<UserInfo>& cert_user) const;
  // The user of a bearer token (TokenReview), with `system:authenticated`; nullopt when unknown.
  std::optional<UserInfo> UserOfToken(std::string_view token) const;
  // Paths anyone may read.
  static bool IsPublicPath(std::string_view path);

 private:
  std::map<std::string, UserInfo, std::less<>> tokens_;
  bool client_certificates_ = false;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_AUTH_H_

// Authenticator: who is calling, from a bearer token (`--token-auth-file`) or a verified client
// certificate (`--client-ca-file`).
//
// The token file has kube-apiserver's format: CSV lines `token,user,uid,"group1,group2"` (groups
// optional). When neither source is configured every request is anonymous and allowed; when one
// is, requests without valid credentials get 401 (the health and `/version` endpoints excepted).
// There is no authorization: an authenticated user may do anything (docs/server.md).
//
// Immutable after `Create`; thread-safe.
//
// Reads from: the session's headers and TLS handshake. Feeds: the session's 401 decision.
// kube-apiserver: authentication/request/bearertoken, plugin/pkg/authenticator/token/tokenfile.
#ifndef KUBE_SERVER_AUTH_H_
#define KUBE_SERVER_AUTH_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/status.h"

namespace kube::server {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
};

class Authenticator {
 public:
  // `token_file` may be empty. kInvalidArgument for an unreadable or malformed file (the line
  // number is in the message).
  static Result<std::unique_ptr<Authenticator>> Create(const std::string& token_file,
                                                       bool client_certificates);
  // Parses token-file text (for tests).
  static Result<std::map<std::string, UserInfo, std::less<>>> ParseTokenFile(std::string_view text);

  bool required() const { return client_certificates_ || !tokens_.empty(); }
  // The user behind an `Authorization` header value or a verified certificate's common name
  // (`cert_user`, "" when none); nullopt when neither identifies anyone.
  std::optional<UserInfo> Authenticate(std::string_view authorization,
                                       std::string_view cert_user) const;
  // Paths anyone may read.
  static bool IsPublicPath(std::string_view path);

 private:
  std::map<std::string, UserInfo, std::less<>> tokens_;
  bool client_certificates_ = false;
};

}  // namespace kube::server

#endif  // KUBE_SERVER_AUTH_H_

// Authenticator: token file and client certificates; see auth.h.
//
// Reads from: --token-auth-file, request headers. Feeds: the HTTP session.
#include "server/auth.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kube::server {
namespace {

// Splits one CSV record (RFC 4180 quoting, as Go's encoding/csv reads it).
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

void AddGroup(std::vector<std::string>* groups, std::string_view group) {
  if (std::find(groups->begin(), groups->end(), group) == groups->end()) {
    groups->emplace_back(group);
  }
}

// Go's `%v` of a v1.ObjectReference: its seven string fields in declaration order (Kind,
// Namespace, Name, UID, APIVersion, ResourceVersion, FieldPath) between braces.
std::string ObjectReferenceText(std::string_view kind, std::string_view name,
                                std::string_view api_version = "",
                                std::string_view field_path = "") {
  // Namespace, UID and ResourceVersion are empty.
  return "{" + std::string(kind) + "  " + std::string(name) + "  " + std::string(api_version) +
         "  " + std::string(field_path) + "}";
}

constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

}  // namespace

UserInfo AnonymousUser() {
  return {std::string(kAnonymousUser), "", {std::string(kAllUnauthenticated)}, {}};
}

Result<UserInfo> Impersonate(const ImpersonationHeaders& h) {
  if (!h.user || h.user->empty()) {
    std::string list;
    for (const std::string& g : h.groups) {
      list += (list.empty() ? "" : " ") + ObjectReferenceText("Group", g);
    }
    if (h.uid) {
      list += (list.empty() ? "" : " ") +
              ObjectReferenceText("UID", *h.uid, "authentication.k8s.io/v1");
    }
    for (const auto& [key, value] : h.extra) {
      list += (list.empty() ? "" : " ") +
              ObjectReferenceText("UserExtra", value, "authentication.k8s.io/v1", key);
    }
    return InvalidArgumentError("requested [" + list + "] without impersonating a user");
  }
  UserInfo u;
  u.name = *h.user;
  u.uid = h.uid.value_or("");
  std::string_view name(u.name);
  bool service_account = false;
  std::string sa_ns;
  if (name.starts_with(kServiceAccountPrefix)) {
    std::string_view rest = name.substr(kServiceAccountPrefix.size());
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && colon > 0 && colon + 1 < rest.size() &&
        rest.find(':', colon + 1) == std::string_view::npos) {
      service_account = true;
      sa_ns = std::string(rest.substr(0, colon));
    }
  }
  if (!h.groups.empty()) {
    u.groups = h.groups;
  } else {
    if (service_account) u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + sa_ns};
    if (u.name != kAnonymousUser &&
        std::find(u.groups.begin(), u.groups.end(), kAllUnauthenticated) == u.groups.end()) {
      AddGroup(&u.groups, kAllAuthenticated);
    }
  }
  for (const auto& [key, value] : h.extra) u.extra[key].push_back(value);
  return u;
}

Result<std::map<std::string, UserInfo, std::less<>>> Authenticator::ParseTokenFile(
    std::string_view text) {
  std::map<std::string, UserInfo, std::less<>> tokens;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() < 3 || f[0].empty() || f[1].empty()) {
      return InvalidArgumentError("token file line " + std::to_string(line_no) +
                                  ": want token,user,uid[,\"groups\"]");
    }
    UserInfo user{f[1], f[2], {}};
    if (f.size() > 3) {
      std::stringstream groups(f[3]);
      std::string g;
      while (std::getline(groups, g, ',')) {
        if (!g.empty()) user.groups.push_back(g);
      }
    }
    tokens[f[0]] = std::move(user);
  }
  return tokens;
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const std::string& token_file,
                                                             bool client_certificates) {
  auto auth = std::make_unique<Authenticator>();
  auth->client_certificates_ = client_certificates;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) return InvalidArgumentError("cannot read token file " + token_file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto tokens = ParseTokenFile(ss.str());
    if (!tokens) return tokens.error().WithContext(token_file);
    if (tokens->empty()) return InvalidArgumentError("token file " + token_file + " is empty");
    auth->tokens_ = std::move(tokens).value();
  }
  return auth;
}

std::optional<UserInfo> Authenticator::UserOfToken(std::string_view token) const {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  UserInfo u = it->second;
  AddGroup(&u.groups, kAllAuthenticated);
  return u;
}

std::optional<UserInfo> Authenticator::Authenticate(
    std::string_view authorization, const std::optional<UserInfo>& cert_user) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer) {
    // A wrong token is an error even with a valid certificate.
    return UserOfToken(authorization.substr(kBearer.size()));
  }
  if (client_certificates_ && cert_user && !cert_user->name.empty()) {
    UserInfo u = *cert_user;
    AddGroup(&u.groups, kAllAuthenticated);
    return u;
  }
  return std::nullopt;
}

std::optional<UserInfo> Authenticator::UserOf(std::string_view authorization,
                                              const std::optional<UserInfo>& cert_user) const {
  if (std::optional<UserInfo> u = Authenticate(authorization, cert_user)) return u;
  if (!required()) return AnonymousUser();
  return std::nullopt;
}

bool Authenticator::IsPublicPath(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/livez" || path == "/version";
}

}  // namespace kube::server

// Authenticator: token file and client certificates; see auth.h.
//
// Reads from: --token-auth-file, request headers. Feeds: the HTTP session.
#include "server/auth.h"

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

}  // namespace

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

std::optional<UserInfo> Authenticator::Authenticate(std::string_view authorization,
                                                    std::string_view cert_user) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer) {
    auto it = tokens_.find(authorization.substr(kBearer.size()));
    if (it != tokens_.end()) return it->second;
    return std::nullopt;  // a wrong token is an error even with a valid certificate
  }
  if (client_certificates_ && !cert_user.empty()) return UserInfo{std::string(cert_user), "", {}};
  return std::nullopt;
}

bool Authenticator::IsPublicPath(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/livez" || path == "/version";
}

}  // namespace kube::server

// Fuzzes kubeconfig loading from bytes: `ParseKubeconfig`, then `RestConfigFromKubeconfig` on the
// result (include/kube/config/kubeconfig.h).
//
// Fields that name files (certificate-authority, client-certificate, client-key, tokenFile) are
// cleared before building the RestConfig: the fuzzer must not read whatever path it invents (a
// FIFO would hang it). Credentials are replaced by sentinels first.
//
// Invariants: no exception escapes; errors are kInvalidArgument or kNotFound; no error message
// contains a credential (token, password, key data); a built RestConfig has a server with a
// scheme. Inputs that contain a sentinel's text are skipped (see below).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "kube/config/kubeconfig.h"
#include "kube/status.h"

namespace {

constexpr std::string_view kToken = "fuzz-sentinel-token-7d1f";
constexpr std::string_view kPassword = "fuzz-sentinel-password-7d1f";
constexpr std::string_view kKey = "fuzz-sentinel-key-7d1f";

void CheckError(const kube::Status& s, std::string_view where) {
  FUZZ_CHECK(
      s.code() == kube::StatusCode::kInvalidArgument || s.code() == kube::StatusCode::kNotFound,
      std::string(where) + " error with code " + std::string(kube::StatusCodeName(s.code())) +
          ": " + s.message());
  for (std::string_view secret : {kToken, kPassword, kKey}) {
    FUZZ_CHECK(s.message().find(secret) == std::string::npos,
               std::string(where) + " error quotes a credential: " + s.message());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = kube::fuzz::AsText(data, size);
  // libFuzzer learns the sentinels from `CheckError`'s searches and writes them into fields that
  // errors rightly quote (exec.apiVersion: fuzz/corpus/kubeconfig_fuzz/
  // regression_sentinel_in_exec_api_version). A sentinel the input already holds proves nothing.
  for (std::string_view secret : {kToken, kPassword, kKey}) {
    if (text.find(secret) != std::string_view::npos) return 0;
  }
  auto parsed = kube::ParseKubeconfig(text, "/fuzz/kubeconfig");
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code() == kube::StatusCode::kInvalidArgument,
               "ParseKubeconfig error with code " +
                   std::string(kube::StatusCodeName(parsed.error().code())));
    return 0;
  }
  kube::Kubeconfig kc = std::move(*parsed);
  for (auto& [name, cluster] : kc.clusters) cluster.certificate_authority.clear();
  for (auto& [name, user] : kc.users) {
    user.client_certificate.clear();
    user.client_key.clear();
    user.token_file.clear();
    if (!user.token.empty()) user.token = kToken;
    if (!user.password.empty()) user.password = kPassword;
    if (!user.client_key_data.empty()) user.client_key_data = kKey;
  }
  auto config = kube::RestConfigFromKubeconfig(kc);
  if (!config) {
    CheckError(config.error(), "RestConfigFromKubeconfig");
    return 0;
  }
  FUZZ_CHECK(config->server.find("://") != std::string::npos,
             "a RestConfig without a scheme: " + config->server);
  return 0;
}

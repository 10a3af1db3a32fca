// Fuzzes the decoding of an exec credential plugin's output
// (src/config/exec_credential_internal.h), for both apiVersions.
//
// Input: the first byte picks the configured apiVersion (v1 or v1beta1); the rest is the output.
//
// Invariants: no exception escapes; errors are kInvalidArgument and short (they quote at most
// apiVersion, kind and the timestamp, each truncated: never the output); a credential has a token
// or both certificate and key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/exec_credential_internal.h"
#include "fuzz/fuzz_check.h"
#include "kube/config/rest_config.h"
#include "kube/status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  kube::ExecConfig exec;
  exec.command = "fuzz-plugin";
  exec.api_version = kube::fuzz::TakeByte(&input) % 2 == 0 ? "client.authentication.k8s.io/v1"
                                                           : "client.authentication.k8s.io/v1beta1";
  const std::string who = "exec plugin \"fuzz-plugin\"";
  auto cred = kube::internal::ParseExecCredential(std::string(input), exec, who);
  if (!cred) {
    const kube::Status& s = cred.error();
    FUZZ_CHECK(s.code() == kube::StatusCode::kInvalidArgument,
               "error with code " + std::string(kube::StatusCodeName(s.code())));
    // `who`, a fixed sentence, the configured apiVersion and up to three fields of 80 bytes.
    FUZZ_CHECK(s.message().size() <= who.size() + 400,
               "an error this long may quote the output: " + s.message());
    return 0;
  }
  FUZZ_CHECK(!cred->token.empty() ||
                 (!cred->client_certificate_data.empty() && !cred->client_key_data.empty()),
             "a credential with neither a token nor a certificate and key");
  return 0;
}

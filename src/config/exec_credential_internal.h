// The parsing half of exec credential plugins (config/exec_credential.h), apart from running the
// process, for tests and the fuzzer (fuzz/exec_credential_fuzz.cc).
//
// Reads from: an exec plugin's stdout. Feeds: `RunExecCredentialPlugin`.
// client-go: plugin/pkg/client/auth/exec/exec.go (the decoding of the plugin's output).
#ifndef KUBE_SRC_CONFIG_EXEC_CREDENTIAL_INTERNAL_H_
#define KUBE_SRC_CONFIG_EXEC_CREDENTIAL_INTERNAL_H_

#include <string>

#include "kube/config/rest_config.h"
#include "kube/status.h"

namespace kube::internal {

// Decodes a plugin's stdout (JSON, read as YAML like client-go's decoder accepts) into an
// ExecCredential of `exec.api_version`. `who` names the plugin in error messages. Never throws.
// Errors: kInvalidArgument as listed for `RunExecCredentialPlugin` ("the output is not an
// ExecCredential ..."); the message never quotes the token, certificate or key.
Result<ExecCredential> ParseExecCredential(const std::string& out, const ExecConfig& exec,
                                           const std::string& who);

}  // namespace kube::internal

#endif  // KUBE_SRC_CONFIG_EXEC_CREDENTIAL_INTERNAL_H_

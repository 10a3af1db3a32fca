// The subcommands of `kinf`. Each takes the arguments after its name and returns the process
// exit code (0 success, 1 failure, 2 bad usage).
//
// Reads from: main.cc. Feeds: the library (serve: EmbeddedApiServer).
#ifndef KUBE_TOOLS_KINF_COMMANDS_H_
#define KUBE_TOOLS_KINF_COMMANDS_H_

#include <string>
#include <vector>

namespace kinf {

// `kinf serve`: the embedded API server (docs/server.md).
int RunServe(const std::vector<std::string>& args);

// `kinf get|watch|sync RESOURCE`: a resource through an informer (get.cc, watch.cc, sync.cc).
int RunGet(const std::vector<std::string>& args);
int RunWatch(const std::vector<std::string>& args);
int RunSync(const std::vector<std::string>& args);

}  // namespace kinf

#endif  // KUBE_TOOLS_KINF_COMMANDS_H_

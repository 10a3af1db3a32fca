// kinf: kube-informer's command-line tool. `kinf <command> [flags]`; one file per command.
//
// Reads from: argv. Feeds: the subcommands in commands.h.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kinf/commands.h"
#include "kube/logging.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>&);
};

constexpr Command kCommands[] = {
    {"serve", "run the embedded Kubernetes API server (for demos and tests)", kinf::RunServe},
    {"get", "list a resource from an informer's cache", kinf::RunGet},
    {"watch", "print an informer's add/update/delete notifications", kinf::RunWatch},
    {"sync", "sync an informer; print `synced N`, events, then `final N` and the cache",
     kinf::RunSync},
};

void Usage(FILE* out) {
  std::fprintf(out, "usage: kinf <command> [flags]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`kinf <command> --help` lists a command's flags.\n");
  std::fprintf(out, "KINF_LOG_LEVEL=debug|info|warning|error sets the log threshold.\n");
}

// KINF_LOG_LEVEL=debug|info|warning|error: the library's log threshold (default warning).
void ApplyLogLevel() {
  const char* level = std::getenv("KINF_LOG_LEVEL");
  if (level == nullptr) return;
  std::string l = level;
  if (l == "debug") kube::SetMinLogSeverity(kube::LogSeverity::kDebug);
  if (l == "info") kube::SetMinLogSeverity(kube::LogSeverity::kInfo);
  if (l == "warning") kube::SetMinLogSeverity(kube::LogSeverity::kWarning);
  if (l == "error") kube::SetMinLogSeverity(kube::LogSeverity::kError);
}

}  // namespace

int main(int argc, char** argv) {
  ApplyLogLevel();
  if (argc < 2) {
    Usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    Usage(stdout);
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (name == c.name) return c.run(args);
  }
  std::fprintf(stderr, "kinf: unknown command %s\n", name.c_str());
  Usage(stderr);
  return 2;
}

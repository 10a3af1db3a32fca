// `kinf watch RESOURCE`: prints an informer's notifications as its handler receives them, the
// initial list's adds included, until SIGINT/SIGTERM or --for SECONDS.
//
// One line each, flushed: `ADD|UPDATE|DELETE KEY RV`, KEY being `namespace/name` (or `name` for a
// cluster-scoped object) and RV the resourceVersion. Resyncs print nothing. Exit 0 when stopped;
// errors go to stderr with exit 1 (2: bad usage).
//
// Reads from: flags, the API server (client_flags.h). Feeds: stdout.
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "kinf/commands.h"
#include "kinf/informer_run.h"

namespace kinf {

int RunWatch(const std::vector<std::string>& args) {
  StopSignals signals;  // before any thread starts
  auto printer = std::make_shared<EventPrinter>(/*print_initial=*/true);
  printer->Release("");
  std::variant<InformerRun, int> prepared = PrepareInformerRun("watch", args, printer);
  if (const int* code = std::get_if<int>(&prepared)) return *code;
  InformerRun& run = std::get<InformerRun>(prepared);
  run.factory->Start();
  signals.Wait(run.run_for);
  run.factory->Shutdown();
  return 0;
}

}  // namespace kinf

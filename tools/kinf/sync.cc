// `kinf sync RESOURCE`: runs an informer and prints what it saw, in a form scripts can check.
//
// Output contract (stdout, flushed per line):
//   synced N                       once the cache has synced: N objects in the initial list
//   ADD|UPDATE|DELETE KEY RV       one line per later handler notification (resyncs print none)
//   final N                        on SIGINT/SIGTERM, or --for SECONDS after `synced`
//   KEY RV                         one line per cached object, sorted by KEY
// KEY is `namespace/name`, or `name` for a cluster-scoped object; RV its resourceVersion. Before
// `final`, the tool waits until the lines printed describe the cache exactly (so replaying them on
// the initial list gives the final lines). Exit 0; errors go to stderr with exit 1 (2: bad usage).
//
// Reads from: flags, the API server (client_flags.h). Feeds: stdout.
#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "kinf/client_flags.h"
#include "kinf/commands.h"
#include "kinf/informer_run.h"

namespace kinf {

int RunSync(const std::vector<std::string>& args) {
  StopSignals signals;  // before any thread starts
  auto printer = std::make_shared<EventPrinter>(/*print_initial=*/false);
  std::variant<InformerRun, int> prepared = PrepareInformerRun("sync", args, printer);
  if (const int* code = std::get_if<int>(&prepared)) return *code;
  InformerRun& run = std::get<InformerRun>(prepared);

  run.factory->Start();
  // Synced for this handler: the cache holds the initial list and the handler has seen every
  // initial add, so N counts exactly the objects the later lines start from.
  while (!run.registration->WaitForSynced(std::chrono::milliseconds(250))) {
    if (signals.stopped()) {
      PrintError("sync", "stopped before the cache synced");
      return 1;
    }
  }
  printer->Release("synced " + std::to_string(printer->initial_adds()));

  signals.Wait(run.run_for);
  if (!printer->Finish(*run.informer->GetStore(), std::chrono::seconds(10))) {
    PrintError("sync", "the printed events had not caught up with the cache after 10s");
  }
  run.factory->Shutdown();
  return 0;
}

}  // namespace kinf

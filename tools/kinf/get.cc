// `kinf get RESOURCE`: lists a resource as kubectl does, but served from an informer's cache: the
// informer lists (and starts watching), and once its cache has synced the objects are read back
// through a Lister.
//
//   kinf get deploy -n default          NAME  AGE
//   kinf get pods -A -l app=web         NAMESPACE  NAME  AGE
//   kinf get nodes -o name              node/n1
//   kinf get cm -o json                 {"apiVersion":"v1","kind":"List","items":[...]}
//
// Rows are sorted by namespace and name. An error listing (e.g. 403 Forbidden) ends the command
// at once, on stderr with exit 1, as kubectl's does; no objects prints "No resources found" on
// stderr and exits 0.
//
// Reads from: flags, the API server (client_flags.h). Feeds: stdout.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "kinf/client_flags.h"
#include "kinf/commands.h"
#include "kinf/informer_run.h"
#include "kube/informers/factory.h"

namespace kinf {
namespace {

// kubectl's short ages: 45s, 12m, 5h, 3d.
std::string Age(const kube::Object& obj) {
  std::optional<std::chrono::system_clock::time_point> created = obj.creation_time();
  if (!created) return "<unknown>";
  auto s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *created)
          .count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 3 * 3600) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    PrintLine(line);
  }
}

// The first list or watch error, for failing fast.
struct FirstError {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<kube::Status> status;
};

}  // namespace

int RunGet(const std::vector<std::string>& args) {
  ClientFlags flags;
  std::string output;
  std::optional<int> done = ParseClientFlags(
      "get", args, &flags,
      [&](FlagSet& set) { set.String("output", "(-o) name or json (default: a table)", &output); },
      {{'o', "output"}});
  if (done) return *done;
  if (!output.empty() && output != "name" && output != "json") {
    PrintError("get", "unknown --output " + output + " (want name or json)");
    return 2;
  }
  kube::Result<Target> target = ResolveTarget(flags);
  if (!target) {
    PrintError("get", target.error().ToString());
    return 1;
  }

  std::unique_ptr<kube::SharedInformerFactory> factory = MakeFactory(*target, flags);
  kube::GenericInformer generic =
      factory->ForResource(target->gvr, {.namespaced = target->namespaced, .kind = target->kind});
  auto first_error = std::make_shared<FirstError>();
  (void)generic.Informer()->SetWatchErrorHandler([first_error](const kube::Status& s) {
    std::lock_guard<std::mutex> l(first_error->mu);
    if (!first_error->status) first_error->status = s;
    first_error->cv.notify_all();
  });
  factory->Start();
  // Wait for the sync, but give up at the first error (the informer alone would retry forever).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!generic.Informer()->WaitForCacheSync(std::chrono::milliseconds(100))) {
    std::unique_lock<std::mutex> l(first_error->mu);
    if (first_error->status) {
      PrintError("get", first_error->status->ToString());
      return 1;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      PrintError("get", "timed out waiting for the cache to sync");
      return 1;
    }
  }

  std::vector<kube::ObjectPtr> objects = generic.GetLister().List(kube::labels::Everything());
  factory->Shutdown();
  std::sort(objects.begin(), objects.end(), [](const kube::ObjectPtr& a, const kube::ObjectPtr& b) {
    return std::make_pair(a->ns(), a->name()) < std::make_pair(b->ns(), b->name());
  });

  if (output == "json") {
    std::string list = R"({"apiVersion":"v1","kind":"List","items":[)";
    for (size_t i = 0; i < objects.size(); ++i) {
      if (i > 0) list += ',';
      list += objects[i]->json();
    }
    list += "]}";
    PrintLine(list);
    return 0;
  }
  if (objects.empty()) {
    std::string where = target->ns.empty() ? "" : " in " + target->ns + " namespace";
    std::fprintf(stderr, "No resources found%s.\n", where.c_str());
    return 0;
  }
  if (output == "name") {
    std::string prefix =
        kube::internal::AsciiLower(target->kind.empty() ? target->gvr.resource : target->kind);
    if (!target->gvr.group.empty()) prefix += "." + target->gvr.group;
    for (const kube::ObjectPtr& obj : objects) PrintLine(prefix + "/" + std::string(obj->name()));
    return 0;
  }
  bool with_ns = target->namespaced && target->ns.empty();
  std::vector<std::vector<std::string>> rows;
  rows.push_back(with_ns ? std::vector<std::string>{"NAMESPACE", "NAME", "AGE"}
                         : std::vector<std::string>{"NAME", "AGE"});
  for (const kube::ObjectPtr& obj : objects) {
    std::vector<std::string> row;
    if (with_ns) row.emplace_back(obj->ns());
    row.emplace_back(obj->name());
    row.push_back(Age(*obj));
    rows.push_back(std::move(row));
  }
  PrintTable(rows);
  return 0;
}

}  // namespace kinf

// `kinf get RESOURCE`: lists a resource as kubectl does.
//
//   kinf get deploy -n default          NAME  AGE
//   kinf get pods -A -l app=web         NAMESPACE  NAME  AGE
//   kinf get nodes -o name              node/n1
//   kinf get cm -o json                 {"apiVersion":"v1","kind":"List","items":[...]}
//
// One list, as an informer's first one (`resourceVersion=0`: the server may answer from its
// cache), following continue tokens when the server pages anyway, read while it arrives.
// `-o name` and the table read built-in kinds in protobuf (unless `--protobuf=false`) and take
// only each item's namespace, name and creation time from the body (list_names.h); `-o json`
// reads JSON and keeps the objects (`ResourceClient::List` with an item sink), printed as the
// server sent them with `apiVersion` and `kind` filled in. Rows are sorted by namespace and name.
// Output is written in large blocks. An error listing (e.g. 403 Forbidden) ends the command at
// once, on stderr with exit 1, as kubectl's does; no objects prints "No resources found" on stderr
// and exits 0 (`-o json` prints the empty list).
//
// Reads from: flags, the API server (client_flags.h). Feeds: stdout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "kinf/client_flags.h"
#include "kinf/commands.h"
#include "kinf/list_names.h"
#include "kube/client/rest_client.h"

namespace kinf {
namespace {

// kubectl's short ages: 45s, 12m, 5h, 3d.
std::string Age(std::optional<std::chrono::system_clock::time_point> created,
                std::chrono::system_clock::time_point now) {
  if (!created) return "<unknown>";
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now - *created).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 3 * 3600) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

// stdout in blocks of about 1 MiB: one write per block, not per line.
class Output {
 public:
  Output() { buf_.reserve(kBlock + 4096); }
  ~Output() { Flush(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void Append(std::string_view s) {
    if (s.size() >= kBlock) {
      Flush();
      std::fwrite(s.data(), 1, s.size(), stdout);
      return;
    }
    buf_.append(s);
    if (buf_.size() >= kBlock) Flush();
  }
  void Append(char c) {
    buf_.push_back(c);
    if (buf_.size() >= kBlock) Flush();
  }
  void Flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    buf_.clear();
    std::fflush(stdout);
  }

 private:
  static constexpr size_t kBlock = 1 << 20;
  std::string buf_;
};

// What one listed object contributes to the output.
struct Row {
  std::string ns;
  std::string name;
  kube::ObjectPtr obj;  // -o json only
};

template <typename R>
bool RowLess(const R& a, const R& b) {
  if (int c = a.ns.compare(b.ns); c != 0) return c < 0;
  return a.name < b.name;
}

void PrintTable(const std::vector<ListedName>& rows, bool with_ns, Output& out) {
  const auto now = std::chrono::system_clock::now();
  size_t ns_width = 9;  // NAMESPACE
  size_t name_width = 4;
  for (const ListedName& r : rows) {
    ns_width = std::max(ns_width, r.ns.size());
    name_width = std::max(name_width, r.name.size());
  }
  auto pad = [&](std::string_view s, size_t width) {
    out.Append(s);
    out.Append(std::string(width - s.size() + 3, ' '));
  };
  if (with_ns) pad("NAMESPACE", ns_width);
  pad("NAME", name_width);
  out.Append("AGE\n");
  for (const ListedName& r : rows) {
    if (with_ns) pad(r.ns, ns_width);
    pad(r.name, name_width);
    out.Append(Age(r.created, now));
    out.Append('\n');
  }
}

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
  // -o json prints the server's JSON; reading protobuf would mean transcoding every object.
  if (output == "json") flags.protobuf = false;
  kube::Result<Target> target = ResolveTarget(flags);
  if (!target) {
    PrintError("get", target.error().ToString());
    return 1;
  }

  kube::ResourceClient client(target->client, target->gvr, target->ns);
  kube::ListOptions options;
  options.label_selector = flags.selector;
  options.resource_version = "0";
  Output out;
  if (output == "json") {
    std::vector<Row> rows;
    // Runs on the HTTP client's I/O thread, one batch at a time while the body arrives.
    auto take = [&](std::vector<kube::ObjectPtr> batch) {
      for (kube::ObjectPtr& obj : batch) {
        rows.push_back({std::string(obj->ns()), std::string(obj->name()), std::move(obj)});
      }
    };
    while (true) {
      kube::Result<kube::ObjectList> page = client.List(options, take);
      if (!page) {
        PrintError("get", page.error().ToString());
        return 1;
      }
      take(std::move(page->items));
      if (page->continue_token.empty()) break;
      options.continue_token = page->continue_token;
      options.resource_version.clear();  // a continued list reads the token's snapshot
    }
    if (!std::is_sorted(rows.begin(), rows.end(), RowLess<Row>)) {
      std::sort(rows.begin(), rows.end(), RowLess<Row>);
    }
    out.Append(R"({"apiVersion":"v1","kind":"List","items":[)");
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i > 0) out.Append(',');
      out.Append(rows[i].obj->json());
    }
    out.Append("]}\n");
    return 0;
  }

  std::vector<ListedName> rows;
  bool unknown_kind = false;
  kube::Status listed = ListNames(client, options, &rows, &unknown_kind);
  if (unknown_kind) {
    // A kind without a protobuf form: the client's own list falls back to JSON.
    rows.clear();
    listed = kube::Status();
    while (true) {
      kube::Result<kube::ObjectList> page = client.List(options);
      if (!page) {
        listed = page.error();
        break;
      }
      for (const kube::ObjectPtr& obj : page->items) {
        rows.push_back({std::string(obj->ns()), std::string(obj->name()), obj->creation_time()});
      }
      if (page->continue_token.empty()) break;
      options.continue_token = page->continue_token;
      options.resource_version.clear();
    }
  }
  if (!listed.ok()) {
    PrintError("get", listed.ToString());
    return 1;
  }
  if (!std::is_sorted(rows.begin(), rows.end(), RowLess<ListedName>)) {
    std::sort(rows.begin(), rows.end(), RowLess<ListedName>);
  }
  if (rows.empty()) {
    std::string where = target->ns.empty() ? "" : " in " + target->ns + " namespace";
    std::fprintf(stderr, "No resources found%s.\n", where.c_str());
    return 0;
  }
  if (output == "name") {
    std::string prefix =
        kube::internal::AsciiLower(target->kind.empty() ? target->gvr.resource : target->kind);
    if (!target->gvr.group.empty()) prefix += "." + target->gvr.group;
    prefix += '/';
    for (const ListedName& r : rows) {
      out.Append(prefix);
      out.Append(r.name);
      out.Append('\n');
    }
    return 0;
  }
  PrintTable(rows, target->namespaced && target->ns.empty(), out);
  return 0;
}

}  // namespace kinf

// Namespace lifecycle: termination, the create refusal and the namespace finalizer; see
// namespace_lifecycle.h.
//
// Reads from: the registry. Feeds: Storage.
#include "server/namespace_lifecycle.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "server/object_json.h"
#include "server/registry.h"

namespace kube::server {
namespace {

using nlohmann::json;

const GroupVersionResource kNamespaces{"", "v1", "namespaces"};
constexpr std::string_view kKubernetesFinalizer = "kubernetes";

struct ConditionText {
  const char* type;
  const char* ok_reason;
  const char* ok_message;
};

// The namespace controller's conditions, in its order, with their "all is well" texts.
constexpr ConditionText kConditions[] = {
    {"NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered",
     "All resources successfully discovered"},
    {"NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
     "All legacy kube types successfully parsed"},
    {"NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"},
    {"NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"},
    {"NamespaceFinalizersRemaining", "ContentHasNoFinalizers",
     "All content-preserving finalizers finished"},
};

std::string JoinCounts(const std::map<std::string, int64_t>& counts, std::string_view suffix) {
  std::vector<std::string> parts;
  for (const auto& [what, n] : counts) {
    if (n > 0) {
      parts.push_back(what + " " + std::string(suffix) + " " + std::to_string(n) +
                      " resource instances");
    }
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// Makes every stored object of a terminating namespace go: those without finalizers at once,
// the others once their finalizers are removed. Set while a thread runs the finalizer, so that
// the deletions it makes do not start it again.
thread_local bool in_namespace_finalizer = false;

}  // namespace

bool IsImmortalNamespace(std::string_view name) {
  return name == "default" || name == "kube-system" || name == "kube-public";
}

ApiError Forbidden(const ResourceInfo& info, std::string_view name, std::string_view detail) {
  ApiError e;
  e.code = 403;
  e.reason = "Forbidden";
  e.message = info.group_resource() + " " + Dump(json(std::string(name))) +
              " is forbidden: " + std::string(detail);
  e.name = name;
  e.group = info.gvr.group;
  e.kind = info.gvr.resource;
  return e;
}

ApiError NamespaceTerminating(const ResourceInfo& info, std::string_view ns,
                              std::string_view name) {
  ApiError e = Forbidden(info, name.empty() ? "Unknown" : name,
                         "unable to create new content in namespace " + std::string(ns) +
                             " because it is being terminated");
  e.causes.push_back({"NamespaceTerminating",
                      "namespace " + std::string(ns) + " is being terminated",
                      "metadata.namespace"});
  return e;
}

bool UpdateNamespaceConditions(json& status, const NamespaceContent& content,
                               const std::string& now) {
  if (!status.is_object()) status = json::object();
  json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  bool changed = false;
  for (const ConditionText& c : kConditions) {
    json want = {{"type", c.type},
                 {"status", "False"},
                 {"lastTransitionTime", now},
                 {"reason", c.ok_reason},
                 {"message", c.ok_message}};
    std::string_view type(c.type);
    if (type == "NamespaceContentRemaining" && !content.remaining_by_resource.empty()) {
      want["status"] = "True";
      want["reason"] = "SomeResourcesRemain";
      want["message"] =
          "Some resources are remaining: " + JoinCounts(content.remaining_by_resource, "has");
    }
    if (type == "NamespaceFinalizersRemaining" && !content.remaining_by_finalizer.empty()) {
      want["status"] = "True";
      want["reason"] = "SomeFinalizersRemain";
      want["message"] = "Some content in the namespace has finalizers remaining: " +
                        JoinCounts(content.remaining_by_finalizer, "in");
    }
    auto old = std::find_if(conditions.begin(), conditions.end(),
                            [&](const json& x) { return StringAt(x, "type") == type; });
    if (old == conditions.end()) {
      conditions.push_back(std::move(want));
      changed = true;
    } else if ((*old)["status"] != want["status"] || (*old)["reason"] != want["reason"] ||
               (*old)["message"] != want["message"]) {
      if ((*old)["status"] != want["status"]) (*old)["lastTransitionTime"] = now;
      (*old)["status"] = want["status"];
      (*old)["reason"] = want["reason"];
      (*old)["message"] = want["message"];
      changed = true;
    }
  }
  return changed;
}

// --- Registry: the lifecycle -----------------------------------------------------------------

std::optional<ApiError> Registry::AdmitCreate(const ResourceInfo& info, std::string_view ns,
                                              std::string_view name) {
  if (!info.namespaced || ns.empty()) return std::nullopt;
  ObjectPtr nso = storage_.Get(kNamespaces, ns);
  if (!nso) return NamespaceNotFound(ns);
  if (!nso->deletion_timestamp().empty()) return NamespaceTerminating(info, ns, name);
  return std::nullopt;
}

ApiOr<DeleteResult> Registry::DeleteNamespace(const ResourceInfo& info, std::string_view name,
                                              const DeleteOptions& opts) {
  if (IsImmortalNamespace(name)) return Forbidden(info, name, "this namespace may not be deleted");
  bool marked = false;
  bool spec_finalized = false;
  auto change = storage_.Mutate(
      info.gvr, StorageKey("", name),
      [&](const ObjectPtr& current, uint64_t next_rv) -> ApiOr<Storage::Change> {
        if (!current) return NotFound(info, name);
        if (auto err = CheckDeletePreconditions(info, name, opts, *current)) return *err;
        json obj = ToJson(*current);
        if (current->deletion_timestamp().empty()) {
          json& meta = obj["metadata"];
          meta["deletionTimestamp"] = Rfc3339Now();
          if (!obj["status"].is_object()) obj["status"] = json::object();
          obj["status"]["phase"] = "Terminating";
          if (!opts.dry_run) meta["resourceVersion"] = std::to_string(next_rv);
          ApiOr<ObjectPtr> o = ToObject(obj);
          if (!o.ok()) return o.error();
          marked = !opts.dry_run;
          return Storage::Change{
              opts.dry_run ? Storage::Change::Op::kNone : Storage::Change::Op::kPut, *o};
        }
        const json& spec = obj.value("spec", json::object());
        spec_finalized = !spec.is_object() || !spec.contains("finalizers") ||
                         !spec["finalizers"].is_array() || spec["finalizers"].empty();
        return Storage::Change{Storage::Change::Op::kNone, current};
      });
  if (!change.ok()) return change.error();
  if (marked) {
    SyncNamespace(name);
    return DeleteResult{change->object, true};
  }
  // Already terminating: answered as it is until the namespace finalizer is done.
  if (!spec_finalized || opts.dry_run) return DeleteResult{change->object, true};
  return DeleteStored(info, "", name, opts);
}

void Registry::SyncNamespace(std::string_view name) {
  if (in_namespace_finalizer) return;
  ObjectPtr nso = storage_.Get(kNamespaces, name);
  if (!nso || nso->deletion_timestamp().empty()) return;
  {
    json obj = ToJson(*nso);
    json fin = obj.value("spec", json::object()).value("finalizers", json::array());
    if (!fin.is_array() ||
        std::find(fin.begin(), fin.end(), json(kKubernetesFinalizer)) == fin.end()) {
      return;  // another party's finalizers: not ours to run
    }
  }
  in_namespace_finalizer = true;
  NamespaceContent content;
  for (const ResourceInfoPtr& r : catalog_.All()) {
    if (!r->namespaced || r->review) continue;
    Storage::ListQuery q;
    q.ns = std::string(name);
    ApiOr<Storage::ListPage> page = storage_.List(r->gvr, q);
    if (!page.ok()) continue;
    for (const ObjectPtr& o : page->items) {
      if (o->deletion_timestamp().empty()) (void)DeleteStored(*r, name, o->name(), {});
    }
    page = storage_.List(r->gvr, q);
    if (!page.ok() || page->items.empty()) continue;
    content.remaining_by_resource[r->gvr.resource + "." + r->gvr.group] +=
        static_cast<int64_t>(page->items.size());
    for (const ObjectPtr& o : page->items) {
      for (std::string_view f : o->finalizers()) ++content.remaining_by_finalizer[std::string(f)];
    }
  }
  in_namespace_finalizer = false;
  // The controller's status update, then (with nothing left) its finalize, which deletes the
  // namespace when no other finalizer remains.
  const std::string now = Rfc3339Now();
  bool deleted = false;
  for (int step = 0; step < 2; ++step) {
    if (step == 1 && !content.empty()) break;
    auto change = storage_.Mutate(
        kNamespaces, StorageKey("", name),
        [&](const ObjectPtr& current, uint64_t next_rv) -> ApiOr<Storage::Change> {
          if (!current || current->deletion_timestamp().empty()) {
            return Storage::Change{Storage::Change::Op::kNone, current};
          }
          json obj = ToJson(*current);
          if (step == 0) {
            if (!UpdateNamespaceConditions(obj["status"], content, now)) {
              return Storage::Change{Storage::Change::Op::kNone, current};
            }
          } else {
            json& fin = obj["spec"]["finalizers"];
            if (fin.is_array()) {
              fin.erase(std::remove(fin.begin(), fin.end(), json(kKubernetesFinalizer)), fin.end());
            }
          }
          obj["metadata"]["resourceVersion"] = std::to_string(next_rv);
          ApiOr<ObjectPtr> o = ToObject(obj);
          if (!o.ok()) return o.error();
          bool finalized =
              step == 1 && obj["spec"]["finalizers"].empty() && current->finalizers().empty();
          return Storage::Change{
              finalized ? Storage::Change::Op::kDelete : Storage::Change::Op::kPut, *o};
        });
    if (change.ok() && change->op == Storage::Change::Op::kDelete) deleted = true;
  }
  if (deleted) storage_.RemoveNamespaceContents(name);  // anything created in a race
}

}  // namespace kube::server

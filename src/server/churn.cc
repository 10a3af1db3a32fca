// Churn: deterministic create/update/delete traffic; see churn.h.
//
// Reads from: ChurnOptions. Feeds: the Registry.
#include "server/churn.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace kube::server {

namespace {

// A namespaced resource by plural, singular or short name; the catalog's preference order breaks
// ties (as kubectl resolves names).
ResourceInfoPtr FindResource(const ResourceCatalog& catalog, const std::string& name) {
  for (const ResourceInfoPtr& info : catalog.All()) {
    if (info->gvr.resource == name || info->singular == name ||
        std::find(info->short_names.begin(), info->short_names.end(), name) !=
            info->short_names.end()) {
      return info;
    }
  }
  return nullptr;
}

nlohmann::json NewObject(const ResourceInfo& info, const std::string& ns, const std::string& name,
                         std::mt19937_64& rng) {
  using nlohmann::json;
  json obj = {{"apiVersion", info.api_version()},
              {"kind", info.kind},
              {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", "churn"}}}}}};
  if (info.kind == "Pod") {
    obj["spec"] = {{"containers", {{{"name", "main"}, {"image", "busybox:1.36"}}}}};
    obj["status"] = {{"phase", "Pending"}};
  } else if (info.kind == "Deployment") {
    const int replicas = 1 + static_cast<int>(rng() % 3);
    json labels = {{"app", "churn"}, {"churn.kinf.io/name", name}};
    obj["spec"] = {{"replicas", replicas},
                   {"selector", {{"matchLabels", labels}}},
                   {"template",
                    {{"metadata", {{"labels", labels}}},
                     {"spec", {{"containers", {{{"name", "main"}, {"image", "nginx:1.27"}}}}}}}}};
    obj["status"] = {{"observedGeneration", 1}, {"replicas", replicas}, {"readyReplicas", 0}};
  }
  return obj;
}

// A status change the kind understands, as a merge patch of the `status` subresource.
std::string StatusPatch(const ResourceInfo& info, std::mt19937_64& rng) {
  static constexpr const char* kPhases[] = {"Pending", "Running", "Running", "Succeeded"};
  if (info.kind == "Pod") {
    return R"({"status":{"phase":")" + std::string(kPhases[rng() % 4]) + R"("}})";
  }
  const std::string ready = std::to_string(rng() % 4);
  return R"({"status":{"readyReplicas":)" + ready + R"(,"availableReplicas":)" + ready + "}}";
}

}  // namespace

Status Churn::Start(const ChurnOptions& options) {
  if (!(options.ops_per_second > 0)) return InvalidArgumentError("churn rate must be positive");
  if (options.max_objects <= 0) return InvalidArgumentError("churn max_objects must be positive");
  if (options.resources.empty()) return InvalidArgumentError("churn needs a resource");
  std::vector<Target> targets;
  for (const std::string& name : options.resources) {
    ResourceInfoPtr info = FindResource(registry_.catalog(), name);
    if (!info) return InvalidArgumentError("churn: the server has no resource " + name);
    if (!info->namespaced) {
      return InvalidArgumentError("churn: " + info->gvr.resource + " are not namespaced");
    }
    targets.push_back({.info = std::move(info)});
  }
  internal::MutexLock control(control_mu_);
  StopLocked();
  {
    internal::MutexLock lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, options, targets = std::move(targets)]() mutable {
    Run(options, std::move(targets));
  });
  return Status::Ok();
}

void Churn::Stop() {
  internal::MutexLock control(control_mu_);
  StopLocked();
}

void Churn::StopLocked() {
  if (!thread_.joinable()) return;
  {
    internal::MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Churn::Step(Registry& registry, const ChurnOptions& options, std::mt19937_64& rng,
                 Target& target) {
  const ResourceInfo& info = *target.info;
  std::vector<std::string>& live = target.live;
  uint64_t draw = rng() % 10;
  bool can_create = live.size() < static_cast<size_t>(options.max_objects);
  if (live.empty() || (draw < 4 && can_create)) {  // create: 40%, so the population grows
    char name[32];
    std::snprintf(name, sizeof name, "churn-%05llu",
                  static_cast<unsigned long long>(++target.counter));  // NOLINT(runtime/int)
    if (registry.Create(info, options.ns, NewObject(info, options.ns, name, rng)).ok()) {
      live.push_back(name);
    }
    return;
  }
  size_t pick = static_cast<size_t>(rng() % live.size());
  if (draw < 8) {  // update: bump a label, or change the status (one write either way)
    bool status = draw >= 6 && info.has_status;
    std::string patch = status ? StatusPatch(info, rng)
                               : R"({"metadata":{"labels":{"kinf.io/tick":")" +
                                     std::to_string(rng() % 1000) + R"("}}})";
    ApiOr<ObjectPtr> r = registry.Patch(info, options.ns, live[pick], PatchType::kMergePatch, patch,
                                        status ? Subresource::kStatus : Subresource::kNone);
    if (!r.ok() && r.error().code == 404)
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    return;
  }
  (void)registry.Delete(info, options.ns, live[pick]);  // delete
  live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
}

void Churn::Run(ChurnOptions options, std::vector<Target> targets) {
  std::mt19937_64 rng(options.seed);
  auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / options.ops_per_second));
  auto next = std::chrono::steady_clock::now();
  for (size_t op = 0;; ++op) {
    {
      internal::MutexLock lock(mu_);
      while (!stop_ && std::chrono::steady_clock::now() < next) lock.WaitUntil(cv_, next);
      if (stop_) return;
    }
    Step(registry_, options, rng, targets[op % targets.size()]);
    next += period;
  }
}

}  // namespace kube::server

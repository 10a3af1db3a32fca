// Churn: deterministic create/update/delete traffic; see churn.h.
//
// Reads from: ChurnOptions. Feeds: the Registry.
#include "server/churn.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace kube::server {

Status Churn::Start(const ChurnOptions& options) {
  if (!(options.ops_per_second > 0)) return InvalidArgumentError("churn rate must be positive");
  if (options.max_objects <= 0) return InvalidArgumentError("churn max_objects must be positive");
  ResourceInfoPtr pods = registry_.catalog().Find({"", "v1", "pods"});
  if (!pods) return InvalidArgumentError("churn needs the pods resource");
  internal::MutexLock control(control_mu_);
  StopLocked();
  {
    internal::MutexLock lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, options, pods] { Run(options, pods); });
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

void Churn::Step(Registry& registry, const ResourceInfo& pods, const ChurnOptions& options,
                 std::mt19937_64& rng, std::vector<std::string>& live, uint64_t& counter) {
  using nlohmann::json;
  uint64_t draw = rng() % 10;
  bool can_create = live.size() < static_cast<size_t>(options.max_objects);
  if (live.empty() || (draw < 4 && can_create)) {  // create: 40%, so the population grows
    char name[32];
    std::snprintf(name, sizeof name, "churn-%05llu",
                  static_cast<unsigned long long>(++counter));  // NOLINT(runtime/int)
    json pod = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", {{"name", name}, {"namespace", options.ns}, {"labels", {{"app", "churn"}}}}},
        {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox:1.36"}}}}}},
        {"status", {{"phase", "Pending"}}}};
    if (registry.Create(pods, options.ns, std::move(pod)).ok()) live.push_back(name);
    return;
  }
  size_t pick = static_cast<size_t>(rng() % live.size());
  if (draw < 8) {  // update: bump a label, or move the phase along (one write either way)
    static constexpr const char* kPhases[] = {"Pending", "Running", "Running", "Succeeded"};
    bool status = draw >= 6;
    std::string patch = status
                            ? R"({"status":{"phase":")" + std::string(kPhases[rng() % 4]) + R"("}})"
                            : R"({"metadata":{"labels":{"kinf.io/tick":")" +
                                  std::to_string(rng() % 1000) + R"("}}})";
    ApiOr<ObjectPtr> r = registry.Patch(pods, options.ns, live[pick], PatchType::kMergePatch, patch,
                                        status ? Subresource::kStatus : Subresource::kNone);
    if (!r.ok() && r.error().code == 404)
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    return;
  }
  (void)registry.Delete(pods, options.ns, live[pick]);  // delete
  live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
}

void Churn::Run(ChurnOptions options, ResourceInfoPtr pods) {
  std::mt19937_64 rng(options.seed);
  std::vector<std::string> live;
  uint64_t counter = 0;
  auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / options.ops_per_second));
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    {
      internal::MutexLock lock(mu_);
      while (!stop_ && std::chrono::steady_clock::now() < next) lock.WaitUntil(cv_, next);
      if (stop_) return;
    }
    Step(registry_, *pods, options, rng, live, counter);
    next += period;
  }
}

}  // namespace kube::server

// The informer collector.
#include "kube/informers/informer_metrics.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>

#include "kube/informers/factory.h"

namespace kube::metrics {
namespace {

void Collect(Collection& c, const std::string& resource, const InformerStats& s) {
  const Labels r = {{"resource", resource}};
  c.AddGauge("kube_informer_objects", "Objects in the informer's cache.", r,
             static_cast<double>(s.objects_cached));
  const char* kEventsHelp = "Deltas the informer applied to its cache, by type.";
  const std::pair<const char*, std::uint64_t> events[] = {
      {"add", s.adds}, {"update", s.updates}, {"delete", s.deletes}, {"resync", s.resyncs}};
  for (const auto& [type, n] : events) {
    c.AddCounter("kube_informer_events_total", kEventsHelp,
                 {{"resource", resource}, {"type", type}}, static_cast<double>(n));
  }
  c.AddCounter("kube_informer_lists_total", "Successful lists, the first one included.", r,
               static_cast<double>(s.lists));
  c.AddCounter("kube_informer_relists_total", "Successful lists after the first one.", r,
               static_cast<double>(s.relists));
  c.AddCounter("kube_informer_watch_restarts_total", "Watches opened after the first one.", r,
               static_cast<double>(s.watch_restarts));
  c.AddCounter("kube_informer_errors_total", "List and watch errors.", r,
               static_cast<double>(s.errors));
  const std::string& rv = s.last_sync_resource_version;
  if (!rv.empty()) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), n);
    if (ec == std::errc() && end == rv.data() + rv.size()) {
      c.AddGauge("kube_informer_last_sync_resource_version",
                 "The resourceVersion the informer last synced to.", r, static_cast<double>(n));
    } else {
      c.AddGauge("kube_informer_last_sync_resource_version_info",
                 "The resourceVersion the informer last synced to, when it is not a number.",
                 {{"resource", resource}, {"resource_version", rv}}, 1);
    }
  }
  for (size_t i = 0; i < s.handlers.size(); ++i) {
    const InformerStats::Handler& h = s.handlers[i];
    const Labels hl = {{"resource", resource},
                       {"handler", h.name.empty() ? std::to_string(i) : h.name}};
    c.AddGauge("kube_informer_handler_queue_depth",
               "Notifications buffered for the handler, not yet delivered.", hl,
               static_cast<double>(h.queue_depth));
    c.AddGauge("kube_informer_handler_lag_seconds",
               "Age of the oldest notification not yet delivered to the handler.", hl,
               std::chrono::duration<double>(h.lag).count());
    c.AddCounter("kube_informer_handler_notifications_total", "Notifications delivered.", hl,
                 static_cast<double>(h.delivered));
    c.AddCounter("kube_informer_handler_failures_total",
                 "Notifications whose handler threw (counted in notifications_total too).", hl,
                 static_cast<double>(h.failed));
  }
}

}  // namespace

CollectorHandle RegisterInformer(Registry& registry, std::string resource,
                                 const SharedIndexInformer& informer) {
  std::weak_ptr<const SharedIndexInformer> weak = informer.weak_from_this();
  return registry.AddCollector([weak, resource = std::move(resource)](Collection& c) {
    if (auto inf = weak.lock()) Collect(c, resource, inf->Stats());
  });
}

std::vector<CollectorHandle> RegisterFactory(Registry& registry, SharedInformerFactory& factory,
                                             const std::vector<GroupVersionResource>& resources) {
  std::vector<CollectorHandle> handles;
  for (const GroupVersionResource& gvr : resources) {
    auto informer = factory.InformerFor(gvr);
    if (informer) handles.push_back(RegisterInformer(registry, gvr.GroupResource(), *informer));
  }
  return handles;
}

}  // namespace kube::metrics

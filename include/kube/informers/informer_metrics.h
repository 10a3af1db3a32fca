// Informer metrics: a scrape-time collector over `SharedIndexInformer::Stats()`.
//
// Reads from: [6] SharedIndexInformer (its `Stats()` snapshot). Feeds: `metrics::Registry`.
// client-go: tools/cache's reflector metrics provider (which upstream leaves unregistered); the
// names here follow the `kube_informer_` convention of this library.
//
// Per informer, labelled `resource="<name>"` (e.g. "deployments.apps"):
//   kube_informer_objects                          gauge    objects in the cache
//   kube_informer_events_total{type=add|update|delete|resync}  counter  deltas applied
//   kube_informer_lists_total                      counter  successful lists, the first included
//   kube_informer_relists_total                    counter  successful lists after the first
//   kube_informer_watch_restarts_total             counter  watches opened after the first
//   kube_informer_errors_total                     counter  list/watch errors (B20)
//   kube_informer_last_sync_resource_version       gauge    the last synced resourceVersion,
//                                                           when it is a number (it is with
//                                                           etcd; absent before the first list)
//   kube_informer_last_sync_resource_version_info{resource_version="..."}  gauge 1, only when
//                                                           the version is not a number
// Per handler, also labelled `handler="<HandlerOptions::name, or its index>"`:
//   kube_informer_handler_queue_depth              gauge    notifications not yet delivered
//   kube_informer_handler_lag_seconds              gauge    age of the oldest undelivered one
//   kube_informer_handler_notifications_total      counter  notifications delivered
//   kube_informer_handler_failures_total           counter  of those, the ones that threw
// A resourceVersion is opaque by contract, hence the info-style fallback; a label holding the
// version would make a new time series at every change, so it is only used when no number is
// available. Versions above 2^53 lose precision as a gauge.
//
// (B20) names a behaviour contract of docs/behaviours.md.
#ifndef KUBE_INFORMERS_INFORMER_METRICS_H_
#define KUBE_INFORMERS_INFORMER_METRICS_H_

#include <string>
#include <vector>

#include "kube/cache/shared_informer.h"
#include "kube/group_version.h"
#include "kube/metrics/metrics.h"

namespace kube {
class SharedInformerFactory;
}

namespace kube::metrics {

// Reports `informer`'s statistics at every render of `registry`, labelled `resource`. Holds the
// informer weakly: once it is destroyed, it reports nothing. The informer must have been made by
// `SharedIndexInformer::Create` (or a factory). Drop the handle to unregister.
[[nodiscard]] CollectorHandle RegisterInformer(Registry& registry, std::string resource,
                                               const SharedIndexInformer& informer);

// Registers the factory's informers for `resources` (`factory.InformerFor(gvr)`, which creates
// those not requested yet), each labelled with `gvr.GroupResource()` ("deployments.apps").
[[nodiscard]] std::vector<CollectorHandle> RegisterFactory(
    Registry& registry, SharedInformerFactory& factory,
    const std::vector<GroupVersionResource>& resources);

}  // namespace kube::metrics

#endif  // KUBE_INFORMERS_INFORMER_METRICS_H_

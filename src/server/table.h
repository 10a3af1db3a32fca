// Table rendering for `kubectl get` (Accept: application/json;as=Table;v=v1;g=meta.k8s.io).
//
// Reads from: stored objects. Feeds: list, get and watch answers when kubectl asks for a Table.
#ifndef KUBE_SERVER_TABLE_H_
#define KUBE_SERVER_TABLE_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/object.h"
#include "server/resource_info.h"

namespace kube::server {

enum class IncludeObject { kNone, kMetadata, kObject };  // `includeObject=`; default kMetadata

// True when an Accept header asks for a meta.k8s.io Table (v1 or v1beta1).
bool AcceptsTable(std::string_view accept);
// Parses `includeObject=` ("" -> kMetadata). kInvalidArgument for an unknown value.
Result<IncludeObject> ParseIncludeObject(std::string_view value);

// A `meta.k8s.io/v1` Table for `objects`, with the columns kubectl users expect for the kind
// (Pod: Name Ready Status Restarts Age, IP/Node with priority 1; Deployment: Name Ready
// Up-to-date Available Age; ...; other kinds: Name, Created At). `column_definitions` false
// leaves them out (later watch events). `metadata` (resourceVersion, continue,
// remainingItemCount) is set by the caller on the returned JSON. Each row's `object` follows
// `include` (PartialObjectMetadata for kMetadata).
nlohmann::json BuildTable(const ResourceInfo& info, const std::vector<ObjectPtr>& objects,
                          IncludeObject include, bool column_definitions,
                          std::chrono::system_clock::time_point now);

// "5m", "2d3h", "45s": kubectl's human duration for an Age column.
std::string HumanDuration(std::chrono::seconds d);

}  // namespace kube::server

#endif  // KUBE_SERVER_TABLE_H_

// Field ownership (`metadata.managedFields`) and server-side apply.
//
// Every write names a field manager. An update (create, PUT, PATCH) gives its manager the fields
// it added or changed, in an `operation: Update` entry, and takes them from the other managers;
// removed fields leave every manager. Server-side apply merges the applied configuration into the
// object, records exactly the applied fields in the manager's `operation: Apply` entry, removes
// the fields the manager applied before and applies no longer (unless another manager owns them),
// and refuses with 409 Conflict to change a field another manager owns with a different value,
// unless forced, which moves the field to the applier.
//
// The kind's OpenAPI schema (openapi.h) decides how values merge and how fields are named:
// `x-kubernetes-list-type` `set` lists (`v:<value>`), `map` lists keyed by
// `x-kubernetes-list-map-keys` (`k:{...}`), and `atomic` lists and maps, which are one field.
// Untyped values (no schema) merge as maps field by field and replace lists whole. Field sets
// are written in the FieldsV1 format (`f:`, `k:`, `v:`, `.`).
//
// Pure functions; thread-compatible.
//
// Reads from: the registry's write path. Feeds: stored objects' `metadata.managedFields`.
// kube-apiserver: apimachinery/pkg/util/managedfields, sigs.k8s.io/structured-merge-diff.
#ifndef KUBE_SERVER_MANAGED_FIELDS_H_
#define KUBE_SERVER_MANAGED_FIELDS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/kind_schema.h"
#include "server/status_json.h"

namespace kube::server {

// A set of field paths as a tree keyed by FieldsV1 path elements ("f:spec", "k:{\"name\":\"a\"}",
// "v:\"x\"", "i:0"). `member`: the path to this node is in the set.
struct FieldSet {
  bool member = false;
  std::map<std::string, FieldSet> children;

  bool empty() const { return !member && children.empty(); }
  bool operator==(const FieldSet&) const = default;
  void Insert(const FieldSet& other);                   // union
  FieldSet Minus(const FieldSet& other) const;          // members of this not in other
  FieldSet Intersect(const FieldSet& other) const;      // members in both
  FieldSet MinusSubtrees(const FieldSet& other) const;  // drops every path under a member of other

  // FieldsV1 JSON, and back (a malformed value gives an empty set).
  nlohmann::json ToJson() const;
  static FieldSet FromJson(const nlohmann::json& j);
  // The members as paths in apimachinery's notation: `.spec.ports[name="http"].containerPort`.
  std::vector<std::string> Paths() const;
};

// What a write records about itself.
struct FieldManager {
  std::string manager;      // fieldManager, or the User-Agent's first part
  std::string api_version;  // the object's apiVersion ("apps/v1")
  std::string subresource;  // "" or "status"
  std::string time;         // RFC 3339 UTC, the write's time
};

// Records an update of `*updated` over `old` (null for a create) by `who` in
// `updated->metadata.managedFields`, starting from the entries `*updated` carries (else old's).
// `status_reset`: the kind has a status subresource, so writes to the object do not own `status`
// and writes to `status` own nothing else. An update that changes no field leaves the entries
// as they were.
void RecordUpdate(const KindSchema* schema, const nlohmann::json* old, nlohmann::json* updated,
                  const FieldManager& who, bool status_reset);

// Server-side apply of `applied` over `live` (null: the object does not exist). Returns the new
// object (live's server-owned metadata kept, managedFields updated), or 409 Conflict naming each
// conflicting field and manager (force=false).
ApiOr<nlohmann::json> ServerSideApply(const KindSchema* schema, const nlohmann::json* live,
                                      const nlohmann::json& applied, const FieldManager& who,
                                      bool force, bool status_reset);

// The manager kube-apiserver records for a write without `fieldManager`: the User-Agent up to
// its first '/' (at most 128 characters), "unknown" when it is empty.
std::string ManagerFromUserAgent(std::string_view user_agent);

}  // namespace kube::server

#endif  // KUBE_SERVER_MANAGED_FIELDS_H_

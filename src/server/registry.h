// Registry: the REST semantics of the embedded server's resources, with no HTTP in sight.
//
// Creates, updates, patches and deletes objects the way kube-apiserver's generic registry does:
// server-owned metadata (uid, creationTimestamp, resourceVersion, generation), name validation,
// namespace existence, the resourceVersion precondition, `status` and `scale` subresources,
// finalizers and deletionTimestamp, CustomResourceDefinitions that register their resource.
// Both the HTTP router and `EmbeddedApiServer`'s in-process helpers call it.
//
// Thread-safe (state lives in Storage and the ResourceCatalog).
//
// Reads from: the router and the in-process helpers. Feeds: Storage.
// kube-apiserver: registry/generic/registry/store.go, rest/{create,update,delete}.go.
#ifndef KUBE_SERVER_REGISTRY_H_
#define KUBE_SERVER_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/object.h"
#include "server/kind_schema.h"
#include "server/patch.h"
#include "server/resource_info.h"
#include "server/status_json.h"
#include "server/storage.h"

namespace kube::server {

enum class Subresource { kNone, kStatus, kScale };

struct WriteOptions {
  bool dry_run = false;  // validate and answer, store nothing
  // The manager the write's fields are recorded for in `metadata.managedFields`
  // (managed_fields.h); "" records nothing (in-process writes: seeding, churn).
  std::string field_manager{};
  bool force = false;  // server-side apply: take fields other managers own
};

struct DeleteOptions {
  std::optional<std::string> precondition_uid{};
  std::optional<std::string> precondition_rv{};
  bool dry_run = false;
};

// 409 when `current` fails the delete's uid or resourceVersion precondition, kube-apiserver's
// words; nullopt when it meets them.
std::optional<ApiError> CheckDeletePreconditions(const ResourceInfo& info, std::string_view name,
                                                 const DeleteOptions& opts, const Object& current);

// 400 when a body's `apiVersion` or `kind` names another kind than `info` (absent ones pass).
std::optional<ApiError> CheckTypeMeta(const nlohmann::json& body, const ResourceInfo& info);

struct DeleteResult {
  ObjectPtr object;      // the deleted object (stamped with the deletion's RV) or the marked one
  bool pending = false;  // finalizers remain: only deletionTimestamp was set
};

class Registry {
 public:
  Registry(Storage& storage, ResourceCatalog& catalog);

  // Creates the namespaces every cluster has (default, kube-system, kube-public,
  // kube-node-lease).
  void CreateDefaultNamespaces();

  // 404 NotFound when absent.
  ApiOr<ObjectPtr> Get(const ResourceInfo& info, std::string_view ns, std::string_view name);

  // `ns` is the URL's namespace ("" for cluster-scoped kinds). 409 AlreadyExists, 422 Invalid
  // (names), 404 for a missing namespace, 400 for a body whose kind or namespace disagrees.
  ApiOr<ObjectPtr> Create(const ResourceInfo& info, std::string_view ns, nlohmann::json body,
                          const WriteOptions& opts = {});
  // PUT of the object or its status. 404 when absent, 409 Conflict when the body carries another
  // resourceVersion, 400 when the body names another object. `body` is moved from when the
  // object exists, and left as it was on any error found before that (404 included).
  ApiOr<ObjectPtr> Update(const ResourceInfo& info, std::string_view ns, std::string_view name,
                          nlohmann::json&& body, Subresource sub, const WriteOptions& opts = {});
  // PATCH of the object or its status; conditional when the patch sets a resourceVersion.
  ApiOr<ObjectPtr> Patch(const ResourceInfo& info, std::string_view ns, std::string_view name,
                         PatchType type, std::string_view body, Subresource sub,
                         const WriteOptions& opts = {});
  // Server-side apply (managed_fields.h) of a YAML or JSON body: updates the object, or creates
  // it when it does not exist (`*created` is then set). 422 without `opts.field_manager`, 409
  // Conflict when another manager owns a field the body changes (unless `opts.force`), 400 for a
  // body that is not an object of this kind and name. Defined in registry_apply.cc.
  ApiOr<ObjectPtr> ApplyServerSide(const ResourceInfo& info, std::string_view ns,
                                   std::string_view name, std::string_view body, Subresource sub,
                                   const WriteOptions& opts, bool* created);
  // Creates the object or replaces it unconditionally (seeding, churn, tests).
  ApiOr<ObjectPtr> Apply(const ResourceInfo& info, nlohmann::json body);

  // The autoscaling/v1 Scale of an object with a scale subresource.
  ApiOr<nlohmann::json> GetScale(const ResourceInfo& info, std::string_view ns,
                                 std::string_view name);
  ApiOr<nlohmann::json> UpdateScale(const ResourceInfo& info, std::string_view ns,
                                    std::string_view name, nlohmann::json scale,
                                    const WriteOptions& opts = {});
  ApiOr<nlohmann::json> PatchScale(const ResourceInfo& info, std::string_view ns,
                                   std::string_view name, PatchType type, std::string_view body,
                                   const WriteOptions& opts = {});

  // 404 when absent; 409 Conflict when a precondition fails. A namespace is marked terminating
  // and its contents deleted (namespace_lifecycle.h); it goes once they are gone.
  ApiOr<DeleteResult> Delete(const ResourceInfo& info, std::string_view ns, std::string_view name,
                             const DeleteOptions& opts = {});
  // Deletes every object of `ns` ("" = all) that `filter` accepts; returns the deleted (or
  // marked) objects.
  ApiOr<std::vector<ObjectPtr>> DeleteCollection(const ResourceInfo& info, std::string_view ns,
                                                 const std::function<bool(const Object&)>& filter,
                                                 const DeleteOptions& opts = {});

  Storage& storage() { return storage_; }
  ResourceCatalog& catalog() { return catalog_; }

  // No write (create, update, patch, apply, seed) stores an object whose JSON is longer than
  // `bytes`: it gets 413 RequestEntityTooLarge instead, naming the limit. JSON patches may copy
  // at most this many bytes, too (see `ApplyPatch`). Unlimited by default; the server sets its
  // request body limit. Call before the registry is shared between threads.
  void SetMaxObjectBytes(size_t bytes) { max_object_bytes_ = bytes; }

 private:
  // Fills server-owned metadata and validates a new object.
  ApiOr<nlohmann::json> PrepareCreate(const ResourceInfo& info, std::string_view ns,
                                      nlohmann::json obj);
  // Everything a write of `desired` over `current` decides (runs under Storage's lock).
  // `cur` is `current` decoded.
  // `schema` is set when the write records its manager (`opts.field_manager`).
  ApiOr<Storage::Change> DecideUpdate(const ResourceInfo& info, const ObjectPtr& current,
                                      const nlohmann::json& cur, nlohmann::json desired,
                                      Subresource sub, uint64_t next_rv, const WriteOptions& opts,
                                      const std::optional<KindSchema>& schema);
  ApiOr<ObjectPtr> Write(const ResourceInfo& info, std::string_view ns, std::string_view name,
                         const std::function<ApiOr<nlohmann::json>(const nlohmann::json&)>& edit,
                         Subresource sub, const WriteOptions& opts);
  // 404 when a namespaced kind's namespace does not exist.
  std::optional<ApiError> CheckNamespace(const ResourceInfo& info, std::string_view ns);
  // Namespace lifecycle (namespace_lifecycle.cc): 404 for a create in a missing namespace, 403
  // in a terminating one (`name`: the object's name or generateName).
  std::optional<ApiError> AdmitCreate(const ResourceInfo& info, std::string_view ns,
                                      std::string_view name);
  ApiOr<DeleteResult> DeleteNamespace(const ResourceInfo& info, std::string_view name,
                                      const DeleteOptions& opts);
  // The namespace finalizer of `ns`, when it is terminating: deletes its contents, records the
  // controller's conditions, and deletes the namespace once nothing is left.
  void SyncNamespace(std::string_view ns);
  // Deletes one stored object (finalizers make it pending), without the namespace rules.
  ApiOr<DeleteResult> DeleteStored(const ResourceInfo& info, std::string_view ns,
                                   std::string_view name, const DeleteOptions& opts);
  // CustomResourceDefinitions: register (or drop) the resources they define.
  void OnCrdStored(const Object& crd);
  void OnCrdDeleted(const Object& crd);
  void AfterDelete(const ResourceInfo& info, const ObjectPtr& deleted);
  // `ToObject`, then 413 when the stored JSON would be longer than `max_object_bytes_`.
  ApiOr<ObjectPtr> ToStoredObject(const nlohmann::json& obj) const;

  Storage& storage_;
  ResourceCatalog& catalog_;
  size_t max_object_bytes_ = SIZE_MAX;
};

// The ResourceInfo of each served version of a CustomResourceDefinition (empty when the CRD is
// malformed).
std::vector<ResourceInfo> ResourcesOfCrd(const nlohmann::json& crd);

}  // namespace kube::server

#endif  // KUBE_SERVER_REGISTRY_H_

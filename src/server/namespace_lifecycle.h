// Namespace lifecycle: what kube-apiserver's namespace registry, its NamespaceLifecycle
// admission plugin and the namespace controller's finalizer do, for the embedded server.
//
//   - DELETE of a namespace marks it: `metadata.deletionTimestamp` and `status.phase:
//     Terminating` (answered with the namespace, 200); `default`, `kube-system` and `kube-public`
//     may not be deleted (403). A DELETE of a namespace already terminating answers it unchanged.
//   - Creating anything in a terminating namespace is 403 Forbidden, `unable to create new content
//     in namespace X because it is being terminated`, with a `NamespaceTerminating` cause.
//   - The namespace finalizer (`spec.finalizers: [kubernetes]`) deletes the namespace's contents
//     (objects with finalizers get their deletionTimestamp and stay until the finalizers go),
//     records the controller's status conditions (`NamespaceContentRemaining`, ...), and once
//     nothing is left removes `kubernetes` from `spec.finalizers`, which deletes the namespace.
//     It runs inside the request that made progress possible (the DELETE, or the write that
//     removed an object's last finalizer), so watchers see the namespace MODIFIED (Terminating),
//     its contents DELETED, the namespace MODIFIED (conditions), then DELETED.
//
// The Registry methods that do this are defined in namespace_lifecycle.cc; the helpers below
// are pure.
//
// Reads from: the registry. Feeds: Storage (through the registry).
// kube-apiserver: pkg/registry/core/namespace/storage, plugin/namespace/lifecycle/admission.go;
// kube-controller-manager: pkg/controller/namespace/deletion.
#ifndef KUBE_SERVER_NAMESPACE_LIFECYCLE_H_
#define KUBE_SERVER_NAMESPACE_LIFECYCLE_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/resource_info.h"
#include "server/status_json.h"

namespace kube::server {

// The namespaces the NamespaceLifecycle admission plugin keeps alive.
bool IsImmortalNamespace(std::string_view name);

// 403 Forbidden `<resource> "<name>" is forbidden: <detail>` (apimachinery's NewForbidden).
ApiError Forbidden(const ResourceInfo& info, std::string_view name, std::string_view detail);

// The 403 for a create in terminating namespace `ns`; `name` is the object's name, else its
// generateName (admission runs before the name is generated), else "Unknown".
ApiError NamespaceTerminating(const ResourceInfo& info, std::string_view ns, std::string_view name);

// What the namespace controller found left in a terminating namespace.
struct NamespaceContent {
  std::map<std::string, int64_t> remaining_by_resource;   // "configmaps." -> 2 ("resource.group")
  std::map<std::string, int64_t> remaining_by_finalizer;  // "example.com/hold" -> 1
  bool empty() const { return remaining_by_resource.empty(); }
};

// Sets the controller's five deletion conditions of `ns_status` (a Namespace's `status`) for
// `content`, keeping the transition time of conditions whose status did not change. Returns
// whether anything changed.
bool UpdateNamespaceConditions(nlohmann::json& ns_status, const NamespaceContent& content,
                               const std::string& now);

}  // namespace kube::server

#endif  // KUBE_SERVER_NAMESPACE_LIFECYCLE_H_
